//! Every route in one table: the router is built from it, and the access tests walk it, so a
//! new route cannot escape them.

use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

use crate::state::AppState;
use crate::{api, auth, import_pages, pages, registry_pages, security};

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
    ]
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
