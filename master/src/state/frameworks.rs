//! Frameworks: SUBSCRIBE (and failover of a framework to a new stream), the checks every call
//! passes first, streams that close, and frameworks removed after their failover timeout.

#[allow(clippy::wildcard_imports)]
use super::*;

impl MasterState {
    /// A SUBSCRIBE call (already validated as a Call): the new stream's id, or an ERROR to send
    /// on a stream that is then closed (`Err(Ok(message))`), or an HTTP refusal.
    #[allow(deprecated)] // FrameworkInfo.role: non-MULTI_ROLE frameworks still use it
    pub fn subscribe(&mut self, now: Duration, c: &Call) -> Result<String, Result<String, Refusal>> {
        let sub = c.subscribe.as_ref().ok_or_else(|| {
            Err(err(
                400,
                "Failed to validate scheduler::Call: Expecting 'subscribe' to be present",
            ))
        })?;
        let info = sub.framework_info.clone();
        let caps: BTreeSet<i32> = info.capabilities.iter().filter_map(|x| x.r#type).collect();
        use framework_info::capability::Type as Cap;
        let multi_role = caps.contains(&(Cap::MultiRole as i32));
        if multi_role && info.role.is_some() {
            return Err(Ok(
                "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable".into(),
            ));
        }
        if !multi_role && !info.roles.is_empty() {
            return Err(Ok(
                "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable".into(),
            ));
        }
        let roles = if multi_role {
            info.roles.clone()
        } else {
            vec![info.role.clone().unwrap_or_else(|| "*".into())]
        };
        let mut seen = BTreeSet::new();
        if let Some(dup) = roles.iter().find(|r| !seen.insert(*r)) {
            return Err(Ok(format!(
                "'FrameworkInfo.roles' contains duplicate items: {dup}"
            )));
        }
        let stream = uuid_text(&mut self.rng);
        let id = match &info.id {
            Some(id) => id.value.clone(),
            None => {
                let id = format!("{}-{:04}", self.master_id, self.next_framework);
                self.next_framework += 1;
                id
            }
        };
        self.removed.remove(&id);
        let suppressed: BTreeSet<String> = sub.suppressed_roles.iter().cloned().collect();
        let mut info = info;
        info.id = Some(FrameworkId { value: id.clone() });
        if let Some(old) = self.frameworks.get_mut(&id) {
            // Failover: the old stream hears why it is closed; outstanding offers are discarded.
            if let Some(s) = old.stream.take() {
                self.out.push(Out::Event {
                    stream: s.clone(),
                    event: Box::new(error_event("Framework failed over")),
                });
                self.out.push(Out::Close { stream: s });
            }
            old.info = info;
            old.roles = roles;
            old.multi_role = multi_role;
            old.gpu_resources = caps.contains(&(Cap::GpuResources as i32));
            old.stream = Some(stream.clone());
            old.disconnected_at = None;
            old.suppressed = suppressed;
            self.recover_offers_of(&id);
        } else {
            self.frameworks.insert(
                id.clone(),
                Framework {
                    id: id.clone(),
                    partition_aware: caps.contains(&(Cap::PartitionAware as i32)),
                    killing_state: caps.contains(&(Cap::TaskKillingState as i32)),
                    info,
                    roles,
                    multi_role,
                    gpu_resources: caps.contains(&(Cap::GpuResources as i32)),
                    stream: Some(stream.clone()),
                    disconnected_at: None,
                    last_heartbeat: now,
                    suppressed,
                    filters: Vec::new(),
                },
            );
        }
        let f = self.frameworks.get_mut(&id).expect("just inserted");
        f.last_heartbeat = now;
        let subscribed = Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                framework_id: FrameworkId { value: id.clone() },
                heartbeat_interval_seconds: Some(self.config.heartbeat.as_secs_f64()),
                master_info: Some(self.master_info()),
            }),
            ..Event::default()
        };
        self.send(&id, subscribed);
        self.send(
            &id,
            Event {
                r#type: Some(event::Type::Heartbeat as i32),
                ..Event::default()
            },
        );
        // Updates that were waiting for a connection go out again.
        for t in self.tasks.values_mut().filter(|t| t.framework == id) {
            if let Some(p) = t.updates.front_mut() {
                p.sent_at = None;
            }
        }
        self.next_allocation = self.next_allocation.min(now);
        Ok(stream)
    }

    pub(super) fn master_info(&self) -> MasterInfo {
        MasterInfo {
            id: self.master_id.clone(),
            ip: 16_777_343,
            port: self.config.port.into(),
            pid: Some(format!("master@127.0.0.1:{}", self.config.port)),
            hostname: Some("localhost".into()),
            version: Some("1.11.0".into()),
            address: Some(proto::v1::Address {
                hostname: Some("localhost".into()),
                ip: Some("127.0.0.1".into()),
                port: i32::from(self.config.port),
            }),
            // What 1.11 knows of its capabilities (it writes a third, newer one as `{}`).
            capabilities: [
                proto::v1::master_info::capability::Type::AgentUpdate,
                proto::v1::master_info::capability::Type::AgentDraining,
            ]
            .into_iter()
            .map(|t| proto::v1::master_info::Capability {
                r#type: Some(t as i32),
            })
            .collect(),
            ..MasterInfo::default()
        }
    }

    /// The subscription stream `stream` broke (client gone, or a fault).
    pub fn stream_closed(&mut self, now: Duration, stream: &str) {
        let Some(id) = self
            .frameworks
            .values()
            .find(|f| f.stream.as_deref() == Some(stream))
            .map(|f| f.id.clone())
        else {
            return;
        };
        let f = self.frameworks.get_mut(&id).expect("found");
        f.stream = None;
        f.disconnected_at = Some(now);
        self.recover_offers_of(&id);
    }

    pub(super) fn recover_offers_of(&mut self, framework: &str) {
        let ids: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, o)| o.framework == framework)
            .map(|(k, _)| k.clone())
            .collect();
        for id in ids {
            let o = self.offers.remove(&id).expect("listed");
            self.agents[o.agent].free.add(&o.res);
        }
    }

    /// Checks a non-SUBSCRIBE call's framework and stream id as the master does.
    pub fn authorize(&self, c: &Call, stream_header: Option<&str>) -> Result<(), Refusal> {
        let id = &c.framework_id.as_ref().expect("validated").value;
        let Some(f) = self.frameworks.get(id) else {
            return Err(err(400, "Framework cannot be found"));
        };
        let Some(stream) = &f.stream else {
            return Err(err(403, "Framework is not subscribed"));
        };
        match stream_header {
            None => Err(err(
                400,
                "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
            )),
            Some(h) if h != stream => Err(err(
                400,
                format!(
                    "The stream ID '{h}' included in this request didn't match the stream ID currently associated with framework ID {id}"
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    pub(super) fn remove_framework(&mut self, id: &str) {
        self.recover_offers_of(id);
        let keys: Vec<(String, String)> = self.tasks.keys().filter(|(f, _)| f == id).cloned().collect();
        for k in keys {
            let t = self.tasks.remove(&k).expect("listed");
            if !t.done {
                self.agents[t.agent].free.add(&t.res);
            }
        }
        if let Some(f) = self.frameworks.remove(id) {
            if let Some(s) = f.stream {
                self.out.push(Out::Close { stream: s });
            }
        }
        self.removed.insert(id.to_string());
    }
}

pub(super) fn failover_timeout(info: &FrameworkInfo) -> Duration {
    Duration::from_secs_f64(info.failover_timeout.unwrap_or(0.0).clamp(0.0, 1e9))
}
