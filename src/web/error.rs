//! One error type for every handler: 4xx with a message the caller can act on, or an opaque 500
//! logged once with its cause.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// What a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Malformed or invalid input.
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed input whose content is refused (e.g. a control character in a title).
    #[error("{0}")]
    Unprocessable(String),
    /// Missing or wrong credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The request does not fit the current state.
    #[error("{0}")]
    Conflict(String),
    /// Our fault; details go to the log only.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<crate::store::Error> for WebError {
    fn from(e: crate::store::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<sqlx::Error> for WebError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<crate::incident::people::ActionError> for WebError {
    fn from(e: crate::incident::people::ActionError) -> Self {
        use crate::incident::people::ActionError;
        match e {
            ActionError::NotFound(_) => Self::NotFound(e.to_string()),
            ActionError::Conflict(m) => Self::Conflict(m),
            ActionError::Store(s) => Self::Internal(s.into()),
        }
    }
}

impl WebError {
    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut resp = (status, Json(json!({ "error": self.to_string() }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"mimic\""),
            );
        }
        resp
    }
}
