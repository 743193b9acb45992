//! Bin-packing benchmark instances: BPPLIB (one dimension) and Vectorpack (3, 5, 10 dimensions).
//!
//! - BPPLIB `.txt`: whitespace-separated integers (CRLF in most files): `n`, the capacity, then `n`
//!   item weights.
//! - Vectorpack `.vbp` (VPSolver format): `d`; the `d` capacities; `m` item types; then `m` lines of
//!   `d` weights and a demand (how many items of that type).
//! - Suites: a BPPLIB folder (`bpplib_bounds.csv` + `instances/`, with `.tar.gz` archives read in
//!   place) or a Vectorpack folder (`vectorpack_optima.csv` + the `*_instances.tar.gz` archives),
//!   each instance joined with its known bounds, optimum and, for Vectorpack, the bins the best
//!   published heuristics reached. A user's own file, folder or archive of `.txt`/`.vbp` files
//!   reads the same way, without bounds.

use std::collections::HashMap;
use std::path::Path;

use packing::ResourceTable;

use crate::Error;
use crate::nodes::for_each_member;

/// One instance with what is known about its optimum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// The instance's name (file stem).
    pub name: String,
    /// Its family or benchmark class (`Falkenauer_U`, `class4`, ...).
    pub family: String,
    /// Where it came from (`dir/file.txt` or `archive.tar.gz:member`).
    pub source: String,
    /// The bin capacity per dimension.
    pub capacity: Vec<u64>,
    /// The items, one row each.
    pub items: ResourceTable,
    /// Known bounds and optimum.
    pub known: Known,
    /// Bins reached by published heuristics: (heuristic family, bins), Vectorpack only.
    pub published: Vec<(String, u64)>,
}

/// A suite of instances, and those of its list packsim cannot represent, with the reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Suite {
    /// The instances, in the order of the suite's table.
    pub instances: Vec<Instance>,
    /// (instance name, reason) for each listed instance left out.
    pub excluded: Vec<(String, String)>,
}

/// What the literature knows about an instance's optimum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// Best known lower bound.
    pub lb: Option<u64>,
    /// Best known upper bound (a solution with this many bins exists).
    pub ub: Option<u64>,
    /// The optimum, when proven (lb = ub, or published as optimal).
    pub opt: Option<u64>,
    /// The optimum by construction of the generator (BPPLIB AI/ANI), when not proven otherwise.
    pub opt_by_construction: Option<u64>,
}

impl Known {
    /// The optimum, proven or by construction.
    pub fn optimum(&self) -> Option<u64> {
        self.opt.or(self.opt_by_construction)
    }
}

/// Parses a BPPLIB instance: `n`, capacity, `n` weights.
pub fn parse_bpp(text: &str, source: &str) -> Result<(Vec<u64>, ResourceTable), Error> {
    let mut tokens = tokens(text);
    let n = expect_number(&mut tokens, source, "the item count n")?;
    let capacity = expect_number(&mut tokens, source, "the capacity")?;
    if capacity == 0 {
        return Err(at(source, 2, "the capacity is 0"));
    }
    // n comes from the file: reserve for it only up to a sane size.
    let mut items = ResourceTable::with_capacity(1, n.min(1 << 20) as usize);
    for k in 0..n {
        let (line, w) = match tokens.next() {
            Some((line, t)) => (line, parse_number(t, source, line, "an item weight")?),
            None => {
                return Err(source_error(
                    source,
                    format!("n is {n} but the file has {k} weights"),
                ));
            }
        };
        if w > capacity {
            return Err(at(
                source,
                line,
                format!("item weight {w} exceeds the capacity {capacity}"),
            ));
        }
        items.push(&[w]);
    }
    if let Some((line, t)) = tokens.next() {
        return Err(at(
            source,
            line,
            format!("unexpected `{t}` after the {n} weights"),
        ));
    }
    Ok((vec![capacity], items))
}

