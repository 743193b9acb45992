//! The Mesos JSON dialect (stout's `jsonify` and `protobuf::parse`), which is not proto3's
//! canonical JSON: keys are proto field names (camelCase keys are ignored, as the master ignores
//! them), enums are value names, `bytes` are standard base64 with padding, 64-bit integers are JSON
//! numbers (strings are accepted), unknown keys are ignored, and an unknown name in an optional or
//! repeated enum is dropped rather than an error (a newer master may send values 1.11 lacks).
//!
//! Conversion goes through prost-reflect's dynamic messages over this crate's own descriptors.

use std::sync::OnceLock;

use prost_reflect::{
    Cardinality, DescriptorPool, DeserializeOptions, DynamicMessage, Kind, MessageDescriptor, ReflectMessage,
    SerializeOptions,
};
use serde_json::Value;

use crate::Error;

static DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mesos.fds"));

/// The descriptors of every message in this crate's `.proto` files.
pub fn descriptors() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(DESCRIPTORS).expect("the build script wrote a valid descriptor set")
    })
}

/// The descriptor of message `M`.
pub fn descriptor_of<M: prost::Name>() -> MessageDescriptor {
    let name = M::full_name();
    descriptors()
        .get_message_by_name(&name)
        .unwrap_or_else(|| panic!("{name} is generated from the same descriptor set"))
}

fn dynamic<M: prost::Message + prost::Name>(message: &M) -> DynamicMessage {
    let mut d = DynamicMessage::new(descriptor_of::<M>());
    d.transcode_from(message)
        .expect("a generated message transcodes to its own descriptor");
    d
}

fn serialize_options() -> SerializeOptions {
    SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(false)
        .skip_default_fields(true)
}

/// A message as a JSON value in the Mesos dialect.
pub fn to_value<M: prost::Message + prost::Name>(message: &M) -> Value {
    dynamic(message)
        .serialize_with_options(serde_json::value::Serializer, &serialize_options())
        .expect("a dynamic message serializes to a JSON value")
}

/// A message as compact JSON bytes in the Mesos dialect (one line, as the master writes).
pub fn to_vec<M: prost::Message + prost::Name>(message: &M) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::new(&mut out);
    dynamic(message)
        .serialize_with_options(&mut ser, &serialize_options())
        .expect("a dynamic message serializes to bytes");
    out
}

/// Parses JSON bytes in the Mesos dialect and checks required fields.
pub fn from_slice<M: prost::Message + prost::Name + Default>(bytes: &[u8]) -> Result<M, Error> {
    let value: Value = serde_json::from_slice(bytes).map_err(Error::Syntax)?;
    from_value(value)
}

/// Converts a JSON value in the Mesos dialect and checks required fields.
pub fn from_value<M: prost::Message + prost::Name + Default>(mut value: Value) -> Result<M, Error> {
    let desc = descriptor_of::<M>();
    drop_ignored(&mut value, &desc);
    let options = DeserializeOptions::new().deny_unknown_fields(false);
    let dynamic =
        DynamicMessage::deserialize_with_options(desc, value, &options).map_err(|e| Error::Json {
            message: M::full_name(),
            reason: e.to_string(),
        })?;
    let missing = missing_required(&dynamic);
    if !missing.is_empty() {
        return Err(Error::MissingRequired {
            message: M::full_name(),
            fields: missing,
        });
    }
    dynamic.transcode_to::<M>().map_err(|source| Error::Protobuf {
        message: M::full_name(),
        source,
    })
}

/// An error naming every required field that `message` lacks (prost does not check them).
pub fn check_required<M: prost::Message + prost::Name>(message: &M) -> Result<(), Error> {
    let missing = missing_required(&dynamic(message));
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingRequired {
            message: M::full_name(),
            fields: missing,
        })
    }
}

/// Dotted paths of the required fields missing anywhere in `message`, in field order; list
/// elements are written `tasks[2].name`.
pub fn missing_required(message: &DynamicMessage) -> Vec<String> {
    let mut out = Vec::new();
    walk_required(message, "", &mut out);
    out
}

fn walk_required(message: &DynamicMessage, prefix: &str, out: &mut Vec<String>) {
    for field in message.descriptor().fields() {
        let path = format!("{prefix}{}", field.name());
        if field.cardinality() == Cardinality::Required && !message.has_field(&field) {
            out.push(path);
            continue;
        }
        if !matches!(field.kind(), Kind::Message(_)) || !message.has_field(&field) {
            continue;
        }
        let value = message.get_field(&field);
        if let Some(m) = value.as_message() {
            walk_required(m, &format!("{path}."), out);
        } else if let Some(list) = value.as_list() {
            for (i, v) in list.iter().enumerate() {
                if let Some(m) = v.as_message() {
                    walk_required(m, &format!("{path}[{i}]."), out);
                }
            }
        } else if let Some(map) = value.as_map() {
            for (k, v) in map {
                if let Some(m) = v.as_message() {
                    walk_required(m, &format!("{path}[{k:?}]."), out);
                }
            }
        }
    }
}

/// Removes what the master's parser ignores: keys that are not proto field names, and enum names
/// the descriptors do not know in optional and repeated enum fields (a required one stays, so
/// that deserializing reports it).
fn drop_ignored(value: &mut Value, desc: &MessageDescriptor) {
    let Value::Object(map) = value else { return };
    let mut drop = Vec::new();
    for (key, v) in map.iter_mut() {
        let Some(field) = desc.get_field_by_name(key) else {
            // Not a proto field name (e.g. camelCase): the master ignores it, and so must we,
            // although prost-reflect would accept a JSON name.
            drop.push(key.clone());
            continue;
        };
        if field.is_map() {
            let Kind::Message(entry) = field.kind() else {
                continue;
            };
            let value_field = entry.map_entry_value_field();
            if let (Kind::Message(m), Value::Object(entries)) = (value_field.kind(), v) {
                for e in entries.values_mut() {
                    drop_ignored(e, &m);
                }
            }
            continue;
        }
        match field.kind() {
            Kind::Message(m) => match v {
                Value::Array(items) => items.iter_mut().for_each(|i| drop_ignored(i, &m)),
                other => drop_ignored(other, &m),
            },
            Kind::Enum(e) => {
                let known = |x: &Value| x.as_str().is_none_or(|s| e.get_value_by_name(s).is_some());
                match v {
                    Value::Array(items) => items.retain(known),
                    other if !known(other) && field.cardinality() != Cardinality::Required => {
                        drop.push(key.clone());
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for k in drop {
        map.remove(&k);
    }
}
