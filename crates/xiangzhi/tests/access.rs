//! Scope through the web: walks every route of `xiangzhi_web::route_table()` as someone who must
//! not reach the ids put into it, and asserts the exact outcome per route.
//!
//! Two walkers:
//! - the village cadre of 头昌村 (role 村干部: may write, may not manage users/org or view audit),
//!   probing 舍头村 (same township), 连城乡 itself, a village and the whole of another township,
//!   and users outside the village;
//! - a system administrator scoped to 桐源乡 (every permission, another township), probing
//!   连城乡's records, so the routes a cadre is refused by role are also checked for scope.
//!
//! A route without an entry in [`EXPECTATIONS`] fails the test, so a new route cannot slip past.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;
use xiangzhi_store::{Actor, NewUser, Scope};

/// A valid citizen ID nobody holds, so that bodies fail on scope, not on the ID's checksum.
const VALID_ID: &str = "361002199003070239";
const NOT_FOUND_MSG: &str = "未找到该记录，或不在您的管辖范围内";
const FORBIDDEN_MSG: &str = "无权执行此操作";
const CSRF_MSG: &str = "CSRF";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// No login needed; walked logged out.
    Public,
    /// 200, and nothing outside the walker's scope is named in the body.
    Scoped,
    /// 404 for every foreign id, byte-for-byte the same as for an id that does not exist.
    NotFound,
    /// 403: the role lacks the permission, refused before the record is even looked up.
    Forbidden,
    /// `POST /logout`: ends the session; walked last.
    Logout,
}
use Outcome::*;

struct Expect {
    method: &'static str,
    path: &'static str,
    /// The village cadre of 头昌村.
    cadre: Outcome,
    /// An administrator of 桐源乡.
    foreign_admin: Outcome,
}

const fn e(method: &'static str, path: &'static str, cadre: Outcome, admin: Outcome) -> Expect {
    Expect {
        method,
        path,
        cadre,
        foreign_admin: admin,
    }
}

