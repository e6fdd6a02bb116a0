//! A parsed template plus a [`FigureSource`] gives a [`Rendered`] report: the
//! `document::Document`, every figure it printed (for freezing and diffs) and every gap.
//!
//! All figures are fetched first, then the document is built without awaiting, so conditions
//! and tables need no async recursion.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use xiangzhi_document::{Block, Document, Inline};
use xiangzhi_domain::period::Period;

use crate::format::{number, unit_factor, yoy_percent, yoy_phrase};
use crate::source::{FigureSource, NoticeName, SourceError};
use crate::syntax::{CmpOp, Cond, FigureRef, PeriodSel, Piece, TBlock, Template, Var};

/// One figure as printed, with what it was computed from. Frozen on finalising.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureValue {
    /// Identifies the figure across renderings: kind, indicator, org unit, period, unit and
    /// precision.
    pub key: String,
    /// What the figure is, in Chinese (indicator name with period or unit if not the report's).
    pub label: String,
    /// As printed; the missing marker when there is no data.
    pub text: String,
    /// In the printed unit (percent for a year-on-year change); `None` when missing.
    pub value: Option<f64>,
    pub provenance: Option<String>,
}

/// A figure the report could not print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// As the marker shows it: `【缺数据：label】`.
    pub label: String,
    pub indicator: String,
    pub org: String,
    pub period: String,
    /// Why, in Chinese.
    pub reason: String,
    /// Where the figure is in the template.
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone)]
pub struct Rendered {
    pub document: Document,
    pub figures: Vec<FigureValue>,
    pub gaps: Vec<Gap>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Value,
    Yoy,
    Target,
}

/// A fetched figure, ready to print.
#[derive(Debug, Clone)]
struct Resolved {
    value: FigureValue,
    /// Why it is missing, if it is.
    reason: Option<String>,
    indicator: String,
    org: String,
    period: String,
}

/// Renders `template` for the org unit `org` (a division code) and `period`.
pub async fn render(
    template: &Template,
    source: &dyn FigureSource,
    org: &str,
    period: &Period,
) -> Result<Rendered, SourceError> {
    let mut refs = Vec::new();
    let mut notices = Vec::new();
    collect_template(template, &mut refs, &mut notices);

    let org_name = source
        .org_name(org)
        .await?
        .unwrap_or_else(|| org.to_owned());
    let mut resolved = BTreeMap::new();
    for (kind, r) in refs {
        let key = key_of(kind, &r, org, period);
        // Not the entry API: the value is computed by an await, which must not hold the map.
        #[allow(clippy::map_entry)]
        if !resolved.contains_key(&key) {
            let v = resolve(source, kind, &r, org, &org_name, period, key.clone()).await?;
            resolved.insert(key, v);
        }
    }
    let mut notice_names = BTreeMap::new();
    for program in notices {
        let names = source.notice_names(&program, org, period).await?;
        notice_names.insert(program, names);
    }

    let mut w = Writer {
        org,
        org_name: &org_name,
        period,
        resolved: &resolved,
        notices: &notice_names,
        figures: Vec::new(),
        seen: HashSet::new(),
        gaps: Vec::new(),
    };
    let mut doc = Document::new(w.plain(&template.title));
    doc.subtitle = template.subtitle.as_ref().map(|p| w.plain(p));
    doc.issuer = template.issuer.as_ref().map(|p| w.plain(p));
    doc.date = template.date.as_ref().map(|p| w.plain(p));
    for block in &template.blocks {
        w.block(block, &mut doc.blocks);
    }
    Ok(Rendered {
        document: doc,
        figures: w.figures,
        gaps: w.gaps,
    })
}

fn collect_template(t: &Template, refs: &mut Vec<(Kind, FigureRef)>, notices: &mut Vec<String>) {
    for p in [&Some(t.title.clone()), &t.subtitle, &t.issuer, &t.date]
        .into_iter()
        .flatten()
    {
        collect(p, refs);
    }
    for b in &t.blocks {
        match b {
            TBlock::Heading { text, .. } | TBlock::Paragraph(text) => collect(text, refs),
            TBlock::Table { caption, rows } => {
                if let Some(c) = caption {
                    collect(c, refs);
                }
                for cell in rows.iter().flatten() {
                    collect(cell, refs);
                }
            }
            TBlock::Chart { caption, bars } => {
                collect(caption, refs);
                refs.extend(bars.iter().map(|(_, f)| (Kind::Value, f.clone())));
            }
            TBlock::NoticeList { program } => notices.push(program.clone()),
            TBlock::PageBreak => {}
        }
    }
}

