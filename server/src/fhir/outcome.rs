//! FHIR errors: every refusal is an `OperationOutcome` (`application/fhir+json`) with the HTTP
//! status FHIR's RESTful API gives it.
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The media type of every FHIR answer.
pub const FHIR_JSON: &str = "application/fhir+json";

#[derive(Debug)]
pub struct Outcome {
    pub status: StatusCode,
    /// The issue type (FHIR `IssueType`: invalid, not-found, not-supported, exception, …).
    pub code: &'static str,
    pub diagnostics: String,
}

impl Outcome {
    pub fn new(status: StatusCode, code: &'static str, diagnostics: String) -> Outcome {
        Outcome {
            status,
            code,
            diagnostics,
        }
    }

    /// A parameter or body the server cannot take (400).
    pub fn invalid(diagnostics: String) -> Outcome {
        Outcome::new(StatusCode::BAD_REQUEST, "invalid", diagnostics)
    }

    pub fn not_found(diagnostics: String) -> Outcome {
        Outcome::new(StatusCode::NOT_FOUND, "not-found", diagnostics)
    }

    /// The ledger could not be read: nothing was answered from it (503).
    pub fn ledger(err: impl std::fmt::Display) -> Outcome {
        Outcome::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "transient",
            format!("the ledger cannot be read now: {err}"),
        )
    }

    /// The resource.
    pub fn resource(&self) -> Value {
        json!({
            "resourceType": "OperationOutcome",
            "issue": [{ "severity": "error", "code": self.code, "diagnostics": self.diagnostics }],
        })
    }

    /// An OperationOutcome of warnings, for a searchset's `outcome` entry.
    pub fn warnings(messages: &[String]) -> Value {
        let issue: Vec<Value> = messages
            .iter()
            .map(|m| json!({ "severity": "warning", "code": "informational", "diagnostics": m }))
            .collect();
        json!({ "resourceType": "OperationOutcome", "issue": issue })
    }
}

/// A FHIR resource as an answer.
pub fn fhir(status: StatusCode, resource: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, FHIR_JSON)],
        resource.to_string(),
    )
        .into_response()
}

impl IntoResponse for Outcome {
    fn into_response(self) -> Response {
        fhir(self.status, &self.resource())
    }
}
