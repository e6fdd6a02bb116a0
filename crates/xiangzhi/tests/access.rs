//! Scope and role through the web: walks every route of `xiangzhi_web::route_table()` as every
//! demo role, once with ids from the caller's own scope and once with ids from outside it
//! (another grid, another village, another township, the units above), and asserts the exact
//! outcome of every request.
//!
//! The expected outcome is not typed per cell: each route names what it asks of the caller's
//! role ([`Need`], answered by `Role::can`) and how it treats ids ([`Kind`]); the outcome for a
//! walker follows from its role, its scope and whether the ids are its own:
//! - a role lacking the permission gets the 403 role refusal (outside the scope too, unless the
//!   route looks the record up first: then 404, which tells nothing either);
//! - inside the scope a permitted read answers 200 and a permitted write reaches its handler
//!   (2xx/3xx, or a 4xx about the content of the form: never 403, 404 or 5xx);
//! - outside the scope an id is 404 byte-for-byte like an id that does not exist, a list page
//!   answers 200 naming nothing foreign, and no request leaves an audit row.
//!
//! The county-level roles (系统管理员, 县级审批, 审计员 of 临川区) cover the whole demo county, so
//! their outside walks are made by users of the same role in 桐源乡, whose demo records are
//! loaded for the purpose.
//!
//! A route without an entry in [`EXPECTATIONS`] fails the test, so a new route cannot slip past.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::{Permission, Role};
use xiangzhi_store::{Actor, NewUser, Scope};

/// A valid citizen ID nobody holds, so that bodies fail on scope, not on the ID's checksum.
const VALID_ID: &str = "361002199003070239";
const NOT_FOUND_MSG: &str = "未找到该记录，或不在您的管辖范围内";
const FORBIDDEN_MSG: &str = "无权执行此操作";
const CSRF_MSG: &str = "CSRF";
/// An upload token that was never issued.
const NO_TOKEN: &str = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";

/// 头昌村's first grid: the grid worker's scope.
const GRID: &str = "361002201211001";
/// 连城乡: the township of the demo users and of the report template.
const TOWNSHIP: &str = "361002201";
const COUNTY: &str = "361002";

/// What a route asks of the caller's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    /// No login needed; walked logged out (in `logged_out_every_private_route_redirects_or_401s`).
    Public,
    /// `POST /logout`: ends the session; walked last.
    Logout,
    /// One permission, as `Role::can` answers it.
    P(Permission),
    /// Township office work (projects, tasks, report templates, case settings): `TownshipReview`
    /// or `ManageOrg`, as the web's `manages_township` and the store's `township_only` say.
    Township,
    /// Bulk reminders (催办): leaders and administrators, as the web's `may_remind` says.
    Remind,
    /// County-wide configuration (assistance programs): `ManageOrg` at county level or above.
    CountyAdmin,
    /// 催办 of one case: every role that takes part in the case workflow, all but the auditor
    /// (the case's tier decides further, a refusal about the case, not the role), as the
    /// domain's `check_role` says.
    RemindCase,
    /// Deciding an assistance household's exit (退出, and 风险消除, which exits the monitoring):
    /// village cadres and township staff (`Write`), not the grid worker, who may only enter
    /// applications and visits, as the domain's life cycle says.
    Exit,
}
use Need::*;
use Permission::*;

impl Need {
    /// Whether `role`, placed at org depth `depth` (county = 3), passes the role check.
    fn allows(self, role: Role, depth: usize) -> bool {
        match self {
            Public | Logout => true,
            P(p) => role.can(p),
            Township => role.can(TownshipReview) || role.can(ManageOrg),
            Remind => matches!(
                role,
                Role::Admin | Role::TownshipLeader | Role::CountyApprover
            ),
            CountyAdmin => role.can(ManageOrg) && depth <= 3,
            Exit => role.can(Write) && role != Role::GridWorker,
            RemindCase => role != Role::Auditor,
        }
    }
}

/// How a route treats the ids put into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A page of the caller's own scope: 200 naming nothing foreign; narrowing it to a foreign
    /// unit (`?org=`) is a foreign id like any other.
    List,
    /// A record or unit by id: the role is checked first, then the scope.
    Id,
    /// A record or unit by id (in the path or the form) that is looked up before the role is
    /// checked ("scope before anything else"; workflow steps whose rule depends on the record):
    /// outside the scope 404 whatever the role.
    IdThenRole,
    /// 连城乡's report template: visible at and below the township that wrote it, unknown
    /// elsewhere.
    TownshipOwned,
}
use Kind::*;

/// The outcome a request must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// 200, and nothing outside the walker's scope is named in the body.
    Scoped,
    /// 404, byte-for-byte the same as for an id that does not exist.
    NotFound,
    /// 403: the role refusal.
    Forbidden,
    /// A permitted write inside the scope: the handler takes it (2xx/3xx) or refuses its
    /// content (400/409/422), never by role or scope.
    Reached,
}
use Outcome::*;

struct Expect {
    method: &'static str,
    path: &'static str,
    need: Need,
    kind: Kind,
}

const fn e(method: &'static str, path: &'static str, need: Need, kind: Kind) -> Expect {
    Expect {
        method,
        path,
        need,
        kind,
    }
}

