//! The streaming row engine every CSV-like trace reader is built on.
//!
//! A reader opens its file with [`open`] (gzip is detected from the first bytes, whatever the name),
//! and turns each CSV record into a value with a parse function. [`Records`] drives it lazily, one
//! record at a time, so memory does not grow with the length of the file. A parse function answers
//! `Ok(None)` for a row that is valid but carries no record (a header repeated, an event the model
//! does not use) and `Err(RowError)` for a bad row. Bad rows stop the read with an error naming the
//! file, line, column and value, or, with `skip_bad_rows`, are counted by reason in [`Skipped`].

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use csv::StringRecord;
use packing::Dim;

use crate::Error;

/// Options shared by every reader.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadOptions {
    /// Count and skip bad rows instead of stopping at the first one.
    pub skip_bad_rows: bool,
    /// Absolute amounts for normalised traces; `None` uses the format's documented default.
    pub scale: Option<crate::MachineScale>,
}

/// Opens a file for reading, decompressing it transparently when it is gzip.
pub fn open(path: &Path) -> Result<Box<dyn BufRead>, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let magic = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    if magic.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(reader),
        )))
    } else {
        Ok(Box::new(reader))
    }
}

/// Why one row is bad: the column, the value and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The column's name (or position for files without a header).
    pub column: String,
    /// The offending value as written.
    pub value: String,
    /// What is wrong, as a phrase: "is negative", "is not a number".
    pub problem: String,
}

impl RowError {
    /// A problem with a column's value.
    pub fn new(column: &str, value: &str, problem: impl Into<String>) -> RowError {
        RowError {
            column: column.to_string(),
            value: value.to_string(),
            problem: problem.into(),
        }
    }

    /// The key under which skipped rows are counted: column and problem, not the value.
    fn reason(&self) -> String {
        format!("{}: {}", self.column, self.problem)
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column `{}`: `{}` {}", self.column, self.value, self.problem)
    }
}

/// Rows skipped in `skip_bad_rows` mode, counted by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    by_reason: BTreeMap<String, SkipEntry>,
}

/// How many rows were skipped for one reason, and the first of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkipEntry {
    /// Rows skipped for this reason.
    pub count: u64,
    /// Line of the first one.
    pub first_line: u64,
    /// The first one's full message.
    pub example: String,
}

impl Skipped {
    /// Counts one skipped row.
    pub fn add(&mut self, reason: String, line: u64, example: String) {
        self.by_reason
            .entry(reason)
            .and_modify(|e| e.count += 1)
            .or_insert(SkipEntry {
                count: 1,
                first_line: line,
                example,
            });
    }

    /// Adds another tally's counts to this one.
    pub fn merge(&mut self, other: &Skipped) {
        for (reason, entry) in &other.by_reason {
            self.by_reason
                .entry(reason.clone())
                .and_modify(|e| e.count += entry.count)
                .or_insert_with(|| entry.clone());
        }
    }

    /// Rows skipped in total.
    pub fn total(&self) -> u64 {
        self.by_reason.values().map(|e| e.count).sum()
    }

    /// True when nothing was skipped.
    pub fn is_empty(&self) -> bool {
        self.by_reason.is_empty()
    }

    /// The reasons with their counts, most frequent first.
    pub fn reasons(&self) -> Vec<(&str, &SkipEntry)> {
        let mut v: Vec<(&str, &SkipEntry)> = self.by_reason.iter().map(|(r, e)| (r.as_str(), e)).collect();
        v.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
        v
    }
}

/// One CSV record with its line and column names, and typed accessors that produce [`RowError`]s.
pub struct Row<'a> {
    record: &'a StringRecord,
    names: &'a [String],
}

impl<'a> Row<'a> {
    /// The column's name for messages.
    pub fn name(&self, i: usize) -> &str {
        self.names.get(i).map_or("?", String::as_str)
    }

    /// Number of fields in the record.
    pub fn len(&self) -> usize {
        self.record.len()
    }

