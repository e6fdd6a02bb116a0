//! The web foundation over real HTTP: login and lockout, CSRF, session cookies, logout, security
//! headers, escaping, health and the API description.

mod common;

use std::sync::Arc;

use common::*;
use reqwest::StatusCode;
use reqwest::cookie::CookieStore;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_store::{AuditFilter, Scope};

const CSRF_MSG: &str = "请求无效：缺少或错误的安全令牌（CSRF）。请刷新页面后重试。";

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn cookie_value(set_cookie: &str) -> (&str, &str) {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
}

async fn grids_of(app: &TestApp, village: &str) -> Vec<String> {
    app.store
        .org_children(&Scope::all(), Some(&DivisionCode::parse(village).unwrap()))
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect()
}

#[tokio::test]
async fn login_answers_in_chinese() {
    let app = spawn_app().await;
    let c = client();

    let res = app.post_login(&c, "cadre", "wrong-password-1").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = res.text().await.unwrap();
    assert!(html.contains("用户名或密码错误"), "{html}");
    assert!(html.contains("value=\"cadre\""), "the username is kept");

    let res = app.post_login(&c, "nobody", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("用户名或密码错误"));

    let res = app.post_login(&c, "", "").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("请输入用户名和密码"));

    let res = app.post_login(&c, "cadre", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/");
    let home = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("张村主任（村干部）"), "{html}");
    assert!(html.contains(TOUCHANG_NAME));
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_for_fifteen_minutes() {
    let app = spawn_app().await;
    let c = client();
    for i in 1..=5 {
        let res = app.post_login(&c, "grid", &format!("wrong{i}abc")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
        assert!(res.text().await.unwrap().contains("用户名或密码错误"));
    }
    // The sixth, with the right password, is refused with the lock message.
    let res = app.post_login(&c, "grid", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        set_cookies(&res)
            .iter()
            .all(|s| !s.starts_with("xz_session="))
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("密码连续错误 5 次，账号已锁定"), "{html}");
    assert!(html.contains("后再试"));
    let me = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);

    let creds = app.store.credentials("grid").await.unwrap().unwrap();
    let until = creds.locked_until.expect("locked");
    let minutes = (until - chrono::Utc::now()).num_minutes();
    assert!((14..=15).contains(&minutes), "locked for {minutes} min");

    let count = |action: &'static str| {
        let store = app.store.clone();
        let id = creds.user.id.to_string();
        async move {
            store
                .audit_list(
                    &Scope::all(),
                    &AuditFilter {
                        entity: Some("user".into()),
                        entity_id: Some(id),
                        action: Some(action.into()),
                        limit: 100,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(count("login_failed").await, 4);
    assert_eq!(count("login_locked").await, 1);
    assert_eq!(
        count("login").await,
        0,
        "the locked login opened no session"
    );

    // Other accounts are not affected.
    app.login("cadre").await;
}

#[tokio::test]
async fn forged_posts_without_a_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let clerk = app.login("clerk").await;
    let grids = grids_of(&app, TOUCHANG).await;
    let rows = app.audit_rows().await;
    let page = format!("/org/{TOUCHANG}/grids");
    let api = format!("/api/v1/org/{TOUCHANG}/grids");

    let attempts = [
        clerk
            .client
            .post(app.url(&page))
            .form(&[("name", "伪造网格")]),
        clerk
            .client
            .post(app.url(&page))
            .form(&[("name", "伪造网格"), ("csrf", "00ff00ff")]),
        clerk
            .client
            .post(app.url(&page))
            .form(&[("name", "伪造网格"), ("csrf", &"a".repeat(64))]),
        clerk
            .client
            .post(app.url(&api))
            .json(&serde_json::json!({"name": "伪造网格"})),
        clerk
            .client
            .post(app.url(&api))
            .header("x-csrf-token", "not-the-token")
            .json(&serde_json::json!({"name": "伪造网格"})),
        // The token is only taken from the form or the header, never from the URL.
        clerk
            .client
            .post(app.url(&format!("{page}?csrf={}", clerk.csrf)))
            .form(&[("name", "伪造网格")]),
    ];
    for (i, req) in attempts.into_iter().enumerate() {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "attempt {i}");
        let body = res.text().await.unwrap();
        assert!(body.contains(CSRF_MSG), "attempt {i}: {body}");
    }
    // Logging in needs the login form's token too.
    let c = client();
    let res = c
        .post(app.url("/login"))
        .form(&[("username", "cadre"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains(CSRF_MSG));
    // …and logging out, so a forged form cannot end someone's session.
    let res = clerk.client.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    assert_eq!(grids_of(&app, TOUCHANG).await, grids, "no grid was added");
    assert_eq!(app.audit_rows().await, rows, "nothing was written");
    let me = clerk
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "the session survived the forged logout");

    // With the token the same request works: the refusals were about the token alone.
    let res = clerk
        .client
        .post(app.url(&page))
        .form(&[("name", "真实网格"), ("csrf", clerk.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(grids_of(&app, TOUCHANG).await.contains(&"真实网格".into()));
    let res = clerk
        .client
        .post(app.url(&api))
        .header("x-csrf-token", &clerk.csrf)
        .json(&serde_json::json!({"name": "接口网格"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn session_cookie_is_httponly_samesite_and_renewed_at_login() {
    let app = spawn_app().await;
    let base: reqwest::Url = app.address.parse().unwrap();
    // An attacker plants a session id before the victim logs in.
    let planted = "ab".repeat(32);
    let jar = Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(&format!("xz_session={planted}; Path=/"), &base);
    let c = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let me = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(
        me.status(),
        StatusCode::UNAUTHORIZED,
        "a planted id is no session"
    );

    let form = c.get(app.url("/login")).send().await.unwrap();
    for s in set_cookies(&form) {
        assert!(s.contains("HttpOnly") && s.contains("SameSite=Lax"), "{s}");
    }
    let res = app.post_login(&c, "cadre", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookies = set_cookies(&res);
    let session = cookies
        .iter()
        .find(|s| s.starts_with("xz_session="))
        .expect("a session cookie is set at login");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Path=/"), "{session}");
    let first = cookie_value(session).1.to_string();
    assert_ne!(
        first, planted,
        "the session id is issued by the server, not kept"
    );
    assert_eq!(first.len(), 64);
    let sent = jar.cookies(&base).unwrap();
    assert!(
        sent.to_str()
            .unwrap()
            .contains(&format!("xz_session={first}"))
    );
    assert_eq!(
        c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
        200
    );

    // Logging in again issues yet another token.
    let res = app.post_login(&c, "cadre", PASSWORD).await;
    let again = set_cookies(&res)
        .into_iter()
        .find(|s| s.starts_with("xz_session="))
        .unwrap();
    assert_ne!(cookie_value(&again).1, first);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    let c = client();
    let res = app.post_login(&c, "leader", PASSWORD).await;
    let token = set_cookies(&res)
        .into_iter()
        .find(|s| s.starts_with("xz_session="))
        .map(|s| cookie_value(&s).1.to_string())
        .unwrap();
    let me: serde_json::Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = me["csrf_token"].as_str().unwrap().to_string();

    let res = c
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login");
    assert!(
        set_cookies(&res)
            .iter()
            .any(|s| s.starts_with("xz_session=;") && s.contains("Max-Age=0")),
        "the cookie is cleared"
    );
    let res = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login");
    // Replaying the old cookie does not help: the session is gone from the database.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("xz_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert!(replay.text().await.unwrap().contains("请先登录"));
}

#[tokio::test]
async fn pages_carry_strict_security_headers() {
    let app = spawn_app().await;
    let cadre = app.login("cadre").await;
    let anon = client();
    for (c, path) in [
        (&anon, "/login".to_string()),
        (&anon, "/healthz".to_string()),
        (&cadre.client, "/".to_string()),
        (&cadre.client, "/org".to_string()),
        (&cadre.client, format!("/org/{TOUCHANG}")),
        (&cadre.client, "/org/361002201208".to_string()), // a 404 page
        (&cadre.client, "/api/v1/me".to_string()),
    ] {
        let res = c.get(app.url(&path)).send().await.unwrap();
        let h = res.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_str()
            .unwrap();
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
    }
}

#[tokio::test]
async fn script_typed_into_a_grid_name_comes_back_escaped() {
    let app = spawn_app().await;
    let clerk = app.login("clerk").await;
    let evil = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";
    let res = clerk
        .client
        .post(app.url(&format!("/org/{TOUCHANG}/grids")))
        .form(&[("name", evil), ("csrf", clerk.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_string();

    let admin = app.login("admin").await;
    let grid = app
        .store
        .org_children(&Scope::all(), Some(&DivisionCode::parse(TOUCHANG).unwrap()))
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.name.contains("alert"))
        .expect("the grid was stored");
    assert_eq!(grid.name, evil, "stored as typed");
    let pages = vec![
        (&clerk.client, location),
        (&clerk.client, format!("/org/{}", grid.code)),
        (&clerk.client, "/org?q=script".to_string()),
        (&admin.client, "/audit".to_string()),
        (&clerk.client, format!("/org/{TOUCHANG}")),
    ];
    for (c, path) in pages {
        let res = c.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.unwrap();
        assert!(!html.contains("<script"), "{path}: raw <script> in\n{html}");
        assert!(!html.contains("<img src=x"), "{path}: raw <img> in\n{html}");
        assert!(
            html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
            "{path}: the escaped name is missing"
        );
    }
    // The API returns the name as data, JSON-encoded.
    let unit: serde_json::Value = clerk
        .client
        .get(app.url(&format!("/api/v1/org/{}", grid.code)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unit["name"], evil);
}

#[tokio::test]
async fn healthz_reports_the_schema() {
    let app = spawn_app().await;
    let res = client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.starts_with("ok schema="), "{body}");
    assert!(body.contains("backend=sqlite"), "{body}");
}

#[tokio::test]
async fn openapi_lists_every_api_route_and_the_docs_page_renders() {
    let app = spawn_app().await;
    let c = client();
    let res = c.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let doc: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().expect("paths");
    let docs = c.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(
        docs.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = docs.text().await.unwrap();
    assert!(html.contains("乡治 xiangzhi API"), "{html}");
    let mut missing = Vec::new();
    for r in xiangzhi_web::route_table() {
        // The description does not describe itself.
        if !r.path.starts_with("/api/v1/") || r.path == "/api/v1/openapi.json" {
            continue;
        }
        let method = r.method.as_str().to_lowercase();
        if paths
            .get(r.path)
            .and_then(|p| p.get(&method))
            .and_then(|op| op.get("summary"))
            .is_none()
        {
            missing.push(format!("{} {} is not in openapi.json", r.method, r.path));
        }
        if !html.contains(r.path) {
            missing.push(format!("{} {} is not on /api/docs", r.method, r.path));
        }
    }
    for (path, _) in paths {
        if !xiangzhi_web::route_table().iter().any(|r| r.path == path) {
            missing.push(format!("openapi.json lists {path}, which is no route"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
