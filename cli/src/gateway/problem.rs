//! Errors as RFC 9457 problem details (`application/problem+json`).
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use careledger_sdk::release::Refused;
use serde_json::json;

/// Where the problem types are documented (docs/GATEWAY.md lists every slug).
const TYPE_BASE: &str = "https://careledger.dev/problems/";

#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub slug: &'static str,
    pub title: &'static str,
    pub detail: String,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: String,
    ) -> Self {
        Problem {
            status,
            slug,
            title,
            detail,
        }
    }

    pub fn bad_request(slug: &'static str, detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, slug, "Bad request", detail.into())
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "bad-sign-in",
            "The signed request does not verify",
            detail.into(),
        )
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "The gateway failed",
            detail.to_string(),
        )
    }

    /// The ledger could not be read: nothing was decided.
    pub fn ledger(detail: impl std::fmt::Display) -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ledger-unavailable",
            "The ledger cannot be read now",
            detail.to_string(),
        )
    }
}

impl From<Refused> for Problem {
    fn from(refused: Refused) -> Self {
        Problem {
            status: StatusCode::from_u16(refused.status()).unwrap_or(StatusCode::FORBIDDEN),
            slug: refused.slug(),
            title: "Refused",
            detail: refused.to_string(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = json!({
            "type": format!("{TYPE_BASE}{}", self.slug),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}