    /// True when the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.record.is_empty()
    }

    /// Field `i`, trimmed; a missing field is an error.
    pub fn str(&self, i: usize) -> Result<&'a str, RowError> {
        self.record
            .get(i)
            .map(str::trim)
            .ok_or_else(|| RowError::new(self.name(i), "", "is missing"))
    }

    /// Field `i`, or `None` when it is empty or absent.
    pub fn opt_str(&self, i: usize) -> Option<&'a str> {
        self.record.get(i).map(str::trim).filter(|s| !s.is_empty())
    }

    /// Field `i` as a non-negative integer.
    pub fn u64(&self, i: usize) -> Result<u64, RowError> {
        let s = self.str(i)?;
        s.parse::<u64>().map_err(|_| self.number_problem(i, s))
    }

    /// Field `i` as whole seconds (may be negative), in microseconds.
    pub fn seconds(&self, i: usize) -> Result<crate::Time, RowError> {
        self.i64(i)?
            .checked_mul(sim::SECOND)
            .ok_or_else(|| RowError::new(self.name(i), self.str(i).unwrap_or(""), "is out of range"))
    }

    /// Field `i` as a whole number of units scaled by `factor` (cores to milli-cores, ...).
    pub fn scaled(&self, i: usize, factor: u64) -> Result<u64, RowError> {
        self.u64(i)?
            .checked_mul(factor)
            .ok_or_else(|| RowError::new(self.name(i), self.str(i).unwrap_or(""), "is too large"))
    }

    /// Field `i` as an integer (may be negative).
    pub fn i64(&self, i: usize) -> Result<i64, RowError> {
        let s = self.str(i)?;
        s.parse::<i64>()
            .map_err(|_| RowError::new(self.name(i), s, "is not an integer"))
    }

    /// Field `i` as a finite number.
    pub fn f64(&self, i: usize) -> Result<f64, RowError> {
        let s = self.str(i)?;
        match s.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(RowError::new(self.name(i), s, "is not a number")),
        }
    }

    /// Field `i` as a finite, non-negative number.
    pub fn nonneg(&self, i: usize) -> Result<f64, RowError> {
        let x = self.f64(i)?;
        if x < 0.0 {
            return Err(RowError::new(self.name(i), self.str(i)?, "is negative"));
        }
        Ok(x)
    }

    /// Field `i` as a finite, non-negative number, or `None` when empty.
    pub fn opt_nonneg(&self, i: usize) -> Result<Option<f64>, RowError> {
        match self.opt_str(i) {
            None => Ok(None),
            Some(_) => self.nonneg(i).map(Some),
        }
    }

    /// Field `i` as a finite number, or `None` when empty.
    pub fn opt_f64(&self, i: usize) -> Result<Option<f64>, RowError> {
        match self.opt_str(i) {
            None => Ok(None),
            Some(_) => self.f64(i).map(Some),
        }
    }

    /// Field `i` as an exact decimal in `dim`'s units.
    pub fn decimal(&self, i: usize, dim: &Dim) -> Result<u64, RowError> {
        let s = self.str(i)?;
        dim.parse(s)
            .map_err(|e| RowError::new(self.name(i), s, e.to_string()))
    }

    fn number_problem(&self, i: usize, s: &str) -> RowError {
        let problem = if s.starts_with('-') && s[1..].parse::<f64>().is_ok() {
            "is negative"
        } else if s.is_empty() {
            "is empty"
        } else {
            "is not a whole number"
        };
        RowError::new(self.name(i), s, problem)
    }
}

/// What a parse function makes of a valid row.
#[derive(Debug)]
pub enum Parsed<T> {
    /// The row becomes this value.
    Record(T),
    /// The row is valid but holds no record, for this reason (counted in [`Records::ignored`]).
    Ignore(&'static str),
}

/// A parse function: one record in, one value (or a reason to ignore it) out.
pub type ParseFn<T> = Box<dyn FnMut(&Row<'_>) -> Result<Parsed<T>, RowError>>;

/// A lazy iterator of parsed records over one CSV-like file.
pub struct Records<T> {
    path: PathBuf,
    reader: csv::Reader<Box<dyn BufRead>>,
    names: Vec<String>,
    record: StringRecord,
    parse: ParseFn<T>,
    skip_bad_rows: bool,
    skipped: Skipped,
    ignored: BTreeMap<&'static str, u64>,
    rows: u64,
    done: bool,
}

/// How a file's columns are found.
#[derive(Clone, Copy, Debug)]
pub enum Columns<'a> {
    /// The file has no header; these are the columns' names, in order.
    Fixed(&'a [&'a str]),
    /// The first line is a header that must name at least these columns.
    Header(&'a [&'a str]),
}

