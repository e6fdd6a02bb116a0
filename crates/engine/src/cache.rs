//! What an engine has read, kept between requests for as long as the data does not change.
//!
//! Every write appends to the audit log in its own transaction ([`Store::data_version`]), so
//! an answer read at version `v` is still the answer while the version is `v`. A
//! [`FigureCache`] holds the answers of one version: definitions, primitive aggregates, units
//! and names, targets. An engine reads the version once when it is made, before any answer
//! (an answer computed from newer data and filed under an older version is never served,
//! because the older version is never asked for again); the first engine of a newer version
//! empties the cache. Answers are filed per scope, so a village cadre never sees a figure
//! computed for a wider scope.
//!
//! [`Store::data_version`]: xiangzhi_store::Store::data_version

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_expr::Checked;
use xiangzhi_store::indicator::{IndicatorDef, StoredTarget};
use xiangzhi_store::ledger::Ledger;
use xiangzhi_store::measure::MeasureRow;

/// The compiled definitions: the same for every scope.
pub(crate) struct Defs {
    pub ledgers: HashMap<String, Ledger>,
    pub indicators: Vec<IndicatorDef>,
    pub compiled: HashMap<String, Result<Checked, String>>,
}

/// `(primitive, org, period, grouped by)`.
pub(crate) type PrimitiveKey = (String, String, String, Option<OrgLevel>);
/// Units of one level under a unit: `(code, name)` in code order.
pub type Units = Arc<Vec<(DivisionCode, String)>>;
pub type Rows = Arc<Vec<MeasureRow>>;
pub(crate) type Targets = Arc<Vec<StoredTarget>>;

/// Rows kept at most (about 100 bytes each): a county dashboard of 57 indicators over 520
/// villages for three years files about 200,000.
const DEFAULT_ROW_LIMIT: usize = 1_000_000;

/// Answers of one data version, shared by the engines of many requests.
pub struct FigureCache {
    inner: Mutex<Inner>,
    row_limit: usize,
}

#[derive(Default)]
struct Inner {
    version: i64,
    defs: Option<Arc<Defs>>,
    primitives: HashMap<(String, PrimitiveKey), Rows>,
    units: HashMap<(String, String, OrgLevel), Units>,
    names: HashMap<(String, String), String>,
    targets: HashMap<(String, String, String), Targets>,
    rows: usize,
}

impl Default for FigureCache {
    fn default() -> Self {
        FigureCache::new()
    }
}

impl FigureCache {
    pub fn new() -> FigureCache {
        FigureCache::with_row_limit(DEFAULT_ROW_LIMIT)
    }

    pub fn with_row_limit(row_limit: usize) -> FigureCache {
        FigureCache {
            inner: Mutex::new(Inner::default()),
            row_limit,
        }
    }

    /// Rows of primitive answers held now.
    pub fn rows(&self) -> usize {
        self.lock().rows
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // a panic while holding the lock leaves maps that are merely incomplete
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cache, for reading at `version`: `None` when it holds another version.
    fn at(&self, version: i64) -> Option<MutexGuard<'_, Inner>> {
        let g = self.lock();
        (g.version == version).then_some(g)
    }

    /// The cache, for filing an answer read at `version`: emptied first when `version` is
    /// newer; `None` when the answer is already out of date.
    fn filing(&self, version: i64) -> Option<MutexGuard<'_, Inner>> {
        let mut g = self.lock();
        if version > g.version {
            *g = Inner {
                version,
                ..Inner::default()
            };
        }
        (g.version == version).then_some(g)
    }

    pub(crate) fn defs(&self, version: i64) -> Option<Arc<Defs>> {
        self.at(version).and_then(|g| g.defs.clone())
    }

    pub(crate) fn file_defs(&self, version: i64, defs: Arc<Defs>) {
        if let Some(mut g) = self.filing(version) {
            g.defs = Some(defs);
        }
    }

    pub(crate) fn primitive(&self, version: i64, scope: &str, key: &PrimitiveKey) -> Option<Rows> {
        get(self
            .at(version)?
            .primitives
            .get(&(scope.to_string(), key.clone())))
    }

    pub(crate) fn file_primitive(&self, version: i64, scope: &str, key: PrimitiveKey, rows: Rows) {
        let Some(mut g) = self.filing(version) else {
            return;
        };
        if g.rows + rows.len() > self.row_limit {
            // Full: start again rather than track ages; a dashboard refills what it needs.
            let defs = g.defs.take();
            *g = Inner {
                version,
                defs,
                ..Inner::default()
            };
        }
        g.rows += rows.len();
        g.primitives.insert((scope.to_string(), key), rows);
    }

    pub(crate) fn units(
        &self,
        version: i64,
        scope: &str,
        org: &str,
        level: OrgLevel,
    ) -> Option<Units> {
        get(self
            .at(version)?
            .units
            .get(&(scope.to_string(), org.to_string(), level)))
    }

    pub(crate) fn file_units(
        &self,
        version: i64,
        scope: &str,
        org: &str,
        level: OrgLevel,
        units: Units,
    ) {
        file(
            self.filing(version),
            |g| &mut g.units,
            (scope.to_string(), org.to_string(), level),
            units,
        );
    }

    pub(crate) fn name(&self, version: i64, scope: &str, org: &str) -> Option<String> {
        get(self
            .at(version)?
            .names
            .get(&(scope.to_string(), org.to_string())))
    }

    pub(crate) fn file_name(&self, version: i64, scope: &str, org: &str, name: String) {
        file(
            self.filing(version),
            |g| &mut g.names,
            (scope.to_string(), org.to_string()),
            name,
        );
    }

    pub(crate) fn targets(
        &self,
        version: i64,
        scope: &str,
        code: &str,
        period: &str,
    ) -> Option<Targets> {
        get(self.at(version)?.targets.get(&(
            scope.to_string(),
            code.to_string(),
            period.to_string(),
        )))
    }

    pub(crate) fn file_targets(
        &self,
        version: i64,
        scope: &str,
        code: &str,
        period: &str,
        targets: Targets,
    ) {
        let key = (scope.to_string(), code.to_string(), period.to_string());
        file(self.filing(version), |g| &mut g.targets, key, targets);
    }
}

fn get<T: Clone>(v: Option<&T>) -> Option<T> {
    v.cloned()
}

fn file<K: Hash + Eq, T>(
    g: Option<MutexGuard<'_, Inner>>,
    map: impl FnOnce(&mut Inner) -> &mut HashMap<K, T>,
    key: K,
    value: T,
) {
    if let Some(mut g) = g {
        map(&mut g).insert(key, value);
    }
}
