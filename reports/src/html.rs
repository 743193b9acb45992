//! The report page: one self-contained HTML file (inline SVG, inline style and script, no URL
//! outside the page), with tables that sort when a header is clicked.

use std::fmt::Write as _;

use crate::compare::Provenance;
use crate::experiment::Experiment;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A table: header and rows of text cells.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column names.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: &[String]) {
        self.rows.push(cells.to_vec());
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2.2em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ddd;padding:.3em .6em;text-align:right}\
th{background:#f4f4f4;cursor:pointer;user-select:none}th:first-child,td:first-child{text-align:left}\
td.t{text-align:left;white-space:normal}td{white-space:nowrap}th{text-align:left}.wide{overflow-x:auto}th.asc::after{content:' ▲'}th.desc::after{content:' ▼'}\
figure{margin:1em 0}figure svg{max-width:100%;height:auto}code{background:#f4f4f4;padding:0 .2em}\
.meta{color:#555;font-size:.9em}";

const SCRIPT: &str = "document.querySelectorAll('table.sortable').forEach(function(t){\
var hs=t.querySelectorAll('th');hs.forEach(function(h,i){h.addEventListener('click',function(){\
var asc=!h.classList.contains('asc');hs.forEach(function(o){o.classList.remove('asc','desc')});\
h.classList.add(asc?'asc':'desc');var b=t.tBodies[0];var rows=Array.prototype.slice.call(b.rows);\
rows.sort(function(x,y){var a=x.cells[i].textContent.replace('=',''),c=y.cells[i].textContent.replace('=','');\
var p=parseFloat(a),q=parseFloat(c);var r=(!isNaN(p)&&!isNaN(q))?p-q:a.localeCompare(c);return asc?r:-r});\
rows.forEach(function(r){b.appendChild(r)})})})});";

/// The page being built.
pub struct Page {
    body: String,
    title: String,
}

impl Page {
    /// A page stating the command, version, seeds and size of the grid that made it.
    pub fn new(title: &str, provenance: &Provenance, experiment: &Experiment, runs: usize) -> Page {
        let mut body = String::new();
        let _ = write!(
            body,
            "<h1>{}</h1>\n<p class=\"meta\">Made by <code>{}</code> with packsim {}.<br>{} runs: {} policies × {} workloads × {} models × seeds {:?} × cluster scales {:?}; arrive-only target {}.<br>\
             Every figure is a mean over seeds with its 95% confidence interval (Student's t). Policies are compared in pairs on the same seeds: a policy's rank is 1 + the number of policies that do better and can be told apart from it at 95%.</p>\n",
            escape(title),
            escape(&provenance.command),
            escape(&provenance.version),
            runs,
            experiment.policies.len(),
            experiment.workloads.len(),
            experiment.models.len(),
            experiment.seeds,
            experiment.scales,
            experiment.target,
        );
        if experiment.models.contains(&sim::ModelKind::ArriveOnly) {
            let _ = writeln!(
                body,
                "<p class=\"meta\">Arrive-only replays follow the FGD paper (Weng et al., ATC'23): tasks are sampled with replacement from the workload until their demand reaches {} × the cluster's capacity (in GPUs when the cluster has GPUs, else CPUs), shuffled with the seed, placed one by one and never removed; a task that fits nowhere fails. Curves are plotted against arrived demand as % of capacity. GPU fragmentation is the paper's: idle GPU that the workload's typical task shapes (those covering 95% of its tasks) cannot use.</p>",
                experiment.target
            );
        }
        Page {
            body,
            title: title.to_string(),
        }
    }

    /// A page whose header is `meta_html` (trusted: callers escape what they interpolate).
    pub fn plain(title: &str, meta_html: &str) -> Page {
        Page {
            body: meta_html.to_string(),
            title: title.to_string(),
        }
    }

    /// Starts a section.
    pub fn section(&mut self, title: &str) {
        let _ = writeln!(self.body, "<h2>{}</h2>", escape(title));
    }

    /// A paragraph of trusted HTML (callers escape what they interpolate).
    pub fn paragraph(&mut self, html: &str) {
        let _ = writeln!(self.body, "<p>{html}</p>");
    }

    /// A sortable table.
    pub fn table(&mut self, table: &Table) {
        self.body
            .push_str("<div class=\"wide\"><table class=\"sortable\"><thead><tr>");
        for h in &table.header {
            let _ = write!(self.body, "<th>{}</th>", escape(h));
        }
        self.body.push_str("</tr></thead><tbody>\n");
        for r in &table.rows {
            self.body.push_str("<tr>");
            for c in r {
                // Text (names, lists) reads left-aligned; numbers right-aligned.
                let text = c.chars().next().is_some_and(char::is_alphabetic);
                let class = if text { " class=\"t\"" } else { "" };
                let _ = write!(self.body, "<td{class}>{}</td>", escape(c));
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody></table></div>\n");
    }

    /// An inline SVG figure.
    pub fn figure(&mut self, svg: &str) {
        let _ = writeln!(self.body, "<figure>{svg}</figure>");
    }

    /// The whole document.
    pub fn finish(self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{}<script>{SCRIPT}</script>\n</body>\n</html>\n",
            escape(&self.title),
            self.body
        )
    }
}
