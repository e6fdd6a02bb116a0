//! Figures from the database, read within the caller's scope: indicator figures and targets
//! from the indicator engine, org names and public-notice names from the store.

use async_trait::async_trait;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::period::Period;
use xiangzhi_engine::{Engine, EngineError};
use xiangzhi_store::{Scope, Store, StoreError};

use crate::source::{Figure, FigureSource, NoticeName, SourceError};

pub struct StoreSource<'a> {
    store: &'a dyn Store,
    scope: Scope,
    engine: Engine<'a>,
}

impl<'a> StoreSource<'a> {
    /// Compiles the indicators once for this rendering.
    pub async fn new(store: &'a dyn Store, scope: Scope) -> Result<StoreSource<'a>, SourceError> {
        let engine = Engine::load(store, &scope)
            .await
            .map_err(|e| SourceError(e.to_string()))?;
        Ok(StoreSource {
            store,
            scope,
            engine,
        })
    }

    /// The unit, if it lies in the scope (`NotFound` otherwise, as everywhere).
    pub async fn check_org(&self, org: &DivisionCode) -> Result<(), StoreError> {
        self.store.org_unit(&self.scope, org).await.map(|_| ())
    }

    async fn scope_of(&self, org: &str) -> Result<Option<Scope>, SourceError> {
        let Ok(code) = DivisionCode::parse(org) else {
            return Ok(None);
        };
        match self.store.org_unit(&self.scope, &code).await {
            Ok(u) => Ok(Some(Scope::new(u.path))),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(source_err(e)),
        }
    }
}

fn source_err(e: impl std::fmt::Display) -> SourceError {
    SourceError(e.to_string())
}

/// The engine's figure in its display unit.
fn figure_of(f: &xiangzhi_engine::Figure) -> Figure {
    Figure {
        value: f.shown(),
        unit: f.unit.clone(),
        precision: f.precision.min(6) as u8,
        provenance: f.value.map(|_| f.provenance.clone()),
        missing: f.missing.clone(),
    }
}

#[async_trait]
impl FigureSource for StoreSource<'_> {
    async fn indicator_name(&self, code: &str) -> Result<Option<String>, SourceError> {
        Ok(self.engine.indicator(code).ok().map(|d| d.name.clone()))
    }

    async fn figure(
        &self,
        indicator: &str,
        org: &str,
        period: &Period,
    ) -> Result<Option<Figure>, SourceError> {
        if self.scope_of(org).await?.is_none() {
            return Ok(None);
        }
        match self.engine.figure(indicator, org, period).await {
            Ok(f) => Ok(Some(figure_of(&f))),
            Err(EngineError::UnknownIndicator(_)) => Ok(None),
            Err(e @ EngineError::Expression { .. }) => Ok(Some(Figure {
                value: None,
                unit: String::new(),
                precision: 0,
                provenance: None,
                missing: Some(e.to_string()),
            })),
            Err(e) => Err(source_err(e)),
        }
    }

    async fn target(
        &self,
        indicator: &str,
        org: &str,
        period: &Period,
    ) -> Result<Option<Figure>, SourceError> {
        if self.scope_of(org).await?.is_none() {
            return Ok(None);
        }
        match self.engine.target(indicator, org, period).await {
            Ok(Some(t)) => Ok(Some(Figure {
                value: Some(t.value * t.actual.scale),
                unit: t.actual.unit.clone(),
                precision: t.actual.precision.min(6) as u8,
                provenance: Some(format!(
                    "/indicators/{}?org={}&period={}",
                    t.code, t.org_code, t.period
                )),
                missing: None,
            })),
            Ok(None) => {
                let def = self.engine.indicator(indicator).map_err(source_err)?;
                Ok(Some(Figure {
                    value: None,
                    unit: def.unit.clone(),
                    precision: 0,
                    provenance: None,
                    missing: Some(format!("{}未设定目标", period.label())),
                }))
            }
            Err(EngineError::UnknownIndicator(_)) => Ok(None),
            Err(e) => Err(source_err(e)),
        }
    }

    async fn org_name(&self, org: &str) -> Result<Option<String>, SourceError> {
        let Ok(code) = DivisionCode::parse(org) else {
            return Ok(None);
        };
        match self.store.org_unit(&self.scope, &code).await {
            Ok(u) => Ok(Some(display_name(&u.name))),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(source_err(e)),
        }
    }

    async fn notice_names(
        &self,
        program: &str,
        org: &str,
        period: &Period,
    ) -> Result<Vec<NoticeName>, SourceError> {
        let Some(scope) = self.scope_of(org).await? else {
            return Ok(Vec::new());
        };
        // The notice as it stands on the last day of the period, or today within it.
        let today = chrono::Utc::now().date_naive();
        let on = if period.contains(today) {
            today
        } else {
            period.end()
        };
        let lines = self
            .store
            .public_notice(&scope, Some(program), on)
            .await
            .map_err(source_err)?;
        Ok(lines
            .into_iter()
            .map(|l| NoticeName {
                village: display_name(&l.village),
                name: l.name,
                members: l.members,
                program_name: l.program_name,
            })
            .collect())
    }
}

/// `头昌村委会` is printed `头昌村` in a report, as people say it.
pub fn display_name(name: &str) -> String {
    match name.strip_suffix("村委会") {
        Some(stem) => format!("{stem}村"),
        None => name.to_owned(),
    }
}