fn collect(pieces: &[Piece], refs: &mut Vec<(Kind, FigureRef)>) {
    for p in pieces {
        match p {
            Piece::Text(_) | Piece::Var(_) => {}
            Piece::Figure(f) => refs.push((Kind::Value, f.clone())),
            Piece::Yoy(f) => refs.push((Kind::Yoy, f.clone())),
            Piece::Target(f) => refs.push((Kind::Target, f.clone())),
            Piece::If {
                cond,
                then,
                otherwise,
            } => {
                match cond {
                    Cond::Compare { left, yoy, .. } => {
                        refs.push((if *yoy { Kind::Yoy } else { Kind::Value }, left.clone()))
                    }
                    Cond::HasData(f) => refs.push((Kind::Value, f.clone())),
                }
                collect(then, refs);
                collect(otherwise, refs);
            }
        }
    }
}

/// The same period `years` years later (earlier when negative).
pub fn shift_years(p: &Period, years: i32) -> Period {
    let mut out = *p;
    for _ in 0..years.unsigned_abs() {
        out = if years < 0 {
            out.same_period_last_year()
        } else {
            let code = out.to_string();
            let y: i32 = code[..4].parse().unwrap_or(out.year());
            Period::parse(&format!("{}{}", y + 1, &code[4..]))
                .unwrap_or_else(|_| Period::containing(out.end(), out.period_type()).next())
        };
    }
    out
}

fn period_of(r: &FigureRef, report: &Period) -> Period {
    match &r.period {
        PeriodSel::Years(n) => shift_years(report, *n),
        // Checked when parsing.
        PeriodSel::Fixed(code) => Period::parse(code).unwrap_or(*report),
    }
}

fn key_of(kind: Kind, r: &FigureRef, org: &str, report: &Period) -> String {
    let k = match kind {
        Kind::Value => "值",
        Kind::Yoy => "同比",
        Kind::Target => "目标",
    };
    format!(
        "{k}:{}@{}/{}|{}|{}{}",
        r.code,
        r.org.as_deref().unwrap_or(org),
        period_of(r, report),
        r.unit.as_deref().unwrap_or(""),
        r.precision.map(|p| p.to_string()).unwrap_or_default(),
        if r.bare { "|无单位" } else { "" }
    )
}

async fn resolve(
    source: &dyn FigureSource,
    kind: Kind,
    r: &FigureRef,
    report_org: &str,
    report_org_name: &str,
    report_period: &Period,
    key: String,
) -> Result<Resolved, SourceError> {
    let org = r.org.clone().unwrap_or_else(|| report_org.to_owned());
    let period = period_of(r, report_period);
    let name = source.indicator_name(&r.code).await?;
    let mut label = name.clone().unwrap_or_else(|| r.code.clone());
    if kind == Kind::Target {
        label.push_str("目标");
    }
    let mut qualifiers = Vec::new();
    if org != report_org {
        let n = source.org_name(&org).await?.unwrap_or_else(|| org.clone());
        if n != report_org_name {
            qualifiers.push(n);
        }
    }
    if period != *report_period || kind == Kind::Target {
        qualifiers.push(period.label());
    }
    if kind == Kind::Yoy {
        qualifiers.push("同比".to_owned());
    }
    if !qualifiers.is_empty() {
        label = format!("{label}（{}）", qualifiers.join("，"));
    }
    let mut out = Resolved {
        value: FigureValue {
            key,
            label: label.clone(),
            text: xiangzhi_document::missing_marker(&label),
            value: None,
            provenance: None,
        },
        reason: None,
        indicator: r.code.clone(),
        org: org.clone(),
        period: period.to_string(),
    };
    if name.is_none() {
        out.reason = Some(format!("未知的指标代码 {}", r.code));
        return Ok(out);
    }
    let fetch = |p: Period| {
        let org = org.clone();
        async move {
            match kind {
                Kind::Target => source.target(&r.code, &org, &p).await,
                _ => source.figure(&r.code, &org, &p).await,
            }
        }
    };
    let Some(fig) = fetch(period).await? else {
        out.reason = Some(format!("未知的指标代码 {}", r.code));
        return Ok(out);
    };
    let Some(value) = fig.value else {
        out.reason = Some(
            fig.missing
                .clone()
                .unwrap_or_else(|| format!("{}没有数据", period.label())),
        );
        return Ok(out);
    };
    if kind == Kind::Yoy {
        let before = shift_years(&period, -1);
        let prev = fetch(before).await?.and_then(|f| f.value);
        let Some(prev) = prev else {
            out.reason = Some(format!("{}没有数据，无法计算同比", before.label()));
            return Ok(out);
        };
        let precision = r.precision.unwrap_or(1);
        match (yoy_phrase(value, prev, precision), yoy_percent(value, prev)) {
            (Some(text), Some(pct)) => {
                out.value.text = text;
                out.value.value = Some(pct);
                out.value.provenance = fig.provenance;
            }
            _ => {
                out.reason = Some(format!("{}为0，无法计算同比", before.label()));
            }
        }
        return Ok(out);
    }
    let unit = r.unit.clone().unwrap_or_else(|| fig.unit.clone());
    let Some(factor) = unit_factor(&fig.unit, &unit) else {
        out.reason = Some(format!("单位“{}”无法换算为“{unit}”", fig.unit));
        return Ok(out);
    };
    let precision = r.precision.unwrap_or_else(|| {
        // Scaling to a larger unit keeps the digits: 37600亩 at 0 places is 3.76万亩.
        let extra = (-factor.log10()).round().max(0.0) as u8;
        (fig.precision + extra).min(4)
    });
    let shown = value * factor;
    out.value.text = if r.bare {
        number(shown, precision)
    } else {
        format!("{}{unit}", number(shown, precision))
    };
    out.value.value = Some(shown);
    out.value.provenance = fig.provenance;
    Ok(out)
}

