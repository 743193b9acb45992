//! Reaching the master: the addresses users type, and when to give up on one that does not
//! answer.

use std::time::Duration;

use crate::Error;

/// Mesos's default port, for a master given without one.
pub const DEFAULT_PORT: u16 = 5050;

/// The master's `host:port` from what users type: `host:port`, `host` (port 5050),
/// `http://host:port`, each with or without the scheduler API's path or a trailing slash. HTTPS,
/// ZooKeeper URLs, other paths and things that are not a host are errors saying what to give.
///
/// ```
/// use live::shell::master_address;
/// assert_eq!(master_address("http://10.0.0.1:5050/api/v1/scheduler").unwrap(), "10.0.0.1:5050");
/// assert_eq!(master_address("mesos.local").unwrap(), "mesos.local:5050");
/// assert!(master_address("not a host").is_err());
/// ```
pub fn master_address(text: &str) -> Result<String, Error> {
    let err = |reason: &str| Error::Master {
        master: text.to_string(),
        reason: reason.to_string(),
    };
    let t = text.trim();
    let rest = if let Some(r) = t.strip_prefix("http://") {
        r
    } else if t.starts_with("https://") {
        return Err(err(
            "packsim talks plain HTTP to the master, as Mesos serves its scheduler API; give \
             HOST:PORT or http://HOST:PORT",
        ));
    } else if t.starts_with("zk://") {
        return Err(err(
            "ZooKeeper master detection is not supported; give the leading master's HOST:PORT \
             (any master's /redirect names it)",
        ));
    } else if t.contains("://") {
        return Err(err("unknown scheme; give HOST:PORT or http://HOST:PORT"));
    } else {
        t
    };
    if rest.contains("://") {
        return Err(err(
            "the address repeats its scheme; give HOST:PORT or http://HOST:PORT",
        ));
    }
    let (hostport, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = path.trim_end_matches('/');
    if !matches!(
        path,
        "" | "/api/v1/scheduler" | "/master/api/v1/scheduler" | "/master"
    ) {
        return Err(err(&format!(
            "`{path}` is not the scheduler API's path; give the master's HOST:PORT (packsim adds /api/v1/scheduler)"
        )));
    }
    // `[v6]:port`, `[v6]`, `host:port`, `host`.
    let (host, port) = if let Some(end) = hostport.find(']').filter(|_| hostport.starts_with('[')) {
        let port = hostport[end + 1..].strip_prefix(':').unwrap_or("");
        (
            &hostport[..=end],
            if port.is_empty() {
                DEFAULT_PORT.to_string()
            } else {
                port.to_string()
            },
        )
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.to_string()),
            None => (hostport, DEFAULT_PORT.to_string()),
        }
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|&p| p > 0)
        .ok_or_else(|| err(&format!("`{port}` is not a port (1 to 65535)")))?;
    let host_ok = !host.is_empty()
        && (host.starts_with('[') && host.ends_with(']')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if !host_ok {
        return Err(err(&format!(
            "`{host}` is not a host name or address; give HOST:PORT, e.g. 127.0.0.1:5050"
        )));
    }
    Ok(format!("{host}:{port}"))
}

/// Whether the master can be reached: since when the framework has been without a subscription,
/// the tries that failed since, and when to give up.
pub(super) struct Reach {
    timeout: Option<Duration>,
    unsubscribed_since: Duration,
    failed_tries: u32,
    last_failure: String,
}

impl Reach {
    pub(super) fn new(timeout: Option<Duration>) -> Reach {
        Reach {
            timeout,
            unsubscribed_since: Duration::ZERO,
            failed_tries: 0,
            last_failure: String::from("no answer yet"),
        }
    }

    /// Subscribed at `now` (or just lost a subscription): the clock starts again.
    pub(super) fn subscribed(&mut self, now: Duration) {
        self.unsubscribed_since = now;
        self.failed_tries = 0;
    }

    /// When to give up, if ever.
    pub(super) fn give_up_at(&self) -> Option<Duration> {
        self.timeout.map(|l| self.unsubscribed_since + l)
    }

    /// A try failed because of `why`; the next is in `retry`. Said on stderr (tracing) every
    /// time; an error once the timeout has passed.
    pub(super) fn failed(
        &mut self,
        now: Duration,
        why: String,
        retry: Duration,
        master: &str,
    ) -> Result<(), Error> {
        self.failed_tries += 1;
        self.last_failure = why;
        if self.give_up_at().is_some_and(|at| now >= at) {
            return Err(self.give_up(master));
        }
        tracing::warn!(
            "master {master}: {}; try {} failed, next in {:.1} s{}",
            self.last_failure,
            self.failed_tries,
            retry.as_secs_f64(),
            self.timeout
                .map(|l| format!(", giving up after {:.0} s", l.as_secs_f64()))
                .unwrap_or_default()
        );
        Ok(())
    }

    pub(super) fn give_up(&self, master: &str) -> Error {
        Error::Master {
            master: master.to_string(),
            reason: format!(
                "could not subscribe in {:.0} s ({} tries; the last: {}); check the address, or give \
                 a longer --connect-timeout",
                self.timeout.unwrap_or_default().as_secs_f64(),
                self.failed_tries,
                self.last_failure
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_users_type_name_the_same_master() {
        for text in [
            "127.0.0.1:5050",
            " 127.0.0.1:5050 ",
            "http://127.0.0.1:5050",
            "http://127.0.0.1:5050/",
            "http://127.0.0.1:5050/api/v1/scheduler",
            "127.0.0.1:5050/master/api/v1/scheduler",
            "127.0.0.1",
        ] {
            assert_eq!(master_address(text).unwrap(), "127.0.0.1:5050", "{text}");
        }
        assert_eq!(master_address("[::1]:7070").unwrap(), "[::1]:7070");
        assert_eq!(master_address("[::1]").unwrap(), "[::1]:5050");
    }

    #[test]
    fn what_cannot_be_a_master_is_an_error_saying_what_to_give() {
        let said = |text: &str| master_address(text).unwrap_err().to_string();
        assert!(
            said("not a host").contains("`not a host` is not a host name"),
            "{}",
            said("not a host")
        );
        assert!(said("https://m:5050").contains("plain HTTP"));
        assert!(said("zk://z:2181/mesos").contains("ZooKeeper"));
        assert!(said("127.0.0.1:99999").contains("`99999` is not a port"));
        assert!(said("127.0.0.1:5050/state").contains("`/state` is not the scheduler API's path"));
        assert!(said("http://http://m:5050").contains("repeats its scheme"));
    }
}