/// Parses a Vectorpack `.vbp` instance, expanding item types by their demand.
pub fn parse_vbp(text: &str, source: &str) -> Result<(Vec<u64>, ResourceTable), Error> {
    let mut tokens = tokens(text);
    let d = expect_number(&mut tokens, source, "the dimension count d")? as usize;
    if d == 0 || d > 64 {
        return Err(at(source, 1, format!("d = {d} is not between 1 and 64")));
    }
    let capacity: Vec<u64> = (0..d)
        .map(|_| expect_number(&mut tokens, source, "a capacity"))
        .collect::<Result<_, _>>()?;
    let types = expect_number(&mut tokens, source, "the item type count m")?;
    let mut expanded = 0u64;
    let mut items = ResourceTable::new(d);
    let mut row = vec![0u64; d];
    for _ in 0..types {
        let mut line = 0;
        for (k, v) in row.iter_mut().enumerate() {
            let (l, t) = tokens
                .next()
                .ok_or_else(|| source_error(source, "the file ends inside an item type"))?;
            line = l;
            *v = parse_number(t, source, l, "an item weight")?;
            if *v > capacity[k] {
                return Err(at(
                    source,
                    l,
                    format!(
                        "weight {v} exceeds the capacity {} in dimension {}",
                        capacity[k],
                        k + 1
                    ),
                ));
            }
        }
        let demand = expect_number(&mut tokens, source, "an item type's demand")?;
        expanded += demand;
        if expanded > 100_000_000 {
            return Err(at(
                source,
                line,
                format!("demand {demand} makes more than 10^8 items"),
            ));
        }
        for _ in 0..demand {
            items.push(&row);
        }
    }
    if let Some((line, t)) = tokens.next() {
        return Err(at(
            source,
            line,
            format!("unexpected `{t}` after the {types} item types"),
        ));
    }
    Ok((capacity, items))
}

/// Whitespace-separated tokens with their 1-based line numbers.
fn tokens(text: &str) -> impl Iterator<Item = (u64, &str)> {
    text.lines()
        .enumerate()
        .flat_map(|(i, line)| line.split_whitespace().map(move |t| (i as u64 + 1, t)))
}

fn expect_number<'a>(
    tokens: &mut impl Iterator<Item = (u64, &'a str)>,
    source: &str,
    what: &str,
) -> Result<u64, Error> {
    let (line, t) = tokens
        .next()
        .ok_or_else(|| source_error(source, format!("the file ends before {what}")))?;
    parse_number(t, source, line, what)
}

fn parse_number(t: &str, source: &str, line: u64, what: &str) -> Result<u64, Error> {
    t.parse::<u64>().map_err(|_| {
        if t.parse::<i64>().is_ok() {
            at(
                source,
                line,
                format!("{what} `{t}` is negative, which packsim's resource amounts cannot be"),
            )
        } else {
            at(
                source,
                line,
                format!("{what} `{t}` is not a non-negative whole number"),
            )
        }
    })
}

/// The reason an instance is left out of a suite, for errors that describe the instance rather
/// than a broken file: negative weights (the Caprara triplet generator produces some).
fn exclusion_reason(e: &Error) -> Option<String> {
    let text = e.to_string();
    text.contains("is negative, which packsim")
        .then(|| "negative item weights".to_string())
}

fn at(source: &str, line: u64, message: impl Into<String>) -> Error {
    Error::At {
        path: source.into(),
        line,
        message: message.into(),
    }
}

fn source_error(source: &str, message: impl Into<String>) -> Error {
    Error::File {
        path: source.into(),
        message: message.into(),
    }
}

fn parse_by_extension(
    name: &str,
    text: &str,
    source: &str,
) -> Option<Result<(Vec<u64>, ResourceTable), Error>> {
    if name.ends_with(".vbp") {
        Some(parse_vbp(text, source))
    } else if name.ends_with(".txt") || name.ends_with(".bpp") {
        Some(parse_bpp(text, source))
    } else {
        None
    }
}

