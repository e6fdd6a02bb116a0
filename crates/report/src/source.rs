//! Where figures come from. The renderer asks a [`FigureSource`]; the indicator engine
//! answers in production and [`MemorySource`] in tests, so templates can be checked without a
//! database.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use xiangzhi_domain::period::Period;

/// One computed figure, in the indicator's own unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// `None`: no data. Never shown as 0.
    pub value: Option<f64>,
    /// The indicator's unit, e.g. `万亩` or `户`.
    pub unit: String,
    /// Decimal places the indicator is normally shown with.
    pub precision: u8,
    /// The records behind the figure (出处), a link inside the application.
    pub provenance: Option<String>,
    /// Why the value is missing, in Chinese, when the source knows.
    pub missing: Option<String>,
}

/// A name in a public notice (公示). Names, village and household size only: the type has no
/// field for an ID, phone, bank account or health detail, so a notice cannot print one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeName {
    pub village: String,
    pub name: String,
    pub members: i64,
    pub program_name: String,
}

/// An error of the source itself (database down, scope violation): the report is not
/// rendered, unlike a figure without data, which renders as a marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError(pub String);

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SourceError {}

#[async_trait]
pub trait FigureSource: Send + Sync {
    /// The Chinese name of an indicator (for missing markers and gap lists); `None` if the
    /// code is unknown.
    async fn indicator_name(&self, code: &str) -> Result<Option<String>, SourceError>;

    /// The figure of `indicator` for `org` and `period`; `Ok(None)` when the indicator is
    /// unknown.
    async fn figure(
        &self,
        indicator: &str,
        org: &str,
        period: &Period,
    ) -> Result<Option<Figure>, SourceError>;

    /// The planned value (目标) of `indicator` for `org` and `period`.
    async fn target(
        &self,
        indicator: &str,
        org: &str,
        period: &Period,
    ) -> Result<Option<Figure>, SourceError>;

    /// The name of an org unit.
    async fn org_name(&self, org: &str) -> Result<Option<String>, SourceError>;

    /// Names in public notice for `program` under `org` during `period`.
    async fn notice_names(
        &self,
        program: &str,
        org: &str,
        period: &Period,
    ) -> Result<Vec<NoticeName>, SourceError>;
}

/// Figures held in memory: for tests, and for previews of a template against sample values.
#[derive(Debug, Default)]
pub struct MemorySource {
    inner: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    names: BTreeMap<String, (String, String, u8)>,
    values: BTreeMap<(String, String, String), f64>,
    targets: BTreeMap<(String, String, String), f64>,
    orgs: BTreeMap<String, String>,
    notices: Vec<(String, String, NoticeName)>,
}

impl MemorySource {
    pub fn new() -> MemorySource {
        MemorySource::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Memory) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Declares an indicator with its name, unit and precision.
    pub fn indicator(&self, code: &str, name: &str, unit: &str, precision: u8) -> &Self {
        self.with(|m| {
            m.names
                .insert(code.into(), (name.into(), unit.into(), precision))
        });
        self
    }

    pub fn set(&self, code: &str, org: &str, period: &str, value: f64) -> &Self {
        self.with(|m| {
            m.values
                .insert((code.into(), org.into(), period.into()), value)
        });
        self
    }

    pub fn set_target(&self, code: &str, org: &str, period: &str, value: f64) -> &Self {
        self.with(|m| {
            m.targets
                .insert((code.into(), org.into(), period.into()), value)
        });
        self
    }

    pub fn org(&self, code: &str, name: &str) -> &Self {
        self.with(|m| m.orgs.insert(code.into(), name.into()));
        self
    }

    pub fn notice(&self, program: &str, org: &str, name: NoticeName) -> &Self {
        self.with(|m| m.notices.push((program.into(), org.into(), name)));
        self
    }

    fn lookup(
        &self,
        table: impl Fn(&Memory) -> &BTreeMap<(String, String, String), f64>,
        code: &str,
        org: &str,
        period: &Period,
    ) -> Option<Figure> {
        self.with(|m| {
            let (_, unit, precision) = m.names.get(code)?.clone();
            let value = table(m)
                .get(&(code.to_owned(), org.to_owned(), period.to_string()))
                .copied();
            Some(Figure {
                value,
                unit,
                precision,
                provenance: value.map(|_| format!("/indicators/{code}?org={org}&period={period}")),
                missing: None,
            })
        })
    }
}

#[async_trait]
impl FigureSource for MemorySource {
    async fn indicator_name(&self, code: &str) -> Result<Option<String>, SourceError> {
        Ok(self.with(|m| m.names.get(code).map(|n| n.0.clone())))
    }

    async fn figure(
        &self,
        indicator: &str,
        org: &str,
        period: &Period,
    ) -> Result<Option<Figure>, SourceError> {
        Ok(self.lookup(|m| &m.values, indicator, org, period))
    }

    async fn target(
        &self,
        indicator: &str,
        org: &str,
        period: &Period,
    ) -> Result<Option<Figure>, SourceError> {
        Ok(self.lookup(|m| &m.targets, indicator, org, period))
    }

    async fn org_name(&self, org: &str) -> Result<Option<String>, SourceError> {
        Ok(self.with(|m| m.orgs.get(org).cloned()))
    }

    async fn notice_names(
        &self,
        program: &str,
        org: &str,
        _period: &Period,
    ) -> Result<Vec<NoticeName>, SourceError> {
        Ok(self.with(|m| {
            m.notices
                .iter()
                .filter(|(p, o, _)| p == program && o.starts_with(org))
                .map(|(_, _, n)| n.clone())
                .collect()
        }))
    }
}