impl<T> Records<T> {
    /// Opens `path` and prepares to parse it. `make_parse` receives the column names (from the
    /// header, or the fixed list) and returns the parse function; it may fail on a bad header.
    pub fn open(
        path: &Path,
        options: &ReadOptions,
        columns: Columns<'_>,
        make_parse: impl FnOnce(&[String]) -> Result<ParseFn<T>, String>,
    ) -> Result<Records<T>, Error> {
        Records::from_reader(path, open(path)?, options, columns, make_parse)
    }

    /// Like [`Records::open`] over an already open input; `path` names it in messages.
    pub fn from_reader(
        path: &Path,
        input: Box<dyn BufRead>,
        options: &ReadOptions,
        columns: Columns<'_>,
        make_parse: impl FnOnce(&[String]) -> Result<ParseFn<T>, String>,
    ) -> Result<Records<T>, Error> {
        let has_header = matches!(columns, Columns::Header(_));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(has_header)
            .flexible(true)
            .from_reader(input);
        let names: Vec<String> = match columns {
            Columns::Fixed(names) => names.iter().map(ToString::to_string).collect(),
            Columns::Header(required) => {
                let header = reader.headers().map_err(|e| csv_error(path, &e))?;
                let names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
                if names.iter().all(String::is_empty) {
                    return Err(Error::file(path, "the file is empty (expected a header line)"));
                }
                if let Some(missing) = required.iter().find(|r| !names.iter().any(|n| n == *r)) {
                    return Err(Error::at(
                        path,
                        1,
                        format!(
                            "missing column `{missing}` in the header (found: {})",
                            names.join(",")
                        ),
                    ));
                }
                names
            }
        };
        let parse = make_parse(&names).map_err(|m| Error::at(path, 1, m))?;
        Ok(Records {
            path: path.to_path_buf(),
            reader,
            names,
            record: StringRecord::new(),
            parse,
            skip_bad_rows: options.skip_bad_rows,
            skipped: Skipped::default(),
            ignored: BTreeMap::new(),
            rows: 0,
            done: false,
        })
    }

    /// Valid rows that held no record, counted by reason.
    pub fn ignored(&self) -> &BTreeMap<&'static str, u64> {
        &self.ignored
    }

    /// Rows skipped so far (only in `skip_bad_rows` mode).
    pub fn skipped(&self) -> &Skipped {
        &self.skipped
    }

    /// Data rows read so far, good or bad.
    pub fn rows_read(&self) -> u64 {
        self.rows
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Handles a bad row: counted and skipped, or the error that ends the read.
    fn bad_row(&mut self, line: u64, reason: String, message: String) -> Option<Error> {
        if self.skip_bad_rows {
            self.skipped.add(reason, line, message);
            None
        } else {
            self.done = true;
            Some(Error::at(&self.path, line, message))
        }
    }
}

impl<T> Iterator for Records<T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.reader.read_record(&mut self.record) {
                Ok(false) => self.done = true,
                Ok(true) => {
                    self.rows += 1;
                    let line = self.record.position().map_or(0, csv::Position::line);
                    if self.record.len() == 1 && self.record[0].trim().is_empty() {
                        continue; // a blank line
                    }
                    let row = Row {
                        record: &self.record,
                        names: &self.names,
                    };
                    match (self.parse)(&row) {
                        Ok(Parsed::Record(value)) => return Some(Ok(value)),
                        Ok(Parsed::Ignore(reason)) => *self.ignored.entry(reason).or_insert(0) += 1,
                        Err(e) => {
                            if let Some(err) = self.bad_row(line, e.reason(), e.to_string()) {
                                return Some(Err(err));
                            }
                        }
                    }
                }
                Err(e) => {
                    let line = e.position().map_or(0, csv::Position::line);
                    match e.kind() {
                        csv::ErrorKind::Utf8 { .. } => {
                            let reason = "not valid UTF-8".to_string();
                            if let Some(err) = self.bad_row(line, reason.clone(), reason) {
                                return Some(Err(err));
                            }
                        }
                        _ => {
                            self.done = true;
                            return Some(Err(csv_error(&self.path, &e)));
                        }
                    }
                }
            }
        }
        None
    }
}

