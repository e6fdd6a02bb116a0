//! Figures from the database, read within the caller's scope: org names and public-notice
//! names from the store, indicator figures from the indicator engine.

use std::sync::Arc;

use async_trait::async_trait;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::period::Period;
use xiangzhi_store::{Scope, Store, StoreError};

use crate::source::{Figure, FigureSource, NoticeName, SourceError};

pub struct StoreSource {
    store: Arc<dyn Store>,
    scope: Scope,
}

impl StoreSource {
    pub fn new(store: Arc<dyn Store>, scope: Scope) -> StoreSource {
        StoreSource { store, scope }
    }

    /// The unit, if it lies in the scope (`NotFound` otherwise, as everywhere).
    pub async fn check_org(&self, org: &DivisionCode) -> Result<(), StoreError> {
        self.store.org_unit(&self.scope, org).await.map(|_| ())
    }

    /// The scope of one unit, if it lies in the caller's: figures of another village are read
    /// with that village's scope only when the caller may see it.
    async fn scope_of(&self, org: &str) -> Result<Option<Scope>, SourceError> {
        let Ok(code) = DivisionCode::parse(org) else {
            return Ok(None);
        };
        match self.store.org_unit(&self.scope, &code).await {
            Ok(u) => Ok(Some(Scope::new(u.path))),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(SourceError(e.to_string())),
        }
    }
}

fn source_err(e: StoreError) -> SourceError {
    SourceError(e.to_string())
}

#[async_trait]
impl FigureSource for StoreSource {
    async fn indicator_name(&self, _code: &str) -> Result<Option<String>, SourceError> {
        // Indicators come with the engine (branch `indicators`); until it is merged no
        // indicator is known and every figure is listed as a gap.
        Ok(None)
    }

    async fn figure(
        &self,
        _indicator: &str,
        _org: &str,
        _period: &Period,
    ) -> Result<Option<Figure>, SourceError> {
        Ok(None)
    }

    async fn target(
        &self,
        _indicator: &str,
        _org: &str,
        _period: &Period,
    ) -> Result<Option<Figure>, SourceError> {
        Ok(None)
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
