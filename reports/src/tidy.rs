//! Tidy CSV: every CSV a report writes goes through here, quoted by the `csv` crate.

/// The CSV text of a header and rows of already formatted cells (numbers are formatted by the
/// caller, so a value's text is the same in every file).
pub(crate) fn csv(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let out = csv(
            &["a", "b"],
            [
                vec!["x,y".to_string(), "say \"hi\"".to_string()],
                vec!["1".into(), "".into()],
            ],
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n1,\n"
        );
    }
}
