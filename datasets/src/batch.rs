//! Bins and items for `packsim pack`: CSV with a header, or a JSON array of objects.
//!
//! CSV: the header names the columns. `id` is the row's name (optional: rows are numbered from 1
//! without it); items may have a `group` column (who the task belongs to, read by DRF); every other
//! column is a resource dimension. Values are plain decimals with up to 3 decimal places, the
//! precision of Mesos scalars, stored exactly as thousandths.
//!
//! ```text
//! id,cpus,mem,disk
//! O0,1.1,2048,0
//! O1,2,512,0
//! ```
//!
//! JSON: `[{"id": "O0", "cpus": 1.1, "mem": 2048, "disk": 0}, ...]`, numbers or numeric strings.
//!
//! The bins file defines the dimensions; the items file must have exactly the same ones.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use packing::{Dim, ResourceTable, Schema};

use crate::Error;

/// Decimal places kept for every dimension of a batch file: Mesos precision.
pub const DECIMALS: u8 = Dim::MESOS_DECIMALS;

/// Which side of the packing a file describes; it changes only the words of error messages and
/// whether a `group` column is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Machines with capacities.
    Bins,
    /// Tasks with demands.
    Items,
}

impl Role {
    fn plural(self) -> &'static str {
        match self {
            Role::Bins => "bins",
            Role::Items => "items",
        }
    }
}

/// A parsed bins or items file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// The file it came from.
    pub path: PathBuf,
    /// The resource dimensions, in the bins file's column order.
    pub schema: Schema,
    /// Each row's id, unique.
    pub ids: Vec<String>,
    /// Each row's resource vector in thousandths, in `schema` order.
    pub table: ResourceTable,
    /// Each row's group number (items only), numbered by first appearance.
    pub groups: Option<Vec<u32>>,
    /// The group names, by group number.
    pub group_names: Vec<String>,
}

/// Reads a bins file; its columns define the schema.
pub fn read_bins(path: &Path) -> Result<Batch, Error> {
    read(path, Role::Bins, None)
}

/// Reads an items file whose dimensions must be those of `schema`.
pub fn read_items(path: &Path, schema: &Schema) -> Result<Batch, Error> {
    read(path, Role::Items, Some(schema))
}

/// A file's columns (name and line of first mention) and rows, before any value is checked.
struct RawFile {
    columns: Vec<(String, u64)>,
    rows: Vec<RawRow>,
}

/// One row before its values are checked: where it starts and its fields by column name.
struct RawRow {
    line: u64,
    fields: Vec<(String, String)>,
}

fn read(path: &Path, role: Role, schema: Option<&Schema>) -> Result<Batch, Error> {
    let mut bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    // Gzip-compressed files are read as the trace readers read them.
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::MultiGzDecoder::new(bytes.as_slice()),
            &mut plain,
        )
        .map_err(|e| Error::file(path, format!("not a readable gzip file: {e}")))?;
        bytes = plain;
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let bad = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..bad].iter().filter(|&&b| b == b'\n').count() as u64;
        Error::at(path, line, "the line is not valid UTF-8 (save the file as UTF-8)")
    })?;
    if text.trim().is_empty() {
        return Err(Error::file(
            path,
            format!(
                "the file is empty (expected a header such as `id,cpus,mem` or a JSON array of {})",
                role.plural()
            ),
        ));
    }
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('[');
    let RawFile { columns, rows } = if is_json {
        json_rows(path, &text, role)?
    } else {
        csv_rows(path, &text)?
    };
    if rows.is_empty() {
        let message = if is_json {
            format!("the JSON array holds no {}", role.plural())
        } else {
            format!("no {} after the header", role.plural())
        };
        return Err(Error::file(path, message));
    }
    build(path, role, schema, &columns, rows)
}

fn csv_rows(path: &Path, text: &str) -> Result<RawFile, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
    // The header is the first line that is neither blank nor a `#` comment.
    let header_line = 1 + text
        .lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        .count() as u64;
    let columns: Vec<(String, u64)> = header.iter().map(|h| (h.to_string(), header_line)).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record.position().map_or(0, csv::Position::line);
        let fields = header
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.to_string(), v.to_string()))
            .collect();
        rows.push(RawRow { line, fields });
    }
    Ok(RawFile { columns, rows })
}

