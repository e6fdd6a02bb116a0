use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use xiangzhi_store::StoreError;

/// What a handler can fail with. Rendered as a Chinese page; the API wraps it as JSON.
#[derive(Debug)]
pub enum AppError {
    NotFound,
    Forbidden(String),
    BadRequest(String),
    Conflict(String),
    /// Not logged in: pages redirect to the login form.
    Unauthenticated,
    Csrf,
    TooManyRequests(String),
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(&self) -> String {
        match self {
            AppError::NotFound => "未找到该记录，或不在您的管辖范围内".into(),
            AppError::Forbidden(m) => format!("无权执行此操作：{m}"),
            AppError::BadRequest(m) | AppError::Conflict(m) | AppError::TooManyRequests(m) => {
                m.clone()
            }
            AppError::Unauthenticated => "请先登录".into(),
            AppError::Csrf => "请求无效：缺少或错误的安全令牌（CSRF）。请刷新页面后重试。".into(),
            AppError::Internal(_) => "系统内部错误，请稍后重试或联系管理员".into(),
        }
    }

    pub fn forbidden(m: impl Into<String>) -> AppError {
        AppError::Forbidden(m.into())
    }

    pub fn bad(m: impl Into<String>) -> AppError {
        AppError::BadRequest(m.into())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Forbidden(m) => AppError::Forbidden(m),
            StoreError::Invalid(m) => AppError::BadRequest(m),
            StoreError::Conflict(m) => AppError::Conflict(m),
            other => AppError::Internal(other.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            // The detail is a database message, never a record's content.
            tracing::error!(%detail, "internal error");
        }
        if matches!(self, AppError::Unauthenticated) {
            return axum::response::Redirect::to("/login").into_response();
        }
        let status = self.status();
        let page = ErrorPage {
            status: status.as_u16(),
            message: self.message(),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, self.message()).into_response(),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
