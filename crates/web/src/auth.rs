//! Login, logout, sessions and the `CurrentUser` extractor.
//!
//! Session tokens are random, sent only in an HttpOnly cookie, and stored hashed: a leaked
//! database does not log anyone in. A new token is issued at every login (no fixation).

use askama::Template;
use axum::Form;
use axum::extract::{Extension, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use xiangzhi_domain::role::Permission;
use xiangzhi_store::{Actor, Scope, Session, User};

use crate::error::{AppError, AppResult};
use crate::password;
use crate::security::ClientIp;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "xz_session";
pub const PRE_COOKIE: &str = "xz_pre";
pub const MAX_FAILURES: i64 = 5;
pub const LOCK_MINUTES: i64 = 15;
const SESSION_HOURS: i64 = 8;

pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the OS random source");
    hex::encode(b)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .expect("cookie is ASCII")
}

/// The logged-in user of this request. Pages that take it redirect anonymous visitors to login.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user: User,
    pub csrf: String,
    pub ip: Option<String>,
}

impl CurrentUser {
    pub fn scope(&self) -> Scope {
        self.user.scope()
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user.id),
            username: self.user.username.clone(),
            role: Some(self.user.role),
            ip: self.ip.clone(),
            scope: self.scope(),
        }
    }

    pub fn require(&self, p: Permission) -> AppResult<()> {
        if self.user.role.can(p) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "“{}”角色不能执行此操作",
                self.user.role.label()
            )))
        }
    }

    pub fn can(&self, p: Permission) -> bool {
        self.user.role.can(p)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let session = parts
            .extensions
            .get::<Session>()
            .ok_or(AppError::Unauthenticated)?;
        let ip = parts.extensions.get::<ClientIp>().and_then(|c| c.0.clone());
        Ok(CurrentUser {
            user: session.user.clone(),
            csrf: session.csrf_token.clone(),
            ip,
        })
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    error: Option<String>,
    username: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    error: Option<String>,
}

pub async fn login_form(
    headers: HeaderMap,
    State(state): State<AppState>,
    session: Option<Extension<Session>>,
    Query(q): Query<LoginQuery>,
) -> Response {
    // Someone already logged in (another account, a second tab) posts against the session's
    // token, which the CSRF check then expects instead of the pre-login cookie.
    if let Some(Extension(s)) = session {
        return render(LoginPage {
            csrf: s.csrf_token,
            error: None,
            username: String::new(),
        });
    }
    let existing = cookie(&headers, PRE_COOKIE);
    let token = existing.clone().unwrap_or_else(random_token);
    let error = q.error.map(|_| "请重新登录".to_string());
    let page = LoginPage {
        csrf: token.clone(),
        error,
        username: String::new(),
    };
    let mut res = render(page).into_response();
    if existing.is_none() {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, PRE_COOKIE, &token, 3600),
        );
    }
    res
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
}

pub async fn login(
    State(state): State<AppState>,
    Extension(ip): Extension<ClientIp>,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let retry = |msg: &str| {
        let page = LoginPage {
            csrf: form.csrf.clone(),
            error: Some(msg.to_string()),
            username: form.username.clone(),
        };
        Ok((axum::http::StatusCode::UNAUTHORIZED, render(page)).into_response())
    };
    let username = form.username.trim();
    if username.is_empty() || form.password.is_empty() {
        return retry("请输入用户名和密码");
    }
    let creds = state.store.credentials(username).await?;
    if let Some(until) = creds
        .as_ref()
        .and_then(|c| c.locked_until)
        .filter(|t| *t > Utc::now())
    {
        let local = until.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"));
        return retry(&format!(
            "密码连续错误 {MAX_FAILURES} 次，账号已锁定，请于 {} 后再试",
            local.format("%H:%M")
        ));
    }
    let good = match &creds {
        Some(c) if c.user.active => {
            let (pw, hash) = (form.password.clone(), c.password_hash.clone());
            tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?
        }
        _ => false,
    };
    let Some(creds) = creds.filter(|_| good) else {
        let until = Utc::now() + Duration::minutes(LOCK_MINUTES);
        state
            .store
            .record_login_failure(username, ip.0.as_deref(), MAX_FAILURES, until)
            .await?;
        return retry("用户名或密码错误");
    };
    let token = random_token();
    let csrf = random_token();
    let expires = Utc::now() + Duration::hours(SESSION_HOURS);
    state
        .store
        .create_session(
            creds.user.id,
            ip.0.as_deref(),
            &token_hash(&token),
            &csrf,
            expires,
        )
        .await?;
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, &token, SESSION_HOURS * 3600),
    );
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&state, PRE_COOKIE, "", 0));
    Ok(res)
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.store.delete_session(&token_hash(&token)).await?;
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(res)
}

pub fn render<T: Template>(t: T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => AppError::Internal(e.to_string()).into_response(),
    }
}
