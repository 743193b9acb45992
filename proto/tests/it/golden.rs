//! The codecs against `shared/mesos/golden-1.11.jsonl`, a session recorded with a real Mesos
//! 1.11.0 master: every event record and every call body decodes, re-encodes to the same JSON, and
//! survives a protobuf round trip; the stream's framing is exactly what the recorded length lines say.

use proto::v1::scheduler::{Call, Event};
use proto::{ContentType, RecordDecoder, json, recordio};
use serde_json::Value;

use crate::shared_mesos;

fn golden(test: &str) -> Option<Vec<Value>> {
    let dir = shared_mesos(test)?;
    let text = std::fs::read_to_string(dir.join("golden-1.11.jsonl")).unwrap();
    Some(text.lines().map(|l| serde_json::from_str(l).unwrap()).collect())
}

/// The master writes unset optional fields that declare a default, and clients may write empty
/// lists; we write neither. Remove from `theirs` what is absent from `ours` only where the value is
/// the declared default or `[]`, so any other difference still fails.
fn without_emitted_defaults(theirs: &Value, ours: &Value) -> Value {
    match (theirs, ours) {
        (Value::Object(t), Value::Object(o)) => Value::Object(
            t.iter()
                .filter(|(k, v)| {
                    o.contains_key(*k) || !(is_declared_default(k, v) || *v == &serde_json::json!([]))
                })
                .map(|(k, v)| {
                    (
                        k.clone(),
                        o.get(k).map_or(v.clone(), |ov| without_emitted_defaults(v, ov)),
                    )
                })
                .collect(),
        ),
        (Value::Array(t), Value::Array(o)) if t.len() == o.len() => Value::Array(
            t.iter()
                .zip(o)
                .map(|(a, b)| without_emitted_defaults(a, b))
                .collect(),
        ),
        _ => theirs.clone(),
    }
}

/// Numbers as f64, so that the master's `0` equals our `0.0` (both are the double 0).
fn numbers_as_f64(v: &Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(numbers_as_f64).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), numbers_as_f64(v))).collect()),
        other => other.clone(),
    }
}

fn is_declared_default(key: &str, value: &Value) -> bool {
    matches!(
        (key, value.as_str(), value.as_f64(), value.as_bool()),
        ("role", Some("*"), ..)
            | ("shell", _, _, Some(true))
            | ("extract", _, _, Some(true))
            | ("cached", _, _, Some(true))
            | ("checkpoint", _, _, Some(false))
            | ("failover_timeout", _, Some(0.0), _)
            | ("refuse_seconds", _, Some(5.0), _)
            | ("type", Some("VALUE"), ..)
    )
}