/// Every route: what it asks of the role and how it treats ids. One line per route.
#[rustfmt::skip]
const EXPECTATIONS: &[Expect] = &[
    e("GET", "/healthz", Public, List),
    e("GET", "/static/app.css", Public, List),
    e("GET", "/login", Public, List),
    e("POST", "/login", Public, List),
    e("GET", "/api/v1/openapi.json", Public, List),
    e("GET", "/api/docs", Public, List),
    e("GET", "/open311/v2/services.json", Public, List),
    e("GET", "/open311/v2/services.xml", Public, List),
    e("GET", "/open311/v2/services/{service_file}", Public, List),
    e("GET", "/open311/v2/requests.json", Public, List),
    e("POST", "/open311/v2/requests.json", Public, List),
    e("GET", "/open311/v2/requests.xml", Public, List),
    e("GET", "/open311/v2/requests/{request_file}", Public, List),
    e("POST", "/open311/v2/requests.xml", Public, List),
    e("POST", "/logout", Logout, List),
    e("GET", "/", P(Read), List),
    e("GET", "/org", P(Read), List),
    e("GET", "/org/{code}", P(Read), Id),
    e("POST", "/org/{code}/grids", P(Write), Id),
    e("POST", "/org/{code}/rename", P(ManageOrg), Id),
    e("POST", "/org/{code}/merge", P(ManageOrg), Id),
    e("POST", "/org/{code}/split", P(ManageOrg), Id),
    e("GET", "/persons", P(Read), List),
    e("POST", "/persons", P(Write), Id),
    e("GET", "/persons/{id}", P(Read), Id),
    e("POST", "/persons/{id}", P(Write), Id),
    e("POST", "/persons/{id}/reveal", P(RevealPersonalData), Id),
    e("POST", "/persons/{id}/events", P(Write), Id),
    e("POST", "/persons/{id}/citizen-id", P(CorrectCitizenId), Id),
    e("GET", "/households", P(Read), List),
    e("GET", "/households/{id}", P(Read), Id),
    e("POST", "/households/{id}/events", P(Write), Id),
    e("POST", "/households/{id}/split", P(Write), Id),
    e("GET", "/enterprises", P(Read), List),
    e("GET", "/enterprises/{id}", P(Read), Id),
    e("POST", "/enterprises", P(Write), Id),
    e("POST", "/enterprises/{id}/close", P(Write), Id),
    e("GET", "/registry/duplicates", P(Read), List),
    e("GET", "/registry/import", P(Write), List),
    e("POST", "/registry/import", P(Write), Id),
    e("POST", "/registry/import/{token}/commit", P(Write), Id),
    e("GET", "/registry/import/{token}/errors.xlsx", P(Write), Id),
    e("GET", "/registry/template/{kind}", P(Read), List),
    e("GET", "/ledgers", P(Read), List),
    e("GET", "/ledgers/{ledger}", P(Read), List),
    e("GET", "/ledgers/{ledger}/entries", P(Read), List),
    e("POST", "/ledgers/{ledger}/entries", P(Write), Id),
    e("GET", "/ledgers/{ledger}/entries/new", P(Write), List),
    e("GET", "/ledgers/{ledger}/entries/{id}", P(Read), Id),
    e("POST", "/ledgers/{ledger}/entries/{id}", P(Write), Id),
    e("POST", "/ledgers/{ledger}/entries/{id}/void", P(Write), Id),
    e("POST", "/ledgers/{ledger}/submissions", P(Write), Id),
    e("POST", "/ledgers/{ledger}/roster", P(Write), Id),
    e("GET", "/ledgers/{ledger}/template", P(Read), List),
    e("POST", "/ledgers/{ledger}/import", P(Write), Id),
    e("POST", "/ledgers/{ledger}/import/{token}/commit", P(Write), Id),
    e("GET", "/ledgers/{ledger}/import/{token}/errors.xlsx", P(Write), Id),
    e("GET", "/ledger-files/{sha}", P(Read), Id),
    e("GET", "/todo", P(Read), List),
    e("GET", "/cases", P(Read), List),
    e("POST", "/cases", P(Write), IdThenRole),
    e("GET", "/cases/new", P(Read), List),
    e("GET", "/cases/export.xlsx", P(Read), List),
    e("POST", "/cases/remind", Remind, Id),
    e("GET", "/indicators", P(Read), List),
    e("GET", "/indicators/{indicator}", P(Read), List),
    e("GET", "/indicators/{indicator}/records", P(Read), List),
    e("GET", "/dashboard", P(Read), List),
    e("GET", "/dashboard.xlsx", P(Read), List),
    e("GET", "/data", P(Read), List),
    e("POST", "/data", P(Write), IdThenRole),
    e("POST", "/data/import", P(Write), IdThenRole),
    e("POST", "/data/approval", P(Write), IdThenRole),
    e("GET", "/data/quality", P(Read), List),
    e("GET", "/cases/{id}", P(Read), Id),
    // The walk's action is 催办 (remind).
    e("POST", "/cases/{id}/act", RemindCase, IdThenRole),
    e("POST", "/cases/{id}/attachments", P(Write), IdThenRole),
    e("GET", "/case-files/{sha}", P(Read), Id),
    e("GET", "/case-settings/{code}", P(Read), Id),
    e("POST", "/case-settings/{code}/limits", Township, Id),
    e("POST", "/case-settings/{code}/categories", Township, Id),
    e("GET", "/key-persons", P(Read), List),
    e("POST", "/key-persons", P(Write), IdThenRole),
    e("GET", "/key-persons/new", P(Read), List),
    e("POST", "/key-persons/{id}/visits", P(Write), Id),
    e("GET", "/projects", P(Read), List),
    e("POST", "/projects", Township, Id),
    e("GET", "/projects/new", P(Read), List),
    e("GET", "/projects/{id}", P(Read), Id),
    e("POST", "/projects/{id}", Township, Id),
    e("GET", "/tasks", P(Read), List),
    e("POST", "/tasks", Township, Id),
    e("POST", "/tasks/{id}/progress", P(Write), Id),
    e("GET", "/reports", P(Read), List),
    e("GET", "/reports/templates/{template}", P(Read), TownshipOwned),
    e("POST", "/reports/templates/{template}", Township, TownshipOwned),
    e("POST", "/reports/preview", P(Read), Id),
    e("GET", "/reports/{template}/{code}", P(Read), Id),
    e("POST", "/reports/{template}/{code}/finalise", Township, IdThenRole),
    e("GET", "/reports/finals/{id}", P(Read), Id),
    e("GET", "/assistance", P(Read), List),
    e("GET", "/assistance/roster.xlsx", P(Read), List),
    e("GET", "/assistance/apply", P(Read), List),
    e("POST", "/assistance/enrollments", P(Write), IdThenRole),
    e("GET", "/assistance/enrollments/{id}", P(Read), Id),
    // The walk's step is 退出 (exit).
    e("POST", "/assistance/enrollments/{id}/step", Exit, IdThenRole),
    e("POST", "/assistance/enrollments/{id}/account", P(Write), IdThenRole),
    e("GET", "/assistance/enrollments/{id}/monitoring", P(Read), Id),
    e("POST", "/assistance/enrollments/{id}/monitoring", P(Write), IdThenRole),
    // Clearing a household's risk exits it from the monitoring: a decision, not a grid report.
    e("POST", "/assistance/enrollments/{id}/clear-risk", Exit, IdThenRole),
    e("GET", "/assistance/villages", P(Read), List),
    e("GET", "/assistance/villages/{code}", P(Read), Id),
    e("GET", "/assistance/notice", P(Read), List),
    e("GET", "/assistance/notice.docx", P(Read), List),
    e("GET", "/assistance/payrolls", P(Read), List),
    e("POST", "/assistance/payrolls", P(Write), Id),
    e("GET", "/assistance/payrolls/{id}", P(Read), Id),
    e("POST", "/assistance/payrolls/{id}/approve", P(TownshipReview), Id),
    e("POST", "/assistance/payrolls/{id}/bank-file", P(RevealPersonalData), Id),
    e("POST", "/assistance/payrolls/{id}/lines", P(Write), IdThenRole),
    e("POST", "/assistance/payrolls/{id}/reconcile", P(TownshipReview), Id),
    e("GET", "/assistance/payouts", P(Read), List),
    e("GET", "/assistance/payouts/new", P(Read), List),
    // The role first (the form says the role cannot record), then the recipient's scope.
    e("POST", "/assistance/payouts", P(Write), Id),
    e("GET", "/assistance/checks", P(Read), List),
    e("GET", "/assistance/programs", P(Read), List),
    e("GET", "/assistance/programs/{program}", P(Read), List),
    e("POST", "/assistance/programs/{program}", CountyAdmin, List),
    e("GET", "/users", P(ManageUsers), List),
    e("POST", "/users", P(ManageUsers), Id),
    e("POST", "/users/{id}/active", P(ManageUsers), Id),
    e("POST", "/users/{id}/password", P(ManageUsers), Id),
    e("GET", "/audit", P(ViewAudit), List),
    e("GET", "/api/v1/me", P(Read), List),
    e("GET", "/api/v1/org", P(Read), List),
    e("GET", "/api/v1/org/{code}", P(Read), Id),
    e("GET", "/api/v1/org/{code}/children", P(Read), Id),
    e("GET", "/api/v1/org/{code}/history", P(Read), Id),
    e("POST", "/api/v1/org/{code}/grids", P(Write), Id),
    e("GET", "/api/v1/users", P(ManageUsers), List),
    e("GET", "/api/v1/audit", P(ViewAudit), List),
    e("GET", "/api/v1/ledgers", P(Read), List),
    e("GET", "/api/v1/ledgers/{ledger}/entries", P(Read), List),
    e("GET", "/api/v1/ledgers/{ledger}/aggregate", P(Read), List),
    e("GET", "/api/v1/cases", P(Read), List),
    e("GET", "/api/v1/cases/{id}", P(Read), Id),
];

