//! The comparison report: the grid's results aggregated and ranked (`aggregate`), written as
//! tidy CSV (`tables`), plotted from the stored series (`series`) and laid out as one
//! document (`page`) that becomes `report.html` and `report.md`.

mod aggregate;
mod page;
mod series;
mod tables;

use std::path::Path;

pub use aggregate::{Group, GroupSummary, Ranked, primary_metric, rank_notes, summarise};
pub use tables::results_csv;

use crate::Error;
use crate::experiment::Experiment;
use crate::run::{RunResult, write_atomic};

/// Everything `write` needs to say how the report was made.
pub struct Provenance {
    /// The exact command line.
    pub command: String,
    /// packsim's version.
    pub version: String,
}

/// Writes the whole report into `dir`: CSV, plots, `report.html`, `report.md`. Returns the group
/// summaries (for the printed table).
pub fn write(
    dir: &Path,
    experiment: &Experiment,
    results: &[RunResult],
    provenance: &Provenance,
) -> Result<Vec<GroupSummary>, Error> {
    let groups = summarise(results);
    write_atomic(&dir.join("results.csv"), &results_csv(results))?;
    write_atomic(&dir.join("summary.csv"), &tables::summary_csv(&groups))?;
    write_atomic(&dir.join("ranking.csv"), &tables::ranking_csv(&groups))?;
    write_atomic(&dir.join("timings.csv"), &tables::timings_csv(results))?;
    for sub in ["plots", "series"] {
        let path = dir.join(sub);
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
    }
    let doc = page::document(dir, experiment, results, &groups, provenance)?;
    write_atomic(&dir.join("report.html"), doc.html().as_bytes())?;
    write_atomic(&dir.join("report.md"), doc.markdown().as_bytes())?;
    Ok(groups)
}

/// Numbers for people: 4 significant digits.
pub fn fmt(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.digits$}")
}
