use thiserror::Error;

/// Errors a store reports. Messages are Chinese: they reach clerks unchanged.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Not found, or outside the caller's scope: the two are deliberately indistinguishable.
    #[error("未找到该记录")]
    NotFound,
    #[error("无权执行此操作：{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("数据冲突：{0}")]
    Conflict(String),
    #[error("数据库不是乡治的数据库，或版本不兼容：{0}")]
    ForeignDatabase(String),
    #[error("数据库错误：{0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        StoreError::Invalid(msg.into())
    }
}
