//! The test harness: the real server on a free port over a fresh SQLite database with the demo
//! township loaded (zero2prod's `spawn_app`), and a logged-in reqwest client per demo user.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::redirect::Policy;
use xiangzhi_store::Store;

/// Every demo user's password.
pub const PASSWORD: &str = xiangzhi::demo::PASSWORD;
/// 临川区 › 连城乡 › 头昌村委会: the village cadre's own village.
pub const TOUCHANG: &str = "361002201211";
pub const TOUCHANG_NAME: &str = "头昌村委会";
/// Another village of the same township.
pub const SHETOU: &str = "361002201208";
pub const SHETOU_NAME: &str = "舍头村委会";
/// A village of another township (桐源乡).
pub const TONGYUAN_VILLAGE: &str = "361002202200";
pub const TONGYUAN_VILLAGE_NAME: &str = "桐源村委会";
pub const TONGYUAN: &str = "361002202";

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub address: String,
    pub store: Arc<dyn Store>,
    server: tokio::task::JoinHandle<()>,
    _dir: TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A fresh database with the demo township, served on `127.0.0.1:0`.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(xiangzhi_web::WebConfig::default()).await
}

/// [`spawn_app`] with a configuration of its own.
pub async fn spawn_app_with(config: xiangzhi_web::WebConfig) -> TestApp {
    let dir = TempDir::new("xiangzhi-test");
    let url = format!("sqlite://{}", dir.path().join("xiangzhi.db").display());
    let store = xiangzhi::open_store(&url, None).await.expect("open store");
    xiangzhi::demo::load(&store).await.expect("load demo");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let port = listener.local_addr().expect("local addr").port();
    let state = xiangzhi_web::AppState::new(store.clone(), config);
    // `serve` is `axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())`
    // with graceful shutdown; this crate does not depend on axum itself.
    let server = tokio::spawn(async move {
        xiangzhi_web::serve(listener, state)
            .await
            .expect("server runs");
    });
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        store,
        server,
        _dir: dir,
    }
}

/// A client that keeps cookies and does not follow redirects, so tests see every 303.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("reqwest client")
}

/// The value of the hidden `csrf` field of a form.
pub fn csrf_field(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\"")?;
    let rest = &html[at..];
    let v = rest.find("value=\"")? + "value=\"".len();
    let end = rest[v..].find('"')?;
    Some(rest[v..v + end].to_string())
}

/// A logged-in demo user.
pub struct TestUser {
    pub client: reqwest::Client,
    /// The session's CSRF token, as `/api/v1/me` reports it.
    pub csrf: String,
    pub id: i64,
    pub username: String,
}

impl TestUser {
    /// The body of a page as this user sees it, whatever its status.
    pub async fn page(&self, app: &TestApp, path: &str) -> String {
        self.client
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

impl TestUser {
    /// A workbook this user downloads: expects 200 and an XLSX, reads it back.
    pub async fn xlsx(&self, app: &TestApp, path: &str) -> xiangzhi_exchange::Sheet {
        let res = self.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "GET {path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains("spreadsheetml"),
            "GET {path}: not an XLSX"
        );
        let bytes = res.bytes().await.unwrap();
        xiangzhi_exchange::read_table(&bytes, "download.xlsx", &Default::default()).unwrap()
    }
}

/// Every text cell of a sheet's rows.
pub fn sheet_texts(sheet: &xiangzhi_exchange::Sheet) -> Vec<String> {
    sheet
        .rows
        .iter()
        .flat_map(|r| r.cells.iter())
        .filter_map(|c| match c {
            xiangzhi_exchange::Cell::Text(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Fetches the login form with `client` and returns its CSRF token.
    pub async fn login_form(&self, client: &reqwest::Client) -> String {
        let res = client
            .get(self.url("/login"))
            .send()
            .await
            .expect("GET /login");
        assert_eq!(res.status(), 200);
        let html = res.text().await.expect("body");
        csrf_field(&html).expect("login form has a csrf field")
    }

    /// Posts the login form; returns the raw response.
    pub async fn post_login(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let csrf = self.login_form(client).await;
        client
            .post(self.url("/login"))
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await
            .expect("POST /login")
    }

    /// Logs a user in (a demo user by default password) and reads its CSRF token.
    pub async fn login_as(&self, username: &str, password: &str) -> TestUser {
        let client = client();
        let res = self.post_login(&client, username, password).await;
        assert_eq!(
            res.status(),
            303,
            "login of {username} should redirect home, got {}: {}",
            res.status(),
            res.text().await.unwrap_or_default()
        );
        assert_eq!(res.headers()["location"], "/");
        let me: serde_json::Value = client
            .get(self.url("/api/v1/me"))
            .send()
            .await
            .expect("GET /api/v1/me")
            .json()
            .await
            .expect("me is JSON");
        TestUser {
            client,
            csrf: me["csrf_token"].as_str().expect("csrf_token").to_string(),
            id: me["user"]["id"].as_i64().expect("user id"),
            username: username.to_string(),
        }
    }

    pub async fn login(&self, username: &str) -> TestUser {
        self.login_as(username, PASSWORD).await
    }

    /// How many rows the audit log has; every write adds at least one.
    pub async fn audit_rows(&self) -> u64 {
        let report = self.store.audit_verify().await.expect("audit verify");
        assert!(
            report.first_break.is_none(),
            "audit chain broken: {:?}",
            report.first_break
        );
        report.rows
    }
}