fn csv_error(path: &Path, e: &csv::Error) -> Error {
    let line = e.position().map_or(0, csv::Position::line);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("expected {expected_len} fields like the header, found {len}")
        }
        csv::ErrorKind::Utf8 { .. } => "the line is not valid UTF-8".to_string(),
        _ => e.to_string(),
    };
    Error::at(path, line, message)
}

/// Walks a JSON array element by element so that every object's line is known.
fn json_rows(path: &Path, text: &str, role: Role) -> Result<RawFile, Error> {
    let line_of = |offset: usize| 1 + text[..offset].bytes().filter(|&b| b == b'\n').count() as u64;
    let skip_ws = |mut i: usize| {
        while i < text.len() && text.as_bytes()[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let mut pos = skip_ws(0);
    if text.as_bytes().get(pos) != Some(&b'[') {
        return Err(Error::at(
            path,
            line_of(pos),
            format!("expected a JSON array of {} objects", role.plural()),
        ));
    }
    pos += 1;
    let mut rows = Vec::new();
    let mut columns: Vec<(String, u64)> = Vec::new();
    loop {
        pos = skip_ws(pos);
        match text.as_bytes().get(pos) {
            Some(b']') => break,
            None => {
                return Err(Error::at(
                    path,
                    line_of(text.len()),
                    "the JSON array is not closed with `]`",
                ));
            }
            _ => {}
        }
        let start = pos;
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<serde_json::Value>();
        let value = match stream.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                // serde_json counts lines and columns from the start of this element.
                let line = line_of(start) + e.line() as u64 - 1;
                let column = if e.line() == 1 {
                    start - text[..start].rfind('\n').map_or(0, |n| n + 1) + e.column()
                } else {
                    e.column()
                };
                let message = e.to_string();
                let message = message.split(" at line ").next().unwrap_or(&message);
                return Err(Error::at(
                    path,
                    line,
                    format!("column {column}: invalid JSON: {message}"),
                ));
            }
            None => {
                return Err(Error::at(
                    path,
                    line_of(start),
                    "the JSON array is not closed with `]`",
                ));
            }
        };
        pos = start + stream.byte_offset();
        let line = line_of(start);
        let serde_json::Value::Object(object) = value else {
            return Err(Error::at(
                path,
                line,
                format!("expected an object, found `{value}`"),
            ));
        };
        let mut fields = Vec::with_capacity(object.len());
        for (key, v) in object {
            let text = match &v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                other => {
                    return Err(Error::at(
                        path,
                        line,
                        format!("field `{key}`: `{other}` is not a number or a string"),
                    ));
                }
            };
            if !columns.iter().any(|(c, _)| *c == key) {
                columns.push((key.clone(), line));
            }
            fields.push((key, text));
        }
        rows.push(RawRow { line, fields });
        pos = skip_ws(pos);
        match text.as_bytes().get(pos) {
            Some(b',') => pos += 1,
            Some(b']') => {}
            _ => {
                return Err(Error::at(
                    path,
                    line_of(pos),
                    "expected `,` or `]` after an object",
                ));
            }
        }
    }
    let rest = skip_ws(pos + 1);
    if rest < text.len() {
        return Err(Error::at(
            path,
            line_of(rest),
            "unexpected text after the JSON array",
        ));
    }
    Ok(RawFile { columns, rows })
}