fn stem(name: &str) -> String {
    let file = name.rsplit('/').next().unwrap_or(name);
    file.rsplit_once('.').map_or(file, |(s, _)| s).to_string()
}

/// Reads every instance under `path`: a `.txt`/`.vbp` file, a `.tar.gz` of them, or a folder
/// (recursively, archives included), in name order. No bounds are attached.
pub fn read_instances(path: &Path) -> Result<Vec<Instance>, Error> {
    let mut out = Vec::new();
    collect(path, &mut out)?;
    if out.is_empty() {
        return Err(Error::file(path, "no .txt, .bpp or .vbp instances found"));
    }
    Ok(out)
}

fn collect(path: &Path, out: &mut Vec<Instance>) -> Result<(), Error> {
    let name = path.to_string_lossy().into_owned();
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| Error::io(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            collect(&entry, out)?;
        }
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        for_each_member(path, |member, bytes| {
            let source = format!("{name}:{member}");
            let text = String::from_utf8_lossy(bytes);
            if let Some(parsed) = parse_by_extension(member, &text, &source) {
                let (capacity, items) = parsed?;
                out.push(instance(member, &source, capacity, items));
            }
            Ok(())
        })?;
    } else {
        let text = crate::rows::read_text(path)?;
        if let Some(parsed) = parse_by_extension(&name, &text, &name) {
            let (capacity, items) = parsed?;
            out.push(instance(&name, &name, capacity, items));
        }
    }
    Ok(())
}

fn instance(member: &str, source: &str, capacity: Vec<u64>, items: ResourceTable) -> Instance {
    let family = member.rsplit('/').nth(1).map(str::to_string).unwrap_or_default();
    Instance {
        name: stem(member),
        family,
        source: source.to_string(),
        capacity,
        items,
        known: Known::default(),
        published: Vec::new(),
    }
}

/// A CSV table: its header, and each record with its line.
type Table = (Vec<String>, Vec<(u64, csv::StringRecord)>);

/// An archive's instances by member path, or why each is excluded.
type ArchiveMembers = HashMap<String, Result<(Vec<u64>, ResourceTable), String>>;

/// A bounds table, read with its header.
fn read_table(path: &Path) -> Result<Table, Error> {
    let mut reader = csv::ReaderBuilder::new().from_reader(crate::rows::open(path)?);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| crate::rows::csv_error(path, &e))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| crate::rows::csv_error(path, &e))?;
        rows.push((record.position().map_or(0, csv::Position::line), record));
    }
    Ok((header, rows))
}

fn column(header: &[String], path: &Path, name: &str) -> Result<usize, Error> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| Error::at(path, 1, format!("missing column `{name}`")))
}

fn optional_number(
    record: &csv::StringRecord,
    i: usize,
    path: &Path,
    line: u64,
    name: &str,
) -> Result<Option<u64>, Error> {
    match record.get(i).map(str::trim) {
        None | Some("") | Some("-1") => Ok(None),
        Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
            Error::at(
                path,
                line,
                format!("column `{name}`: `{v}` is not a whole number"),
            )
        }),
    }
}

