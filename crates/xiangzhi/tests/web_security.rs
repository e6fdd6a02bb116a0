//! Web hardening, generated from the route table where it can be: CSRF on every state-changing
//! route, script typed into every field comes back escaped on every page, path parameters
//! cannot climb out of their directory, the secure-cookie option, upload size and type limits.
//! (Headers, session renewal at login and the login lockout are in `web.rs`; the formula
//! neutralisation of exports in `hostile_input.rs`.)

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_store::{Actor, Scope};

const CSRF_MSG: &str = "CSRF";
/// What a hostile user types; none of it may come back as markup.
const PAYLOAD: &str = "<script>alert('xz')</script>\"'><img src=x onerror=alert(2)>";
const RAW_MARKERS: [&str; 3] = ["<script>alert", "<img src=x", "onerror=alert(2)>"];
/// The limits of `xiangzhi_web::security` (private there): uploads and plain forms.
const MAX_UPLOAD_BYTES: usize = 64 << 20;
const MAX_FORM_BYTES: usize = 1 << 20;

fn routes() -> Vec<(Method, &'static str, bool)> {
    xiangzhi_web::route_table()
        .into_iter()
        .map(|r| {
            (
                Method::from_bytes(r.method.as_str().as_bytes()).unwrap(),
                r.path,
                r.public,
            )
        })
        .collect()
}

fn fill(path: &str, values: &[(&str, String)]) -> String {
    let mut out = path.to_string();
    for (k, v) in values {
        out = out.replace(k, v);
    }
    out
}

/// Every route that changes state, forged three ways (no token, a wrong one, the token in the
/// URL only), is refused with 403 before its handler runs, and writes nothing.
#[tokio::test]
async fn every_state_changing_route_refuses_a_forged_request() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let values = [
        ("{code}", TOUCHANG.to_string()),
        ("{id}", "1".to_string()),
        ("{ledger}", "anti_fraud".to_string()),
        ("{token}", "0f".repeat(16)),
        ("{template}", "annual".to_string()),
        ("{program}", "min_living".to_string()),
    ];
    let mut checked = 0;
    let mut failures = Vec::new();
    for (method, path, _public) in routes() {
        // Open311 takes no session and acts as nobody's account: nothing to forge there.
        if method == Method::GET || path.starts_with("/open311/") {
            continue;
        }
        let url = fill(path, &values);
        assert!(
            !url.contains('{'),
            "{path}: a parameter this test cannot fill"
        );
        let multipart = || {
            reqwest::multipart::Form::new().text("name", "伪造").part(
                "file",
                reqwest::multipart::Part::bytes(b"a,b\n1,2\n".to_vec()).file_name("x.csv"),
            )
        };
        let attempts = [
            admin
                .client
                .request(method.clone(), app.url(&url))
                .form(&[("name", "伪造"), ("username", "admin")]),
            admin
                .client
                .request(method.clone(), app.url(&url))
                .form(&[("name", "伪造"), ("csrf", &"0".repeat(64))]),
            admin
                .client
                .request(
                    method.clone(),
                    app.url(&format!("{url}?csrf={}", admin.csrf)),
                )
                .form(&[("name", "伪造")]),
            admin
                .client
                .request(method.clone(), app.url(&url))
                .multipart(multipart()),
            admin
                .client
                .request(method.clone(), app.url(&url))
                .header("x-csrf-token", "forged")
                .json(&serde_json::json!({"name": "伪造"})),
        ];
        for (i, req) in attempts.into_iter().enumerate() {
            let before = app.audit_rows().await;
            let res = req.send().await.unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            if status != StatusCode::FORBIDDEN || !body.contains(CSRF_MSG) {
                failures.push(format!("{method} {url} attempt {i}: {status} {body}"));
            }
            if app.audit_rows().await != before {
                failures.push(format!("{method} {url} attempt {i}: the audit log grew"));
            }
        }
        checked += 1;
    }
    println!("CSRF: {checked} state-changing routes refused 5 forgeries each");
    assert!(checked >= 20, "only {checked} state-changing routes found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The session survived all of it (the forged logouts did nothing).
    let me = admin
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}

