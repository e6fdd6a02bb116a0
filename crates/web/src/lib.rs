//! xiangzhi's web face: server-rendered Chinese pages and a JSON API under `/api/v1`.
//!
//! Handlers are thin: parse, check the role's permission, call the store with the user's scope,
//! render. Scope itself is enforced by the store; the session and CSRF checks are middleware, so
//! no handler can skip them.

pub mod api;
mod assistance_pages;
mod auth;
pub mod bank_file;
mod case_api;
mod case_attachments;
mod case_forms;
mod case_pages;
mod case_settings_pages;
pub mod charts;
pub mod check_pages;
mod data_pages;
mod error;
mod import_pages;
mod indicator_pages;
mod key_person_form;
mod ledger_import;
mod ledger_pages;
mod monitoring_pages;
mod open311;
mod pages;
pub mod password;
mod payout_pages;
mod payroll_pages;
mod pickers;
mod program_pages;
mod project_forms;
mod rate_limit;
mod registry_forms;
mod registry_pages;
mod report_pages;
pub mod roster_file;
mod routes;
mod security;
mod state;

pub use routes::{Route, route_table, router};
pub use state::{AppState, WebConfig};

use std::net::SocketAddr;

/// Serves until ctrl-c / SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
