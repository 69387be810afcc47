//! The ledger folder's error: every message is in words a user can act on (what is wrong with
//! which file, and what to do), as the CLI prints it.
use crate::SdkError;

#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// Locked, torn, foreign, newer or unwritable: the message says which, and what to do.
    #[error("{0}")]
    Folder(String),
    /// What was being done when `source` failed.
    #[error("{context}")]
    Context {
        context: String,
        #[source]
        source: Box<FolderError>,
    },
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    IoBare(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The embedded runtime failed while the folder was loaded into it or saved from it.
    #[error(transparent)]
    Ledger(#[from] SdkError),
}

pub type Result<T, E = FolderError> = std::result::Result<T, E>;

impl FolderError {
    /// This error, as the outcome of `context`.
    pub fn context(self, context: impl Into<String>) -> FolderError {
        FolderError::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The message and every cause after it, joined by ": ".
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

/// `with_context` on the results the folder code meets.
pub trait Context<T> {
    fn with_context<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, std::io::Error> {
    fn with_context<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|source| FolderError::Io {
            context: context().into(),
            source,
        })
    }
}

impl<T> Context<T> for Result<T> {
    fn with_context<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| e.context(context()))
    }
}

/// A [`FolderError::Folder`] from a format string.
macro_rules! fail {
    ($($t:tt)*) => {
        $crate::embedded::folder::FolderError::Folder(format!($($t)*))
    };
}

/// Returns a [`FolderError::Folder`] from a format string.
macro_rules! bail {
    ($($t:tt)*) => {
        return Err(fail!($($t)*))
    };
}

pub(crate) use {bail, fail};
