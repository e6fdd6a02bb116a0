use std::sync::Arc;

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
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: WebConfig) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            uploads: Default::default(),
            ledger_uploads: Default::default(),
            open311_posts: Default::default(),
        }
    }
}
