//! The sans-IO core, scripted: events and clock in, calls and outcomes out. Each test names the
//! protocol rule it pins (see shared/mesos/PROTOCOL.md).

use std::time::Duration;

use live::protocol::{Action, Config, Core, FinalState, Outcome};
use live::tasks::{TaskSpec, command_task, schema};
use packing::Policy;
use proto::v1::scheduler::{Call, Event, event};
use proto::v1::{AgentId, FrameworkId, Offer, OfferId, TaskId, TaskState, TaskStatus};

const S: fn(u64) -> Duration = Duration::from_secs;

fn core(config: Config) -> Core {
    Core::new(config, Policy::parse("first-fit", &schema()).unwrap(), None).unwrap()
}

fn spec(id: &str, cpus: f64) -> TaskSpec {
    TaskSpec::new(command_task(id, "true", cpus, 64.0), id).unwrap()
}

fn drain(c: &mut Core) -> Vec<Action> {
    std::iter::from_fn(|| c.poll_action()).collect()
}

fn calls(actions: &[Action]) -> Vec<&Call> {
    actions
        .iter()
        .filter_map(|a| if let Action::Call(c) = a { Some(c) } else { None })
        .collect()
}

fn kinds(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a {
            Action::Subscribe(_) => "SUBSCRIBE".to_string(),
            Action::Call(c) => c.r#type().as_str_name().to_string(),
            Action::Disconnect => "disconnect".into(),
            Action::Outcome(o) => format!("outcome {} {}", o.task_id, o.state.name()),
            Action::Done => "done".into(),
            Action::Abort(_) => "abort".into(),
        })
        .collect()
}

fn outcomes(actions: &[Action]) -> Vec<Outcome> {
    actions
        .iter()
        .filter_map(|a| {
            if let Action::Outcome(o) = a {
                Some(o.clone())
            } else {
                None
            }
        })
        .collect()
}

fn subscribed(id: &str) -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: FrameworkId { value: id.into() },
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..Event::default()
    }
}

fn offer(id: &str, agent: &str, cpus: f64) -> Offer {
    proto::build::offer(id, "fw", agent, cpus, 4096.0, (31000, 31009))
}

fn offers(list: Vec<Offer>) -> Event {
    Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers { offers: list }),
        ..Event::default()
    }
}

/// The master's FAILURE event for a lost agent.
fn agent_failure(agent: &str) -> Event {
    Event {
        r#type: Some(event::Type::Failure as i32),
        failure: Some(event::Failure {
            agent_id: Some(AgentId { value: agent.into() }),
            executor_id: None,
            status: None,
        }),
        ..Event::default()
    }
}

fn update(task: &str, agent: &str, state: TaskState, uuid: bool, message: &str) -> Event {
    Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update {
            status: TaskStatus {
                task_id: TaskId { value: task.into() },
                state: state as i32,
                agent_id: Some(AgentId { value: agent.into() }),
                uuid: uuid.then(|| vec![7u8; 16]),
                message: Some(message.into()),
                ..TaskStatus::default()
            },
        }),
        ..Event::default()
    }
}

/// A core subscribed as `fw` at t=0 with the SUBSCRIBE and its first calls drained.
fn subscribed_core(config: Config) -> Core {
    let mut c = core(config);
    c.start(S(0));
    c.on_event(S(0), subscribed("fw"));
    drain(&mut c);
    c
}

fn launched_ids(actions: &[Action]) -> Vec<(String, String)> {
    calls(actions)
        .iter()
        .filter_map(|c| c.accept.as_ref())
        .flat_map(|a| {
            a.operations
                .iter()
                .flat_map(|o| o.launch.iter().flat_map(|l| l.task_infos.iter()))
        })
        .map(|t| (t.task_id.value.clone(), t.agent_id.value.clone()))
        .collect()
}

