//! Bins and items files: good inputs parse exactly, bad ones fail with file, line and value.

use std::path::PathBuf;

use datasets::batch::{read_bins, read_items};
use packing::Schema;

/// Writes `text` to a file called `name` in a fresh directory and returns its path.
fn file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn schema() -> Schema {
    Schema::uniform(&["cpus", "mem", "disk"], 3).unwrap()
}

/// The error for `text` read as an items file, without the directory part of the path.
fn items_error(name: &str, text: &str) -> String {
    let (dir, path) = file(name, text);
    let err = read_items(&path, &schema()).unwrap_err().to_string();
    err.replace(&format!("{}/", dir.path().display()), "")
}

#[test]
fn csv_bins_define_the_schema_and_parse_exactly() {
    let (_d, path) = file(
        "bins.csv",
        "# offers\nid,cpus,mem,disk\nO0, 1.1 ,2048,0\nO1,2,512.5,0\n",
    );
    let bins = read_bins(&path).unwrap();
    assert_eq!(bins.schema.names(), "cpus, mem, disk");
    assert_eq!(bins.ids, ["O0", "O1"]);
    assert_eq!(bins.table.row(0), &[1100, 2_048_000, 0]);
    assert_eq!(bins.table.row(1), &[2000, 512_500, 0]);
    assert_eq!(bins.describe_row(1), "cpus=2 mem=512.5 disk=0");
    assert!(bins.groups.is_none());
}

#[test]
fn items_may_list_dimensions_in_another_order_and_carry_groups() {
    let (_d, path) = file(
        "items.csv",
        "mem,group,id,disk,cpus\n128,alice,T0,0,0.1\n64,bob,T1,0,0.2\n32,alice,T2,0,1\n",
    );
    let items = read_items(&path, &schema()).unwrap();
    assert_eq!(items.table.row(0), &[100, 128_000, 0]);
    assert_eq!(items.groups, Some(vec![0, 1, 0]));
    assert_eq!(items.group_names, ["alice", "bob"]);
}

#[test]
fn rows_without_an_id_column_are_numbered_from_one() {
    let (_d, path) = file("items.csv", "cpus,mem,disk\n1,1,1\n2,2,2\n");
    assert_eq!(read_items(&path, &schema()).unwrap().ids, ["1", "2"]);
}

#[test]
fn json_arrays_parse_like_csv() {
    let (_d, csv) = file("items.csv", "id,cpus,mem,disk\nT0,0.1,128,0\nT1,1,256,0\n");
    let (_e, json) = file(
        "items.json",
        r#"[
  {"id": "T0", "cpus": 0.1, "mem": 128, "disk": 0},
  {"id": "T1", "cpus": "1", "mem": 2.56e2, "disk": 0}
]"#,
    );
    let a = read_items(&csv, &schema()).unwrap();
    let b = read_items(&json, &schema()).unwrap();
    assert_eq!((a.ids, a.table), (b.ids, b.table));
}

#[test]
fn bad_csv_names_file_line_column_and_value() {
    let cases = [
        ("empty.csv", "", "empty.csv: the file is empty"),
        ("blank.csv", "\n  \n", "blank.csv: the file is empty"),
        (
            "header.csv",
            "id,cpus,mem,disk\n",
            "header.csv: no items after the header",
        ),
        (
            "short.csv",
            "id,cpus,mem,disk\nT0,1,1\n",
            "short.csv:2: expected 4 fields like the header, found 3",
        ),
        (
            "missing.csv",
            "id,cpus,mem\nT0,1,1\n",
            "missing.csv:1: missing column `disk` (the bins have cpus, mem, disk)",
        ),
        (
            "extra.csv",
            "id,cpus,mem,disk,gpus\nT0,1,1,1,1\n",
            "extra.csv:1: column `gpus` is not a dimension",
        ),
        (
            "twice.csv",
            "id,cpus,cpus,mem,disk\nT0,1,1,1,1\n",
            "twice.csv:1: column `cpus` appears twice",
        ),
        (
            "noname.csv",
            "id,,mem,disk\nT0,1,1,1\n",
            "noname.csv:1: column 2 has no name",
        ),
        (
            "negative.csv",
            "id,cpus,mem,disk\nT0,1,1,0\nT1,1,-2,0\n",
            "negative.csv:3: column `mem`: `-2` is negative",
        ),
        (
            "word.csv",
            "id,cpus,mem,disk\nT0,one,1,0\n",
            "word.csv:2: column `cpus`: `one` is not a number",
        ),
        (
            "blankvalue.csv",
            "id,cpus,mem,disk\nT0,,1,0\n",
            "blankvalue.csv:2: column `cpus`: `` is empty",
        ),
        (
            "nan.csv",
            "id,cpus,mem,disk\nT0,NaN,1,0\n",
            "nan.csv:2: column `cpus`: `NaN` is not a number",
        ),
        (
            "inf.csv",
            "id,cpus,mem,disk\nT0,inf,1,0\n",
            "inf.csv:2: column `cpus`: `inf` is too large",
        ),
        (
            "precise.csv",
            "id,cpus,mem,disk\nT0,0.0001,1,0\n",
            "precise.csv:2: column `cpus`: `0.0001` has more than 3 decimal places",
        ),
        (
            "huge.csv",
            "id,cpus,mem,disk\nT0,99999999999999999,1,0\n",
            "huge.csv:2: column `cpus`: `99999999999999999` is too large",
        ),
        (
            "dup.csv",
            "id,cpus,mem,disk\nT0,1,1,0\nT1,1,1,0\nT0,2,2,0\n",
            "dup.csv:4: duplicate id `T0` (first on line 2)",
        ),
        (
            "noid.csv",
            "id,cpus,mem,disk\n ,1,1,0\n",
            "noid.csv:2: the `id` is empty",
        ),
    ];
    for (name, text, expected) in cases {
        let err = items_error(name, text);
        assert!(
            err.starts_with(expected),
            "{name}: got `{err}`, want `{expected}…`"
        );
        assert!(!err.contains('\n'), "{name}: error spans lines: {err}");
    }
}