pub(crate) fn csv_error(path: &Path, e: &csv::Error) -> Error {
    let line = e.position().map_or(0, csv::Position::line);
    match e.kind() {
        csv::ErrorKind::Io(io) => Error::file(path, format!("read failed: {io}")),
        csv::ErrorKind::Utf8 { .. } => Error::at(path, line, "the line is not valid UTF-8"),
        _ => Error::at(path, line, e.to_string()),
    }
}

/// Seconds (possibly fractional) to microseconds, rounded; `None` if out of range.
pub fn seconds(x: f64) -> Option<crate::Time> {
    let us = (x * 1e6).round();
    (us.is_finite() && us.abs() < 9.2e18).then_some(us as i64)
}

/// Reads a whole (possibly gzip) file as text, for small instance files.
pub fn read_text(path: &Path) -> Result<String, Error> {
    let mut text = String::new();
    open(path)?
        .read_to_string(&mut text)
        .map_err(|e| Error::file(path, format!("not readable as UTF-8 text: {e}")))?;
    Ok(text)
}

/// The number of whole-row fields a record must have, as a [`RowError`] if it has fewer.
pub fn need_fields(row: &Row<'_>, n: usize) -> Result<(), RowError> {
    if row.len() < n {
        return Err(RowError::new(
            row.name(row.len()),
            "",
            format!("is missing (the row has {} fields, {n} expected)", row.len()),
        ));
    }
    Ok(())
}

/// Opens one file of a [`Chain`].
type Opener<T> = Box<dyn FnMut(&Path) -> Result<Records<T>, Error>>;

/// Several files of one table read as one stream (Google's `part-00000-of-00500.csv.gz` files),
/// in file-name order.
pub struct Chain<T> {
    pending: std::vec::IntoIter<PathBuf>,
    current: Option<Records<T>>,
    open_next: Opener<T>,
    skipped: Skipped,
    ignored: BTreeMap<&'static str, u64>,
    rows: u64,
}

impl<T> Chain<T> {
    /// Reads `path` if it is a file, or every regular file in it (sorted by name) if it is a
    /// directory, opening each with `open_one`.
    pub fn new(
        path: &Path,
        open_one: impl FnMut(&Path) -> Result<Records<T>, Error> + 'static,
    ) -> Result<Chain<T>, Error> {
        let files = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| Error::io(path, e))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(Error::file(path, "the directory holds no files"));
            }
            files
        } else {
            vec![path.to_path_buf()]
        };
        Ok(Chain {
            pending: files.into_iter(),
            current: None,
            open_next: Box::new(open_one),
            skipped: Skipped::default(),
            ignored: BTreeMap::new(),
            rows: 0,
        })
    }

    /// Rows skipped so far over all files.
    pub fn skipped(&self) -> Skipped {
        let mut all = self.skipped.clone();
        if let Some(c) = &self.current {
            all.merge(c.skipped());
        }
        all
    }

    /// Valid rows without a record so far over all files, by reason.
    pub fn ignored(&self) -> BTreeMap<&'static str, u64> {
        let mut all = self.ignored.clone();
        if let Some(c) = &self.current {
            for (k, v) in c.ignored() {
                *all.entry(k).or_insert(0) += v;
            }
        }
        all
    }

    /// Data rows read so far over all files.
    pub fn rows_read(&self) -> u64 {
        self.rows + self.current.as_ref().map_or(0, Records::rows_read)
    }

    fn retire_current(&mut self) {
        if let Some(done) = self.current.take() {
            self.skipped.merge(done.skipped());
            for (k, v) in done.ignored() {
                *self.ignored.entry(k).or_insert(0) += v;
            }
            self.rows += done.rows_read();
        }
    }
}

impl<T> Iterator for Chain<T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(current) = self.current.as_mut() {
                match current.next() {
                    Some(item) => return Some(item),
                    None => self.retire_current(),
                }
            }
            let path = self.pending.next()?;
            match (self.open_next)(&path) {
                Ok(records) => self.current = Some(records),
                Err(e) => {
                    self.pending = Vec::new().into_iter();
                    return Some(Err(e));
                }
            }
        }
    }
}
