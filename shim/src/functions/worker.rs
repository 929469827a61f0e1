//! One warm Node process running one cloud function, one call at a time.
//!
//! The process is `node -e <shim/js/runner/worker.js> <dir> <name>` with the function folder as
//! its working directory. Requests go to its stdin, replies come back on fd 3 (a pipe the
//! runner creates), each frame a 4-byte big-endian length followed by UTF-8 JSON. The
//! function's stdout and stderr are read line by line and forwarded to `tracing` and to the
//! runner's log channel, tagged with the request id of the call the worker is serving.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::pipe;
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::broadcast;

use super::error::FunctionError;
use super::log::{LogLine, LogStream};

/// The worker bootstrap, embedded so the binary does not depend on where it was built.
pub(crate) const WORKER_JS: &str = include_str!("../../js/runner/worker.js");

/// Largest reply frame accepted (the real platform caps results at 6 MB; leave headroom).
const MAX_FRAME: usize = 64 * 1024 * 1024;

pub(crate) struct SpawnSpec<'a> {
    pub node: &'a Path,
    pub dir: &'a Path,
    pub name: &'a str,
    pub env: &'a [(String, String)],
    pub logs: &'a broadcast::Sender<LogLine>,
    /// The pool's code generation the worker loads.
    pub generation: u64,
}

pub(crate) struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: pipe::Receiver,
    /// Request id of the call in progress (or the last one), for tagging console output.
    current: Arc<Mutex<String>>,
    /// False once the process is known to be unusable (killed, exited, fatal reply).
    healthy: bool,
    generation: u64,
}

#[derive(Deserialize)]
struct Reply {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    ok: bool,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    error: Option<ReplyError>,
    #[serde(default)]
    fatal: bool,
}

#[derive(Deserialize)]
struct ReplyError {
    message: String,
    #[serde(default)]
    stack: Option<String>,
    #[serde(default)]
    load: bool,
}