fn build(
    path: &Path,
    role: Role,
    expected: Option<&Schema>,
    columns: &[(String, u64)],
    rows: Vec<RawRow>,
) -> Result<Batch, Error> {
    for (i, (name, line)) in columns.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::at(path, *line, format!("column {} has no name", i + 1)));
        }
        if columns[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::at(path, *line, format!("column `{name}` appears twice")));
        }
        if name == "group" && role == Role::Bins {
            return Err(Error::at(
                path,
                *line,
                "a `group` column belongs in the items file, not the bins file",
            ));
        }
    }
    let dim_columns: Vec<&(String, u64)> = columns
        .iter()
        .filter(|(n, _)| n != "id" && n != "group")
        .collect();
    let schema = match expected {
        Some(schema) => {
            for dim in schema.dims() {
                if !dim_columns.iter().any(|(n, _)| n == dim.name()) {
                    let line = columns.first().map_or(1, |c| c.1);
                    return Err(Error::at(
                        path,
                        line,
                        format!(
                            "missing column `{}` (the bins have {})",
                            dim.name(),
                            schema.names()
                        ),
                    ));
                }
            }
            if let Some((extra, line)) = dim_columns.iter().find(|(n, _)| schema.index_of(n).is_none()) {
                return Err(Error::at(
                    path,
                    *line,
                    format!(
                        "column `{extra}` is not a dimension of the bins (they have {})",
                        schema.names()
                    ),
                ));
            }
            schema.clone()
        }
        None => {
            if dim_columns.is_empty() {
                let line = columns.first().map_or(1, |c| c.1);
                return Err(Error::at(
                    path,
                    line,
                    "no resource columns: name them in the header, e.g. `id,cpus,mem`",
                ));
            }
            let dims = dim_columns
                .iter()
                .map(|(n, line)| {
                    Dim::new(n.as_str(), DECIMALS).map_err(|e| Error::at(path, *line, e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Schema::new(dims).map_err(|e| Error::file(path, e.to_string()))?
        }
    };
    let has_id = columns.iter().any(|(n, _)| n == "id");
    let has_group = columns.iter().any(|(n, _)| n == "group");
    let mut ids = Vec::with_capacity(rows.len());
    let mut first_line: HashMap<String, u64> = HashMap::with_capacity(rows.len());
    let mut table = ResourceTable::with_capacity(schema.len(), rows.len());
    let mut groups = has_group.then(Vec::new);
    let mut group_names: Vec<String> = Vec::new();
    let mut group_index: HashMap<String, u32> = HashMap::new();
    let mut row_values = vec![0u64; schema.len()];
    for (n, row) in rows.into_iter().enumerate() {
        let field = |name: &str| {
            row.fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let id = if has_id {
            match field("id") {
                Some(id) if !id.trim().is_empty() => id.trim().to_string(),
                _ => return Err(Error::at(path, row.line, "the `id` is empty")),
            }
        } else {
            (n + 1).to_string()
        };
        if let Some(first) = first_line.insert(id.clone(), row.line) {
            return Err(Error::at(
                path,
                row.line,
                format!("duplicate id `{id}` (first on line {first})"),
            ));
        }
        for (d, dim) in schema.dims().iter().enumerate() {
            let Some(text) = field(dim.name()) else {
                return Err(Error::at(
                    path,
                    row.line,
                    format!("`{id}` has no `{}`", dim.name()),
                ));
            };
            row_values[d] = dim.parse(text).map_err(|e| {
                Error::at(
                    path,
                    row.line,
                    format!("column `{}`: `{}` {e}", dim.name(), text.trim()),
                )
            })?;
        }
        table.push(&row_values);
        if let Some(groups) = groups.as_mut() {
            let name = field("group").unwrap_or("").trim().to_string();
            let next = group_names.len() as u32;
            let g = *group_index.entry(name.clone()).or_insert_with(|| {
                group_names.push(name);
                next
            });
            groups.push(g);
        }
        ids.push(id);
    }
    Ok(Batch {
        path: path.to_path_buf(),
        schema,
        ids,
        table,
        groups,
        group_names,
    })
}

impl Batch {
    /// The row's values as decimals, `cpus=1.1 mem=2048`.
    pub fn describe_row(&self, row: usize) -> String {
        let mut out = String::new();
        for (dim, &v) in self.schema.dims().iter().zip(self.table.row(row)) {
            let _ = write!(
                out,
                "{}{}={}",
                if out.is_empty() { "" } else { " " },
                dim.name(),
                dim.format(v)
            );
        }
        out
    }
}