async fn post_form(user: &TestUser, app: &TestApp, url: &str, form: &[(&str, &str)]) -> u16 {
    let mut form = form.to_vec();
    form.push(("csrf", user.csrf.as_str()));
    user.client
        .post(app.url(url))
        .form(&form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The payload typed into every free-text field the forms offer (and the registry fields the
/// forms validate strictly, written through the store), then every page of the route table
/// fetched with those records: no page carries the payload as markup.
#[tokio::test]
async fn script_typed_everywhere_comes_back_escaped_on_every_page() {
    use xiangzhi_store::registry::{NewEnterprise, NewHousehold, NewPerson, Relation};
    let app = spawn_app().await;
    let clerk = app.login("clerk").await;
    let admin = app.login("admin").await;
    let all = Scope::all();

    // Through the forms.
    assert_eq!(
        post_form(
            &clerk,
            &app,
            &format!("/org/{TOUCHANG}/grids"),
            &[("name", PAYLOAD)]
        )
        .await,
        303
    );
    let grid = app
        .store
        .org_children(&all, Some(&DivisionCode::parse(TOUCHANG).unwrap()))
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.name == PAYLOAD)
        .expect("the grid name is stored as typed");
    let status = post_form(
        &admin,
        &app,
        "/users",
        &[
            ("username", "xss"),
            ("display_name", PAYLOAD),
            ("role", "village_cadre"),
            ("org_code", TOUCHANG),
            ("password", "xiangzhi-xss-2024"),
        ],
    )
    .await;
    assert!(status == 303 || status == 400, "create user: {status}");
    let made: serde_json::Value = reqwest::Client::new()
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("jurisdiction_id", "361002201211001"),
            ("service_code", "hazard.fire"),
            ("description", PAYLOAD),
            ("address_string", PAYLOAD),
            ("last_name", PAYLOAD),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let case_id = made[0]["service_request_id"].as_str().unwrap().to_string();
    post_form(
        &clerk,
        &app,
        &format!("/cases/{case_id}/act"),
        &[("action", "accept")],
    )
    .await;
    post_form(
        &clerk,
        &app,
        &format!("/cases/{case_id}/act"),
        &[("action", "escalate"), ("reason", PAYLOAD)],
    )
    .await;
    let key_person = app
        .store
        .key_persons(&all, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.org_path.as_str().contains(TOUCHANG))
        .map(|k| k.id);
    if let Some(k) = key_person {
        post_form(
            &clerk,
            &app,
            &format!("/key-persons/{k}/visits"),
            &[("note", PAYLOAD)],
        )
        .await;
    }
    let task = app
        .store
        .tasks(&all, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .next()
        .map(|t| t.id);
    if let Some(t) = task {
        post_form(
            &clerk,
            &app,
            &format!("/tasks/{t}/progress"),
            &[("progress", "50"), ("note", PAYLOAD)],
        )
        .await;
    }

    // Through the store, for the fields whose forms validate strictly.
    let actor = Actor::system("test");
    let village = DivisionCode::parse(TOUCHANG).unwrap();
    let h = app
        .store
        .create_household(
            &actor,
            NewHousehold {
                household_no: "XSS001".into(),
                address: PAYLOAD.into(),
                org_code: village.clone(),
            },
        )
        .await
        .unwrap();
    let birth = chrono::NaiveDate::from_ymd_opt(1971, 3, 4).unwrap();
    let person = app
        .store
        .create_person(
            &actor,
            NewPerson {
                name: PAYLOAD.into(),
                citizen_id: xiangzhi_domain::citizen_id::generate("361002", birth, 321, false),
                phone: None,
                household_id: Some(h.id),
                relation: Some(Relation::Head),
                org_code: None,
                tags: Vec::new(),
            },
        )
        .await;
    let person_id = person.map(|p| p.id).unwrap_or(1);
    let enterprise = app
        .store
        .create_enterprise(
            &actor,
            NewEnterprise {
                name: PAYLOAD.into(),
                credit_code: xiangzhi_domain::credit_code::generate("91361002MA35XWW00").unwrap(),
                kind: "物流".into(),
                registered_capital: None,
                settled_on: None,
                org_code: village,
                contact_name: Some(PAYLOAD.into()),
                contact_phone: None,
            },
        )
        .await
        .unwrap();

    let values = [
        ("{code}", grid.code.to_string()),
        ("{ledger}", "anti_fraud".to_string()),
        ("{token}", "0f".repeat(16)),
        ("{kind}", "persons.xlsx".to_string()),
        ("{sha}", "0".repeat(64)),
        ("{service_file}", "hazard.fire.json".to_string()),
        ("{request_file}", format!("{case_id}.xml")),
    ];
    let mut pages = 0;
    let mut escaped_seen = 0;
    let mut failures = Vec::new();
    for (method, path, _) in routes() {
        if method != Method::GET {
            continue;
        }
        let id = if path.starts_with("/persons/") {
            person_id.to_string()
        } else if path.starts_with("/households/") {
            h.id.to_string()
        } else if path.starts_with("/enterprises/") {
            enterprise.id.to_string()
        } else if path.starts_with("/cases/") {
            case_id.clone()
        } else {
            "1".to_string()
        };
        let url = fill(path, &values).replace("{id}", &id);
        let mut urls = vec![url.clone()];
        if !url.contains('?') && !url.contains('.') {
            urls.push(format!("{url}?q=%3Cscript%3Ealert('xz')%3C%2Fscript%3E"));
        }
        for url in urls {
            let res = admin.client.get(app.url(&url)).send().await.unwrap();
            let ct = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let body = res.text().await.unwrap_or_default();
            pages += 1;
            if !(ct.starts_with("text/html") || ct.contains("xml")) {
                continue;
            }
            for m in RAW_MARKERS {
                if body.contains(m) {
                    failures.push(format!("GET {url} ({ct}): raw “{m}” in the page"));
                }
            }
            if body.contains("&lt;script&gt;") || body.contains("&#60;script&#62;") {
                escaped_seen += 1;
            }
        }
    }
    println!("escaping: {pages} pages fetched, {escaped_seen} showed the payload escaped");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        escaped_seen >= 5,
        "the payload should show (escaped) on many pages, saw it on {escaped_seen}"
    );
}

/// Path parameters carrying `..`, encoded or not, reach no file outside their store: every
/// answer is a refusal and none shows a file of the machine or the source tree.
#[tokio::test]
async fn path_traversal_is_impossible() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let payloads = [
        "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fCargo.toml",
        "..%5C..%5CCargo.toml",
        "....%2F%2F....%2F%2Fetc%2Fpasswd",
        "%252e%252e%252fetc%252fpasswd",
        "%00",
    ];
    let mut probes = 0;
    let mut failures = Vec::new();
    for (method, path, _) in routes() {
        if method != Method::GET || !path.contains('{') {
            continue;
        }
        for p in payloads {
            let url = path
                .split('/')
                .map(|seg| if seg.starts_with('{') { p } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let res = admin.client.get(app.url(&url)).send().await.unwrap();
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            probes += 1;
            if body.contains("root:x:0:0")
                || body.contains("[workspace]")
                || body.contains("[package]")
            {
                failures.push(format!("GET {url}: a file of the machine leaked"));
            }
            if status.is_success() && !path.starts_with("/ledgers/{ledger}") {
                failures.push(format!("GET {url}: answered {status}"));
            }
            if status.is_server_error() {
                failures.push(format!("GET {url}: {status}"));
            }
        }
    }
    // The static route serves one embedded file; nothing beside it.
    for url in [
        "/static/..%2F..%2FCargo.toml",
        "/static/%2e%2e/src/lib.rs",
        "/static/app.css%00.rs",
    ] {
        let res = admin.client.get(app.url(url)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{url}");
        probes += 1;
    }
    println!("path traversal: {probes} probes");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn secure_cookie_option_marks_every_cookie_secure() {
    let app = spawn_app_with(xiangzhi_web::WebConfig {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    let c = client();
    let form = c.get(app.url("/login")).send().await.unwrap();
    let pre: Vec<String> = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(!pre.is_empty());
    let res = app.post_login(&c, "cadre", PASSWORD).await;
    let login: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(login.iter().any(|s| s.starts_with("xz_session=")));
    for s in pre.iter().chain(&login) {
        assert!(s.contains("; Secure"), "{s}");
        assert!(s.contains("HttpOnly"), "{s}");
    }
    // Without the option (plain HTTP on an office LAN) the flag would lock users out, so it is off.
    let plain = spawn_app().await;
    let res = client().get(plain.url("/login")).send().await.unwrap();
    for v in res.headers().get_all("set-cookie") {
        assert!(!v.to_str().unwrap().contains("Secure"));
    }
}

#[tokio::test]
async fn uploads_are_limited_in_size_and_type() {
    let app = spawn_app().await;
    let clerk = app.login("clerk").await;
    let rows = app.audit_rows().await;
    let upload = |bytes: Vec<u8>, name: &'static str| {
        reqwest::multipart::Form::new()
            .text("csrf", clerk.csrf.clone())
            .text("kind", "persons")
            .text("org", TOUCHANG)
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            )
    };
    // Over the upload limit: refused before it is read, in Chinese.
    let big = vec![b'a'; MAX_UPLOAD_BYTES + 1024];
    let res = clerk
        .client
        .post(app.url("/registry/import"))
        .multipart(upload(big, "big.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("提交的内容过大"));
    // A plain form over its (smaller) limit.
    let res = clerk
        .client
        .post(app.url(&format!("/org/{TOUCHANG}/grids")))
        .form(&[
            ("csrf", clerk.csrf.as_str()),
            ("name", &"网".repeat(MAX_FORM_BYTES / 3 + 10)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Files that are not spreadsheets, whatever their name says.
    for (bytes, name) in [
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "名册.xlsx"),
        (b"MZ\x90\0\x03\0\0\0\x04\0\0\0".to_vec(), "名册.xls"),
        (b"PK\x03\x04\x14\0\0\0\x08\0junk".to_vec(), "名册.xlsx"),
        (
            b"<html><script>alert(1)</script></html>".to_vec(),
            "名册.csv",
        ),
    ] {
        let res = clerk
            .client
            .post(app.url("/registry/import"))
            .multipart(upload(bytes, name))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(
            status == StatusCode::BAD_REQUEST
                || status == StatusCode::UNPROCESSABLE_ENTITY
                || (status == StatusCode::OK && !body.contains("/commit")),
            "{name}: {status} {body}"
        );
        assert!(
            !body.contains("<script>alert(1)"),
            "{name}: echoed as markup"
        );
    }
    assert_eq!(app.audit_rows().await, rows, "nothing was written");
}