/// Reads the BPPLIB suite in `dir` (`bpplib_bounds.csv` and the files it points to).
pub fn bpplib_suite(dir: &Path) -> Result<Suite, Error> {
    let table = dir.join("bpplib_bounds.csv");
    let (header, rows) = read_table(&table)?;
    let [name_c, family_c, path_c, lb_c, ub_c, opt_c, cons_c] = [
        "instance",
        "family",
        "path",
        "lb",
        "ub",
        "opt",
        "opt_by_construction",
    ]
    .map(|c| column(&header, &table, c));
    let (name_c, family_c, path_c) = (name_c?, family_c?, path_c?);
    let (lb_c, ub_c, opt_c, cons_c) = (lb_c?, ub_c?, opt_c?, cons_c?);
    // Instances in archives, read once per archive: member path → (capacity, items).
    let mut archives: HashMap<String, HashMap<String, (Vec<u64>, ResourceTable)>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (line, r) in &rows {
        let get = |i: usize| r.get(i).unwrap_or("").trim();
        let rel = get(path_c);
        let (capacity, items, source) = match rel.split_once(':') {
            Some((archive, member)) => {
                let archive_path = dir.join(archive);
                if !archives.contains_key(archive) {
                    let mut members = HashMap::new();
                    for_each_member(&archive_path, |m, bytes| {
                        let source = format!("{}:{m}", archive_path.display());
                        if let Some(parsed) = parse_by_extension(m, &String::from_utf8_lossy(bytes), &source)
                        {
                            members.insert(m.to_string(), parsed?);
                        }
                        Ok(())
                    })?;
                    archives.insert(archive.to_string(), members);
                }
                let (capacity, items) = archives[archive]
                    .get(member)
                    .cloned()
                    .ok_or_else(|| Error::at(&table, *line, format!("`{member}` is not in {archive}")))?;
                (capacity, items, format!("{}:{member}", archive_path.display()))
            }
            None => {
                let file = dir.join(rel);
                let text = crate::rows::read_text(&file)?;
                let (capacity, items) = parse_bpp(&text, &file.to_string_lossy())?;
                (capacity, items, file.to_string_lossy().into_owned())
            }
        };
        let num = |i: usize, n: &str| optional_number(r, i, &table, *line, n);
        out.push(Instance {
            name: get(name_c).to_string(),
            family: get(family_c).to_string(),
            source,
            capacity,
            items,
            known: Known {
                lb: num(lb_c, "lb")?,
                ub: num(ub_c, "ub")?,
                opt: num(opt_c, "opt")?,
                opt_by_construction: num(cons_c, "opt_by_construction")?,
            },
            published: Vec::new(),
        });
    }
    Ok(Suite {
        instances: out,
        excluded: Vec::new(),
    })
}

/// The published-heuristic columns of `vectorpack_optima.csv`, and the family each stands for.
pub const PUBLISHED_FAMILIES: [(&str, &str); 5] = [
    ("best_overall", "best of all"),
    ("best_item_centric", "item-centric"),
    ("best_bin_centric", "bin-centric"),
    ("best_mb_pairing", "multi-bin pairing"),
    ("best_mb_wfd", "multi-bin WFD"),
];

