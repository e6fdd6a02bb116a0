//! Every route in one table: the router is built from it, and the access tests walk it, so a
//! new route cannot escape them.

use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

use crate::state::AppState;
use crate::{
    api, assistance_pages, auth, case_api, case_attachments, case_forms, case_pages,
    case_settings_pages, check_pages, data_pages, import_pages, indicator_pages, key_person_form,
    ledger_import, ledger_pages, monitoring_pages, open311, pages, payout_pages, payroll_pages,
    program_pages, project_forms, registry_forms, registry_pages, report_pages, security,
};

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    /// Reachable without logging in.
    pub public: bool,
    pub handler: MethodRouter<AppState>,
}

fn route(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Route {
    Route {
        method,
        path,
        public: false,
        handler,
    }
}

fn public(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Route {
    Route {
        method,
        path,
        public: true,
        handler,
    }
}

pub fn route_table() -> Vec<Route> {
    vec![
        public(Method::GET, "/healthz", get(healthz)),
        public(Method::GET, "/static/app.css", get(css)),
        public(Method::GET, "/login", get(auth::login_form)),
        public(Method::POST, "/login", post(auth::login)),
        public(Method::GET, "/api/v1/openapi.json", get(api::openapi)),
        public(Method::GET, "/api/docs", get(api::docs)),
        public(
            Method::GET,
            "/open311/v2/services.json",
            get(open311::services_json),
        ),
        public(
            Method::GET,
            "/open311/v2/services.xml",
            get(open311::services_xml),
        ),
        public(
            Method::GET,
            "/open311/v2/services/{service_file}",
            get(open311::service_definition),
        ),
        public(
            Method::GET,
            "/open311/v2/requests.json",
            get(open311::requests_json),
        ),
        public(
            Method::POST,
            "/open311/v2/requests.json",
            post(open311::create_json),
        ),
        public(
            Method::GET,
            "/open311/v2/requests/{request_file}",
            get(open311::request_by_id),
        ),
        public(
            Method::GET,
            "/open311/v2/requests.xml",
            get(open311::requests_xml),
        ),
        public(
            Method::POST,
            "/open311/v2/requests.xml",
            post(open311::create_xml),
        ),
        route(Method::POST, "/logout", post(auth::logout)),
        route(Method::GET, "/", get(pages::home)),
        route(Method::GET, "/org", get(pages::org_index)),
        route(Method::GET, "/org/{code}", get(pages::org_unit)),
        route(Method::POST, "/org/{code}/grids", post(pages::add_grid)),
        route(Method::POST, "/org/{code}/rename", post(pages::rename)),
        route(Method::POST, "/org/{code}/merge", post(pages::merge)),
        route(Method::POST, "/org/{code}/split", post(pages::split)),
        route(Method::GET, "/persons", get(registry_pages::persons)),
        route(
            Method::POST,
            "/persons",
            post(registry_pages::create_person),
        ),
        route(Method::GET, "/persons/{id}", get(registry_pages::person)),
        route(
            Method::POST,
            "/persons/{id}",
            post(registry_forms::update_person),
        ),
        route(
            Method::POST,
            "/persons/{id}/reveal",
            post(registry_pages::reveal),
        ),
        route(
            Method::POST,
            "/persons/{id}/citizen-id",
            post(registry_pages::correct_citizen_id),
        ),
        route(
            Method::POST,
            "/persons/{id}/events",
            post(registry_pages::person_event),
        ),
        route(Method::GET, "/households", get(registry_pages::households)),
        route(
            Method::GET,
            "/households/{id}",
            get(registry_pages::household),
        ),
        route(
            Method::POST,
            "/households/{id}/events",
            post(registry_pages::household_event),
        ),
        route(
            Method::POST,
            "/households/{id}/split",
            post(registry_pages::split_household),
        ),
        route(
            Method::GET,
            "/enterprises",
            get(registry_pages::enterprises),
        ),
        route(
            Method::GET,
            "/enterprises/{id}",
            get(registry_pages::enterprise),
        ),
        route(
            Method::POST,
            "/enterprises",
            post(registry_forms::create_enterprise),
        ),
        route(
            Method::POST,
            "/enterprises/{id}/close",
            post(registry_forms::close_enterprise),
        ),
        route(
            Method::GET,
            "/registry/duplicates",
            get(registry_pages::duplicates),
        ),
        route(
            Method::GET,
            "/registry/import",
            get(import_pages::import_form),
        ),
        route(
            Method::POST,
            "/registry/import",
            post(import_pages::upload).layer(axum::extract::DefaultBodyLimit::max(
                security::MAX_UPLOAD_BYTES,
            )),
        ),
        route(
            Method::POST,
            "/registry/import/{token}/commit",
            post(import_pages::commit),
        ),
        route(
            Method::GET,
            "/registry/import/{token}/errors.xlsx",
            get(import_pages::error_report),
        ),
        route(
            Method::GET,
            "/registry/template/{kind}",
            get(import_pages::template),
        ),
        route(Method::GET, "/ledgers", get(ledger_pages::ledgers)),
        route(Method::GET, "/ledgers/{ledger}", get(ledger_pages::ledger)),
        route(
            Method::GET,
            "/ledgers/{ledger}/entries",
            get(ledger_pages::entries),
        ),
        route(
            Method::POST,
            "/ledgers/{ledger}/entries",
            post(ledger_pages::create_entry).layer(upload_limit()),
        ),
        route(
            Method::GET,
            "/ledgers/{ledger}/entries/new",
            get(ledger_pages::new_entry),
        ),
        route(
            Method::GET,
            "/ledgers/{ledger}/entries/{id}",
            get(ledger_pages::entry),
        ),
        route(
            Method::POST,
            "/ledgers/{ledger}/entries/{id}",
            post(ledger_pages::update_entry).layer(upload_limit()),
        ),
        route(
            Method::POST,
            "/ledgers/{ledger}/entries/{id}/void",
            post(ledger_pages::void_entry),
        ),
        route(
            Method::POST,
            "/ledgers/{ledger}/submissions",
            post(ledger_pages::submission),
        ),
        route(
            Method::POST,
            "/ledgers/{ledger}/roster",
            post(ledger_pages::roster),
        ),
        route(
            Method::GET,
            "/ledgers/{ledger}/template",
            get(ledger_import::template),
        ),
        route(
            Method::POST,
            "/ledgers/{ledger}/import",
            post(ledger_import::upload).layer(upload_limit()),
        ),
        route(
            Method::POST,
            "/ledgers/{ledger}/import/{token}/commit",
            post(ledger_import::commit),
        ),
        route(
            Method::GET,
            "/ledgers/{ledger}/import/{token}/errors.xlsx",
            get(ledger_import::error_report),
        ),
        route(Method::GET, "/ledger-files/{sha}", get(ledger_pages::file)),
        route(Method::GET, "/reports", get(report_pages::reports)),
        route(
            Method::GET,
            "/reports/templates/{template}",
            get(report_pages::editor),
        ),
        route(
            Method::POST,
            "/reports/templates/{template}",
            post(report_pages::save),
        ),
        route(
            Method::POST,
            "/reports/preview",
            post(report_pages::preview),
        ),
        route(
            Method::GET,
            "/reports/{template}/{code}",
            get(report_pages::report),
        ),
        route(
            Method::POST,
            "/reports/{template}/{code}/finalise",
            post(report_pages::finalise),
        ),
        route(
            Method::GET,
            "/reports/finals/{id}",
            get(report_pages::final_report),
        ),
        route(Method::GET, "/todo", get(case_pages::todo)),
        route(Method::GET, "/cases", get(case_pages::cases)),
        route(
            Method::POST,
            "/cases",
            post(case_forms::create_case).layer(upload_limit()),
        ),
        route(Method::GET, "/cases/new", get(case_forms::new_case)),
        route(Method::GET, "/cases/export.xlsx", get(case_api::export)),
        route(Method::POST, "/cases/remind", post(case_pages::remind)),
        route(Method::GET, "/cases/{id}", get(case_pages::case)),
        route(Method::POST, "/cases/{id}/act", post(case_pages::act)),
        route(
            Method::POST,
            "/cases/{id}/attachments",
            post(case_attachments::upload).layer(upload_limit()),
        ),
        route(
            Method::GET,
            "/case-files/{sha}",
            get(case_attachments::file),
        ),
        route(
            Method::GET,
            "/case-settings/{code}",
            get(case_settings_pages::settings),
        ),
        route(
            Method::POST,
            "/case-settings/{code}/limits",
            post(case_settings_pages::save_limits),
        ),
        route(
            Method::POST,
            "/case-settings/{code}/categories",
            post(case_settings_pages::save_category),
        ),
        route(Method::GET, "/key-persons", get(case_pages::key_persons)),
        route(
            Method::POST,
            "/key-persons",
            post(key_person_form::create_key_person),
        ),
        route(
            Method::GET,
            "/key-persons/new",
            get(key_person_form::new_key_person),
        ),
        route(
            Method::POST,
            "/key-persons/{id}/visits",
            post(case_pages::record_visit),
        ),
        route(Method::GET, "/projects", get(case_pages::projects)),
        route(
            Method::POST,
            "/projects",
            post(project_forms::create_project),
        ),
        route(
            Method::GET,
            "/projects/new",
            get(project_forms::new_project),
        ),
        route(
            Method::GET,
            "/projects/{id}",
            get(project_forms::edit_project),
        ),
        route(
            Method::POST,
            "/projects/{id}",
            post(project_forms::update_project),
        ),
        route(Method::GET, "/tasks", get(case_pages::tasks)),
        route(Method::POST, "/tasks", post(project_forms::create_task)),
        route(
            Method::POST,
            "/tasks/{id}/progress",
            post(case_pages::task_progress),
        ),
        route(Method::GET, "/assistance", get(assistance_pages::roster)),
        route(
            Method::GET,
            "/assistance/roster.xlsx",
            get(assistance_pages::roster_xlsx),
        ),
        route(
            Method::GET,
            "/assistance/apply",
            get(assistance_pages::apply_form),
        ),
        route(
            Method::POST,
            "/assistance/enrollments",
            post(assistance_pages::apply),
        ),
        route(
            Method::GET,
            "/assistance/enrollments/{id}",
            get(assistance_pages::enrollment),
        ),
        route(
            Method::POST,
            "/assistance/enrollments/{id}/step",
            post(assistance_pages::step),
        ),
        route(
            Method::POST,
            "/assistance/enrollments/{id}/account",
            post(assistance_pages::set_account),
        ),
        route(
            Method::GET,
            "/assistance/enrollments/{id}/monitoring",
            get(monitoring_pages::monitoring),
        ),
        route(
            Method::POST,
            "/assistance/enrollments/{id}/monitoring",
            post(monitoring_pages::save_monitoring),
        ),
        route(
            Method::POST,
            "/assistance/enrollments/{id}/clear-risk",
            post(monitoring_pages::clear_risk),
        ),
        route(
            Method::GET,
            "/assistance/villages",
            get(monitoring_pages::villages),
        ),
        route(
            Method::GET,
            "/assistance/villages/{code}",
            get(monitoring_pages::village),
        ),
        route(
            Method::GET,
            "/assistance/notice",
            get(assistance_pages::notice),
        ),
        route(
            Method::GET,
            "/assistance/notice.docx",
            get(assistance_pages::notice_docx),
        ),
        route(
            Method::GET,
            "/assistance/payrolls",
            get(payroll_pages::payrolls),
        ),
        route(
            Method::POST,
            "/assistance/payrolls",
            post(payroll_pages::generate),
        ),
        route(
            Method::GET,
            "/assistance/payrolls/{id}",
            get(payroll_pages::payroll),
        ),
        route(
            Method::POST,
            "/assistance/payrolls/{id}/approve",
            post(payroll_pages::approve),
        ),
        route(
            Method::POST,
            "/assistance/payrolls/{id}/bank-file",
            post(payroll_pages::bank_file),
        ),
        route(
            Method::POST,
            "/assistance/payrolls/{id}/lines",
            post(payroll_pages::mark),
        ),
        route(
            Method::POST,
            "/assistance/payrolls/{id}/reconcile",
            post(payroll_pages::reconcile),
        ),
        route(
            Method::GET,
            "/assistance/payouts",
            get(payout_pages::payouts),
        ),
        route(
            Method::GET,
            "/assistance/payouts/new",
            get(payout_pages::new_payout),
        ),
        route(
            Method::POST,
            "/assistance/payouts",
            post(payout_pages::record_payout),
        ),
        route(Method::GET, "/assistance/checks", get(check_pages::checks)),
        route(
            Method::GET,
            "/assistance/programs",
            get(program_pages::programs),
        ),
        route(
            Method::GET,
            "/assistance/programs/{program}",
            get(program_pages::program),
        ),
        route(
            Method::POST,
            "/assistance/programs/{program}",
            post(program_pages::save_program),
        ),
        route(Method::GET, "/indicators", get(indicator_pages::indicators)),
        route(
            Method::GET,
            "/indicators/{indicator}",
            get(indicator_pages::indicator),
        ),
        route(
            Method::GET,
            "/indicators/{indicator}/records",
            get(indicator_pages::records),
        ),
        route(Method::GET, "/dashboard", get(indicator_pages::dashboard)),
        route(
            Method::GET,
            "/dashboard.xlsx",
            get(indicator_pages::dashboard_xlsx),
        ),
        route(Method::GET, "/data", get(data_pages::data)),
        route(Method::POST, "/data", post(data_pages::save)),
        route(
            Method::POST,
            "/data/import",
            post(data_pages::import).layer(upload_limit()),
        ),
        route(Method::POST, "/data/approval", post(data_pages::approval)),
        route(Method::GET, "/data/quality", get(data_pages::quality)),
        route(Method::GET, "/users", get(pages::users)),
        route(Method::POST, "/users", post(pages::create_user)),
        route(Method::POST, "/users/{id}/active", post(pages::set_active)),
        route(
            Method::POST,
            "/users/{id}/password",
            post(pages::reset_password),
        ),
        route(Method::GET, "/audit", get(pages::audit)),
        route(Method::GET, "/api/v1/me", get(api::me)),
        route(Method::GET, "/api/v1/org", get(api::org_search)),
        route(Method::GET, "/api/v1/org/{code}", get(api::org_unit)),
        route(
            Method::GET,
            "/api/v1/org/{code}/children",
            get(api::org_children),
        ),
        route(
            Method::GET,
            "/api/v1/org/{code}/history",
            get(api::org_history),
        ),
        route(
            Method::POST,
            "/api/v1/org/{code}/grids",
            post(api::add_grid),
        ),
        route(Method::GET, "/api/v1/users", get(api::users)),
        route(Method::GET, "/api/v1/audit", get(api::audit)),
        route(Method::GET, "/api/v1/ledgers", get(api::ledgers)),
        route(
            Method::GET,
            "/api/v1/ledgers/{ledger}/entries",
            get(api::ledger_entries),
        ),
        route(
            Method::GET,
            "/api/v1/ledgers/{ledger}/aggregate",
            get(api::ledger_aggregate),
        ),
        route(Method::GET, "/api/v1/cases", get(case_api::cases)),
        route(Method::GET, "/api/v1/cases/{id}", get(case_api::case)),
    ]
}

/// Uploads (and entry forms, which carry attachments) may be larger than the default body.
fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(security::MAX_UPLOAD_BYTES)
}

pub fn router(state: AppState) -> Router {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for r in route_table() {
        match by_path.iter_mut().find(|(p, _)| *p == r.path) {
            Some((_, m)) => *m = std::mem::take(m).merge(r.handler),
            None => by_path.push((r.path, r.handler)),
        }
    }
    let router = by_path
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        });
    router
        .fallback(|| async { crate::error::AppError::NotFound })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::session_and_csrf,
        ))
        .layer(middleware::from_fn(security::headers))
        .with_state(state)
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.store.schema_version().await {
        Ok(v) => format!("ok schema={v} backend={}", state.store.backend()).into_response(),
        Err(_) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable",
        )
            .into_response(),
    }
}

async fn css() -> Response {
    let mut res = include_str!("../static/app.css").into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}
