//! What functions print: each console line, tagged with the function and the call it was
//! serving ([`LogLine`]), as the workers forward it and [`super::FunctionRunner`] broadcasts it.

/// Which output stream a console line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// One line a function printed, tagged with the call it was serving.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub function: String,
    pub request_id: String,
    pub stream: LogStream,
    pub line: String,
}
