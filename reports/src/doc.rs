//! One document builder for both report formats: a report is written once as a [`Document`]
//! (headings, paragraphs, tables, figures) and rendered to the self-contained HTML page
//! ([`Document::html`]) and to Markdown ([`Document::markdown`]), so the two never disagree.
//!
//! Text is plain, with `` `code` `` spans; each renderer escapes it for its own format.

use std::fmt::Write as _;

use crate::html;

/// A table: header and rows of text cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
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

/// A piece of a document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Block {
    /// A section heading.
    Section(String),
    /// A paragraph of text with `code` spans.
    Paragraph(String),
    /// A paragraph of the page's header (small print in HTML).
    Meta(String),
    /// A sortable table.
    Table(Table),
    /// A figure: the SVG inline in HTML, a link to `file` in Markdown.
    Figure { file: String, svg: String },
}

/// A report being written.
///
/// ```
/// use reports::doc::{Document, Table};
/// let mut doc = Document::new("Gaps");
/// doc.meta("Made by `packsim gap`.");
/// doc.section("Suite a");
/// let mut t = Table::new(&["policy", "bins"]);
/// t.row(&["first-fit".into(), "12".into()]);
/// doc.table(t);
/// assert!(doc.markdown().contains("| first-fit | 12 |"));
/// assert!(doc.html().contains("<code>packsim gap</code>"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    title: String,
    blocks: Vec<Block>,
}

impl Document {
    /// An empty document with a title.
    pub fn new(title: &str) -> Document {
        Document {
            title: title.to_string(),
            blocks: Vec::new(),
        }
    }

    /// A paragraph of the header: who made the report, with what, how to read it.
    pub fn meta(&mut self, text: &str) {
        self.blocks.push(Block::Meta(text.to_string()));
    }

    /// Starts a section.
    pub fn section(&mut self, title: &str) {
        self.blocks.push(Block::Section(title.to_string()));
    }

    /// A paragraph.
    pub fn paragraph(&mut self, text: &str) {
        self.blocks.push(Block::Paragraph(text.to_string()));
    }

    /// A table.
    pub fn table(&mut self, table: Table) {
        self.blocks.push(Block::Table(table));
    }

    /// A figure stored at `file` (relative to the report) whose SVG is `svg`.
    pub fn figure(&mut self, file: &str, svg: &str) {
        self.blocks.push(Block::Figure {
            file: file.to_string(),
            svg: svg.to_string(),
        });
    }

    /// The self-contained HTML page.
    pub fn html(&self) -> String {
        html::page(&self.title, &self.blocks)
    }

    /// The Markdown document.
    pub fn markdown(&self) -> String {
        let mut md = format!("# {}\n\n", self.title);
        for block in &self.blocks {
            match block {
                Block::Section(title) => {
                    let _ = writeln!(md, "## {title}\n");
                }
                Block::Paragraph(text) | Block::Meta(text) => {
                    let _ = writeln!(md, "{text}\n");
                }
                Block::Table(t) => {
                    let cell = |c: &str| c.replace('|', "\\|");
                    let header: Vec<String> = t.header.iter().map(|h| cell(h)).collect();
                    let _ = writeln!(md, "| {} |\n|{}", header.join(" | "), "---|".repeat(header.len()));
                    for row in &t.rows {
                        let row: Vec<String> = row.iter().map(|c| cell(c)).collect();
                        let _ = writeln!(md, "| {} |", row.join(" | "));
                    }
                    md.push('\n');
                }
                Block::Figure { file, .. } => {
                    let _ = writeln!(md, "![{file}]({file})\n");
                }
            }
        }
        md
    }
}

/// Text with `` `code` `` spans as HTML: escaped, the spans in `<code>`.
pub(crate) fn inline_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", html::escape(part));
        } else {
            out.push_str(&html::escape(part));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_and_escapes() {
        assert_eq!(inline_html("a `<b>` & c"), "a <code>&lt;b&gt;</code> &amp; c");
    }

    #[test]
    fn both_formats_carry_every_block() {
        let mut d = Document::new("T");
        d.section("S");
        d.paragraph("p `x`");
        d.figure("plots/a.svg", "<svg></svg>");
        let md = d.markdown();
        assert!(
            md.starts_with("# T\n\n## S\n\np `x`\n\n![plots/a.svg](plots/a.svg)"),
            "{md}"
        );
        let html = d.html();
        assert!(
            html.contains("<h2>S</h2>") && html.contains("<p>p <code>x</code></p>"),
            "{html}"
        );
        assert!(html.contains("<figure><svg></svg></figure>"), "{html}");
    }
}
