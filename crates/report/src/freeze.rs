//! Finalising a report freezes its figures under a content hash; regenerating later compares
//! the figures of the day with the frozen ones.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::render::{FigureValue, Rendered, plain_text};

/// What is kept of a finalised report: enough to prove what was printed and to compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frozen {
    pub template_code: String,
    pub template_version: i64,
    pub org: String,
    pub period: String,
    pub figures: Vec<FigureValue>,
    /// The report's text as printed.
    pub text: String,
    /// SHA-256 (hex) over all of the above, see [`content_hash`].
    pub content_hash: String,
}

impl Frozen {
    pub fn of(
        template_code: &str,
        template_version: i64,
        org: &str,
        period: &str,
        rendered: &Rendered,
    ) -> Frozen {
        let mut f = Frozen {
            template_code: template_code.to_owned(),
            template_version,
            org: org.to_owned(),
            period: period.to_owned(),
            figures: rendered.figures.clone(),
            text: plain_text(&rendered.document),
            content_hash: String::new(),
        };
        f.content_hash = content_hash(&f);
        f
    }

    /// Whether the stored hash still matches the stored content.
    pub fn verify(&self) -> bool {
        content_hash(self) == self.content_hash
    }
}

/// SHA-256 over a canonical JSON of everything but the hash itself: field order is fixed by
/// the struct and figures keep the report's order, so the same report always hashes alike.
/// Figures are hashed as printed (key, label, text, link), not as raw floats, whose last digit
/// may not survive a trip through the stored JSON.
pub fn content_hash(f: &Frozen) -> String {
    let figures: Vec<_> = f
        .figures
        .iter()
        .map(|x| serde_json::json!([x.key, x.label, x.text, x.provenance]))
        .collect();
    let canonical = serde_json::json!({
        "template": f.template_code,
        "version": f.template_version,
        "org": f.org,
        "period": f.period,
        "figures": figures,
        "text": f.text,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// How one figure differs between the frozen report and today's rendering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureChange {
    pub key: String,
    pub label: String,
    /// As printed when finalised; `None` if the figure was not in the report then.
    pub before: Option<String>,
    /// As printed now; `None` if the figure is no longer in the report.
    pub after: Option<String>,
}

/// The figures whose printed text changed, appeared or disappeared since `frozen`.
pub fn changes(frozen: &[FigureValue], now: &[FigureValue]) -> Vec<FigureChange> {
    let mut out = Vec::new();
    for f in frozen {
        match now.iter().find(|n| n.key == f.key) {
            Some(n) if n.text == f.text => {}
            n => out.push(FigureChange {
                key: f.key.clone(),
                label: f.label.clone(),
                before: Some(f.text.clone()),
                after: n.map(|n| n.text.clone()),
            }),
        }
    }
    for n in now {
        if !frozen.iter().any(|f| f.key == n.key) {
            out.push(FigureChange {
                key: n.key.clone(),
                label: n.label.clone(),
                before: None,
                after: Some(n.text.clone()),
            });
        }
    }
    out
}