impl Expect {
    /// The outcome for `walker` (its role, its scope, and whether its ids are its own).
    fn outcome(&self, walker: &Walker, method: &Method) -> Outcome {
        let allowed = self.need.allows(walker.role, walker.depth);
        if walker.inside {
            return match (allowed, method == Method::GET) {
                (false, _) => Forbidden,
                (true, true) => Scoped,
                (true, false) => Reached,
            };
        }
        match self.kind {
            IdThenRole => NotFound,
            _ if !allowed => Forbidden,
            List => Scoped,
            Id => NotFound,
            TownshipOwned if walker.scope_path.starts_with(&path_of(TOWNSHIP)) => Scoped,
            TownshipOwned => NotFound,
        }
    }
}

/// The report template the walk probes: written by 连城乡's clerk.
const REPORT_TEMPLATE: &str = "lianchen_brief";

/// The indicator the walk probes: a ledger sum of the seed pack.
const INDICATOR: &str = "GRAIN_AREA";

/// The ledger the walk probes: monthly, filled by villages, one row per village.
const LEDGER: &str = "anti_fraud";
const LEDGER_PERIOD: &str = "202301";

/// The stored org path of a division code: `/36/3610/361002/361002201/`.
fn path_of(code: &str) -> String {
    let mut p = String::from("/");
    for len in [2, 4, 6, 9, 12, 15] {
        if len <= code.len() {
            p.push_str(&code[..len]);
            p.push('/');
        }
    }
    p
}

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
            Some(e) => assert_eq!(
                e.need == Public,
                public,
                "{method} {path}: the route table says public={public}, the expectation disagrees"
            ),
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

/// Both answers of every need are walked: some demo role passes it (so an inside walk takes
/// the permitted path) and some role is refused (so the 403 is seen too), except reading,
/// which every role may. The role rules are those of `Role::can`.
#[test]
fn every_need_is_met_and_refused_by_some_walked_role() {
    for need in EXPECTATIONS.iter().map(|e| e.need) {
        if matches!(need, Public | Logout) {
            continue;
        }
        let allowed: Vec<bool> = Role::ALL.iter().map(|r| need.allows(*r, 3)).collect();
        assert!(allowed.contains(&true), "{need:?} is met by no role");
        assert!(
            need == P(Read) || allowed.contains(&false),
            "{need:?} is refused to no role"
        );
    }
    assert!(!P(Write).allows(Role::Auditor, 3) && !P(Write).allows(Role::CountyApprover, 3));
    assert!(P(Write).allows(Role::GridWorker, 5));
    assert!(CountyAdmin.allows(Role::Admin, 3) && !CountyAdmin.allows(Role::Admin, 4));
    assert!(Exit.allows(Role::VillageCadre, 5) && !Exit.allows(Role::GridWorker, 6));
}