/// Reads the Vectorpack suite in `dir` (`vectorpack_optima.csv` and the archives it points to).
///
/// Instances with negative item weights (77 of the Caprara triplets) are listed in
/// [`Suite::excluded`] instead.
pub fn vectorpack_suite(dir: &Path) -> Result<Suite, Error> {
    let table = dir.join("vectorpack_optima.csv");
    let (header, rows) = read_table(&table)?;
    let name_c = column(&header, &table, "instance")?;
    let bench_c = column(&header, &table, "benchmark")?;
    let class_c = column(&header, &table, "class")?;
    let path_c = column(&header, &table, "path")?;
    let lb_c = column(&header, &table, "lb")?;
    let opt_c = column(&header, &table, "opt")?;
    let published_c: Vec<(usize, &str)> = PUBLISHED_FAMILIES
        .iter()
        .filter_map(|(c, family)| header.iter().position(|h| h == c).map(|i| (i, *family)))
        .collect();
    // Per archive: member → the instance, or the reason it is excluded.
    let mut archives: HashMap<String, ArchiveMembers> = HashMap::new();
    let mut out = Suite::default();
    for (line, r) in &rows {
        let get = |i: usize| r.get(i).unwrap_or("").trim();
        let (archive, member) = get(path_c).split_once(':').ok_or_else(|| {
            Error::at(
                &table,
                *line,
                format!("column `path`: `{}` is not archive:member", get(path_c)),
            )
        })?;
        if !archives.contains_key(archive) {
            let archive_path = dir.join(archive);
            let mut members = HashMap::new();
            for_each_member(&archive_path, |m, bytes| {
                let source = format!("{}:{m}", archive_path.display());
                match parse_by_extension(m, &String::from_utf8_lossy(bytes), &source) {
                    Some(Ok(instance)) => {
                        members.insert(m.to_string(), Ok(instance));
                    }
                    Some(Err(e)) => match exclusion_reason(&e) {
                        Some(reason) => {
                            members.insert(m.to_string(), Err(reason));
                        }
                        None => return Err(e),
                    },
                    None => {}
                }
                Ok(())
            })?;
            archives.insert(archive.to_string(), members);
        }
        let parsed = archives[archive]
            .get(member)
            .ok_or_else(|| Error::at(&table, *line, format!("`{member}` is not in {archive}")))?;
        let (capacity, items) = match parsed {
            Ok(p) => p.clone(),
            Err(reason) => {
                out.excluded.push((get(name_c).to_string(), reason.clone()));
                continue;
            }
        };
        let num = |i: usize, n: &str| optional_number(r, i, &table, *line, n);
        let mut published = Vec::new();
        for &(i, family) in &published_c {
            if let Some(bins) = num(i, family)? {
                published.push((family.to_string(), bins));
            }
        }
        out.instances.push(Instance {
            name: get(name_c).to_string(),
            family: format!("{}/{}", get(bench_c), get(class_c)),
            source: format!("{}:{member}", dir.join(archive).display()),
            capacity,
            items,
            known: Known {
                lb: num(lb_c, "lb")?,
                ub: None,
                opt: num(opt_c, "opt")?,
                opt_by_construction: None,
            },
            published,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bpp_with_crlf() {
        let (cap, items) = parse_bpp("3\r\n10\r\n4\r\n6\r\n10\r\n", "x.txt").unwrap();
        assert_eq!(cap, vec![10]);
        assert_eq!(items.len(), 3);
        assert_eq!(items.row(2), &[10]);
    }

    #[test]
    fn bad_bpp_names_the_line() {
        let e = |t: &str| parse_bpp(t, "x.txt").unwrap_err().to_string();
        assert_eq!(e("3\n10\n4\n6\n"), "x.txt: n is 3 but the file has 2 weights");
        assert_eq!(
            e("2\n10\n4\nfive\n"),
            "x.txt:4: an item weight `five` is not a non-negative whole number"
        );
        assert_eq!(
            e("2\n10\n4\n11\n"),
            "x.txt:4: item weight 11 exceeds the capacity 10"
        );
        assert_eq!(e("1\n10\n4\n5\n"), "x.txt:4: unexpected `5` after the 1 weights");
        assert_eq!(e("1\n0\n0\n"), "x.txt:2: the capacity is 0");
        assert_eq!(e(""), "x.txt: the file ends before the item count n");
        assert_eq!(
            e("-1\n"),
            "x.txt:1: the item count n `-1` is negative, which packsim's resource amounts cannot be"
        );
        assert_eq!(
            e("1.5\n"),
            "x.txt:1: the item count n `1.5` is not a non-negative whole number"
        );
    }

    #[test]
    fn parses_vbp_and_expands_demands() {
        let (cap, items) = parse_vbp("2\n10 20\n2\n1 2 3\n4 5 1\n", "x.vbp").unwrap();
        assert_eq!(cap, vec![10, 20]);
        assert_eq!(items.len(), 4);
        assert_eq!(items.row(0), &[1, 2]);
        assert_eq!(items.row(3), &[4, 5]);
        let e = |t: &str| parse_vbp(t, "x.vbp").unwrap_err().to_string();
        assert_eq!(
            e("2\n10 20\n1\n11 1 1\n"),
            "x.vbp:4: weight 11 exceeds the capacity 10 in dimension 1"
        );
        assert_eq!(
            e("2\n10 20\n1\n1 1\n"),
            "x.vbp: the file ends before an item type's demand"
        );
        assert_eq!(e("0\n"), "x.vbp:1: d = 0 is not between 1 and 64");
    }
}
