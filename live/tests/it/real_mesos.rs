//! The adapter against a real Apache Mesos 1.11.0 master (`shared/mesos/local`, started by
//! `.ci/run`), over protobuf and JSON. Set `PACKSIM_MESOS_MASTER=host:port` to run these; without
//! it they skip with a message, and with `PACKSIM_REQUIRE_MESOS=1` (CI) they fail instead.
//! The cluster is assumed to be mesos-local's default: agents of 4 cpus and 4096 MB.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::runtime;
use live::protocol::{Config, FinalState};
use live::shell::{Connection, Framework};
use live::tasks::{DIMENSIONS, TaskSpec, command_task, schema};
use packing::{Cluster, Items, Policy, ResourceTable, Weights, pack};
use proto::ContentType;
use proto::v1::scheduler::{Event, event};

/// One test at a time: they share the cluster's resources.
pub(crate) static CLUSTER: Mutex<()> = Mutex::new(());

pub(crate) fn master(test: &str) -> Option<String> {
    datasets::shared::mesos_master(test)
}

fn policy(name: &str) -> Policy {
    let s = schema();
    Policy::parse(name, &s)
        .unwrap()
        .with_weights(Weights::on(&s, &["cpus", "mem", "disk", "gpus"]).unwrap())
        .unwrap()
}

fn config(name: &str) -> Config {
    Config {
        framework_name: format!("packsim-test-{name}"),
        failover_timeout: Duration::from_secs(60),
        ..Config::default()
    }
}

fn spec(id: &str, shell: &str, cpus: f64) -> TaskSpec {
    TaskSpec::new(command_task(id, shell, cpus, 64.0), id).unwrap()
}

fn placement_matches_the_policy(ct: ContentType) {
    let test = "placement_matches_the_policy";
    let Some(m) = master(test) else { return };
    let _g = CLUSTER.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (tap, mut events) = tokio::sync::mpsc::unbounded_channel();
    let conn = Connection {
        content_type: ct,
        tap: Some(tap),
        ..Connection::new(m)
    };
    let cpus = [2.0, 3.0, 1.0, 2.0];
    let specs: Vec<TaskSpec> = cpus
        .iter()
        .enumerate()
        .map(|(i, &c)| spec(&format!("p{i}"), "sleep 2", c))
        .collect();
    let summary = runtime().block_on(async {
        let fw = Framework::start(conn, config(test), policy("best-fit")).unwrap();
        let handles: Vec<_> = specs.iter().cloned().map(|s| fw.submit(s)).collect();
        for h in handles {
            h.await.unwrap();
        }
        tokio::time::timeout(Duration::from_secs(60), fw.finish())
            .await
            .unwrap()
            .unwrap()
    });
    for o in &summary.outcomes {
        assert_eq!(o.state, FinalState::Finished, "{o:?}");
        assert_eq!(o.attempts, 1);
    }
    // Recompute the decision on the first offers with packing::pack directly, from the offers'
    // own resources, and compare with the agents Mesos ran the tasks on.
    let first = std::iter::from_fn(|| events.try_recv().ok())
        .find(|e: &Event| e.r#type() == event::Type::Offers)
        .expect("offers arrived");
    let offers = first.offers.unwrap().offers;
    let s = schema();
    let mut cluster = Cluster::new(DIMENSIONS.len());
    let mut agents = Vec::new();
    for o in &offers {
        let mut free = vec![0u64; DIMENSIONS.len()];
        for r in &o.resources {
            let d = s.index_of(&r.name).unwrap();
            free[d] += match &r.ranges {
                Some(rs) => rs.range.iter().map(|g| g.end - g.begin + 1).sum::<u64>() * 1000,
                None => s.dim(d).from_mesos_scalar(r.scalar.unwrap().value).unwrap(),
            };
        }
        cluster.add_machine(&free);
        agents.push(o.agent_id.value.clone());
    }
    let mut table = ResourceTable::with_capacity(DIMENSIONS.len(), specs.len());
    for sp in &specs {
        table.push(&sp.demand);
    }
    let expected = pack(&policy("best-fit"), &mut cluster, &Items::new(table)).unwrap();
    let ran: BTreeMap<&str, &str> = summary
        .outcomes
        .iter()
        .map(|o| (o.task_id.as_str(), o.agent.as_deref().unwrap()))
        .collect();
    let mut checked = 0;
    for (sp, a) in specs.iter().zip(expected.assignment()) {
        if let Some(a) = a {
            assert_eq!(
                ran[sp.id()],
                agents[a.index()],
                "{} ({ct:?}), offers from {agents:?}",
                sp.id()
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 3,
        "only {checked} tasks were placed from the first offers ({} offers)",
        offers.len()
    );
}

#[test]
fn placement_matches_the_policy_protobuf() {
    placement_matches_the_policy(ContentType::Protobuf);
}

#[test]
fn placement_matches_the_policy_json() {
    placement_matches_the_policy(ContentType::Json);
}

fn failures_and_kills(ct: ContentType) {
    let test = "failures_and_kills";
    let Some(m) = master(test) else { return };
    let _g = CLUSTER.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let conn = Connection {
        content_type: ct,
        ..Connection::new(m)
    };
    let cfg = Config {
        kill_after: Some(Duration::from_secs(3)),
        ..config(test)
    };
    let outcomes = runtime().block_on(async {
        let fw = Framework::start(conn, cfg, policy("first-fit")).unwrap();
        let results = fw
            .map(
                vec![
                    spec("ok", "true", 0.5),
                    spec("fails", "exit 3", 0.5),
                    spec("hangs", "sleep 120", 0.5),
                ],
                2,
            )
            .await;
        let summary = tokio::time::timeout(Duration::from_secs(60), fw.finish())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(summary.outcomes.len(), 3);
        results.into_iter().map(Result::unwrap).collect::<Vec<_>>()
    });
    assert_eq!(outcomes[0].state, FinalState::Finished);
    assert_eq!(
        (outcomes[1].state, outcomes[1].exit_status, outcomes[1].attempts),
        (FinalState::Failed, Some(3), 1)
    );
    assert_eq!(outcomes[2].state, FinalState::Killed, "{:?}", outcomes[2]);
    assert!(outcomes[2].duration_s.unwrap() < 30.0);
}

#[test]
fn failures_and_kills_protobuf() {
    failures_and_kills(ContentType::Protobuf);
}

#[test]
fn failures_and_kills_json() {
    failures_and_kills(ContentType::Json);
}
