//! What can go wrong when a cloud function is invoked, with the CloudBase code each case is
//! reported under.

use std::time::Duration;

/// A failed invocation. [`FunctionError::code`] is the CloudBase backend string code that the
/// SDKs map to numbers (`FUNCTIONS_EXECUTE_FAIL` → −504002, `FUNCTIONS_REQUEST_FAIL` →
/// −504001, `SYS_ERR` → −501001); [`FunctionError::message`] is what the caller is shown.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FunctionError {
    /// No `<root>/<name>/index.js`, or the name is not a plain folder name.
    #[error("function {name} not found: {detail}")]
    NotFound { name: String, detail: String },
    /// The function threw, rejected, called back with an error, or could not be loaded
    /// (syntax error, a missing dependency — the message then says where to run `npm install`).
    #[error("{message}")]
    Execution {
        message: String,
        stack: Option<String>,
        /// True when the module itself failed to load (the call never reached `main`).
        load: bool,
    },
    /// The worker process ended before replying: `process.exit`, a crash, a signal.
    #[error("{message}")]
    Crashed { message: String },
    /// The call ran longer than the configured timeout; its worker was killed.
    #[error("Task timed out after {:.2} seconds", .after.as_secs_f64())]
    Timeout { after: Duration },
    /// The runner itself failed: Node could not be started, a protocol error, shutdown.
    #[error("{message}")]
    Internal { message: String },
}

impl FunctionError {
    /// The CloudBase string code for the `/admin` error envelope.
    ///
    /// A timeout is reported as `FUNCTIONS_EXECUTE_FAIL` with the SCF message
    /// `Task timed out after N seconds`, which is what a deployed function's caller sees
    /// (cloud-api.md §4.1); match on [`FunctionError::Timeout`] to tell it apart.
    pub fn code(&self) -> &'static str {
        match self {
            FunctionError::NotFound { .. } => "FUNCTIONS_REQUEST_FAIL",
            FunctionError::Execution { .. }
            | FunctionError::Crashed { .. }
            | FunctionError::Timeout { .. } => "FUNCTIONS_EXECUTE_FAIL",
            FunctionError::Internal { .. } => "SYS_ERR",
        }
    }

    /// The numeric code the SDKs derive from [`FunctionError::code`].
    pub fn errcode(&self) -> i64 {
        match self.code() {
            "FUNCTIONS_REQUEST_FAIL" => -504001,
            "FUNCTIONS_EXECUTE_FAIL" => -504002,
            _ => -501001,
        }
    }

    /// The message for the caller: the thrown error's message for [`FunctionError::Execution`].
    pub fn message(&self) -> String {
        self.to_string()
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, FunctionError::Timeout { .. })
    }
}