struct Writer<'a> {
    org: &'a str,
    org_name: &'a str,
    period: &'a Period,
    resolved: &'a BTreeMap<String, Resolved>,
    notices: &'a BTreeMap<String, Vec<NoticeName>>,
    figures: Vec<FigureValue>,
    seen: HashSet<String>,
    gaps: Vec<Gap>,
}

impl Writer<'_> {
    fn lookup(&mut self, kind: Kind, r: &FigureRef) -> Resolved {
        let key = key_of(kind, r, self.org, self.period);
        let res = self.resolved[&key].clone();
        if self.seen.insert(key) {
            self.figures.push(res.value.clone());
            if let Some(reason) = &res.reason {
                self.gaps.push(Gap {
                    label: res.value.label.clone(),
                    indicator: res.indicator.clone(),
                    org: res.org.clone(),
                    period: res.period.clone(),
                    reason: reason.clone(),
                    line: r.line,
                    column: r.column,
                });
            }
        }
        res
    }

    fn inline_of(&mut self, kind: Kind, r: &FigureRef) -> Inline {
        let res = self.lookup(kind, r);
        if res.reason.is_some() {
            Inline::missing(res.value.label)
        } else {
            Inline::figure(res.value.text, res.value.provenance.as_deref())
        }
    }

    fn inlines(&mut self, pieces: &[Piece], out: &mut Vec<Inline>) {
        for p in pieces {
            match p {
                Piece::Text(t) => out.push(Inline::text(t.clone())),
                Piece::Var(v) => out.push(Inline::text(self.var(*v))),
                Piece::Figure(f) => out.push(self.inline_of(Kind::Value, f)),
                Piece::Yoy(f) => out.push(self.inline_of(Kind::Yoy, f)),
                Piece::Target(f) => out.push(self.inline_of(Kind::Target, f)),
                Piece::If {
                    cond,
                    then,
                    otherwise,
                } => match self.decide(cond) {
                    Ok(true) => self.inlines(then, out),
                    Ok(false) => self.inlines(otherwise, out),
                    Err(missing) => out.push(missing),
                },
            }
        }
    }

    /// The branch to take, or the marker of the figure that decides it when it is missing.
    fn decide(&mut self, cond: &Cond) -> Result<bool, Inline> {
        match cond {
            Cond::HasData(f) => {
                // Asking whether data exists is not a gap of the report.
                let key = key_of(Kind::Value, f, self.org, self.period);
                Ok(self.resolved[&key].reason.is_none())
            }
            Cond::Compare {
                left,
                yoy,
                op,
                right,
            } => {
                let kind = if *yoy { Kind::Yoy } else { Kind::Value };
                let res = self.lookup(kind, left);
                let Some(v) = res.value.value.filter(|_| res.reason.is_none()) else {
                    return Err(Inline::missing(res.value.label));
                };
                Ok(match op {
                    CmpOp::Gt => v > *right,
                    CmpOp::Ge => v >= *right,
                    CmpOp::Lt => v < *right,
                    CmpOp::Le => v <= *right,
                    CmpOp::Eq => (v - right).abs() < 1e-9,
                    CmpOp::Ne => (v - right).abs() >= 1e-9,
                })
            }
        }
    }

    fn var(&self, v: Var) -> String {
        let y = self.period.year();
        match v {
            Var::Year => y.to_string(),
            Var::PreviousYear => (y - 1).to_string(),
            Var::NextYear => (y + 1).to_string(),
            Var::OrgName => self.org_name.to_owned(),
        }
    }

    fn plain(&mut self, pieces: &[Piece]) -> String {
        let mut out = Vec::new();
        self.inlines(pieces, &mut out);
        out.iter().map(Inline::display_text).collect()
    }

    fn block(&mut self, block: &TBlock, out: &mut Vec<Block>) {
        match block {
            TBlock::Heading { level, text } => {
                let mut inl = Vec::new();
                self.inlines(text, &mut inl);
                out.push(Block::Heading {
                    level: *level,
                    text: inl,
                });
            }
            TBlock::Paragraph(text) => {
                let mut inl = Vec::new();
                self.inlines(text, &mut inl);
                // A line whose conditions all came out empty disappears.
                if inl.iter().any(|i| !i.display_text().trim().is_empty()) {
                    out.push(Block::Paragraph(inl));
                }
            }
            TBlock::Table { caption, rows } => {
                let caption = caption.as_ref().map(|c| self.plain(c));
                let mut rows: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| r.iter().map(|c| self.plain(c)).collect())
                    .collect();
                let header = if rows.is_empty() {
                    Vec::new()
                } else {
                    rows.remove(0)
                };
                out.push(Block::Table {
                    caption,
                    header,
                    rows,
                });
            }
            TBlock::Chart { caption, bars } => {
                let caption = self.plain(caption);
                let values: Vec<(String, Resolved)> = bars
                    .iter()
                    .map(|(label, f)| (label.clone(), self.lookup(Kind::Value, f)))
                    .collect();
                let max = values
                    .iter()
                    .filter_map(|(_, r)| r.value.value)
                    .fold(0.0_f64, |m, v| m.max(v.abs()));
                let rows = values
                    .into_iter()
                    .map(|(label, r)| {
                        let bar = match r.value.value {
                            Some(v) if max > 0.0 && r.reason.is_none() => {
                                "■".repeat(((v.abs() / max) * BAR_CELLS).round() as usize)
                            }
                            _ => String::new(),
                        };
                        vec![label, r.value.text, bar]
                    })
                    .collect();
                out.push(Block::Table {
                    caption: Some(caption),
                    header: vec!["项目".into(), "数值".into(), "图示".into()],
                    rows,
                });
            }
            TBlock::NoticeList { program } => {
                let names = self.notices.get(program).cloned().unwrap_or_default();
                let caption = names
                    .first()
                    .map(|n| format!("{}公示名单", n.program_name))
                    .unwrap_or_else(|| "公示名单".to_owned());
                let mut rows: Vec<Vec<String>> = names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| {
                        vec![
                            (i + 1).to_string(),
                            n.village.clone(),
                            n.name.clone(),
                            n.members.to_string(),
                        ]
                    })
                    .collect();
                if rows.is_empty() {
                    rows.push(vec![
                        String::new(),
                        "（无）".into(),
                        String::new(),
                        String::new(),
                    ]);
                }
                out.push(Block::Table {
                    caption: Some(caption),
                    header: vec![
                        "序号".into(),
                        "村（社区）".into(),
                        "姓名（户主）".into(),
                        "保障人数".into(),
                    ],
                    rows,
                });
            }
            TBlock::PageBreak => out.push(Block::PageBreak),
        }
    }
}

/// Squares of the longest bar in a chart: fits the narrowest column at 4号.
const BAR_CELLS: f64 = 10.0;

/// The document as plain text, one line per paragraph, heading numbers included: what a
/// reader sees, for hashing and for comparing with text extracted from the PDF.
pub fn plain_text(doc: &Document) -> String {
    let mut lines = vec![doc.title.clone()];
    lines.extend(doc.subtitle.clone());
    for (number, block) in doc.numbered_blocks() {
        match block {
            Block::Heading { text, .. } | Block::Paragraph(text) => {
                let body: String = text.iter().map(Inline::display_text).collect();
                lines.push(format!("{}{body}", number.unwrap_or_default()));
            }
            Block::Table {
                caption,
                header,
                rows,
            } => {
                lines.extend(caption.clone());
                for r in std::iter::once(header).chain(rows) {
                    lines.push(r.join("\t"));
                }
            }
            Block::PageBreak => {}
        }
    }
    lines.extend(doc.issuer.clone());
    lines.extend(doc.date.clone());
    lines.join("\n")
}
