//! The HTML rendering of a [`crate::doc::Document`]: one self-contained file (inline SVG, inline style and script, no URL
//! outside the page), with tables that sort when a header is clicked.

use std::fmt::Write as _;

use crate::doc::{Block, Table, inline_html};

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2.2em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ddd;padding:.3em .6em;text-align:right}\
th{background:#f4f4f4;cursor:pointer;user-select:none}th:first-child,td:first-child{text-align:left}\
td.t{text-align:left;white-space:normal;min-width:14em}td{white-space:nowrap}\
td:first-child,th:first-child{position:sticky;left:0;background:#fff;z-index:1}th:first-child{background:#f4f4f4}th{text-align:left}.wide{overflow-x:auto}th.asc::after{content:' ▲'}th.desc::after{content:' ▼'}\
figure{margin:1em 0}figure svg{max-width:100%;height:auto}code{background:#f4f4f4;padding:0 .2em}\
.meta{color:#555;font-size:.9em}";

const SCRIPT: &str = "document.querySelectorAll('table.sortable').forEach(function(t){\
var hs=t.querySelectorAll('th');hs.forEach(function(h,i){h.addEventListener('click',function(){\
var asc=!h.classList.contains('asc');hs.forEach(function(o){o.classList.remove('asc','desc')});\
h.classList.add(asc?'asc':'desc');var b=t.tBodies[0];var rows=Array.prototype.slice.call(b.rows);\
rows.sort(function(x,y){var a=x.cells[i].textContent.replace('=',''),c=y.cells[i].textContent.replace('=','');\
var p=parseFloat(a),q=parseFloat(c);var r=(!isNaN(p)&&!isNaN(q))?p-q:a.localeCompare(c);return asc?r:-r});\
rows.forEach(function(r){b.appendChild(r)})})})});";

/// The whole page: title, blocks, the inline style and the sorting script.
pub(crate) fn page(title: &str, blocks: &[Block]) -> String {
    let mut body = format!("<h1>{}</h1>\n", escape(title));
    for block in blocks {
        match block {
            Block::Section(t) => {
                let _ = writeln!(body, "<h2>{}</h2>", escape(t));
            }
            Block::Paragraph(t) => {
                let _ = writeln!(body, "<p>{}</p>", inline_html(t));
            }
            Block::Meta(t) => {
                let _ = writeln!(body, "<p class=\"meta\">{}</p>", inline_html(t));
            }
            Block::Table(t) => table(&mut body, t),
            Block::Figure { svg, .. } => {
                let _ = writeln!(body, "<figure>{}</figure>", crate::plot::inline(svg));
            }
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{}<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(title),
        body
    )
}

/// A sortable table.
fn table(body: &mut String, table: &Table) {
    body.push_str("<div class=\"wide\"><table class=\"sortable\"><thead><tr>");
    for h in &table.header {
        let _ = write!(body, "<th>{}</th>", escape(h));
    }
    body.push_str("</tr></thead><tbody>\n");
    for r in &table.rows {
        body.push_str("<tr>");
        for c in r {
            // Text (names, lists) reads left-aligned; numbers right-aligned.
            let text = c.chars().next().is_some_and(char::is_alphabetic);
            let class = if text { " class=\"t\"" } else { "" };
            let _ = write!(body, "<td{class}>{}</td>", escape(c));
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody></table></div>\n");
}
