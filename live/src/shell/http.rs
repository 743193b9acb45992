//! The HTTP side: requests with the content type, stream id and credentials; the SUBSCRIBE
//! stream read record by record; calls sent one at a time, in order, with their retries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use proto::ContentType;
use proto::v1::scheduler::{Call, Event};
use tokio::sync::mpsc;

use super::Connection;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

#[derive(Clone)]
pub(super) struct Http {
    client: HttpClient,
    base: Arc<Mutex<String>>,
    content_type: ContentType,
    auth: Option<String>,
}

impl Http {
    pub(super) fn new(conn: &Connection) -> Http {
        Http {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base: Arc::new(Mutex::new(conn.master.clone())),
            content_type: conn.content_type,
            auth: conn.credentials.as_ref().map(|(p, s)| {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{p}:{s}"))
                )
            }),
        }
    }

    pub(super) fn master(&self) -> String {
        self.base.lock().expect("not poisoned").clone()
    }

    fn request(&self, call: &Call, stream_id: Option<&str>) -> Request<Full<Bytes>> {
        let ct = self.content_type.media_type();
        let mut r = Request::post(format!("http://{}/api/v1/scheduler", self.master()))
            .header("Content-Type", ct)
            .header("Accept", ct);
        if let Some(id) = stream_id {
            r = r.header("Mesos-Stream-Id", id);
        }
        if let Some(a) = &self.auth {
            r = r.header("Authorization", a);
        }
        r.body(Full::new(Bytes::from(self.content_type.encode(call))))
            .expect("a valid request")
    }

    /// Follows a 307 from a non-leader: `Location: //host:port/api/v1/scheduler`.
    fn redirect(&self, location: Option<&hyper::header::HeaderValue>) {
        let Some(loc) = location.and_then(|l| l.to_str().ok()) else {
            return;
        };
        let rest = loc
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_start_matches("//");
        let host = rest.split('/').next().unwrap_or(rest);
        if !host.is_empty() {
            *self.base.lock().expect("not poisoned") = host.to_string();
        }
    }
}

pub(super) enum Msg {
    Stream {
        generation: u64,
        item: StreamItem,
    },
    CallFailed {
        kind: String,
        status: u16,
        body: String,
        subscription: u64,
    },
}

/// A call, the stream id to send it with, and the core's subscription it belongs to.
pub(super) type Outgoing = (Call, Option<String>, u64);

pub(super) enum StreamItem {
    Opened(String),
    Event(Box<Event>),
    Ended(String),
    /// An answer no retry can change (authentication needed, not a Mesos master).
    Refused(String),
}

pub(super) async fn subscribe(http: Http, call: Call, generation: u64, tx: mpsc::UnboundedSender<Msg>) {
    let send = |item| {
        let _ = tx.send(Msg::Stream { generation, item });
    };
    // A client of its own: the stream keeps its connection for as long as it lives.
    let client = Http {
        client: Client::builder(TokioExecutor::new()).build_http(),
        ..http.clone()
    };
    let response = match client.client.request(client.request(&call, None)).await {
        Ok(r) => r,
        Err(e) => {
            return send(StreamItem::Ended(format!(
                "cannot connect to {}: {e}",
                http.master()
            )));
        }
    };
    let status = response.status();
    if status == StatusCode::TEMPORARY_REDIRECT {
        http.redirect(response.headers().get("Location"));
        return send(StreamItem::Ended(format!("redirected to {}", http.master())));
    }
    if status != StatusCode::OK {
        let body = read_body(response.into_body()).await;
        let body = String::from_utf8_lossy(&body);
        return send(match status.as_u16() {
            401 if http.auth.is_none() => StreamItem::Refused(
                "the master requires authentication (401): give --principal and --secret".into(),
            ),
            401 => StreamItem::Refused(format!(
                "the master refused the credentials (401): check --principal and --secret ({})",
                body.trim()
            )),
            404 | 405 | 501 => StreamItem::Refused(format!(
                "SUBSCRIBE answered {status}: this server does not serve the Mesos V1 scheduler API \
                 at /api/v1/scheduler; is it a Mesos master?"
            )),
            _ => StreamItem::Ended(format!("SUBSCRIBE answered {status}: {body}")),
        });
    }
    let Some(stream_id) = response
        .headers()
        .get("Mesos-Stream-Id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return send(StreamItem::Ended(
            "SUBSCRIBE answered 200 without Mesos-Stream-Id".into(),
        ));
    };
    let ct = response
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .and_then(ContentType::from_header)
        .unwrap_or(http.content_type);
    send(StreamItem::Opened(stream_id));
    let mut body = response.into_body();
    let mut decoder = proto::RecordDecoder::default();
    loop {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    decoder.push(&data);
                }
                loop {
                    match decoder.next_record() {
                        Ok(Some(record)) => match ct.decode::<Event>(&record) {
                            Ok(e) => send(StreamItem::Event(Box::new(e))),
                            Err(e) => return send(StreamItem::Ended(format!("undecodable event: {e}"))),
                        },
                        Ok(None) => break,
                        Err(e) => return send(StreamItem::Ended(format!("malformed stream: {e}"))),
                    }
                }
            }
            Some(Err(e)) => return send(StreamItem::Ended(format!("stream broke: {e}"))),
            None => return send(StreamItem::Ended("the master closed the stream".into())),
        }
    }
}

/// A whole response or request body; empty if it broke off (only error texts are read so).
async fn read_body<B: hyper::body::Body>(body: B) -> Bytes {
    body.collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default()
}

/// Sends calls one at a time, in order. Connection errors, 503 and 307 are retried here with
/// backoff (0.25 s doubling to 5 s) for up to [`CALL_DEADLINE`]; other answers are reported.
pub(super) async fn caller(
    http: Http,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    while let Some((call, stream_id, subscription)) = rx.recv().await {
        let kind = call.r#type().as_str_name().to_string();
        let started = tokio::time::Instant::now();
        let mut backoff = Duration::from_millis(250);
        let fail = |status: u16, body: String| {
            let _ = tx.send(Msg::CallFailed {
                kind: kind.clone(),
                status,
                body,
                subscription,
            });
        };
        loop {
            let left = CALL_DEADLINE.saturating_sub(started.elapsed());
            let result = tokio::time::timeout(
                left,
                http.client.request(http.request(&call, stream_id.as_deref())),
            )
            .await;
            let retry_because = match result {
                Err(_) => {
                    fail(0, format!("no answer in {} s", CALL_DEADLINE.as_secs()));
                    break;
                }
                Ok(Err(e)) => e.to_string(),
                Ok(Ok(response)) => {
                    let status = response.status();
                    if status.is_success() {
                        break;
                    }
                    if status == StatusCode::TEMPORARY_REDIRECT {
                        http.redirect(response.headers().get("Location"));
                        "307".to_string()
                    } else if status == StatusCode::SERVICE_UNAVAILABLE {
                        "503".to_string()
                    } else {
                        let body = read_body(response.into_body()).await;
                        fail(status.as_u16(), String::from_utf8_lossy(&body).into_owned());
                        break;
                    }
                }
            };
            if started.elapsed() + backoff >= CALL_DEADLINE {
                fail(
                    0,
                    format!("gave up after {} s: {retry_because}", CALL_DEADLINE.as_secs()),
                );
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
}

/// How long one call is retried (connection errors, 503, 307) before it is reported failed.
pub const CALL_DEADLINE: Duration = Duration::from_secs(75);