impl Worker {
    pub(crate) fn spawn(spec: &SpawnSpec<'_>) -> Result<Worker, FunctionError> {
        let (reader, writer) = io::pipe().map_err(|e| internal("cannot create a pipe", e))?;
        let mut cmd = Command::new(spec.node);
        cmd.arg("-e")
            .arg(WORKER_JS)
            .arg(spec.dir)
            .arg(spec.name)
            .current_dir(spec.dir)
            .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let reply_fd = writer.as_raw_fd();
        // SAFETY: only async-signal-safe libc calls (dup2, fcntl) run between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if reply_fd == 3 {
                    // dup2 onto itself keeps FD_CLOEXEC: clear it by hand.
                    let flags = libc::fcntl(3, libc::F_GETFD);
                    if flags < 0 || libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                        return Err(io::Error::last_os_error());
                    }
                } else if libc::dup2(reply_fd, 3) < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                FunctionError::Internal {
                    message: format!(
                        "cannot start Node.js ({}): {e}; install Node.js or point the shim's `node` setting at it",
                        spec.node.display()
                    ),
                }
            } else {
                internal("cannot start the function worker", e)
            }
        })?;
        drop(writer);
        let replies = pipe::Receiver::from_owned_fd(OwnedFd::from(reader))
            .map_err(|e| internal("cannot watch the worker's reply pipe", e))?;
        let stdin = child.stdin.take().ok_or_else(|| FunctionError::Internal {
            message: "worker stdin missing".into(),
        })?;
        let current = Arc::new(Mutex::new(String::new()));
        if let Some(out) = child.stdout.take() {
            forward_lines(out, LogStream::Stdout, spec.name, &current, spec.logs);
        }
        if let Some(err) = child.stderr.take() {
            forward_lines(err, LogStream::Stderr, spec.name, &current, spec.logs);
        }
        Ok(Worker {
            child,
            stdin,
            replies,
            current,
            healthy: true,
            generation: spec.generation,
        })
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the process can take another call.
    pub(crate) fn is_usable(&mut self) -> bool {
        self.healthy && matches!(self.child.try_wait(), Ok(None))
    }

    /// Run one call: send `frame`, wait for its reply for at most `timeout`.
    pub(crate) async fn call(
        &mut self,
        frame: &[u8],
        request_id: &str,
        timeout: Duration,
    ) -> Result<String, FunctionError> {
        if let Ok(mut cur) = self.current.lock() {
            cur.clear();
            cur.push_str(request_id);
        }
        let sent = async {
            self.stdin.write_all(frame).await?;
            self.stdin.flush().await
        };
        if sent.await.is_err() {
            self.healthy = false;
            return Err(self.exited_error().await);
        }
        match tokio::time::timeout(timeout, read_frame(&mut self.replies)).await {
            Err(_elapsed) => {
                self.kill().await;
                Err(FunctionError::Timeout { after: timeout })
            }
            Ok(Err(_eof_or_io)) => {
                self.healthy = false;
                Err(self.exited_error().await)
            }
            Ok(Ok(bytes)) => {
                let reply: Reply = match serde_json::from_slice(&bytes) {
                    Ok(r) => r,
                    Err(e) => {
                        self.kill().await;
                        return Err(FunctionError::Internal {
                            message: format!("malformed reply from the function worker: {e}"),
                        });
                    }
                };
                if reply.kind != "result" || reply.id != request_id {
                    self.kill().await;
                    return Err(FunctionError::Internal {
                        message: format!(
                            "out-of-step reply from the function worker (type {}, id {})",
                            reply.kind, reply.id
                        ),
                    });
                }
                if reply.fatal {
                    self.healthy = false;
                }
                if reply.ok {
                    Ok(reply.result.unwrap_or_else(|| "null".to_string()))
                } else {
                    let err = reply.error.unwrap_or(ReplyError {
                        message: "unknown error".into(),
                        stack: None,
                        load: false,
                    });
                    Err(FunctionError::Execution {
                        message: err.message,
                        stack: err.stack.filter(|s| !s.is_empty()),
                        load: err.load,
                    })
                }
            }
        }
    }

    /// Kill the process and reap it.
    pub(crate) async fn kill(&mut self) {
        self.healthy = false;
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }

    async fn exited_error(&mut self) -> FunctionError {
        let status = tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await;
        let how = match status {
            Ok(Ok(st)) => match (st.code(), signal_of(&st)) {
                (Some(code), _) => format!("exited with code {code}"),
                (None, Some(sig)) => format!("was killed by signal {sig}"),
                (None, None) => "ended".to_string(),
            },
            _ => {
                let _ = self.child.start_kill();
                "closed its reply channel".to_string()
            }
        };
        FunctionError::Crashed {
            message: format!("the cloud function process {how} before returning a result"),
        }
    }
}

#[cfg(unix)]
fn signal_of(st: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    st.signal()
}

fn internal(what: &str, e: io::Error) -> FunctionError {
    FunctionError::Internal {
        message: format!("{what}: {e}"),
    }
}

async fn read_frame(r: &mut pipe::Receiver) -> io::Result<Vec<u8>> {
    let mut head = [0u8; 4];
    r.read_exact(&mut head).await?;
    let len = u32::from_be_bytes(head) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("reply frame of {len} bytes is too large"),
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    Ok(body)
}

/// Encode one request frame.
pub(crate) fn frame(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + 4);
    out.extend_from_slice(&(json.len() as u32).to_be_bytes());
    out.extend_from_slice(json);
    out
}

fn forward_lines<R: AsyncRead + Unpin + Send + 'static>(
    stream: R,
    which: LogStream,
    function: &str,
    current: &Arc<Mutex<String>>,
    logs: &broadcast::Sender<LogLine>,
) {
    let function = function.to_string();
    let current = Arc::clone(current);
    let logs = logs.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            let line = String::from_utf8_lossy(&buf).into_owned();
            let request_id = current.lock().map(|c| c.clone()).unwrap_or_default();
            match which {
                LogStream::Stdout => {
                    tracing::info!(target: "shim::functions", function = %function, request_id = %request_id, "{line}")
                }
                LogStream::Stderr => {
                    tracing::warn!(target: "shim::functions", function = %function, request_id = %request_id, "{line}")
                }
            }
            let _ = logs.send(LogLine {
                function: function.clone(),
                request_id,
                stream: which,
                line,
            });
        }
    });
}
