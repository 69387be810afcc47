//! Errors as RFC 9457 problem details (`application/problem+json`).
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use careledger_records::protocol::{problem_type, Refused};
use serde_json::json;

#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub slug: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// A header the refusal carries besides its body (a 416's `Content-Range`).
    pub header: Option<(header::HeaderName, String)>,
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
            header: None,
        }
    }

    /// The same refusal with `name: value` among its headers.
    pub fn with_header(mut self, name: header::HeaderName, value: String) -> Self {
        self.header = Some((name, value));
        self
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
            header: None,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = json!({
            "type": problem_type(self.slug),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
        if let Some((name, value)) = self.header {
            if let Ok(value) = axum::http::HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// Gives every refusal the router or a tower layer makes itself (a method the route does not
/// take, a path that does not parse, a timeout) a problem+json body like the gateway's own, so
/// that no refusal is left without one. Refusals that already are problem details pass as
/// they are; so does anything that is not a refusal.
pub async fn for_bare_refusals(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        // a FHIR route's refusals are OperationOutcomes (application/fhir+json) already
        .is_some_and(|v| {
            v.starts_with("application/problem+json") || v.starts_with("application/fhir+json")
        });
    if is_problem {
        return response;
    }
    let (slug, title, detail) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "Method not allowed",
            "this route does not take that method: see docs/GATEWAY.md for the routes",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "slow-request",
            "Request too slow",
            "the request was not answered in time: it was too slow, or the gateway was",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "request-too-large",
            "Request too large",
            "the request is larger than this route takes",
        ),
        StatusCode::NOT_FOUND => (
            "no-such-route",
            "No such route",
            "see docs/GATEWAY.md for the routes",
        ),
        s if s.is_client_error() => (
            "malformed-request",
            "Bad request",
            "the request could not be read: see docs/GATEWAY.md",
        ),
        _ => ("internal", "The gateway failed", "the gateway failed"),
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut problem = Problem::new(status, slug, title, detail.to_string()).into_response();
    if let Some(allow) = allow {
        problem.headers_mut().insert(header::ALLOW, allow);
    }
    problem
}
