//! CLI failures: one line on stderr and a non-zero exit.

use mobieus_core::CoreError;
use mobieus_store::StoreError;
use std::error::Error;
use std::fmt::Write;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The operator's input was refused.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("{0}")]
    Io(String),
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        CliError::Core(e.into())
    }
}

impl CliError {
    pub fn usage(e: impl ToString) -> Self {
        CliError::Usage(e.to_string())
    }

    /// 2 for input the command refused, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Core(CoreError::Store(_) | CoreError::Internal(_)) | CliError::Io(_) => 1,
            CliError::Core(_) => 2,
        }
    }

    /// The message with its causes, on one line (an operator may need the database's reason).
    pub fn one_line(&self) -> String {
        let mut line = self.to_string();
        let mut source = self.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !line.ends_with(&text) {
                let _ = write!(line, ": {text}");
            }
            source = cause.source();
        }
        line.replace('\n', " ")
    }
}
