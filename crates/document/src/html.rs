//! HTML fragment for the in-app preview.
//!
//! Everything is escaped; figures with a (safe) provenance link become
//! `<a class="figure" href="…">`, missing figures become
//! `<mark class="missing">【缺数据：…】</mark>`. Heading level *n* becomes
//! `<h{n+1}>` (the title is the `<h1>`). No styles are inlined except
//! class names, so the application's stylesheet decides the look.

use std::fmt::Write;

use crate::{Block, Document, Inline, missing_marker, safe_link};

/// Escape text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Render the document as an HTML fragment (an `<article class="gongwen">`).
pub fn render(doc: &Document) -> String {
    let mut h = String::new();
    h.push_str("<article class=\"gongwen\">\n");
    let _ = writeln!(h, "<h1 class=\"title\">{}</h1>", escape(&doc.title));
    if let Some(s) = &doc.subtitle {
        let _ = writeln!(h, "<p class=\"subtitle\">{}</p>", escape(s));
    }
    for (number, block) in doc.numbered_blocks() {
        match block {
            Block::Heading { level, text } => {
                let lvl = crate::clamp_level(*level);
                let tag = lvl + 1;
                let _ = writeln!(
                    h,
                    "<h{tag} class=\"level-{lvl}\">{}{}</h{tag}>",
                    escape(number.as_deref().unwrap_or_default()),
                    inlines(text)
                );
            }
            Block::Paragraph(text) => {
                let _ = writeln!(h, "<p>{}</p>", inlines(text));
            }
            Block::Table {
                caption,
                header,
                rows,
            } => {
                h.push_str("<table>\n");
                if let Some(c) = caption {
                    let _ = writeln!(h, "<caption>{}</caption>", escape(c));
                }
                if !header.is_empty() {
                    h.push_str("<thead><tr>");
                    for cell in header {
                        let _ = write!(h, "<th>{}</th>", escape(cell));
                    }
                    h.push_str("</tr></thead>\n");
                }
                h.push_str("<tbody>\n");
                for row in rows {
                    h.push_str("<tr>");
                    for cell in row {
                        let _ = write!(h, "<td>{}</td>", escape(cell));
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</tbody>\n</table>\n");
            }
            Block::PageBreak => h.push_str("<hr class=\"page-break\">\n"),
        }
    }
    if let Some(i) = &doc.issuer {
        let _ = writeln!(h, "<p class=\"issuer\">{}</p>", escape(i));
    }
    if let Some(d) = &doc.date {
        let _ = writeln!(h, "<p class=\"date\">{}</p>", escape(d));
    }
    h.push_str("</article>\n");
    h
}

fn inlines(items: &[Inline]) -> String {
    let mut h = String::new();
    for i in items {
        match i {
            Inline::Text(t) => h.push_str(&escape(t)),
            Inline::Figure { text, link } => match link.as_deref().and_then(safe_link) {
                Some(url) => {
                    let _ = write!(
                        h,
                        "<a class=\"figure\" href=\"{}\">{}</a>",
                        escape(url),
                        escape(text)
                    );
                }
                None => {
                    let _ = write!(h, "<span class=\"figure\">{}</span>", escape(text));
                }
            },
            Inline::Missing { label } => {
                let _ = write!(
                    h,
                    "<mark class=\"missing\">{}</mark>",
                    escape(&missing_marker(label))
                );
            }
        }
    }
    h
}