/// Every route's expected outcome when called with ids outside the caller's scope.
const EXPECTATIONS: &[Expect] = &[
    e("GET", "/healthz", Public, Public),
    e("GET", "/static/app.css", Public, Public),
    e("GET", "/login", Public, Public),
    e("POST", "/login", Public, Public),
    e("GET", "/api/v1/openapi.json", Public, Public),
    e("GET", "/api/docs", Public, Public),
    e("GET", "/open311/v2/services.json", Public, Public),
    e("GET", "/open311/v2/services.xml", Public, Public),
    e("GET", "/open311/v2/services/{service_file}", Public, Public),
    e("GET", "/open311/v2/requests.json", Public, Public),
    e("POST", "/open311/v2/requests.json", Public, Public),
    e("GET", "/open311/v2/requests.xml", Public, Public),
    e("GET", "/open311/v2/requests/{request_file}", Public, Public),
    e("POST", "/open311/v2/requests.xml", Public, Public),
    e("POST", "/logout", Logout, Logout),
    e("GET", "/", Scoped, Scoped),
    e("GET", "/org", Scoped, Scoped),
    e("GET", "/org/{code}", NotFound, NotFound),
    e("POST", "/org/{code}/grids", NotFound, NotFound),
    e("POST", "/org/{code}/rename", Forbidden, NotFound),
    e("POST", "/org/{code}/merge", Forbidden, NotFound),
    e("POST", "/org/{code}/split", Forbidden, NotFound),
    e("GET", "/persons", Scoped, Scoped),
    e("POST", "/persons", NotFound, NotFound),
    e("GET", "/persons/{id}", NotFound, NotFound),
    e("POST", "/persons/{id}", NotFound, NotFound),
    e("POST", "/persons/{id}/reveal", NotFound, NotFound),
    e("POST", "/persons/{id}/events", NotFound, NotFound),
    e("POST", "/persons/{id}/citizen-id", Forbidden, NotFound),
    e("GET", "/households", Scoped, Scoped),
    e("GET", "/households/{id}", NotFound, NotFound),
    e("POST", "/households/{id}/events", NotFound, NotFound),
    e("POST", "/households/{id}/split", NotFound, NotFound),
    e("GET", "/enterprises", Scoped, Scoped),
    e("GET", "/enterprises/{id}", NotFound, NotFound),
    e("POST", "/enterprises", NotFound, NotFound),
    e("POST", "/enterprises/{id}/close", NotFound, NotFound),
    e("GET", "/registry/duplicates", Scoped, Scoped),
    e("GET", "/registry/import", Scoped, Scoped),
    e("POST", "/registry/import", NotFound, NotFound),
    e(
        "POST",
        "/registry/import/{token}/commit",
        NotFound,
        NotFound,
    ),
    e(
        "GET",
        "/registry/import/{token}/errors.xlsx",
        NotFound,
        NotFound,
    ),
    e("GET", "/registry/template/{kind}", Scoped, Scoped),
    e("GET", "/ledgers", Scoped, Scoped),
    e("GET", "/ledgers/{ledger}", Scoped, Scoped),
    e("GET", "/ledgers/{ledger}/entries", Scoped, Scoped),
    e("POST", "/ledgers/{ledger}/entries", NotFound, NotFound),
    e("GET", "/ledgers/{ledger}/entries/new", Scoped, Scoped),
    e("GET", "/ledgers/{ledger}/entries/{id}", NotFound, NotFound),
    e("POST", "/ledgers/{ledger}/entries/{id}", NotFound, NotFound),
    e(
        "POST",
        "/ledgers/{ledger}/entries/{id}/void",
        NotFound,
        NotFound,
    ),
    e("POST", "/ledgers/{ledger}/submissions", NotFound, NotFound),
    e("POST", "/ledgers/{ledger}/roster", NotFound, NotFound),
    e("GET", "/ledgers/{ledger}/template", Scoped, Scoped),
    e("POST", "/ledgers/{ledger}/import", NotFound, NotFound),
    e(
        "POST",
        "/ledgers/{ledger}/import/{token}/commit",
        NotFound,
        NotFound,
    ),
    e(
        "GET",
        "/ledgers/{ledger}/import/{token}/errors.xlsx",
        NotFound,
        NotFound,
    ),
    e("GET", "/ledger-files/{sha}", NotFound, NotFound),
    e("GET", "/todo", Scoped, Scoped),
    e("GET", "/cases", Scoped, Scoped),
    e("POST", "/cases", NotFound, NotFound),
    e("GET", "/cases/new", Scoped, Scoped),
    e("GET", "/cases/export.xlsx", Scoped, Scoped),
    e("POST", "/cases/remind", Forbidden, NotFound),
    e("GET", "/indicators", Scoped, Scoped),
    e("GET", "/indicators/{indicator}", Scoped, Scoped),
    e("GET", "/indicators/{indicator}/records", Scoped, Scoped),
    e("GET", "/dashboard", Scoped, Scoped),
    e("GET", "/dashboard.xlsx", Scoped, Scoped),
    e("GET", "/data", Scoped, Scoped),
    e("POST", "/data", NotFound, NotFound),
    e("POST", "/data/import", NotFound, NotFound),
    e("POST", "/data/approval", NotFound, NotFound),
    e("GET", "/data/quality", Scoped, Scoped),
    e("GET", "/cases/{id}", NotFound, NotFound),
    e("POST", "/cases/{id}/act", NotFound, NotFound),
    e("POST", "/cases/{id}/attachments", NotFound, NotFound),
    e("GET", "/case-files/{sha}", NotFound, NotFound),
    e("GET", "/case-settings/{code}", NotFound, NotFound),
    e("POST", "/case-settings/{code}/limits", Forbidden, NotFound),
    e(
        "POST",
        "/case-settings/{code}/categories",
        Forbidden,
        NotFound,
    ),
    e("GET", "/key-persons", Scoped, Scoped),
    e("POST", "/key-persons", NotFound, NotFound),
    e("GET", "/key-persons/new", Scoped, Scoped),
    e("POST", "/key-persons/{id}/visits", NotFound, NotFound),
    e("GET", "/projects", Scoped, Scoped),
    e("POST", "/projects", Forbidden, NotFound),
    e("GET", "/projects/new", Scoped, Scoped),
    e("GET", "/projects/{id}", NotFound, NotFound),
    e("POST", "/projects/{id}", Forbidden, NotFound),
    e("GET", "/tasks", Scoped, Scoped),
    e("POST", "/tasks", Forbidden, NotFound),
    e("POST", "/tasks/{id}/progress", NotFound, NotFound),
    e("GET", "/reports", Scoped, Scoped),
    // Templates belong to the township that wrote them: visible below it, unknown elsewhere.
    e("GET", "/reports/templates/{template}", Scoped, NotFound),
    e("POST", "/reports/templates/{template}", Forbidden, NotFound),
    e("POST", "/reports/preview", NotFound, NotFound),
    e("GET", "/reports/{template}/{code}", NotFound, NotFound),
    e(
        "POST",
        "/reports/{template}/{code}/finalise",
        NotFound,
        NotFound,
    ),
    e("GET", "/reports/finals/{id}", NotFound, NotFound),
    e("GET", "/assistance", Scoped, Scoped),
    e("GET", "/assistance/roster.xlsx", Scoped, Scoped),
    e("GET", "/assistance/apply", Scoped, Scoped),
    e("POST", "/assistance/enrollments", NotFound, NotFound),
    e("GET", "/assistance/enrollments/{id}", NotFound, NotFound),
    e(
        "POST",
        "/assistance/enrollments/{id}/step",
        NotFound,
        NotFound,
    ),
    e(
        "POST",
        "/assistance/enrollments/{id}/account",
        NotFound,
        NotFound,
    ),
    e(
        "GET",
        "/assistance/enrollments/{id}/monitoring",
        NotFound,
        NotFound,
    ),
    e(
        "POST",
        "/assistance/enrollments/{id}/monitoring",
        NotFound,
        NotFound,
    ),
    e(
        "POST",
        "/assistance/enrollments/{id}/clear-risk",
        NotFound,
        NotFound,
    ),
    e("GET", "/assistance/villages", Scoped, Scoped),
    e("GET", "/assistance/villages/{code}", NotFound, NotFound),
    e("GET", "/assistance/notice", Scoped, Scoped),
    e("GET", "/assistance/notice.docx", Scoped, Scoped),
    e("GET", "/assistance/payrolls", Scoped, Scoped),
    e("POST", "/assistance/payrolls", NotFound, NotFound),
    e("GET", "/assistance/payrolls/{id}", NotFound, NotFound),
    // Approving and reconciling are township review roles: neither walker has one.
    e(
        "POST",
        "/assistance/payrolls/{id}/approve",
        Forbidden,
        Forbidden,
    ),
    e(
        "POST",
        "/assistance/payrolls/{id}/bank-file",
        NotFound,
        NotFound,
    ),
    e(
        "POST",
        "/assistance/payrolls/{id}/lines",
        NotFound,
        NotFound,
    ),
    e(
        "POST",
        "/assistance/payrolls/{id}/reconcile",
        Forbidden,
        Forbidden,
    ),
    e("GET", "/assistance/payouts", Scoped, Scoped),
    e("GET", "/assistance/payouts/new", Scoped, Scoped),
    e("POST", "/assistance/payouts", NotFound, NotFound),
    e("GET", "/assistance/checks", Scoped, Scoped),
    e("GET", "/assistance/programs", Scoped, Scoped),
    e("GET", "/assistance/programs/{program}", Scoped, Scoped),
    // Programs are county-wide: a township's administrator may not edit them either.
    e(
        "POST",
        "/assistance/programs/{program}",
        Forbidden,
        Forbidden,
    ),
    e("GET", "/users", Forbidden, Scoped),
    e("POST", "/users", Forbidden, NotFound),
    e("POST", "/users/{id}/active", Forbidden, NotFound),
    e("POST", "/users/{id}/password", Forbidden, NotFound),
    e("GET", "/audit", Forbidden, Scoped),
    e("GET", "/api/v1/me", Scoped, Scoped),
    e("GET", "/api/v1/org", Scoped, Scoped),
    e("GET", "/api/v1/org/{code}", NotFound, NotFound),
    e("GET", "/api/v1/org/{code}/children", NotFound, NotFound),
    e("GET", "/api/v1/org/{code}/history", NotFound, NotFound),
    e("POST", "/api/v1/org/{code}/grids", NotFound, NotFound),
    e("GET", "/api/v1/users", Forbidden, Scoped),
    e("GET", "/api/v1/audit", Forbidden, Scoped),
    e("GET", "/api/v1/ledgers", Scoped, Scoped),
    e("GET", "/api/v1/ledgers/{ledger}/entries", Scoped, Scoped),
    e("GET", "/api/v1/ledgers/{ledger}/aggregate", Scoped, Scoped),
    e("GET", "/api/v1/cases", Scoped, Scoped),
    e("GET", "/api/v1/cases/{id}", NotFound, NotFound),
];

/// The indicator the walk probes: a ledger sum of the seed pack.
const INDICATOR: &str = "GRAIN_AREA";

/// The report template the walk probes: written by 连城乡's clerk.
const REPORT_TEMPLATE: &str = "lianchen_brief";

/// The ledger the walk probes: monthly, filled by villages, one row per village.
const LEDGER: &str = "anti_fraud";
const LEDGER_PERIOD: &str = "202301";

fn expectation(method: &Method, path: &str) -> Option<&'static Expect> {
    EXPECTATIONS
        .iter()
        .find(|e| e.method == method.as_str() && e.path == path)
}

