use std::sync::Arc;

use xiangzhi_store::Store;

#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// Marks cookies `Secure`: set when served behind HTTPS.
    pub secure_cookies: bool,
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
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: WebConfig) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            uploads: Default::default(),
            ledger_uploads: Default::default(),
        }
    }
}
