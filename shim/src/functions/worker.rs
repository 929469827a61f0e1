//! One warm Node process running one cloud function, one call at a time.
//!
//! The process is `node -e <shim/js/runner/worker.js> <dir> <name>` with the function folder as
//! its working directory. Requests go to its stdin, replies come back on fd 3 (a pipe the
//! runner creates), each frame a 4-byte big-endian length followed by UTF-8 JSON. The
//! function's stdout and stderr are read line by line and forwarded to `tracing` and to the
//! runner's log channel, tagged with the request id of the call the worker is serving; a line
//! keeps at most [`MAX_LINE`] bytes and a call at most [`MAX_CALL_OUTPUT`] bytes of output, the
//! rest is dropped with a marker (a function printing a 200 MB line must not hold 200 MB here).
//!
//! Limits: the V8 heap is capped at the configured memory size (`--max-old-space-size`); a
//! worker that runs out of it dies and the call fails with a clear message (the next call starts
//! a fresh worker). `Buffer` and other off-heap memory are not covered by that flag. Each worker
//! leads its own process group, and the whole group is killed on timeout, crash, drop and
//! shutdown, so processes a function started do not outlive it.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// Longest console line kept, in bytes; the rest of the line is dropped with a marker.
pub(crate) const MAX_LINE: usize = 4 << 10;
/// Most console output kept per call, in bytes; later lines of the call are dropped.
pub(crate) const MAX_CALL_OUTPUT: usize = 1 << 20;

/// Largest reply frame accepted (the real platform caps results at 6 MB; leave headroom).
const MAX_FRAME: usize = 64 * 1024 * 1024;

pub(crate) struct SpawnSpec<'a> {
    pub node: &'a Path,
    pub dir: &'a Path,
    pub name: &'a str,
    pub env: &'a [(String, String)],
    /// V8 heap limit, in MB (`--max-old-space-size`).
    pub memory_mb: u64,
    pub logs: &'a broadcast::Sender<LogLine>,
    /// The pool's code generation the worker loads.
    pub generation: u64,
}

/// Console output of the call a worker is serving.
#[derive(Default)]
struct CallOutput {
    request_id: String,
    bytes: usize,
    capped: bool,
}

pub(crate) struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: pipe::Receiver,
    /// The call in progress (or the last one): its request id, for tagging console output, and
    /// how much output it printed.
    current: Arc<Mutex<CallOutput>>,
    /// Set when the worker's stderr reported that the V8 heap ran out.
    oom: Arc<AtomicBool>,
    memory_mb: u64,
    /// The worker's process group (its own pid), killed as a whole.
    pgid: Option<i32>,
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
        cmd.arg(format!("--max-old-space-size={}", spec.memory_mb.max(16)))
            .arg("-e")
            .arg(WORKER_JS)
            .arg(spec.dir)
            .arg(spec.name)
            .current_dir(spec.dir)
            .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // Its own process group, so the processes a function starts are killed with it.
            .process_group(0);
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
        let current = Arc::new(Mutex::new(CallOutput::default()));
        let oom = Arc::new(AtomicBool::new(false));
        if let Some(out) = child.stdout.take() {
            forward_lines(out, LogStream::Stdout, spec.name, &current, &oom, spec.logs);
        }
        if let Some(err) = child.stderr.take() {
            forward_lines(err, LogStream::Stderr, spec.name, &current, &oom, spec.logs);
        }
        let pgid = child.id().and_then(|p| i32::try_from(p).ok());
        Ok(Worker {
            child,
            stdin,
            replies,
            current,
            oom,
            memory_mb: spec.memory_mb,
            pgid,
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
            cur.request_id.clear();
            cur.request_id.push_str(request_id);
            cur.bytes = 0;
            cur.capped = false;
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

    /// Kill the process and everything in its process group, and reap it.
    pub(crate) async fn kill(&mut self) {
        self.healthy = false;
        self.kill_group();
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }

    /// SIGKILL the worker's process group (the worker and what it started).
    fn kill_group(&self) {
        if let Some(pgid) = self.pgid.filter(|p| *p > 1) {
            // SAFETY: plain syscall; the group id is the worker's own pid, which the kernel
            // does not hand to another process while the group still has members.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }

    async fn exited_error(&mut self) -> FunctionError {
        let status = tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await;
        // The worker is gone; what it started goes too.
        self.kill_group();
        let aborted = matches!(&status, Ok(Ok(st)) if signal_of(st) == Some(libc::SIGABRT) || st.code() == Some(134));
        if aborted && !self.oom.load(Ordering::Acquire) {
            // The fatal heap message may still be on its way through the stderr reader.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if self.oom.load(Ordering::Acquire) {
            return FunctionError::Crashed {
                message: format!(
                    "the cloud function ran out of memory (limit {} MB) and its process was \
                     stopped before returning a result; reduce what it keeps in memory (the \
                     next call starts a fresh process)",
                    self.memory_mb
                ),
            };
        }
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

impl Drop for Worker {
    fn drop(&mut self) {
        // `kill_on_drop` reaches the worker only; its children are in its group.
        self.kill_group();
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
    current: &Arc<Mutex<CallOutput>>,
    oom: &Arc<AtomicBool>,
    logs: &broadcast::Sender<LogLine>,
) {
    let function = function.to_string();
    let current = Arc::clone(current);
    let oom = Arc::clone(oom);
    let logs = logs.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            let dropped = match read_capped_line(&mut reader, &mut buf, MAX_LINE).await {
                Ok(Some(d)) => d,
                Ok(None) | Err(_) => break,
            };
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            let mut line = String::from_utf8_lossy(&buf).into_owned();
            if dropped > 0 {
                line.push_str(&format!(" [line truncated: {dropped} more bytes dropped]"));
            }
            if which == LogStream::Stderr && line.contains("heap out of memory") {
                oom.store(true, Ordering::Release);
            }
            let (request_id, keep, marker) = match current.lock() {
                Ok(mut cur) => {
                    let id = cur.request_id.clone();
                    if cur.bytes + line.len() <= MAX_CALL_OUTPUT {
                        cur.bytes += line.len();
                        (id, true, false)
                    } else {
                        let first = !cur.capped;
                        cur.capped = true;
                        (id, false, first)
                    }
                }
                Err(_) => (String::new(), true, false),
            };
            if !keep && !marker {
                continue;
            }
            if marker {
                line = format!(
                    "[output of this call over {} bytes: further lines dropped]",
                    MAX_CALL_OUTPUT
                );
            }
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

/// Read one line into `buf`, keeping at most `cap` bytes of it and skipping the rest without
/// holding it. `Some(dropped)` with the number of bytes skipped, `None` at the end of the stream.
async fn read_capped_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<usize>> {
    buf.clear();
    let mut dropped = 0usize;
    let mut any = false;
    loop {
        let avail = reader.fill_buf().await?;
        if avail.is_empty() {
            return Ok(any.then_some(dropped));
        }
        any = true;
        let (chunk, used, done) = match avail.iter().position(|b| *b == b'\n') {
            Some(i) => (&avail[..i], i + 1, true),
            None => (avail, avail.len(), false),
        };
        let take = chunk.len().min(cap.saturating_sub(buf.len()));
        buf.extend_from_slice(&chunk[..take]);
        dropped += chunk.len() - take;
        reader.consume(used);
        if done {
            return Ok(Some(dropped));
        }
    }
}
