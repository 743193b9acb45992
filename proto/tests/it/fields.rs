//! Every message, field and enum value of packsim's .proto files against the official field table
//! `shared/mesos/v1-fields.tsv`: numbers, types, labels, type names, defaults, oneofs, deprecation.

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::{Cardinality, FieldDescriptor, Kind};

use crate::shared_mesos;

#[derive(Debug, serde::Deserialize)]
struct Row {
    kind: String,
    parent: String,
    name: String,
    number: String,
    #[serde(rename = "type")]
    ty: String,
    label: String,
    type_name: String,
    default: String,
    oneof: String,
    deprecated: String,
}

fn kind_name(kind: &Kind) -> (String, String) {
    match kind {
        Kind::Double => ("double".into(), String::new()),
        Kind::Float => ("float".into(), String::new()),
        Kind::Int32 => ("int32".into(), String::new()),
        Kind::Int64 => ("int64".into(), String::new()),
        Kind::Uint32 => ("uint32".into(), String::new()),
        Kind::Uint64 => ("uint64".into(), String::new()),
        Kind::Bool => ("bool".into(), String::new()),
        Kind::String => ("string".into(), String::new()),
        Kind::Bytes => ("bytes".into(), String::new()),
        Kind::Message(m) => ("message".into(), m.full_name().to_string()),
        Kind::Enum(e) => ("enum".into(), e.full_name().to_string()),
        other => (format!("{other:?}"), String::new()),
    }
}

/// The table's view of one of our fields.
fn describe(f: &FieldDescriptor) -> (String, String, String, String, String, String) {
    let (ty, type_name) = if f.is_map() {
        let Kind::Message(entry) = f.kind() else {
            unreachable!("a map field has an entry message")
        };
        let key = kind_name(&entry.map_entry_key_field().kind());
        let value = kind_name(&entry.map_entry_value_field().kind());
        let v = if value.1.is_empty() { value.0 } else { value.1 };
        ("map".to_string(), format!("map<{},{v}>", key.0))
    } else {
        kind_name(&f.kind())
    };
    let label = match f.cardinality() {
        Cardinality::Required => "required",
        Cardinality::Optional => "optional",
        Cardinality::Repeated => "repeated",
    };
    let proto = f.field_descriptor_proto();
    let default = proto.default_value.clone().unwrap_or_default();
    let oneof = f
        .containing_oneof()
        .map(|o| o.name().to_string())
        .unwrap_or_default();
    let deprecated = if proto.options.as_ref().and_then(|o| o.deprecated).unwrap_or(false) {
        "deprecated"
    } else {
        ""
    };
    (
        ty,
        label.to_string(),
        type_name,
        default,
        oneof,
        deprecated.to_string(),
    )
}

#[test]
fn protos_match_the_official_field_table() {
    let Some(dir) = shared_mesos("protos_match_the_official_field_table") else {
        return;
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_path(dir.join("v1-fields.tsv"))
        .unwrap();
    let rows: Vec<Row> = reader.deserialize().collect::<Result<_, _>>().unwrap();
    let mut fields: BTreeMap<(String, String), &Row> = BTreeMap::new();
    let mut values: BTreeMap<(String, String), &Row> = BTreeMap::new();
    let mut declared = BTreeSet::new();
    for r in &rows {
        match r.kind.as_str() {
            "field" => _ = fields.insert((r.parent.clone(), r.name.clone()), r),
            "enum_value" => _ = values.insert((r.parent.clone(), r.name.clone()), r),
            _ => _ = declared.insert(r.parent.clone()),
        }
    }

    let pool = proto::json::descriptors();
    let mut problems = Vec::new();
    let (mut n_messages, mut n_fields, mut n_values) = (0, 0, 0);
    for m in pool.all_messages().filter(|m| !m.is_map_entry()) {
        let name = m.full_name().to_string();
        if !declared.contains(&name) {
            problems.push(format!("message {name} is not in the table"));
            continue;
        }
        n_messages += 1;
        let ours: BTreeSet<String> = m.fields().map(|f| f.name().to_string()).collect();
        for ((parent, field), _) in fields.range((name.clone(), String::new())..) {
            if *parent != name {
                break;
            }
            if !ours.contains(field) {
                problems.push(format!("{name}.{field} is missing"));
            }
        }
        for f in m.fields() {
            n_fields += 1;
            let Some(row) = fields.get(&(name.clone(), f.name().to_string())) else {
                problems.push(format!("{name}.{} is not in the table", f.name()));
                continue;
            };
            let want = (
                row.ty.clone(),
                row.label.clone(),
                row.type_name.clone(),
                row.default.clone(),
                row.oneof.clone(),
                row.deprecated.clone(),
            );
            if f.number().to_string() != row.number {
                problems.push(format!(
                    "{name}.{}: number {} ≠ {}",
                    f.name(),
                    f.number(),
                    row.number
                ));
            }
            let got = describe(&f);
            if got != want {
                problems.push(format!("{name}.{}: ours {got:?} ≠ official {want:?}", f.name()));
            }
        }
    }
    for e in pool.all_enums() {
        let name = e.full_name().to_string();
        let official: BTreeMap<&str, &str> = values
            .range((name.clone(), String::new())..)
            .take_while(|((p, _), _)| *p == name)
            .map(|((_, v), r)| (v.as_str(), r.number.as_str()))
            .collect();
        let ours: BTreeMap<String, String> = e
            .values()
            .map(|v| (v.name().to_string(), v.number().to_string()))
            .collect();
        n_values += ours.len();
        let ours_ref: BTreeMap<&str, &str> = ours.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if ours_ref != official {
            problems.push(format!("enum {name}: ours {ours_ref:?} ≠ official {official:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The closure of Call and Event is large; a much smaller count means files went missing.
    assert!(
        n_messages >= 160 && n_fields >= 450 && n_values >= 200,
        "{n_messages} messages, {n_fields} fields, {n_values} enum values"
    );
    eprintln!("checked {n_messages} messages, {n_fields} fields, {n_values} enum values");
}
