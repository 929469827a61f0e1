//! `--format json`: the [`super::Report`] as pretty JSON. The schema is documented in
//! `docs/report-schema.md` and versioned by [`super::SCHEMA_VERSION`].
//!
//! The backend calls (tens of thousands in a large app, most of the report's bytes) are
//! rendered in parallel, a chunk per task, and put in place in the rest of the report; the
//! result is byte for byte what `serde_json::to_string_pretty` gives.

use std::io;

use rayon::prelude::*;
use serde_json::Serializer;
use serde_json::ser::Formatter;

use super::Report;
use crate::findings::FindingsView;

/// Bytes reserved per item before rendering. A backend call renders to about 1 KB; reserving
/// generously costs only address space (untouched pages are never faulted in), while growing a
/// large buffer by doubling copies it several times over.
const BYTES_PER_ITEM: usize = 2048;

/// Backend calls rendered per task.
const CHUNK: usize = 256;

/// Where the backend calls go in the rest of the report: the empty list of its `findings`.
/// Inside a JSON string a quote is always escaped, so this can only be the key itself.
const CALLS_SLOT: &[u8] = b"\"backendCalls\": []";

pub fn render(report: &Report<'_>) -> String {
    let mut out = Vec::new();
    // Writing into memory cannot fail, and serde_json writes UTF-8 (joined at ASCII bytes).
    match write(report, &mut out) {
        Ok(()) => String::from_utf8(out).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}\n")),
        Err(e) => format!("{{\"error\":\"{e}\"}}\n"),
    }
}

/// Writes the rendered report to `w`, in pieces: the rest of the report around the backend
/// calls' chunks (not joined into one buffer first).
pub fn write(report: &Report<'_>, w: &mut impl io::Write) -> io::Result<()> {
    let calls = report.findings.backend_calls;
    let shell = Report {
        findings: FindingsView {
            backend_calls: &[],
            ..report.findings
        },
        ..report.clone()
    };
    let f = report.findings;
    let items = f.wrappers.len()
        + f.proposed_functions.len()
        + f.static_data.len()
        + f.large_assets.len()
        + f.inline_assets.len()
        + report.diagnostics.len()
        + report.sizes.unused.len();
    let mut head = Vec::with_capacity(64 * 1024 + items * BYTES_PER_ITEM);
    write_at(&mut head, 0, &shell)?;
    head.push(b'\n');
    if calls.is_empty() {
        return w.write_all(&head);
    }
    let Some(at) = slot(&head) else {
        // Not found (the layout changed): the whole report in one piece, never a call lost.
        let mut all = Vec::with_capacity(head.len() + calls.len() * BYTES_PER_ITEM);
        write_at(&mut all, 0, report)?;
        all.push(b'\n');
        return w.write_all(&all);
    };
    // The list's own level of indentation; its items are one level deeper.
    let line = head[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let level = (at - line) / 2;
    let chunks: Vec<Vec<u8>> = crate::pool::pool().install(|| {
        calls
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(k, chunk)| {
                let mut out = Vec::with_capacity(chunk.len() * BYTES_PER_ITEM);
                for (i, call) in chunk.iter().enumerate() {
                    // Writing plain data into memory cannot fail.
                    let _ = Pretty::at(level + 1).item(&mut out, k == 0 && i == 0);
                    let _ = write_at(&mut out, level + 1, call);
                }
                out
            })
            .collect()
    });
    let open = at + CALLS_SLOT.len() - 1;
    w.write_all(&head[..open])?;
    for c in &chunks {
        w.write_all(c)?;
    }
    Pretty::at(level).item(w, true)?;
    w.write_all(&head[open..])
}

/// The offset of the backend calls' empty list in the rendered rest of the report.
fn slot(head: &[u8]) -> Option<usize> {
    let findings = memchr::memmem::find(head, b"\n  \"findings\": {")?;
    memchr::memmem::find(&head[findings..], CALLS_SLOT).map(|i| findings + i)
}

/// serde_json's pretty layout (two spaces a level), starting at a given level so that a value
/// rendered on its own fits in place; the indentation is written in one piece.
struct Pretty {
    level: usize,
    has_value: bool,
}

impl Pretty {
    fn at(level: usize) -> Pretty {
        Pretty {
            level,
            has_value: false,
        }
    }

    fn indent<W: ?Sized + io::Write>(&self, w: &mut W) -> io::Result<()> {
        const SPACES: &[u8; 64] =
            b"                                                                ";
        let mut n = self.level * 2;
        while n > 0 {
            let k = n.min(SPACES.len());
            w.write_all(&SPACES[..k])?;
            n -= k;
        }
        Ok(())
    }

    fn open<W: ?Sized + io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            self.indent(w)?;
        }
        w.write_all(bracket)
    }

    fn item<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(w)
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(w, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Renders a value at a level of indentation into `out`.
fn write_at<T: serde::Serialize + ?Sized>(
    out: &mut Vec<u8>,
    level: usize,
    value: &T,
) -> serde_json::Result<()> {
    value.serialize(&mut Serializer::with_formatter(out, Pretty::at(level)))
}