#[test]
fn non_utf8_files_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.csv");
    std::fs::write(&path, b"id,cpus,mem,disk\nT0,1,1,0\nT\xe9,1,1,0\n").unwrap();
    let err = read_items(&path, &schema()).unwrap_err().to_string();
    assert!(
        err.ends_with("latin1.csv:3: the line is not valid UTF-8 (save the file as UTF-8)"),
        "{err}"
    );
}

#[test]
fn bad_json_names_file_line_and_value() {
    let cases = [
        (
            "object.json",
            r#"{"id": "T0"}"#,
            "object.json:1: expected a JSON array of items objects",
        ),
        ("empty.json", "[]", "empty.json: the JSON array holds no items"),
        (
            "scalar.json",
            "[1]",
            "scalar.json:1: expected an object, found `1`",
        ),
        (
            "value.json",
            "[{\"id\":\"T0\",\"cpus\":1,\"mem\":1,\"disk\":0},\n{\"id\":\"T1\",\"cpus\":true,\"mem\":1,\"disk\":0}]",
            "value.json:2: field `cpus`: `true` is not a number or a string",
        ),
        (
            "negative.json",
            "[\n{\"id\":\"T0\",\"cpus\":1,\"mem\":-5,\"disk\":0}\n]",
            "negative.json:2: column `mem`: `-5` is negative",
        ),
        (
            "syntax.json",
            "[{\"id\":\"T0\" \"cpus\":1}]",
            "syntax.json:1: column 13: invalid JSON: expected `,` or `}`",
        ),
        (
            "open.json",
            "[{\"id\":\"T0\",\"cpus\":1,\"mem\":1,\"disk\":0}",
            "open.json:1: expected `,` or `]` after an object",
        ),
        (
            "trailing.json",
            "[{\"id\":\"T0\",\"cpus\":1,\"mem\":1,\"disk\":0}] x",
            "trailing.json:1: unexpected text after the JSON array",
        ),
        (
            "missing.json",
            "[{\"id\":\"T0\",\"cpus\":1,\"mem\":1,\"disk\":0},{\"id\":\"T1\",\"cpus\":1,\"mem\":1}]",
            "missing.json:1: `T1` has no `disk`",
        ),
    ];
    for (name, text, expected) in cases {
        let err = items_error(name, text);
        assert!(
            err.starts_with(expected),
            "{name}: got `{err}`, want `{expected}…`"
        );
    }
}

#[test]
fn bins_files_are_checked_too() {
    let (_d, path) = file("bins.csv", "id,group,cpus\nA,x,1\n");
    let err = read_bins(&path).unwrap_err().to_string();
    assert!(
        err.ends_with("bins.csv:1: a `group` column belongs in the items file, not the bins file"),
        "{err}"
    );
    let (_e, path) = file("bins.csv", "id\nA\n");
    let err = read_bins(&path).unwrap_err().to_string();
    assert!(err.contains("bins.csv:1: no resource columns"), "{err}");
    let (_f, path) = file("bins.csv", "id,cpu s\nA,1\n");
    let err = read_bins(&path).unwrap_err().to_string();
    assert!(
        err.contains("bins.csv:1: `cpu s` is not a valid dimension name"),
        "{err}"
    );
    let missing = PathBuf::from("/nonexistent/bins.csv");
    let err = read_bins(&missing).unwrap_err().to_string();
    assert!(err.starts_with("/nonexistent/bins.csv: No such file"), "{err}");
}
