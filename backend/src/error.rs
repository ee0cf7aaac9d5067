//! One closed error type for every operation. Its kind says what kind of failure it is (the
//! routes turn it into a status, in `routes/mod.rs`); its message says it in Vietnamese; an
//! unexpected failure tells the user nothing of the internals.

use report_schemas::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("chưa đăng nhập")]
    Unauthenticated,
    /// A wrong user name or password: one message for both, so names do not leak.
    #[error("Tên đăng nhập hoặc mật khẩu không đúng.")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A stale version, or a state that forbids the change (locked, closed, not yet submitted).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{message}")]
    Invalid {
        message: String,
        fields: Vec<FieldError>,
    },
    #[error("{0}")]
    BadRequest(String),
    /// A body or upload larger than what is accepted; nothing was read past the limit.
    #[error("{0}")]
    TooLarge(String),
    /// The person still has a one-time password: nothing but changing it until they do.
    #[error("Xin đổi mật khẩu dùng một lần trước khi tiếp tục.")]
    PasswordChangeRequired,
    /// Too many failed logins: try again after `retry_after` seconds.
    #[error("{message}")]
    Throttled { message: String, retry_after: u64 },
    /// Too many requests are waiting for the database: try again after `retry_after` seconds.
    #[error(
        "Máy chủ đang bận vì quá nhiều người gửi cùng lúc. Xin thử lại sau ít giây; chưa có gì được lưu từ lần gửi này."
    )]
    Busy { retry_after: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AppError {
    pub fn forbidden() -> AppError {
        AppError::Forbidden("Bạn không có quyền truy cập nội dung này.".into())
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(fields: Vec<FieldError>) -> AppError {
        AppError::Invalid {
            message: "Dữ liệu chưa hợp lệ, xin kiểm tra lại các mục được đánh dấu.".into(),
            fields,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::BadCredentials => "bad_credentials",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict { code, .. } => code,
            AppError::Invalid { .. } => "invalid",
            AppError::BadRequest(_) => "bad_request",
            AppError::TooLarge(_) => "too_large",
            AppError::Throttled { .. } => "too_many_attempts",
            AppError::Busy { .. } => "busy",
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::Unexpected(_) => "internal",
        }
    }

    /// What the user reads.
    pub fn user_message(&self) -> String {
        match self {
            AppError::Unauthenticated => "Bạn cần đăng nhập để tiếp tục.".into(),
            AppError::Unexpected(_) => {
                "Đã có lỗi ngoài ý muốn ở máy chủ. Dữ liệu của bạn không bị thay đổi; xin thử lại sau."
                    .into()
            }
            other => other.to_string(),
        }
    }

    pub fn fields(&self) -> &[FieldError] {
        match self {
            AppError::Invalid { fields, .. } => fields,
            _ => &[],
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::Unexpected(anyhow::Error::new(e).context("database query failed"))
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unexpected(anyhow::Error::new(e).context("no database connection"))
    }
}

pub type AppResult<T> = Result<T, AppError>;