/// Who walks, with which ids, and what must never show up in their responses.
struct Walker {
    label: String,
    role: Role,
    /// Depth of the walker's unit (county = 3), for the county-level rules.
    depth: usize,
    /// The walker's scope: its unit's org path.
    scope_path: String,
    /// Ids of its own scope (the permitted outcome) or of outside it (refusals).
    inside: bool,
    user: TestUser,
    /// A unit of the walker's own scope, put into bodies next to a foreign path id.
    own_code: String,
    /// A code nobody uses yet, for the unit a split would create.
    free_code: &'static str,
    codes: Vec<String>,
    user_ids: Vec<i64>,
    person_ids: Vec<i64>,
    household_ids: Vec<i64>,
    enterprise_ids: Vec<i64>,
    entry_ids: Vec<i64>,
    ledger_shas: Vec<String>,
    case_shas: Vec<String>,
    case_ids: Vec<i64>,
    key_person_ids: Vec<i64>,
    task_ids: Vec<i64>,
    report_ids: Vec<i64>,
    project_ids: Vec<i64>,
    enrollment_ids: Vec<i64>,
    /// Enrollments of the monitoring program (防返贫监测), which its own pages take.
    monitoring_ids: Vec<i64>,
    payroll_ids: Vec<i64>,
    /// Upload tokens of a registry and a ledger import: the walker's own (uploaded first by an
    /// inside walker that may write) or one that was never issued.
    registry_token: String,
    ledger_token: String,
    /// Names of records outside the scope (empty for an inside walk).
    foreign_names: Vec<String>,
}

/// Every record the walks probe, each with the org path it belongs to.
#[derive(Default)]
struct Pool {
    units: Vec<(String, String)>,
    unit_names: Vec<(String, String)>,
    /// Names of users and registry records.
    names: Vec<(String, String)>,
    users: Vec<(i64, String)>,
    persons: Vec<(i64, String)>,
    households: Vec<(i64, String)>,
    enterprises: Vec<(i64, String)>,
    entries: Vec<(i64, String)>,
    ledger_files: Vec<(String, String)>,
    case_files: Vec<(String, String)>,
    cases: Vec<(i64, String)>,
    key_persons: Vec<(i64, String)>,
    tasks: Vec<(i64, String)>,
    projects: Vec<(i64, String)>,
    reports: Vec<(i64, String)>,
    enrollments: Vec<(i64, String)>,
    monitored: Vec<(i64, String)>,
    payrolls: Vec<(i64, String)>,
    /// Records that change state under an inside walk (a case reminded, an enrollment exited)
    /// go to one walker each, so that each walker meets them in the state the walk needs.
    claimed: std::sync::Mutex<std::collections::HashSet<(&'static str, i64)>>,
}

/// The records of `pool` inside `scope` (the first one: the permitted path needs one) or
/// outside it (the first, a middle and the last, so different units and kinds are probed).
fn pick<T: Clone + PartialEq>(pool: &[(T, String)], scope: &str, inside: bool) -> Vec<T> {
    let matching: Vec<T> = pool
        .iter()
        .filter(|(_, path)| path.starts_with(scope) == inside)
        .map(|(v, _)| v.clone())
        .collect();
    if inside || matching.is_empty() {
        return matching.into_iter().take(1).collect();
    }
    let mut out = Vec::new();
    for i in [0, matching.len() / 2, matching.len() - 1] {
        if !out.contains(&matching[i]) {
            out.push(matching[i].clone());
        }
    }
    out
}

impl Pool {
    /// [`pick`], but inside the scope the first record no other walker has taken yet.
    fn claim(
        &self,
        kind: &'static str,
        pool: &[(i64, String)],
        scope: &str,
        inside: bool,
    ) -> Vec<i64> {
        if !inside {
            return pick(pool, scope, false);
        }
        let mut claimed = self.claimed.lock().unwrap();
        let mine = pool
            .iter()
            .find(|(id, p)| p.starts_with(scope) && !claimed.contains(&(kind, *id)));
        match mine {
            Some((id, _)) => {
                claimed.insert((kind, *id));
                vec![*id]
            }
            None => pick(pool, scope, true),
        }
    }

