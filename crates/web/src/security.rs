//! Middleware every request passes: the session, CSRF on every state change, and strict
//! security headers.

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use std::net::SocketAddr;
use xiangzhi_store::Session;

use crate::auth::{self, PRE_COOKIE, SESSION_COOKIE};
use crate::error::AppError;
use crate::state::AppState;

/// Form posts larger than this are refused before they are read.
pub const MAX_FORM_BYTES: usize = 1 << 20;
/// Uploads (multipart) may be larger: a village's roster as XLSX.
pub const MAX_UPLOAD_BYTES: usize = 64 << 20;

/// The client's address, for the audit log.
#[derive(Clone, Debug)]
pub struct ClientIp(pub Option<String>);

pub async fn session_and_csrf(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    req.extensions_mut().insert(ClientIp(ip));
    let session = match auth::cookie(req.headers(), SESSION_COOKIE) {
        Some(token) => match state
            .store
            .session(&auth::token_hash(&token), Utc::now())
            .await
        {
            Ok(s) => s,
            Err(e) => return AppError::from(e).into_response(),
        },
        None => None,
    };
    // Open311 carries no session and acts with nobody's cookie: nothing to forge.
    if is_state_changing(req.method()) && !req.uri().path().starts_with("/open311/") {
        let expected = match &session {
            Some(s) => Some(s.csrf_token.clone()),
            // Before login, the double-submit cookie set with the login form.
            None => auth::cookie(req.headers(), PRE_COOKIE),
        };
        let (parts, body) = req.into_parts();
        let header_token = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let boundary = multipart_boundary(&parts.headers);
        let limit = if boundary.is_some() {
            MAX_UPLOAD_BYTES
        } else {
            MAX_FORM_BYTES
        };
        let bytes = match to_bytes(body, limit).await {
            Ok(b) => b,
            Err(_) => {
                return AppError::bad(format!("提交的内容过大（上限 {} MB）", limit >> 20))
                    .into_response();
            }
        };
        let form_token = match &boundary {
            Some(b) => multipart_field(&bytes, b, "csrf"),
            None => form_field(&bytes, "csrf"),
        };
        let given = header_token.or(form_token);
        let ok = matches!((&expected, &given), (Some(e), Some(g)) if auth::constant_time_eq(e, g));
        if !ok {
            return AppError::Csrf.into_response();
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    if let Some(s) = session {
        req.extensions_mut().insert::<Session>(s);
    }
    next.run(req).await
}

fn is_state_changing(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn multipart_boundary(headers: &axum::http::HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !ct.starts_with("multipart/form-data") {
        return None;
    }
    ct.split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"').to_string())
}

/// A small text field of a multipart body (the CSRF token, sent first by our forms), found
/// without parsing the file parts.
fn multipart_field(body: &[u8], boundary: &str, name: &str) -> Option<String> {
    let head = &body[..body.len().min(8192)];
    let text = String::from_utf8_lossy(head);
    let delimiter = format!("--{boundary}");
    for part in text.split(delimiter.as_str()) {
        let Some((headers, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let wanted = format!("name=\"{name}\"");
        if headers.contains(&wanted) && !headers.contains("filename=") {
            return Some(value.trim_end_matches("\r\n").to_string());
        }
    }
    None
}

pub async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(
        h,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(self)",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    res
}