#[test]
fn subscribe_asks_for_multi_role_and_a_failover_timeout_then_suppresses_when_idle() {
    let mut c = core(Config::default());
    c.start(S(0));
    let a = drain(&mut c);
    let Action::Subscribe(sub) = &a[0] else {
        panic!("{a:?}")
    };
    let info = &sub.subscribe.as_ref().unwrap().framework_info;
    assert_eq!(info.roles, vec!["*".to_string()]);
    assert!(
        info.failover_timeout.unwrap() > 0.0,
        "0 would kill every task on a disconnect"
    );
    assert!(
        info.capabilities
            .iter()
            .any(|x| x.r#type == Some(proto::v1::framework_info::capability::Type::MultiRole as i32))
    );
    c.on_event(S(1), subscribed("fw"));
    // Nothing to run: no offers wanted.
    assert_eq!(kinds(&drain(&mut c)), vec!["SUPPRESS"]);
    // Work arrives: REVIVE.
    c.submit(S(2), spec("a", 1.0));
    assert_eq!(kinds(&drain(&mut c)), vec!["REVIVE"]);
}

#[test]
fn offers_become_one_accept_per_agent_with_a_zero_filter_and_unused_offers_are_declined() {
    let mut c = subscribed_core(Config::default());
    for (id, cpus) in [("a", 1.0), ("b", 1.0), ("c", 3.0)] {
        c.submit(S(1), spec(id, cpus));
    }
    drain(&mut c);
    c.on_event(
        S(2),
        offers(vec![
            offer("o1", "A", 2.0),
            offer("o2", "B", 4.0),
            offer("o3", "C", 4.0),
        ]),
    );
    let a = drain(&mut c);
    assert_eq!(kinds(&a), vec!["ACCEPT", "ACCEPT", "DECLINE", "SUPPRESS"]);
    assert_eq!(
        launched_ids(&a),
        vec![
            ("a".into(), "A".into()),
            ("b".into(), "A".into()),
            ("c".into(), "B".into())
        ]
    );
    let cs = calls(&a);
    let accept = cs[0].accept.as_ref().unwrap();
    assert_eq!(accept.offer_ids, vec![OfferId { value: "o1".into() }]);
    assert_eq!(accept.filters.as_ref().unwrap().refuse_seconds, Some(0.0));
    // Carved resources keep the offer's allocation info and add up to the demand.
    let t = &accept.operations[0].launch.as_ref().unwrap().task_infos[0];
    assert!(t.resources.iter().all(|r| r.allocation_info.is_some()));
    let decline = cs[2].decline.as_ref().unwrap();
    assert_eq!(decline.offer_ids, vec![OfferId { value: "o3".into() }]);
    assert_eq!(decline.filters.as_ref().unwrap().refuse_seconds, Some(3600.0));
}

#[test]
fn updates_with_a_uuid_are_acknowledged_and_master_updates_are_not() {
    let mut c = subscribed_core(Config::default());
    c.submit(S(1), spec("a", 1.0));
    c.on_event(S(2), offers(vec![offer("o1", "A", 2.0)]));
    drain(&mut c);
    c.on_event(S(3), update("a", "A", TaskState::TaskRunning, true, ""));
    let a = drain(&mut c);
    assert_eq!(kinds(&a), vec!["ACKNOWLEDGE"]);
    let ack = calls(&a)[0].acknowledge.as_ref().unwrap();
    assert_eq!(
        (
            ack.task_id.value.as_str(),
            ack.agent_id.value.as_str(),
            ack.uuid.len()
        ),
        ("a", "A", 16)
    );
    // A reconciliation answer (no uuid) is never acknowledged.
    c.on_event(
        S(4),
        update("a", "A", TaskState::TaskRunning, false, "Reconciliation"),
    );
    assert!(drain(&mut c).is_empty());
    // An update for a task we never launched is still acknowledged (the agent waits for it).
    c.on_event(S(5), update("stranger", "A", TaskState::TaskFinished, true, ""));
    assert_eq!(kinds(&drain(&mut c)), vec!["ACKNOWLEDGE"]);
}

#[test]
fn infrastructure_failures_are_retried_and_a_tasks_own_failure_is_not() {
    let mut c = subscribed_core(Config {
        retries: 2,
        ..Config::default()
    });
    c.submit(S(1), spec("lost", 1.0));
    c.submit(S(1), spec("fails", 1.0));
    c.on_event(S(2), offers(vec![offer("o1", "A", 4.0)]));
    drain(&mut c);
    c.on_event(
        S(3),
        update(
            "fails",
            "A",
            TaskState::TaskFailed,
            true,
            "Command exited with status 3",
        ),
    );
    c.on_event(
        S(3),
        update("lost", "A", TaskState::TaskLost, false, "agent gone"),
    );
    let a = drain(&mut c);
    assert_eq!(
        kinds(&a),
        vec!["ACKNOWLEDGE", "outcome fails TASK_FAILED", "REVIVE"]
    );
    let o = &outcomes(&a)[0];
    assert_eq!((o.exit_status, o.attempts), (Some(3), 1));
    // Attempt 2 gets a new Mesos task id; its loss is retried once more, then reported.
    c.on_event(S(4), offers(vec![offer("o2", "B", 4.0)]));
    assert_eq!(
        launched_ids(&drain(&mut c)),
        vec![("lost.retry1".into(), "B".into())]
    );
    // A late update of the first attempt does not touch the second.
    c.on_event(S(5), update("lost", "A", TaskState::TaskFinished, true, ""));
    assert_eq!(kinds(&drain(&mut c)), vec!["ACKNOWLEDGE"]);
    c.on_event(
        S(6),
        update("lost.retry1", "B", TaskState::TaskDropped, false, ""),
    );
    c.on_event(S(7), offers(vec![offer("o3", "B", 4.0)]));
    assert_eq!(
        launched_ids(&drain(&mut c)),
        vec![("lost.retry2".into(), "B".into())]
    );
    c.on_event(S(8), update("lost.retry2", "B", TaskState::TaskGone, false, ""));
    let a = drain(&mut c);
    let o = &outcomes(&a)[0];
    assert_eq!(
        (o.task_id.as_str(), o.state, o.attempts),
        ("lost", FinalState::Gone, 3)
    );
}

#[test]
fn every_task_gets_exactly_one_outcome_then_teardown() {
    let mut c = subscribed_core(Config::default());
    c.submit(S(1), spec("a", 1.0));
    c.close();
    c.on_event(S(2), offers(vec![offer("o1", "A", 4.0)]));
    drain(&mut c);
    c.on_event(S(3), update("a", "A", TaskState::TaskFinished, true, ""));
    // The agent resends until acknowledged: a duplicate must not give a second outcome.
    c.on_event(S(4), update("a", "A", TaskState::TaskFinished, true, ""));
    let a = drain(&mut c);
    assert_eq!(
        kinds(&a),
        vec!["ACKNOWLEDGE", "outcome a TASK_FINISHED", "TEARDOWN", "done"]
    );
}

#[test]
fn kill_after_kills_once_per_resend_period() {
    let mut c = subscribed_core(Config {
        kill_after: Some(S(5)),
        ..Config::default()
    });
    c.submit(S(0), spec("slow", 1.0));
    c.on_event(S(1), offers(vec![offer("o1", "A", 4.0)]));
    drain(&mut c);
    assert_eq!(c.next_deadline(), Some(S(6)));
    c.tick(S(5));
    assert!(drain(&mut c).is_empty());
    c.tick(S(6));
    let a = drain(&mut c);
    assert_eq!(kinds(&a), vec!["KILL"]);
    assert_eq!(calls(&a)[0].kill.as_ref().unwrap().task_id.value, "slow");
    c.tick(S(7));
    assert!(
        drain(&mut c).is_empty(),
        "no second KILL before the resend period"
    );
    c.on_event(S(8), update("slow", "A", TaskState::TaskKilled, true, ""));
    let o = &outcomes(&drain(&mut c))[0];
    assert_eq!(o.state, FinalState::Killed);
    assert!(o.message.contains("--kill-after"), "{}", o.message);
}

#[test]
fn resubscribing_keeps_the_framework_id_and_reconciles_launched_tasks_until_answered() {
    let mut c = subscribed_core(Config::default());
    c.submit(S(0), spec("a", 1.0));
    c.on_event(S(1), offers(vec![offer("o1", "A", 4.0)]));
    drain(&mut c);
    // The stream breaks: re-subscribe after a backoff, as the same framework.
    c.on_disconnected(S(2));
    assert!(drain(&mut c).is_empty());
    let at = c.next_deadline().unwrap();
    assert!(at > S(2) && at <= S(3), "{at:?}");
    c.tick(at);
    let a = drain(&mut c);
    let Action::Subscribe(sub) = &a[0] else {
        panic!("{a:?}")
    };
    assert_eq!(sub.framework_id.as_ref().unwrap().value, "fw");
    assert_eq!(
        sub.subscribe
            .as_ref()
            .unwrap()
            .framework_info
            .id
            .as_ref()
            .unwrap()
            .value,
        "fw"
    );
    c.on_event(S(4), subscribed("fw"));
    let a = drain(&mut c);
    assert_eq!(kinds(&a), vec!["RECONCILE", "SUPPRESS"]);
    let tasks = &calls(&a)[0].reconcile.as_ref().unwrap().tasks;
    assert_eq!(
        (
            tasks[0].task_id.value.as_str(),
            tasks[0].agent_id.as_ref().unwrap().value.as_str()
        ),
        ("a", "A")
    );
    // No answer: asked again after the retry period.
    c.tick(S(9));
    assert_eq!(kinds(&drain(&mut c)), vec!["RECONCILE"]);
    // The answer: unknown to the master, so the launch was lost; launch again.
    c.on_event(
        S(10),
        update(
            "a",
            "A",
            TaskState::TaskGone,
            false,
            "Reconciliation: Task is unknown to the agent",
        ),
    );
    assert_eq!(kinds(&drain(&mut c)), vec!["REVIVE"]);
    c.tick(S(40));
    assert!(!kinds(&drain(&mut c)).contains(&"RECONCILE".to_string()));
}

#[test]
fn missed_heartbeats_403_and_error_events_each_lead_to_a_new_subscription() {
    let mut c = subscribed_core(Config::default());
    // Heartbeat 15 s: five missed is a partition.
    c.tick(S(74));
    assert!(drain(&mut c).is_empty());
    c.tick(S(75));
    assert_eq!(kinds(&drain(&mut c)), vec!["disconnect"]);
    c.tick(S(76));
    assert_eq!(kinds(&drain(&mut c)), vec!["SUBSCRIBE"]);
    c.on_event(S(76), subscribed("fw"));
    drain(&mut c);
    let current = c.subscription();
    c.on_call_failed(S(77), 403, current);
    assert_eq!(kinds(&drain(&mut c)), vec!["disconnect"]);
    c.tick(S(78));
    assert_eq!(kinds(&drain(&mut c)), vec!["SUBSCRIBE"]);
    // ERROR events without a subscription in between: give up on the third.
    let error = || Event {
        r#type: Some(event::Type::Error as i32),
        error: Some(event::Error {
            message: "Framework has been removed".into(),
        }),
        ..Event::default()
    };
    for t in [79, 80] {
        c.on_event(S(t), error());
        assert_eq!(kinds(&drain(&mut c)), vec!["disconnect"]);
        c.tick(S(t) + S(20));
        drain(&mut c);
    }
    c.on_event(S(120), error());
    assert_eq!(kinds(&drain(&mut c)), vec!["abort"]);
}

#[test]
fn a_task_larger_than_any_agent_is_reported_not_retried_forever() {
    let mut c = subscribed_core(Config {
        unschedulable_after: S(30),
        ..Config::default()
    });
    c.submit(S(0), spec("huge", 64.0));
    c.submit(S(0), spec("small", 1.0));
    c.on_event(S(1), offers(vec![offer("o1", "A", 4.0)]));
    assert_eq!(launched_ids(&drain(&mut c)), vec![("small".into(), "A".into())]);
    c.tick(S(29));
    assert!(outcomes(&drain(&mut c)).is_empty());
    c.tick(S(30));
    let o = &outcomes(&drain(&mut c))[0];
    assert_eq!((o.task_id.as_str(), o.state), ("huge", FinalState::Unschedulable));
    assert!(o.message.contains("cpus 4"), "{}", o.message);
}

#[test]
fn a_snapshot_restores_tasks_and_the_framework() {
    let mut c = subscribed_core(Config::default());
    c.submit(S(0), spec("a", 1.0));
    c.submit(S(0), spec("b", 1.0));
    c.submit(S(0), spec("c", 8.0));
    c.on_event(S(1), offers(vec![offer("o1", "A", 4.0)]));
    drain(&mut c);
    c.on_event(S(2), update("a", "A", TaskState::TaskFinished, true, ""));
    // The changes since the start, as journal lines, rebuild the same snapshot.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state");
    let mut journal = live::state::Journal::create(&path, &live::Snapshot::default()).unwrap();
    journal.append(&c.take_changes()).unwrap();
    assert!(c.take_changes().is_empty(), "each change is said once");
    let snap = live::state::load(&path).unwrap().unwrap();
    assert_eq!(snap, c.snapshot());

    let mut r = Core::new(
        Config::default(),
        Policy::parse("first-fit", &schema()).unwrap(),
        Some(snap),
    )
    .unwrap();
    assert_eq!(r.framework_id(), Some("fw"));
    assert_eq!(r.outcome_of("a").unwrap().state, FinalState::Finished);
    r.start(S(0));
    r.on_event(S(0), subscribed("fw"));
    let a = drain(&mut r);
    // b was launched: reconcile it; c still waits for offers, so no SUPPRESS.
    assert_eq!(kinds(&a), vec!["SUBSCRIBE", "RECONCILE"]);
    assert_eq!(calls(&a)[0].reconcile.as_ref().unwrap().tasks.len(), 1);
    // A re-submitted id is not launched twice.
    assert!(!r.submit(S(1), spec("b", 1.0)));
}

#[test]
fn an_agent_failure_reconciles_its_tasks() {
    let mut c = subscribed_core(Config::default());
    c.submit(S(0), spec("a", 1.0));
    c.on_event(S(1), offers(vec![offer("o1", "A", 4.0)]));
    drain(&mut c);
    c.on_event(S(2), agent_failure("A"));
    let a = drain(&mut c);
    assert_eq!(kinds(&a), vec!["RECONCILE"]);
    assert_eq!(
        calls(&a)[0].reconcile.as_ref().unwrap().tasks[0].task_id.value,
        "a"
    );
}

#[test]
fn a_late_failure_of_the_old_subscriptions_call_does_not_drop_the_new_one() {
    let mut c = subscribed_core(Config::default());
    let old = c.subscription();
    c.tick(S(75)); // heartbeats missed: a new subscription
    c.tick(S(76));
    c.on_event(S(76), subscribed("fw"));
    drain(&mut c);
    assert_ne!(c.subscription(), old);
    // An ACKNOWLEDGE sent with the old Mesos-Stream-Id comes back 403 (or 400) now.
    c.on_call_failed(S(77), 403, old);
    c.on_call_failed(S(77), 400, old);
    assert!(drain(&mut c).is_empty());
    assert!(c.is_subscribed());
}

#[test]
fn a_queued_task_that_fits_somewhere_does_not_make_the_clock_spin() {
    let mut c = subscribed_core(Config {
        unschedulable_after: S(30),
        ..Config::default()
    });
    c.submit(S(0), spec("a", 4.0));
    c.submit(S(0), spec("b", 4.0));
    c.on_event(S(1), offers(vec![offer("o1", "A", 4.0)]));
    drain(&mut c);
    // b waits for a: past its 30 s it is not given up (A can hold it) and asks no early tick.
    c.tick(S(31));
    assert!(outcomes(&drain(&mut c)).is_empty());
    let next = c.next_deadline().unwrap();
    assert!(next > S(31), "the next deadline {next:?} is not in the past");
}

#[test]
fn stopping_tears_down_killing_what_runs_or_detaches_leaving_it() {
    let run = |how: live::Stop| {
        let mut c = subscribed_core(Config::default());
        c.submit(S(0), spec("a", 4.0));
        c.submit(S(0), spec("b", 4.0));
        c.on_event(S(1), offers(vec![offer("o1", "A", 4.0)]));
        drain(&mut c);
        c.stop(S(2), how, "interrupted (SIGTERM)");
        (drain(&mut c), c)
    };
    let (a, c) = run(live::Stop::Teardown);
    assert_eq!(
        kinds(&a),
        vec!["outcome a TASK_KILLED", "outcome b CANCELLED", "TEARDOWN", "done"]
    );
    assert!(outcomes(&a)[0].message.starts_with("interrupted (SIGTERM)"));
    assert!(!c.is_detached());
    let (a, c) = run(live::Stop::Detach);
    assert_eq!(kinds(&a), vec!["done"]);
    assert!(c.is_detached());
    assert_eq!(c.unfinished(), vec!["a", "b"]);
}

#[test]
fn a_duration_spans_a_restart() {
    let mut c = subscribed_core(Config::default());
    c.set_wall_clock(1000.0);
    c.submit(S(0), spec("a", 1.0));
    c.on_event(S(1), offers(vec![offer("o1", "A", 4.0)]));
    drain(&mut c);
    // Restarted 3 s after the launch, by a process whose clock starts at wall time 1004.
    let mut r = Core::new(
        Config::default(),
        Policy::parse("first-fit", &schema()).unwrap(),
        Some(c.snapshot()),
    )
    .unwrap();
    r.set_wall_clock(1004.0);
    r.start(S(0));
    r.on_event(S(0), subscribed("fw"));
    r.on_event(S(1), update("a", "A", TaskState::TaskFinished, true, ""));
    let o = outcomes(&drain(&mut r));
    assert_eq!(o[0].duration_s, Some(4.0));
}

#[test]
fn progress_counts_follow_every_phase_change() {
    let mut c = subscribed_core(Config::default());
    for i in 0..3 {
        c.submit(S(0), spec(&format!("t{i}"), 2.0));
    }
    c.on_event(S(1), offers(vec![offer("o1", "A", 4.0)]));
    drain(&mut c);
    let p = c.progress();
    assert_eq!((p.queued, p.running, p.finished, p.failed), (1, 2, 0, 0));
    c.on_event(S(2), update("t0", "A", TaskState::TaskFinished, true, ""));
    c.on_event(S(2), update("t1", "A", TaskState::TaskLost, true, ""));
    let p = c.progress();
    assert_eq!((p.queued, p.running, p.finished, p.failed), (2, 0, 1, 0));
}

#[test]
fn an_overdue_task_is_given_up_when_the_only_agent_that_could_hold_it_goes_away() {
    let mut c = subscribed_core(Config {
        unschedulable_after: S(30),
        ..Config::default()
    });
    c.submit(S(0), spec("a", 4.0));
    c.submit(S(0), spec("b", 4.0));
    c.on_event(S(1), offers(vec![offer("o1", "A", 4.0), offer("o2", "B", 2.0)]));
    drain(&mut c);
    c.tick(S(31)); // b is overdue, but A could hold it
    assert!(outcomes(&drain(&mut c)).is_empty());
    c.on_event(S(32), agent_failure("A"));
    let o = outcomes(&drain(&mut c));
    assert_eq!(o.len(), 1, "{o:?}");
    assert_eq!(
        (o[0].task_id.as_str(), o[0].state),
        ("b", FinalState::Unschedulable)
    );
}
