use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use xiangzhi_store::Store;

#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Marks cookies `Secure`: set when served behind HTTPS.
    pub secure_cookies: bool,
    /// Open311 POSTs must carry a valid `api_key` (see `open311 key add`).
    pub open311_require_key: bool,
    /// Open311 POSTs a client may make per minute.
    pub open311_posts_per_minute: u32,
}

impl Default for WebConfig {
    fn default() -> WebConfig {
        WebConfig {
            secure_cookies: false,
            open311_require_key: false,
            open311_posts_per_minute: 20,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<WebConfig>,
    /// Uploaded files between preview and commit.
    pub(crate) uploads: crate::import_pages::UploadStash<(
        xiangzhi_intake::Kind,
        xiangzhi_domain::org::DivisionCode,
    )>,
    /// Ledger uploads between preview and commit.
    pub(crate) ledger_uploads: crate::import_pages::UploadStash<crate::ledger_import::LedgerUpload>,
    /// Open311 POSTs per client.
    pub(crate) open311_posts: Arc<crate::rate_limit::RateLimiter>,
    /// What the indicator engines of all requests have read, kept while no write happens.
    pub(crate) figures: Arc<xiangzhi_engine::FigureCache>,
    /// Dashboards by (scope, unit, year), kept while no write happens.
    pub(crate) dashboards:
        Arc<Versioned<(String, String, String), crate::indicator_pages::Dashboard>>,
    /// A county's completion of a ledger by (ledger, scope, periods), kept while no write
    /// happens.
    pub(crate) ledger_summaries: Arc<Versioned<SummaryKey, crate::ledger_pages::LedgerSummary>>,
    /// Held while a kept answer (a dashboard, a ledger summary) is computed: requests that
    /// find it missing wait for the one computing it instead of all computing it at once (64
    /// first requests for a county dashboard took the server down for seconds).
    pub(crate) filling: Arc<tokio::sync::Mutex<()>>,
    /// Registry counts by scope path, kept while no write happens.
    pub(crate) registry_counts: Arc<Versioned<String, xiangzhi_store::registry::RegistryCounts>>,
}

/// (ledger code, scope path, periods).
pub(crate) type SummaryKey = (String, String, Vec<String>);

/// Answers valid for one data version ([`Store::data_version`]): a newer version empties the
/// map, an answer filed under an older one is dropped. At most `CAP` answers are kept.
pub(crate) struct Versioned<K, V> {
    inner: Mutex<(i64, HashMap<K, Arc<V>>)>,
}

impl<K, V> Default for Versioned<K, V> {
    fn default() -> Self {
        Versioned {
            inner: Mutex::new((0, HashMap::new())),
        }
    }
}

impl<K: Hash + Eq, V> Versioned<K, V> {
    /// Answers kept at most; a full map starts again (dashboards are few and cheap to refill).
    const CAP: usize = 256;

    pub(crate) fn get(&self, version: i64, key: &K) -> Option<Arc<V>> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if g.0 == version {
            g.1.get(key).cloned()
        } else {
            None
        }
    }

    pub(crate) fn file(&self, version: i64, key: K, value: Arc<V>) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if version > g.0 || g.1.len() >= Self::CAP {
            g.1.clear();
            g.0 = g.0.max(version);
        }
        if g.0 == version {
            g.1.insert(key, value);
        }
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: WebConfig) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            uploads: Default::default(),
            ledger_uploads: Default::default(),
            open311_posts: Default::default(),
            figures: Default::default(),
            dashboards: Default::default(),
            ledger_summaries: Default::default(),
            registry_counts: Default::default(),
            filling: Default::default(),
        }
    }
}