#[test]
fn golden_events_round_trip_through_json_and_protobuf() {
    let Some(records) = golden("golden_events_round_trip_through_json_and_protobuf") else {
        return;
    };
    let mut stream = Vec::new();
    let mut expected = Vec::new();
    let mut types = Vec::new();
    for r in records.iter().filter(|r| r["kind"] == "event") {
        let raw = r["record"].as_str().unwrap();
        assert_eq!(r["length_line"].as_str().unwrap(), format!("{}\n", raw.len()));
        recordio::encode_into(&mut stream, raw.as_bytes());
        expected.push(raw.to_string());

        let event: Event = ContentType::Json
            .decode(raw.as_bytes())
            .unwrap_or_else(|e| panic!("{e}: {raw}"));
        types.push(event.r#type().as_str_name().to_string());
        let theirs: Value = serde_json::from_str(raw).unwrap();
        let ours = json::to_value(&event);
        assert_eq!(without_emitted_defaults(&theirs, &ours), ours, "{raw}");
        let again: Event = ContentType::Protobuf
            .decode(&ContentType::Protobuf.encode(&event))
            .unwrap();
        assert_eq!(again, event);
    }
    assert!(
        types.iter().any(|t| t == "SUBSCRIBED") && types.iter().any(|t| t == "OFFERS"),
        "{types:?}"
    );
    assert!(types.iter().filter(|t| *t == "UPDATE").count() >= 5, "{types:?}");

    // The whole stream, cut into chunks of every size from 1 to 97 bytes.
    for chunk in 1..98 {
        let mut d = RecordDecoder::default();
        let mut got = Vec::new();
        for piece in stream.chunks(chunk) {
            d.push(piece);
            while let Some(r) = d.next_record().unwrap() {
                got.push(String::from_utf8(r.to_vec()).unwrap());
            }
        }
        d.finish().unwrap();
        assert_eq!(got, expected, "chunks of {chunk}");
    }
}

#[test]
fn golden_calls_round_trip_and_our_json_matches_theirs() {
    let Some(records) = golden("golden_calls_round_trip_and_our_json_matches_theirs") else {
        return;
    };
    let mut n = 0;
    for r in records
        .iter()
        .filter(|r| r["kind"] == "call" || r["kind"] == "subscribe")
    {
        let request = &r["request"];
        if !request.is_object() {
            // The recorded "not JSON" body: our decoder must refuse it too.
            let body = request.as_str().unwrap().trim_matches('\'');
            assert!(matches!(
                json::from_slice::<Call>(body.as_bytes()),
                Err(proto::Error::Syntax(_))
            ));
            continue;
        }
        let call: Call = json::from_value(request.clone()).unwrap_or_else(|e| panic!("{e}: {request}"));
        let ours = numbers_as_f64(&json::to_value(&call));
        assert_eq!(
            without_emitted_defaults(&numbers_as_f64(request), &ours),
            ours,
            "{request}"
        );
        // Byte-level: decode(encode(x)) = x in both content types.
        for ct in [ContentType::Json, ContentType::Protobuf] {
            let back: Call = ct.decode(&ct.encode(&call)).unwrap();
            assert_eq!(back, call);
        }
        n += 1;
    }
    assert!(n >= 15, "{n} calls");
}

#[test]
fn mesos_json_quirks() {
    // camelCase keys are ignored, so the required field they meant is reported missing, by path.
    let err = json::from_slice::<Call>(
        br#"{"type":"SUBSCRIBE","subscribe":{"frameworkInfo":{"user":"u","name":"n"}}}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "mesos.v1.scheduler.Call is missing required fields: subscribe.framework_info"
    );
    let err =
        json::from_slice::<Call>(br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"n"}}}"#)
            .unwrap_err();
    assert!(
        err.to_string().ends_with("subscribe.framework_info.user"),
        "{err}"
    );

    // An unknown capability name (from a newer master) is dropped, as the master does; the list keeps
    // the known ones.
    let ev: Event = json::from_slice(
        br#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"f"},"master_info":{"id":"m","ip":1,"port":5050,"capabilities":[{"type":"AGENT_UPDATE"},{"type":"CAPABILITY_FROM_THE_FUTURE"},{}]}}}"#,
    )
    .unwrap();
    let caps = &ev.subscribed.unwrap().master_info.unwrap().capabilities;
    assert_eq!(caps.len(), 3);
    assert_eq!(caps[1].r#type, None);

    // bytes are base64 with padding; 64-bit integers are numbers, and strings are accepted.
    let call: Call = json::from_slice(
        br#"{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"PYMqAgR5Q1m6q7IdDUI07Q=="}}"#,
    )
    .unwrap();
    assert_eq!(call.acknowledge.as_ref().unwrap().uuid.len(), 16);
    assert!(
        String::from_utf8(json::to_vec(&call))
            .unwrap()
            .contains(r#""uuid":"PYMqAgR5Q1m6q7IdDUI07Q==""#)
    );
    let d: proto::v1::DurationInfo = json::from_slice(br#"{"nanoseconds":"5000000000"}"#).unwrap();
    assert_eq!(
        String::from_utf8(json::to_vec(&d)).unwrap(),
        r#"{"nanoseconds":5000000000}"#
    );

    // Content types compare exactly.
    assert_eq!(
        ContentType::from_header("application/json"),
        Some(ContentType::Json)
    );
    assert_eq!(ContentType::from_header("application/json; charset=utf-8"), None);
    assert_eq!(ContentType::from_header("APPLICATION/JSON"), None);
}