    /// A walker for `username` with ids from inside or outside its scope.
    async fn walker(&self, app: &TestApp, username: &str, inside: bool) -> Walker {
        let u = app
            .store
            .credentials(username)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("user {username}"))
            .user;
        let scope = u.org_path.as_str().to_string();
        let depth = scope.matches('/').count() - 1;
        let own_code = [TOUCHANG, GRID]
            .into_iter()
            .find(|c| path_of(c).starts_with(&scope))
            .unwrap_or(u.org_code.as_str())
            .to_string();
        let codes = if inside {
            vec![own_code.clone()]
        } else {
            self.units
                .iter()
                .filter(|(_, p)| !p.starts_with(&scope))
                .map(|(c, _)| c.clone())
                .collect()
        };
        // Names of records, users and units outside the scope; not those of the units above
        // the walker's own, where its records lie (a grid's case may well say "头昌村委会：…").
        let foreign_names = if inside {
            Vec::new()
        } else {
            self.names
                .iter()
                .filter(|(_, p)| !p.starts_with(&scope))
                .chain(
                    self.unit_names
                        .iter()
                        .filter(|(_, p)| !p.starts_with(&scope) && !scope.starts_with(p.as_str())),
                )
                .map(|(n, _)| n.clone())
                .collect()
        };
        let mut walker = Walker {
            label: format!(
                "{} {} ({})",
                u.role.label(),
                username,
                if inside { "own ids" } else { "foreign ids" }
            ),
            role: u.role,
            depth,
            scope_path: scope.clone(),
            inside,
            user: app.login(username).await,
            free_code: if scope.starts_with(&path_of(TOWNSHIP)) {
                "361002201298"
            } else {
                "361002202298"
            },
            own_code,
            codes,
            user_ids: pick(&self.users, &scope, inside),
            person_ids: pick(&self.persons, &scope, inside),
            household_ids: pick(&self.households, &scope, inside),
            enterprise_ids: pick(&self.enterprises, &scope, inside),
            entry_ids: pick(&self.entries, &scope, inside),
            ledger_shas: pick(&self.ledger_files, &scope, inside),
            case_shas: pick(&self.case_files, &scope, inside),
            case_ids: self.claim("case", &self.cases, &scope, inside),
            key_person_ids: pick(&self.key_persons, &scope, inside),
            task_ids: pick(&self.tasks, &scope, inside),
            report_ids: pick(&self.reports, &scope, inside),
            project_ids: pick(&self.projects, &scope, inside),
            enrollment_ids: self.claim("enrollment", &self.enrollments, &scope, inside),
            monitoring_ids: self.claim("enrollment", &self.monitored, &scope, inside),
            registry_token: NO_TOKEN.to_string(),
            ledger_token: NO_TOKEN.to_string(),
            payroll_ids: pick(&self.payrolls, &scope, inside),
            foreign_names,
        };
        if inside && walker.role.can(Write) {
            walker.registry_token = own_upload(
                app,
                &walker,
                "/registry/import",
                "姓名,身份证号\n本单位导入,36100219900307021X\n",
            )
            .await;
            walker.ledger_token = own_upload(
                app,
                &walker,
                &format!("/ledgers/{LEDGER}/import"),
                &format!(
                    "单位代码,期间,宣传场次（场）\n{},{LEDGER_PERIOD},很多\n",
                    walker.own_code
                ),
            )
            .await;
        }
        walker
    }
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
    } else if path.ends_with("/monitoring") || path.ends_with("/clear-risk") {
        &walker.monitoring_ids
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
    let tokens = vec![if path.starts_with("/ledgers/") {
        walker.ledger_token.clone()
    } else {
        walker.registry_token.clone()
    }];
    let shas = if path.starts_with("/ledger-files/") {
        &walker.ledger_shas
    } else {
        &walker.case_shas
    };
    let kinds = vec!["persons.xlsx".to_string()];
    for (param, values) in [
        ("{code}", &walker.codes),
        ("{id}", &ids),
        ("{token}", &tokens),
        ("{kind}", &kinds),
        ("{ledger}", &vec![LEDGER.to_string()]),
        ("{template}", &vec![REPORT_TEMPLATE.to_string()]),
        ("{indicator}", &vec![INDICATOR.to_string()]),
        ("{sha}", shas),
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
        vec![
            ("into", walker.own_code.as_str()),
            ("effective", "2024-01-01"),
        ]
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

/// What the walks found and how much they checked.
#[derive(Default)]
struct Tally {
    failures: Vec<String>,
    /// `(method path, role, inside)` combinations probed.
    checks: std::collections::BTreeSet<(String, &'static str, bool)>,
    requests: usize,
    /// Permitted writes inside the scope whose form content the handler refused (4xx), with
    /// the handler's message (printed with `XIANGZHI_ACCESS_VERBOSE=1`).
    content_refusals: Vec<String>,
    /// `(method path, role, inside)` combinations without a record to probe them with.
    unprobed: Vec<String>,
}

/// The message of an error page, or the start of any other body.
fn error_text(body: &str) -> String {
    if let Some(at) = body.find("class=\"error\"")
        && let Some(start) = body[at..].find('>')
    {
        let rest = &body[at + start + 1..];
        return rest[..rest.find('<').unwrap_or(rest.len())]
            .trim()
            .to_string();
    }
    body.chars().take(300).collect()
}

/// Uploads `csv` to `url` (an import form) as `walker`, for its own unit, and returns the
/// upload token the answer names. The file has a bad row, so both the error report and the
/// commit (refused on content) can be probed with it.
async fn own_upload(app: &TestApp, walker: &Walker, url: &str, csv: &str) -> String {
    let form = reqwest::multipart::Form::new()
        .text("csrf", walker.user.csrf.clone())
        .text("kind", "persons")
        .text("org", walker.own_code.clone())
        .text("period", LEDGER_PERIOD)
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("本单位.csv"),
        );
    let body = walker
        .user
        .client
        .post(app.url(url))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = format!("{url}/");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("{}: no upload token in {}", walker.label, error_text(&body)))
        + marker.len();
    body[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect()
}

/// The id of the newest audit row written by `username` (0 if none).
async fn last_audit_id(app: &TestApp, username: &str) -> i64 {
    let filter = xiangzhi_store::AuditFilter {
        actor: Some(username.to_string()),
        limit: 1,
        ..Default::default()
    };
    app.store
        .audit_list(&Scope::all(), &filter)
        .await
        .unwrap()
        .first()
        .map_or(0, |a| a.id)
}

async fn walk(app: &TestApp, walker: &Walker, tally: &mut Tally) {
    // The answer for an id that does not exist, to compare foreign 404s with.
    let nonexistent_page = walker.user.page(app, "/org/361002201299").await;
    let nonexistent_api = walker.user.page(app, "/api/v1/org/361002201299").await;
    let username = walker.user.username.as_str();
    let mut logout = None;
    for (method, path, _) in routes() {
        let Some(e) = expectation(&method, path) else {
            continue; // reported by every_route_has_an_access_expectation
        };
        match e.need {
            Public => continue, // walked logged out in its own test
            Logout => {
                logout = Some(path);
                continue;
            }
            _ => {}
        }
        // 连城乡's template is no foreign record to the township's own staff: their inside walk
        // takes it.
        if !walker.inside && e.kind == TownshipOwned && walker.scope_path == path_of(TOWNSHIP) {
            continue;
        }
        let route_outcome = e.outcome(walker, &method);
        let urls = probes(walker, &method, path);
        if urls.is_empty() {
            tally
                .unprobed
                .push(format!("{} {method} {path}", walker.label));
        } else {
            tally.checks.insert((
                format!("{method} {path}"),
                walker.role.as_str(),
                walker.inside,
            ));
        }
        for url in urls {
            tally.requests += 1;
            let before = last_audit_id(app, username).await;
            let res = request(app, walker, &method, &url).send().await.unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            let what = format!("{} {method} {url}", walker.label);
            // Narrowing a list to a foreign unit is itself a foreign id: 404, like any other.
            let expected = if !walker.inside && route_outcome == Scoped && url.contains("?org=") {
                NotFound
            } else {
                route_outcome
            };
            // Only a permitted request inside the scope may leave an audit row.
            if (!walker.inside || expected == Forbidden)
                && last_audit_id(app, username).await != before
            {
                tally.failures.push(format!("{what}: the audit log grew"));
            }
            for name in &walker.foreign_names {
                if let Some(at) = body.find(name.as_str()) {
                    let mut start = at.saturating_sub(60);
                    while !body.is_char_boundary(start) {
                        start -= 1;
                    }
                    let context: String = body[start..].chars().take(80).collect();
                    tally.failures.push(format!(
                        "{what}: the body names the foreign “{name}”: …{context}…"
                    ));
                }
            }
            let short = || error_text(&body);
            match expected {
                Scoped if status != StatusCode::OK => {
                    tally
                        .failures
                        .push(format!("{what}: expected 200, got {status}: {}", short()));
                }
                NotFound => {
                    if status != StatusCode::NOT_FOUND {
                        tally
                            .failures
                            .push(format!("{what}: expected 404, got {status}: {}", short()));
                        continue;
                    }
                    if !body.contains(NOT_FOUND_MSG) {
                        tally
                            .failures
                            .push(format!("{what}: 404 without the Chinese message"));
                    }
                    let same = if url.starts_with("/api/") {
                        &nonexistent_api
                    } else {
                        &nonexistent_page
                    };
                    if &body != same {
                        tally.failures.push(format!(
                            "{what}: the 404 differs from the one for a code that does not exist"
                        ));
                    }
                }
                Forbidden
                    if status != StatusCode::FORBIDDEN
                        || !body.contains(FORBIDDEN_MSG)
                        || body.contains(CSRF_MSG) =>
                {
                    tally.failures.push(format!(
                        "{what}: expected the 403 role refusal, got {status}: {}",
                        short()
                    ));
                }
                Reached => {
                    let content = matches!(status.as_u16(), 400 | 409 | 422);
                    if content {
                        tally
                            .content_refusals
                            .push(format!("{what}: {status} {}", short()));
                    }
                    if !(status.is_success() || status.is_redirection() || content) {
                        tally.failures.push(format!(
                            "{what}: a permitted write inside the scope got {status}: {}",
                            short()
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    if !walker.inside {
        merge_into_foreign_units(app, walker, tally).await;
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
        tally.failures.push(format!(
            "{} POST {path}: expected 303 to /login, got {}",
            walker.label,
            res.status()
        ));
    }
    let res = c.get(app.url("/api/v1/me")).send().await.unwrap();
    if res.status() != StatusCode::UNAUTHORIZED {
        tally.failures.push(format!(
            "{}: after logout /api/v1/me answered {}",
            walker.label,
            res.status()
        ));
    }
}

/// A foreign id in the body instead of the path: merging one's own unit into a foreign unit is
/// refused the same way (by role, or by scope for an administrator).
async fn merge_into_foreign_units(app: &TestApp, walker: &Walker, tally: &mut Tally) {
    let Some(e) = expectation(&Method::POST, "/org/{code}/merge") else {
        return;
    };
    let want = if e.need.allows(walker.role, walker.depth) {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::FORBIDDEN
    };
    let username = walker.user.username.as_str();
    for into in &walker.codes {
        let url = format!("/org/{}/merge", walker.own_code);
        let before = last_audit_id(app, username).await;
        tally.requests += 1;
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
        let what = format!("{} POST {url} into={into}", walker.label);
        if status != want {
            tally
                .failures
                .push(format!("{what}: expected {want}, got {status}"));
        }
        if last_audit_id(app, username).await != before {
            tally.failures.push(format!("{what}: the audit log grew"));
        }
        for name in &walker.foreign_names {
            if body.contains(name.as_str()) {
                tally
                    .failures
                    .push(format!("{what}: the body names the foreign “{name}”"));
            }
        }
    }
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

/// 连城乡's own template, and reports finalised from it for 头昌村, 舍头村, the township, 桐源村
/// and 头昌村's first grid: `(id, org path)`.
async fn add_reports(app: &TestApp) -> Vec<(i64, String)> {
    use xiangzhi_report::service;
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
    app.store
        .save_report_template(
            &actor,
            REPORT_TEMPLATE,
            "乡村振兴简报",
            "标题：{单位名称}{年}年简报",
        )
        .await
        .unwrap();
    let period = service::parse_period("2023").unwrap();
    let mut ids = Vec::new();
    for org in [TOUCHANG, SHETOU, TOWNSHIP, TONGYUAN_VILLAGE, GRID] {
        let report = service::render_report(
            app.store.clone(),
            &Scope::all(),
            REPORT_TEMPLATE,
            None,
            &DivisionCode::parse(org).unwrap(),
            &period,
        )
        .await
        .unwrap();
        let (f, _) = service::finalise(app.store.as_ref(), &Actor::system("test"), &report)
            .await
            .unwrap();
        ids.push((f.id, path_of(org)));
    }
    ids
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

/// Records of every kind in 桐源乡, the second township (the demo fills only 连城乡): a
/// household with a person, a case, a key person, a project, a task, enrollments (one monitored) and a payroll
/// (its finalised report is made with the others in [`add_reports`]).
async fn add_second_township(app: &TestApp, person: i64, household: i64) {
    use xiangzhi_domain::assistance_lifecycle::ApplySource;
    use xiangzhi_store::assistance::NewEnrollment;
    use xiangzhi_store::case::{
        NewCase, NewKeyPerson, NewTask, ProjectInput, ProjectKind, ProjectStage,
    };
    let actor = Actor::system("test");
    let village = DivisionCode::parse(TONGYUAN_VILLAGE).unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
    app.store
        .register_case(
            &actor,
            &Default::default(),
            NewCase {
                category: "dispute.neighbour".into(),
                title: "桐源邻里纠纷".into(),
                description: "桐源测试事件".into(),
                org_code: village.clone(),
                location: String::new(),
                urgent: false,
                risk: None,
                source: "window".into(),
                parties: Vec::new(),
                registered_on: day,
            },
        )
        .await
        .unwrap();
    app.store
        .add_key_person(
            &actor,
            NewKeyPerson {
                person_id: person,
                categories: vec!["released_prisoner".into()],
                risk: 1,
                cadre: "桐源专人".into(),
                note: String::new(),
                since: day,
            },
        )
        .await
        .unwrap();
    app.store
        .add_task(
            &actor,
            NewTask {
                title: "桐源督办任务".into(),
                description: String::new(),
                org_code: village.clone(),
                owner: "桐源责任人".into(),
                assigned_on: day,
                deadline: chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
            },
        )
        .await
        .unwrap();
    app.store
        .save_project(
            &actor,
            ProjectInput {
                id: None,
                name: "桐源重点项目".into(),
                kind: ProjectKind::Key,
                stage: ProjectStage::Talks,
                org_code: village.clone(),
                planned_yuan: 1_000_000,
                completed_yuan: 0,
                funds_won_yuan: 0,
                year: 2024,
                note: String::new(),
                enterprise_ids: Vec::new(),
                members: Vec::new(),
            },
        )
        .await
        .unwrap();
    app.store
        .apply(
            &actor,
            NewEnrollment {
                program: "min_living".into(),
                household_id: Some(household),
                person_id: None,
                category: "rural".into(),
                source: ApplySource::Household,
                applied_on: day,
                note: String::new(),
            },
        )
        .await
        .unwrap();
    app.store
        .apply(
            &actor,
            NewEnrollment {
                program: xiangzhi_domain::assistance::MONITORING.into(),
                household_id: Some(household),
                person_id: None,
                category: "sudden_hardship".into(),
                source: ApplySource::CadreScreening,
                applied_on: day,
                note: String::new(),
            },
        )
        .await
        .unwrap();
    app.store
        .generate_payroll(
            &actor,
            "min_living",
            &DivisionCode::parse(TONGYUAN).unwrap(),
            "202401",
        )
        .await
        .unwrap();
}

/// A project and a payroll of 头昌村 and of its first grid, and a task of the grid (the demo
/// keeps these at the township and the villages), so that the village cadre's and the grid
/// worker's own walks have them too.
async fn add_unit_records(app: &TestApp) {
    use xiangzhi_store::case::{NewTask, ProjectInput, ProjectKind, ProjectStage};
    let actor = Actor::system("test");
    for (code, period) in [(TOUCHANG, "202402"), (GRID, "202403")] {
        let org = DivisionCode::parse(code).unwrap();
        app.store
            .save_project(
                &actor,
                ProjectInput {
                    id: None,
                    name: format!("{code}产业项目"),
                    kind: ProjectKind::Key,
                    stage: ProjectStage::Talks,
                    org_code: org.clone(),
                    planned_yuan: 500_000,
                    completed_yuan: 0,
                    funds_won_yuan: 0,
                    year: 2024,
                    note: String::new(),
                    enterprise_ids: Vec::new(),
                    members: Vec::new(),
                },
            )
            .await
            .unwrap();
        app.store
            .generate_payroll(&actor, "child_in_difficulty", &org, period)
            .await
            .unwrap();
    }
    app.store
        .add_task(
            &actor,
            NewTask {
                title: "网格督办任务".into(),
                description: String::new(),
                org_code: DivisionCode::parse(GRID).unwrap(),
                owner: "刘网格员".into(),
                assigned_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
                deadline: chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
            },
        )
        .await
        .unwrap();
}

/// The ids of every record the walks probe, with their org paths.
async fn build_pool(app: &TestApp, victim: i64) -> Pool {
    use xiangzhi_domain::assistance_lifecycle::EnrollmentStatus;
    use xiangzhi_store::assistance::EnrollmentQuery;
    use xiangzhi_store::case::{CaseQuery, KeyPersonQuery, TaskQuery};
    let all = Scope::all();
    let mut pool = Pool::default();
    for code in [
        GRID,
        "361002201211002",
        TOUCHANG,
        SHETOU,
        TOWNSHIP,
        TONGYUAN_VILLAGE,
        TONGYUAN,
        COUNTY,
    ] {
        pool.units.push((code.to_string(), path_of(code)));
    }
    for (name, code) in [
        (TOUCHANG_NAME, TOUCHANG),
        (SHETOU_NAME, SHETOU),
        (TONGYUAN_VILLAGE_NAME, TONGYUAN_VILLAGE),
        ("桐源乡", TONGYUAN),
        ("连城乡", TOWNSHIP),
    ] {
        pool.unit_names.push((name.to_string(), path_of(code)));
    }
    // The user records changed inside the scope are the victim's, never a walker's own.
    pool.users.push((victim, path_of(GRID)));
    for u in app.store.list_users(&all).await.unwrap() {
        if u.id != victim {
            pool.users.push((u.id, u.org_path.as_str().to_string()));
        }
        // The county's users are named after their roles, which every page lists.
        if u.org_path.as_str().len() > path_of(COUNTY).len() {
            pool.names
                .push((u.display_name.clone(), u.org_path.as_str().to_string()));
        }
    }
    for (village, household, person, n) in [
        (GRID, "网格测试户", "网格丁某", 4),
        (TOUCHANG, "头昌测试户", "头昌丙某", 3),
        (SHETOU, "舍头测试户", "舍头甲某", 1),
        (TONGYUAN_VILLAGE, "桐源测试户", "桐源乙某", 2),
    ] {
        let (p, h, e) = add_registry(app, village, household, person, n).await;
        let path = path_of(village);
        pool.persons.push((p, path.clone()));
        pool.households.push((h, path.clone()));
        pool.enterprises.push((e, path.clone()));
        pool.names.push((household.to_string(), path.clone()));
        pool.names.push((person.to_string(), path));
    }
    for village in [TOUCHANG, SHETOU, TONGYUAN_VILLAGE] {
        let (entry, file) = add_ledger_records(app, village).await;
        pool.entries.push((entry, path_of(village)));
        pool.ledger_files.push((file, path_of(village)));
    }
    let in_tongyuan = |v: &[(i64, String)]| {
        v.iter()
            .find(|(_, p)| p == &path_of(TONGYUAN_VILLAGE))
            .unwrap()
            .0
    };
    add_second_township(
        app,
        in_tongyuan(&pool.persons),
        in_tongyuan(&pool.households),
    )
    .await;
    add_unit_records(app).await;
    let cases = app
        .store
        .cases(
            &all,
            &CaseQuery {
                limit: 100_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Open cases first: a closed one refuses a reminder whoever sends it.
    let mut cases: Vec<(bool, i64, String)> = cases
        .iter()
        .map(|c| {
            (
                !c.state.status.is_open(),
                c.id,
                c.org_path.as_str().to_string(),
            )
        })
        .collect();
    cases.sort();
    let cases: Vec<(i64, String)> = cases.into_iter().map(|(_, id, p)| (id, p)).collect();
    // A file on a case of each unit, so that serving attachments by hash is probed too.
    for unit in [GRID, TOUCHANG, SHETOU, TONGYUAN] {
        let unit_path = path_of(unit);
        let Some((case, path)) = cases.iter().find(|(_, p)| {
            p.starts_with(&unit_path) && (unit != TOUCHANG || !p.starts_with(&path_of(GRID)))
        }) else {
            continue;
        };
        let sha = app
            .store
            .attach_case_file(
                &Actor::system("test"),
                *case,
                "现场.png",
                "image/png",
                format!("事件{case}的现场照片").as_bytes(),
            )
            .await
            .unwrap()
            .sha256;
        pool.case_files.push((sha, path.clone()));
    }
    pool.cases = cases;
    pool.key_persons = app
        .store
        .key_persons(&all, &KeyPersonQuery::default())
        .await
        .unwrap()
        .iter()
        .map(|k| (k.id, k.org_path.as_str().to_string()))
        .collect();
    pool.tasks = app
        .store
        .tasks(
            &all,
            // A finished task refuses any report anyway, which would prove nothing about scope.
            &TaskQuery {
                open_only: true,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .iter()
        .map(|t| (t.id, t.org_path.as_str().to_string()))
        .collect();
    pool.projects = app
        .store
        .projects(&all, None)
        .await
        .unwrap()
        .iter()
        .map(|p| (p.id, p.org_path.as_str().to_string()))
        .collect();
    let mut inactive = std::collections::HashSet::new();
    for e in app
        .store
        .enrollments(
            &all,
            &EnrollmentQuery {
                limit: 100_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
    {
        let into = if e.program_code == xiangzhi_domain::assistance::MONITORING {
            &mut pool.monitored
        } else {
            &mut pool.enrollments
        };
        into.push((e.id, e.org_path.as_str().to_string()));
        if e.state.status != EnrollmentStatus::Active {
            inactive.insert(e.id);
        }
    }
    // Households on the roll first: an exited one refuses another exit whoever asks.
    for list in [&mut pool.enrollments, &mut pool.monitored] {
        list.sort_by_key(|(id, _)| (inactive.contains(id), *id));
    }
    pool.payrolls = app
        .store
        .payrolls(&all, None)
        .await
        .unwrap()
        .iter()
        .map(|p| (p.id, p.org_path.as_str().to_string()))
        .collect();
    pool.reports = add_reports(app).await;
    pool
}

/// Each demo role, and the user walking outside its scope (the county-level roles cover the
/// whole demo county, so users of the same role in 桐源乡 stand in for them).
const ROLES: [(&str, &str); 7] = [
    ("admin", "tyadmin"),
    ("leader", "leader"),
    ("clerk", "clerk"),
    ("cadre", "cadre"),
    ("grid", "grid"),
    ("county", "tycounty"),
    ("auditor", "tyauditor"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_reaches_its_scope_and_nothing_else() {
    let app = spawn_app().await;
    add_user(&app, "shetou", "舍头村主任", Role::VillageCadre, SHETOU).await;
    add_user(&app, "tyadmin", "桐源乡管理员", Role::Admin, TONGYUAN).await;
    add_user(
        &app,
        "tycounty",
        "桐源乡审批员",
        Role::CountyApprover,
        TONGYUAN,
    )
    .await;
    add_user(&app, "tyauditor", "桐源乡审计员", Role::Auditor, TONGYUAN).await;
    let victim = add_user(&app, "victim", "网格测试员", Role::GridWorker, GRID).await;
    let pool = build_pool(&app, victim).await;
    let mut tally = Tally::default();

    // Outside the scope first: nothing foreign may change, so compare before and after.
    let before = snapshot(&app).await;
    for (_, outside) in ROLES {
        let walker = pool.walker(&app, outside, false).await;
        walk(&app, &walker, &mut tally).await;
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "foreign records changed during the walks outside the scope"
    );
    // Then inside: the same routes with the walker's own ids.
    for (own, _) in ROLES {
        let walker = pool.walker(&app, own, true).await;
        walk(&app, &walker, &mut tally).await;
    }
    app.audit_rows().await; // the chain still verifies
    println!(
        "access matrix: {} route × role checks ({} routes × {} roles, inside and outside the scope), {} requests, {} permitted writes refused on content",
        tally.checks.len(),
        EXPECTATIONS
            .iter()
            .filter(|e| !matches!(e.need, Public | Logout))
            .count(),
        ROLES.len(),
        tally.requests,
        tally.content_refusals.len()
    );
    println!(
        "not probed for want of a record in the scope: {}",
        tally.unprobed.join("; ")
    );
    if std::env::var_os("XIANGZHI_ACCESS_VERBOSE").is_some() {
        println!("{}", tally.content_refusals.join("\n"));
    }
    assert!(
        tally.failures.is_empty(),
        "{} access failures:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
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