/// The routes as `(method, path, public)`.
fn routes() -> Vec<(Method, &'static str, bool)> {
    xiangzhi_web::route_table()
        .into_iter()
        .map(|r| {
            (
                Method::from_bytes(r.method.as_str().as_bytes()).expect("method"),
                r.path,
                r.public,
            )
        })
        .collect()
}

#[test]
fn every_route_has_an_access_expectation() {
    let mut missing = Vec::new();
    for (method, path, public) in routes() {
        match expectation(&method, path) {
            None => missing.push(format!("route {method} {path} has no access expectation")),
            Some(e) => {
                let says_public = e.cadre == Public;
                assert_eq!(
                    says_public, public,
                    "{method} {path}: the route table says public={public}, the expectation disagrees"
                );
                assert_eq!(e.cadre == Public, e.foreign_admin == Public);
            }
        }
    }
    let table = routes();
    for e in EXPECTATIONS {
        if !table
            .iter()
            .any(|(m, p, _)| m.as_str() == e.method && *p == e.path)
        {
            missing.push(format!(
                "expectation for {} {} names no route (stale entry)",
                e.method, e.path
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Who walks, what they must not reach, and what must never show up in their responses.
struct Walker {
    label: &'static str,
    user: TestUser,
    /// A village of the walker's own scope, put into bodies next to a foreign path id.
    own_code: &'static str,
    /// A code nobody uses yet, for the unit a split would create.
    free_code: &'static str,
    codes: Vec<String>,
    user_ids: Vec<i64>,
    /// Registry records outside the scope: persons, households, enterprises.
    person_ids: Vec<i64>,
    household_ids: Vec<i64>,
    enterprise_ids: Vec<i64>,
    /// Ledger entries and attachments outside the scope.
    entry_ids: Vec<i64>,
    file_shas: Vec<String>,
    /// Cases, key persons and supervised tasks outside the scope.
    case_ids: Vec<i64>,
    key_person_ids: Vec<i64>,
    task_ids: Vec<i64>,
    /// Finalised reports outside the scope.
    report_ids: Vec<i64>,
    project_ids: Vec<i64>,
    /// Assistance enrollments and payrolls outside the scope.
    enrollment_ids: Vec<i64>,
    payroll_ids: Vec<i64>,
    foreign_names: Vec<String>,
    outcome: fn(&Expect) -> Outcome,
}

/// Demo cases outside `path`: the first and the last of them.
async fn cases_outside(app: &TestApp, path: &str) -> Vec<i64> {
    use xiangzhi_store::case::CaseQuery;
    let all = app
        .store
        .cases(
            &Scope::all(),
            &CaseQuery {
                limit: 5000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let out: Vec<i64> = all
        .iter()
        .filter(|c| !c.org_path.as_str().starts_with(path))
        .map(|c| c.id)
        .collect();
    assert!(!out.is_empty(), "the demo has cases outside {path}");
    vec![out[0], out[out.len() - 1]]
}

/// Demo key persons outside `path`.
async fn key_persons_outside(app: &TestApp, path: &str) -> Vec<i64> {
    use xiangzhi_store::case::KeyPersonQuery;
    let out: Vec<i64> = app
        .store
        .key_persons(&Scope::all(), &KeyPersonQuery::default())
        .await
        .unwrap()
        .iter()
        .filter(|k| !k.org_path.as_str().starts_with(path))
        .map(|k| k.id)
        .collect();
    assert!(!out.is_empty(), "the demo has key persons outside {path}");
    out
}

/// Demo projects outside `path`.
async fn projects_outside(app: &TestApp, path: &str) -> Vec<i64> {
    let out: Vec<i64> = app
        .store
        .projects(&Scope::all(), None)
        .await
        .unwrap()
        .iter()
        .filter(|p| !p.org_path.as_str().starts_with(path))
        .map(|p| p.id)
        .take(3)
        .collect();
    assert!(!out.is_empty(), "the demo has projects outside {path}");
    out
}

/// A file attached to a case outside `path`, so that serving it by hash is probed too.
async fn case_file_outside(app: &TestApp, path: &str) -> String {
    let case = cases_outside(app, path).await[0];
    app.store
        .attach_case_file(
            &Actor::system("test"),
            case,
            "现场.png",
            "image/png",
            format!("事件{case}的现场照片，{path}之外").as_bytes(),
        )
        .await
        .unwrap()
        .sha256
}

/// Demo supervised tasks outside `path` that are still open (a finished one refuses any
/// report anyway, which would prove nothing about scope).
async fn tasks_outside(app: &TestApp, path: &str) -> Vec<i64> {
    use xiangzhi_store::case::TaskQuery;
    let out: Vec<i64> = app
        .store
        .tasks(
            &Scope::all(),
            &TaskQuery {
                open_only: true,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .iter()
        .filter(|t| !t.org_path.as_str().starts_with(path))
        .map(|t| t.id)
        .take(3)
        .collect();
    assert!(!out.is_empty(), "the demo has open tasks outside {path}");
    out
}

/// Demo enrollments outside `path`: the first and the last of them.
async fn enrollments_outside(app: &TestApp, path: &str) -> Vec<i64> {
    use xiangzhi_store::assistance::EnrollmentQuery;
    let out: Vec<i64> = app
        .store
        .enrollments(
            &Scope::all(),
            &EnrollmentQuery {
                limit: 100_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .iter()
        .filter(|e| !e.org_path.as_str().starts_with(path))
        .map(|e| e.id)
        .collect();
    assert!(!out.is_empty(), "the demo has enrollments outside {path}");
    vec![out[0], out[out.len() - 1]]
}

/// Demo payrolls outside `path`.
async fn payrolls_outside(app: &TestApp, path: &str) -> Vec<i64> {
    let out: Vec<i64> = app
        .store
        .payrolls(&Scope::all(), None)
        .await
        .unwrap()
        .iter()
        .filter(|p| !p.org_path.as_str().starts_with(path))
        .map(|p| p.id)
        .take(3)
        .collect();
    assert!(!out.is_empty(), "the demo has payrolls outside {path}");
    out
}

/// The concrete requests a route is probed with.
fn probes(walker: &Walker, method: &Method, path: &str) -> Vec<String> {
    // `{id}` means a different kind of record under each prefix.
    let id_source = if path.starts_with("/persons/") {
        &walker.person_ids
    } else if path.starts_with("/households/") {
        &walker.household_ids
    } else if path.starts_with("/enterprises/") {
        &walker.enterprise_ids
    } else if path.starts_with("/ledgers/") {
        &walker.entry_ids
    } else if path.starts_with("/cases/") || path.starts_with("/api/v1/cases/") {
        &walker.case_ids
    } else if path.starts_with("/projects/") {
        &walker.project_ids
    } else if path.starts_with("/key-persons/") {
        &walker.key_person_ids
    } else if path.starts_with("/tasks/") {
        &walker.task_ids
    } else if path.starts_with("/reports/") {
        &walker.report_ids
    } else if path.starts_with("/assistance/enrollments/") {
        &walker.enrollment_ids
    } else if path.starts_with("/assistance/payrolls/") {
        &walker.payroll_ids
    } else {
        &walker.user_ids
    };
    let ids: Vec<String> = id_source.iter().map(|i| i.to_string()).collect();
    let mut out = vec![path.to_string()];
    // An upload token of someone else's (or none at all) and a template kind.
    let tokens = vec!["0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f".to_string()];
    let kinds = vec!["persons.xlsx".to_string()];
    for (param, values) in [
        ("{code}", &walker.codes),
        ("{id}", &ids),
        ("{token}", &tokens),
        ("{kind}", &kinds),
        ("{ledger}", &vec![LEDGER.to_string()]),
        ("{template}", &vec![REPORT_TEMPLATE.to_string()]),
        ("{indicator}", &vec![INDICATOR.to_string()]),
        ("{sha}", &walker.file_shas),
        ("{program}", &vec!["min_living".to_string()]),
    ] {
        out = out
            .iter()
            .flat_map(|p| {
                if p.contains(param) {
                    values.iter().map(|v| p.replace(param, v)).collect()
                } else {
                    vec![p.clone()]
                }
            })
            .collect();
    }
    assert!(
        out.iter().all(|p| !p.contains('{')),
        "route {path} has a path parameter the access test cannot fill"
    );
    // Query strings that carry foreign ids to routes without path parameters.
    let mut with_queries = Vec::new();
    for p in out {
        with_queries.push(p.clone());
        if matches!(p.as_str(), "/org" | "/api/v1/org") {
            for name in &walker.foreign_names {
                let frag: String = name.chars().take(2).collect();
                with_queries.push(format!("{p}?q={}", enc(&frag)));
            }
            for c in &walker.codes {
                with_queries.push(format!("{p}?q={c}"));
            }
        }
        if *method == Method::GET
            && matches!(
                p.as_str(),
                "/persons" | "/households" | "/enterprises" | "/assistance"
            )
        {
            // Fragments, as typed into the search box (which echoes them back).
            for name in &walker.foreign_names {
                let frag: String = name.chars().take(2).collect();
                with_queries.push(format!("{p}?q={}", enc(&frag)));
            }
            for c in &walker.codes {
                with_queries.push(format!("{p}?org={c}"));
            }
        }
        let ledger_lists = [
            format!("/ledgers/{LEDGER}/entries"),
            format!("/ledgers/{LEDGER}/entries/new"),
            format!("/ledgers/{LEDGER}/template"),
            format!("/api/v1/ledgers/{LEDGER}/entries"),
            format!("/api/v1/ledgers/{LEDGER}/aggregate"),
        ];
        if *method == Method::GET && ledger_lists.contains(&p) {
            for c in &walker.codes {
                with_queries.push(format!("{p}?org={c}&period={LEDGER_PERIOD}"));
            }
        }
        let unit_pages = [
            "/indicators".to_string(),
            format!("/indicators/{INDICATOR}"),
            "/dashboard".to_string(),
            "/dashboard.xlsx".to_string(),
            "/data".to_string(),
            "/data/quality".to_string(),
        ];
        if *method == Method::GET && unit_pages.contains(&p) {
            for c in &walker.codes {
                with_queries.push(format!("{p}?org={c}&period=2023"));
            }
        }
        // The records behind a figure: a unit above the walker's own shows their own part
        // (tested in indicators_web.rs); every other foreign unit is not found.
        if *method == Method::GET && p == format!("/indicators/{INDICATOR}/records") {
            for c in walker
                .codes
                .iter()
                .filter(|c| !walker.own_code.starts_with(c.as_str()))
            {
                with_queries.push(format!("{p}?org={c}&period=2023"));
            }
        }
        if matches!(p.as_str(), "/audit" | "/api/v1/audit") {
            for c in &walker.codes {
                with_queries.push(format!("{p}?entity=org_unit&entity_id={c}"));
            }
            for id in &walker.user_ids {
                with_queries.push(format!("{p}?entity=user&entity_id={id}"));
            }
        }
    }
    with_queries
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A request of `method` to `url` carrying a valid CSRF token and a body naming foreign ids.
fn request(app: &TestApp, walker: &Walker, method: &Method, url: &str) -> reqwest::RequestBuilder {
    let c = &walker.user.client;
    let full = app.url(url);
    if *method == Method::GET {
        return c.get(full);
    }
    let csrf = walker.user.csrf.as_str();
    let foreign_org = walker.codes[0].as_str();
    if url == "/registry/import" {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.to_string())
            .text("kind", "persons")
            .text("org", foreign_org.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(
                    "姓名,身份证号\n越界导入,36100219900307021X\n"
                        .as_bytes()
                        .to_vec(),
                )
                .file_name("越界.csv"),
            );
        return c.request(method.clone(), full).multipart(form);
    }
    if url == "/data/import" {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.to_string())
            .text("org", foreign_org.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(
                    format!("数据项代码,单位代码,期间,数值\nFISCAL_REVENUE,{foreign_org},2023,1\n")
                        .into_bytes(),
                )
                .file_name("越界.csv"),
            );
        return c.request(method.clone(), full).multipart(form);
    }
    let ledger_form = url.starts_with("/ledgers/")
        && (url.ends_with("/entries") || url.ends_with("/import") || {
            // an entry itself: /ledgers/{ledger}/entries/{id}
            let parts: Vec<&str> = url.split('/').collect();
            parts.len() == 5 && parts[3] == "entries"
        });
    if ledger_form {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.to_string())
            .text("org", foreign_org.to_string())
            .text("period", LEDGER_PERIOD)
            .text("f_sessions", "3")
            .text("f_people", "90")
            .part(
                "file",
                reqwest::multipart::Part::bytes(
                    format!("单位代码,期间,宣传场次（场）\n{foreign_org},{LEDGER_PERIOD},3\n")
                        .into_bytes(),
                )
                .file_name("越界.csv"),
            );
        return c.request(method.clone(), full).multipart(form);
    }
    if url == "/cases" || url.ends_with("/attachments") {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.to_string())
            .text("category", "dispute.neighbour")
            .text("title", "越界登记的事件")
            .text("description", "越界登记")
            .text("org", foreign_org.to_string())
            .text("source", "window")
            .text("go", "save")
            .part(
                "files",
                reqwest::multipart::Part::bytes(b"%PDF-1.4 yuejie".to_vec()).file_name("越界.pdf"),
            );
        return c.request(method.clone(), full).multipart(form);
    }
    if url.starts_with("/api/") {
        return c
            .request(method.clone(), full)
            .header("x-csrf-token", csrf)
            .json(&serde_json::json!({"name": "越界网格"}));
    }
    let foreign_person = walker.person_ids[0].to_string();
    // The key-person form's registry picker answers with an `id:` token.
    let picked_person = format!("id:{}", walker.person_ids[0]);
    let form: Vec<(&str, &str)> = if url == "/assistance/enrollments" {
        vec![
            ("program", "min_living"),
            ("person_id", foreign_person.as_str()),
            ("category", "rural"),
            ("source", "household"),
            ("note", "越界申请"),
        ]
    } else if url == "/assistance/payrolls" {
        vec![
            ("program", "min_living"),
            ("org", foreign_org),
            ("period", "202401"),
        ]
    } else if url.ends_with("/step") {
        vec![
            ("action", "exit"),
            ("reason", "voluntary"),
            ("text", "越界退出"),
        ]
    } else if url.ends_with("/account") {
        vec![
            ("bank_name", "越界银行"),
            ("account", "6217001234567890123"),
        ]
    } else if url.ends_with("/monitoring") {
        vec![
            ("op", "basic"),
            ("kind", "edge_of_poverty"),
            ("cause", "illness"),
            ("responsible", "yuejie"),
        ]
    } else if url.ends_with("/lines") {
        vec![("s_1", "paid")]
    } else if url.starts_with("/assistance/programs/") {
        vec![
            ("name", "越界修改"),
            ("notice_days", "1"),
            ("review_months", "1"),
        ]
    } else if url.ends_with("/grids") {
        vec![("name", "越界网格")]
    } else if url.ends_with("/rename") {
        vec![("name", "越界更名"), ("effective", "2024-01-01")]
    } else if url.ends_with("/merge") {
        vec![("into", walker.own_code), ("effective", "2024-01-01")]
    } else if url.ends_with("/split") && url.starts_with("/households/") {
        vec![
            ("members", "1"),
            ("household_no", "越界分户"),
            ("date", "2024-01-01"),
        ]
    } else if url.ends_with("/split") {
        vec![
            ("new_code", walker.free_code),
            ("name", "越界拆分"),
            ("children", ""),
            ("effective", "2024-01-01"),
        ]
    } else if url == "/persons" {
        vec![
            ("name", "越界登记"),
            ("citizen_id", VALID_ID),
            ("org_code", foreign_org),
        ]
    } else if url.starts_with("/persons/") && url.matches('/').count() == 2 {
        vec![("name", "越界改名"), ("tags", "党员")]
    } else if url == "/enterprises" {
        vec![
            ("name", "越界企业有限公司"),
            ("credit_code", "91361002MA35ABCDE6"),
            ("kind", "物流"),
            ("org_code", foreign_org),
        ]
    } else if url.ends_with("/close") {
        vec![("date", "2024-01-01")]
    } else if url.ends_with("/citizen-id") {
        vec![("citizen_id", VALID_ID), ("reason", "越界更正")]
    } else if url.ends_with("/reveal") {
        vec![("field", "citizen_id")]
    } else if url.starts_with("/persons/") && url.ends_with("/events") {
        vec![
            ("kind", "move_out"),
            ("date", "2024-01-01"),
            ("note", "越界迁出"),
        ]
    } else if url.starts_with("/households/") && url.ends_with("/events") {
        vec![
            ("kind", "birth"),
            ("date", "2024-01-01"),
            ("name", "越界出生"),
            ("citizen_id", VALID_ID),
            ("relation", "child"),
        ]
    } else if url.ends_with("/submissions") {
        vec![
            ("org", foreign_org),
            ("period", LEDGER_PERIOD),
            ("action", "submit"),
        ]
    } else if url == "/data" {
        vec![
            ("org", foreign_org),
            ("period", "2023"),
            ("v_FISCAL_REVENUE", "1"),
        ]
    } else if url == "/data/approval" {
        vec![
            ("org", foreign_org),
            ("period", "2023"),
            ("action", "submit"),
        ]
    } else if url.ends_with("/roster") {
        vec![("org", foreign_org), ("period", LEDGER_PERIOD)]
    } else if url.ends_with("/void") {
        vec![("reason", "越界作废")]
    } else if url.starts_with("/cases/") && url.ends_with("/act") {
        vec![("action", "remind")]
    } else if url == "/cases/remind" {
        vec![("org", foreign_org)]
    } else if url.ends_with("/limits") {
        vec![("dispute_acc_days", "9"), ("dispute_close_days", "9")]
    } else if url.ends_with("/categories") {
        vec![("parent", "dispute"), ("label", "越界类别")]
    } else if url == "/key-persons" || url == "/assistance/payouts" {
        vec![
            ("person", picked_person.as_str()),
            ("categories", "released_prisoner"),
            ("risk", "1"),
            ("cadre", "越界专人"),
            ("since", "2024-01-01"),
            ("go", "save"),
        ]
    } else if url.starts_with("/projects") {
        vec![
            ("name", "越界项目"),
            ("kind", "key"),
            ("stage", "talks"),
            ("org", foreign_org),
            ("year", "2024"),
            ("planned_wan", "100"),
            ("go", "save"),
        ]
    } else if url == "/tasks" {
        vec![
            ("title", "越界任务"),
            ("org", foreign_org),
            ("owner", "越界责任人"),
            ("deadline", "2030-01-01"),
        ]
    } else if url.ends_with("/visits") {
        vec![("note", "越界走访")]
    } else if url == "/reports/preview" {
        vec![
            ("template", REPORT_TEMPLATE),
            ("body", "标题：越界预览"),
            ("org", foreign_org),
            ("period", "2023"),
        ]
    } else if url.starts_with("/reports/templates/") {
        vec![("name", "越界模板"), ("body", "标题：越界修改")]
    } else if url.ends_with("/finalise") {
        vec![("period", "2023")]
    } else if url.ends_with("/progress") {
        vec![("progress", "100"), ("note", "越界报送")]
    } else if url.ends_with("/active") {
        vec![("active", "false")]
    } else if url.ends_with("/password") {
        vec![("password", "yuejie2024abc")]
    } else if url == "/users" {
        vec![
            ("username", "yuejie"),
            ("display_name", "越界用户"),
            ("role", "village_cadre"),
            ("org_code", foreign_org),
            ("password", "yuejie2024abc"),
        ]
    } else {
        vec![]
    };
    let mut form: Vec<(&str, &str)> = form;
    form.push(("csrf", csrf));
    c.request(method.clone(), full).form(&form)
}

async fn walk(app: &TestApp, walker: &Walker, failures: &mut Vec<String>) {
    // The answer for an id that does not exist, to compare foreign 404s with.
    let nonexistent_page = walker.user.page(app, "/org/361002201299").await;
    let nonexistent_api = walker.user.page(app, "/api/v1/org/361002201299").await;
    let mut logout = None;
    for (method, path, _) in routes() {
        let Some(e) = expectation(&method, path) else {
            continue; // reported by every_route_has_an_access_expectation
        };
        let expected = (walker.outcome)(e);
        match expected {
            Public => continue, // walked logged out below
            Logout => {
                logout = Some(path);
                continue;
            }
            _ => {}
        }
        for url in probes(walker, &method, path) {
            let before = app.audit_rows().await;
            let res = request(app, walker, &method, &url).send().await.unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            let after = app.audit_rows().await;
            let what = format!("{} {method} {url}", walker.label);
            if after != before {
                failures.push(format!(
                    "{what}: the audit log grew from {before} to {after} rows"
                ));
            }
            for name in &walker.foreign_names {
                if body.contains(name.as_str()) {
                    failures.push(format!("{what}: the body names the foreign “{name}”"));
                }
            }
            // Narrowing a list to a foreign unit is itself a foreign id: 404, like any other.
            let expected = if url.contains("?org=") {
                NotFound
            } else {
                expected
            };
            let want = match expected {
                Scoped => StatusCode::OK,
                NotFound => StatusCode::NOT_FOUND,
                Forbidden => StatusCode::FORBIDDEN,
                Public | Logout => unreachable!(),
            };
            if status != want {
                failures.push(format!(
                    "{what}: expected {want}, got {status}: {}",
                    body.chars().take(300).collect::<String>()
                ));
                continue;
            }
            match expected {
                NotFound => {
                    if !body.contains(NOT_FOUND_MSG) {
                        failures.push(format!("{what}: 404 without the Chinese message"));
                    }
                    let same = if url.starts_with("/api/") {
                        &nonexistent_api
                    } else {
                        &nonexistent_page
                    };
                    if &body != same {
                        failures.push(format!(
                            "{what}: the 404 differs from the one for a code that does not exist"
                        ));
                    }
                }
                Forbidden if !body.contains(FORBIDDEN_MSG) || body.contains(CSRF_MSG) => {
                    failures.push(format!(
                        "{what}: 403 should be the role refusal, got: {}",
                        body.chars().take(300).collect::<String>()
                    ));
                }
                _ => {}
            }
        }
    }
    // A foreign id in the body instead of the path: merging one's own village into a foreign
    // unit is refused the same way (by role for the cadre, by scope for the administrator).
    let merge_route = routes()
        .into_iter()
        .any(|(m, p, _)| m == Method::POST && p == "/org/{code}/merge");
    if let Some(e) = expectation(&Method::POST, "/org/{code}/merge").filter(|_| merge_route) {
        let expected = (walker.outcome)(e);
        for into in &walker.codes {
            let url = format!("/org/{}/merge", walker.own_code);
            let before = app.audit_rows().await;
            let res = walker
                .user
                .client
                .post(app.url(&url))
                .form(&[
                    ("into", into.as_str()),
                    ("effective", "2024-01-01"),
                    ("csrf", walker.user.csrf.as_str()),
                ])
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            let want = if expected == Forbidden {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::NOT_FOUND
            };
            let what = format!("{} POST {url} into={into}", walker.label);
            if status != want {
                failures.push(format!("{what}: expected {want}, got {status}"));
            }
            if app.audit_rows().await != before {
                failures.push(format!("{what}: the audit log grew"));
            }
            for name in &walker.foreign_names {
                if body.contains(name.as_str()) {
                    failures.push(format!("{what}: the body names the foreign “{name}”"));
                }
            }
        }
    }

    // Last: logging out ends the session.
    let path = logout.expect("the route table has a logout route");
    let c = &walker.user.client;
    let res = c
        .post(app.url(path))
        .form(&[("csrf", walker.user.csrf.as_str())])
        .send()
        .await
        .unwrap();
    if res.status() != StatusCode::SEE_OTHER || res.headers()["location"] != "/login" {
        failures.push(format!(
            "{} POST {path}: expected 303 to /login, got {}",
            walker.label,
            res.status()
        ));
    }
    let res = c.get(app.url("/api/v1/me")).send().await.unwrap();
    if res.status() != StatusCode::UNAUTHORIZED {
        failures.push(format!(
            "{}: after logout /api/v1/me answered {}",
            walker.label,
            res.status()
        ));
    }
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    app.store
        .list_users(&Scope::all())
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == username)
        .unwrap_or_else(|| panic!("user {username}"))
        .id
}

/// A user created directly in the store with the demo password.
async fn add_user(app: &TestApp, username: &str, display: &str, role: Role, org: &str) -> i64 {
    let hash = app
        .store
        .credentials("admin")
        .await
        .unwrap()
        .expect("demo admin")
        .password_hash;
    app.store
        .create_user(
            &Actor::system("test"),
            NewUser {
                username: username.into(),
                display_name: display.into(),
                role,
                org_code: DivisionCode::parse(org).unwrap(),
                password_hash: hash,
            },
        )
        .await
        .unwrap()
        .id
}

/// A household with one person and an enterprise in `village`: `(person, household, enterprise)`.
/// The enterprise is named after the household so that a leak of either is seen.
async fn add_registry(
    app: &TestApp,
    village: &str,
    household: &str,
    person: &str,
    n: u16,
) -> (i64, i64, i64) {
    use xiangzhi_store::registry::{NewEnterprise, NewHousehold, NewPerson, Relation};
    let actor = Actor::system("test");
    let org = DivisionCode::parse(village).unwrap();
    let h = app
        .store
        .create_household(
            &actor,
            NewHousehold {
                household_no: format!("T{village}{n}"),
                address: household.into(),
                org_code: org.clone(),
            },
        )
        .await
        .unwrap();
    let birth = chrono::NaiveDate::from_ymd_opt(1970, 1, n as u32).unwrap();
    let p = app
        .store
        .create_person(
            &actor,
            NewPerson {
                name: person.into(),
                citizen_id: xiangzhi_domain::citizen_id::generate("361002", birth, 400 + n, true),
                phone: None,
                household_id: Some(h.id),
                relation: Some(Relation::Head),
                org_code: None,
                tags: Vec::new(),
            },
        )
        .await
        .unwrap();
    let credit =
        xiangzhi_domain::credit_code::generate(&format!("91361002MA{}{}", &village[6..12], n % 10))
            .unwrap();
    let e = app
        .store
        .create_enterprise(
            &actor,
            NewEnterprise {
                name: format!("{household}企业"),
                credit_code: credit,
                kind: "物流".into(),
                registered_capital: None,
                settled_on: None,
                org_code: org,
                contact_name: None,
                contact_phone: None,
            },
        )
        .await
        .unwrap();
    (p.id, h.id, e.id)
}

/// A ledger entry of `village` for the probed period (the demo's, or a new one) and an
/// attachment stored by a cadre of that village.
async fn add_ledger_records(app: &TestApp, village: &str) -> (i64, String) {
    use xiangzhi_domain::ledger::FieldValue;
    use xiangzhi_store::ledger::{EntryInput, EntryQuery};
    let all = Scope::all();
    let org = DivisionCode::parse(village).unwrap();
    let unit = app.store.org_unit(&all, &org).await.unwrap();
    let q = EntryQuery {
        org: Some(org.clone()),
        period: Some(LEDGER_PERIOD.into()),
        limit: 1,
        ..Default::default()
    };
    let existing = app.store.entries(&all, LEDGER, &q).await.unwrap();
    let id = match existing.first() {
        Some(e) => e.id,
        None => {
            let values = [("sessions", 2), ("people", 80)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), FieldValue::Int(v)))
                .collect();
            app.store
                .save_entry(
                    &Actor::system("test"),
                    LEDGER,
                    EntryInput {
                        id: None,
                        org_code: org.clone(),
                        period: LEDGER_PERIOD.into(),
                        subject: Some(format!("village:{village}")),
                        subject_label: Some(unit.name.clone()),
                        values,
                    },
                )
                .await
                .unwrap()
                .id
        }
    };
    let cadre = Actor {
        user_id: None,
        username: format!("cadre-{village}"),
        role: Some(Role::VillageCadre),
        ip: None,
        scope: Scope::new(unit.path.clone()),
    };
    let sha = app
        .store
        .put_ledger_file(
            &cadre,
            "照片.png",
            "image/png",
            format!("{village} 的照片").as_bytes(),
        )
        .await
        .unwrap();
    (id, sha)
}

struct FinalisedReports {
    touchang: i64,
    shetou: i64,
    township: i64,
}

/// 连城乡's own template and three finalised reports: of 头昌村, of 舍头村 and of the township.
async fn add_reports(app: &TestApp) -> FinalisedReports {
    use xiangzhi_store::report::NewReportFinal;
    let clerk = app
        .store
        .credentials("clerk")
        .await
        .unwrap()
        .expect("demo clerk")
        .user;
    let actor = Actor {
        user_id: Some(clerk.id),
        username: clerk.username.clone(),
        role: Some(clerk.role),
        ip: None,
        scope: clerk.scope(),
    };
    let (t, _) = app
        .store
        .save_report_template(
            &actor,
            REPORT_TEMPLATE,
            "乡村振兴简报",
            "标题：{单位名称}{年}年简报",
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for org in [TOUCHANG, SHETOU, "361002201"] {
        let f = app
            .store
            .finalise_report(
                &actor,
                NewReportFinal {
                    template_code: t.code.clone(),
                    template_version: t.version,
                    org: DivisionCode::parse(org).unwrap(),
                    period: "2023".into(),
                    content_hash: "0".repeat(64),
                    frozen: "{}".into(),
                },
            )
            .await
            .unwrap();
        ids.push(f.id);
    }
    FinalisedReports {
        touchang: ids[0],
        shetou: ids[1],
        township: ids[2],
    }
}

/// The foreign records the walk must leave untouched.
async fn snapshot(app: &TestApp) -> Vec<String> {
    let all = Scope::all();
    let mut s = Vec::new();
    for code in [SHETOU, TONGYUAN_VILLAGE, TOUCHANG, "361002201"] {
        let code = DivisionCode::parse(code).unwrap();
        let u = app.store.org_unit(&all, &code).await.unwrap();
        s.push(format!("{} {} {}", u.code, u.name, u.child_count));
    }
    s.push(format!(
        "{:?}",
        app.store.registry_counts(&all).await.unwrap()
    ));
    for u in app.store.list_users(&all).await.unwrap() {
        s.push(format!("{} {} {}", u.id, u.username, u.active));
    }
    for e in app
        .store
        .entries(
            &all,
            LEDGER,
            &xiangzhi_store::ledger::EntryQuery {
                limit: 5000,
                include_void: true,
                ..Default::default()
            },
        )
        .await
        .unwrap()
    {
        s.push(format!(
            "{} {} {:?} {}",
            e.id, e.void, e.values, e.updated_at
        ));
    }
    s.push(format!(
        "{:?}",
        app.store
            .submission_grid(&all, LEDGER, &[LEDGER_PERIOD.to_string()])
            .await
            .unwrap()
            .iter()
            .map(|c| (c.org_code.to_string(), c.status, c.entries))
            .collect::<Vec<_>>()
    ));
    s
}

#[tokio::test]
async fn no_route_reaches_outside_the_scope() {
    let app = spawn_app().await;
    let shetou_cadre = add_user(&app, "shetou", "舍头村主任", Role::VillageCadre, SHETOU).await;
    add_user(&app, "tyadmin", "桐源乡管理员", Role::Admin, TONGYUAN).await;
    let clerk = user_id(&app, "clerk").await;
    let leader = user_id(&app, "leader").await;
    let cadre_id = user_id(&app, "cadre").await;
    let grid_id = user_id(&app, "grid").await;

    let shetou_rec = add_registry(&app, SHETOU, "舍头测试户", "舍头甲某", 1).await;
    let tongyuan_rec = add_registry(&app, TONGYUAN_VILLAGE, "桐源测试户", "桐源乙某", 2).await;
    let touchang_rec = add_registry(&app, TOUCHANG, "头昌测试户", "头昌丙某", 3).await;

    let (shetou_entry, shetou_file) = add_ledger_records(&app, SHETOU).await;
    let (tongyuan_entry, tongyuan_file) = add_ledger_records(&app, TONGYUAN_VILLAGE).await;
    let (touchang_entry, touchang_file) = add_ledger_records(&app, TOUCHANG).await;

    let reports = add_reports(&app).await;

    let before = snapshot(&app).await;

    let cadre = Walker {
        label: "cadre",
        user: app.login("cadre").await,
        own_code: TOUCHANG,
        free_code: "361002201298",
        codes: [
            SHETOU,
            "361002201208001", // a grid of 舍头村
            "361002201",       // the cadre's own township, above the village
            TONGYUAN_VILLAGE,
            TONGYUAN,
            "361002", // the county
        ]
        .map(String::from)
        .to_vec(),
        user_ids: vec![shetou_cadre, clerk, leader],
        person_ids: vec![shetou_rec.0, tongyuan_rec.0],
        household_ids: vec![shetou_rec.1, tongyuan_rec.1],
        enterprise_ids: vec![shetou_rec.2, tongyuan_rec.2],
        entry_ids: vec![shetou_entry, tongyuan_entry],
        file_shas: vec![
            shetou_file.clone(),
            tongyuan_file.clone(),
            case_file_outside(&app, "/36/3610/361002/361002201/361002201211/").await,
        ],
        case_ids: cases_outside(&app, "/36/3610/361002/361002201/361002201211/").await,
        project_ids: projects_outside(&app, "/36/3610/361002/361002201/361002201211/").await,
        key_person_ids: key_persons_outside(&app, "/36/3610/361002/361002201/361002201211/").await,
        task_ids: tasks_outside(&app, "/36/3610/361002/361002201/361002201211/").await,
        report_ids: vec![reports.shetou, reports.township],
        enrollment_ids: enrollments_outside(&app, "/36/3610/361002/361002201/361002201211/").await,
        payroll_ids: payrolls_outside(&app, "/36/3610/361002/361002201/361002201211/").await,
        foreign_names: [
            SHETOU_NAME,
            TONGYUAN_VILLAGE_NAME,
            "桐源乡",
            "舍头村主任",
            "李办事员",
            "王乡长",
            "连城乡",
            "舍头甲某",
            "桐源乙某",
            "舍头测试户",
            "桐源测试户",
        ]
        .map(String::from)
        .to_vec(),
        outcome: |e| e.cadre,
    };
    let admin = Walker {
        label: "桐源乡 admin",
        user: app.login("tyadmin").await,
        own_code: TONGYUAN_VILLAGE,
        free_code: "361002202298",
        codes: [TOUCHANG, "361002201211001", SHETOU, "361002201", "361002"]
            .map(String::from)
            .to_vec(),
        user_ids: vec![cadre_id, grid_id, shetou_cadre, clerk],
        person_ids: vec![shetou_rec.0, touchang_rec.0],
        household_ids: vec![shetou_rec.1, touchang_rec.1],
        enterprise_ids: vec![shetou_rec.2, touchang_rec.2],
        entry_ids: vec![shetou_entry, touchang_entry],
        file_shas: vec![
            shetou_file.clone(),
            touchang_file.clone(),
            case_file_outside(&app, "/36/3610/361002/361002202/").await,
        ],
        case_ids: cases_outside(&app, "/36/3610/361002/361002202/").await,
        project_ids: projects_outside(&app, "/36/3610/361002/361002202/").await,
        key_person_ids: key_persons_outside(&app, "/36/3610/361002/361002202/").await,
        task_ids: tasks_outside(&app, "/36/3610/361002/361002202/").await,
        report_ids: vec![reports.touchang, reports.shetou, reports.township],
        enrollment_ids: enrollments_outside(&app, "/36/3610/361002/361002202/").await,
        payroll_ids: payrolls_outside(&app, "/36/3610/361002/361002202/").await,
        foreign_names: [
            TOUCHANG_NAME,
            SHETOU_NAME,
            "连城乡",
            "张村主任",
            "刘网格员",
            "舍头村主任",
            "李办事员",
            "舍头甲某",
            "头昌丙某",
            "舍头测试户",
            "头昌测试户",
        ]
        .map(String::from)
        .to_vec(),
        outcome: |e| e.foreign_admin,
    };

    // Positive controls: the same requests inside the scope do work, so the refusals above are
    // about scope and role, not a broken session or token.
    let res = cadre
        .user
        .client
        .get(app.url(&format!("/org/{TOUCHANG}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains(TOUCHANG_NAME));
    let res = admin
        .user
        .client
        .get(app.url(&format!("/api/v1/org/{TONGYUAN_VILLAGE}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let hits: serde_json::Value = cadre
        .user
        .client
        .get(app.url("/api/v1/org?q=%E5%A4%B4%E6%98%8C")) // 头昌
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hits[0]["code"], TOUCHANG, "{hits}");

    let mut failures = Vec::new();
    walk(&app, &cadre, &mut failures).await;
    walk(&app, &admin, &mut failures).await;
    assert!(
        failures.is_empty(),
        "{} access failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "foreign records changed during the walk"
    );
}

#[tokio::test]
async fn searches_do_not_return_foreign_units() {
    let app = spawn_app().await;
    let cadre = app.login("cadre").await;
    for q in ["舍头", SHETOU, "桐源", "361002202", "连城"] {
        let html = cadre
            .client
            .get(app.url(&format!("/org?q={}", enc(q))))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("0 个结果"), "/org?q={q}: {html}");
        assert!(html.contains("您的管辖范围内没有匹配的单位"));
        assert!(!html.contains(SHETOU_NAME) && !html.contains(TONGYUAN_VILLAGE_NAME));
        let hits: serde_json::Value = cadre
            .client
            .get(app.url(&format!("/api/v1/org?q={}", enc(q))))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(hits, serde_json::json!([]), "/api/v1/org?q={q}");
    }
    // A code prefix covering the whole township finds only the cadre's own village and grids.
    let hits: serde_json::Value = cadre
        .client
        .get(app.url("/api/v1/org?q=3610022012"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert!(!codes.is_empty());
    assert!(codes.iter().all(|c| c.starts_with(TOUCHANG)), "{codes:?}");
    // The empty query lists the scope's root: the village itself.
    let roots: serde_json::Value = cadre
        .client
        .get(app.url("/api/v1/org"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(roots.as_array().unwrap().len(), 1, "{roots}");
    assert_eq!(roots[0]["name"], TOUCHANG_NAME);
}

#[tokio::test]
async fn logged_out_every_private_route_redirects_or_401s() {
    let app = spawn_app().await;
    let c = client();
    let pre = app.login_form(&c).await;
    // A public request to read back through the one-request route.
    let made: serde_json::Value = c
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("jurisdiction_id", "361002201211001"),
            ("service_code", "hazard.fire"),
            ("description", "访问检查"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let request_file = format!("{}.json", made[0]["service_request_id"].as_str().unwrap());
    let mut failures = Vec::new();
    for (method, path, public) in routes() {
        let url = path
            .replace("{code}", TOUCHANG)
            .replace("{id}", "1")
            .replace("{program}", "min_living")
            .replace("{service_file}", "hazard.fire.json")
            .replace("{request_file}", &request_file)
            .to_string();
        let req = if method == Method::GET {
            c.get(app.url(&url))
        } else if url.starts_with("/api/") {
            // A valid pre-login token, so the request reaches the handler's login check.
            c.request(method.clone(), app.url(&url))
                .header("x-csrf-token", &pre)
                .json(&serde_json::json!({"name": "匿名网格"}))
        } else {
            c.request(method.clone(), app.url(&url))
                .form(&[("csrf", pre.as_str()), ("name", "匿名网格")])
        };
        let before = app.audit_rows().await;
        let res = req.send().await.unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let body = res.text().await.unwrap();
        let what = format!("{method} {url}");
        if public {
            if method == Method::GET && status != StatusCode::OK {
                failures.push(format!("{what}: public route answered {status}"));
            }
            continue;
        }
        if app.audit_rows().await != before {
            failures.push(format!("{what}: logged out, yet the audit log grew"));
        }
        if url.starts_with("/api/") {
            if status != StatusCode::UNAUTHORIZED || !body.contains("请先登录") {
                failures.push(format!(
                    "{what}: expected 401 请先登录, got {status} {body}"
                ));
            }
        } else if status != StatusCode::SEE_OTHER || location.as_deref() != Some("/login") {
            failures.push(format!(
                "{what}: expected 303 to /login, got {status} {location:?}"
            ));
        }
        if body.contains(TOUCHANG_NAME) {
            failures.push(format!("{what}: logged out, yet the body names 头昌村"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
