//! The source a human diagnostic shows: a window of the file around the span, not the file.
//! The window holds the span's lines and one line of context on each side, each clipped to
//! [`WIDTH`] characters around the span with `…` where it was cut, so a minified file's
//! megabyte line prints as a couple of hundred characters. Line numbers and the header's
//! column are those of the file.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::findings::Loc;

/// Characters of a line shown at most.
pub const WIDTH: usize = 160;

/// Characters kept before the span's start on its line.
const LEAD: usize = 60;

/// Lines of a span the report shows; a longer span (a whole data table) is cut to its first
/// line.
const MAX_LABEL_LINES: usize = 8;

/// What is put where a line was cut.
const ELLIPSIS: &str = "…";

/// A window of a file's text around a span, ready for miette: [`SourceCode`] over the window,
/// and the span's place in it ([`Snippet::label`]).
#[derive(Debug)]
pub struct Snippet {
    name: String,
    text: String,
    /// 0-based line of the file the window starts at.
    first_line: usize,
    /// The span in the window: offset and length.
    label: (usize, usize),
    /// The window line the span starts on, and how many bytes of that line the window left
    /// out before it (less the ellipsis put in their place), for the header's column.
    label_line: usize,
    column_shift: isize,
}

/// One line of the window: the file's line `[start, end)` (without its line break), of which
/// `[from, to)` is shown.
struct Part {
    start: usize,
    end: usize,
    from: usize,
    to: usize,
}

impl Part {
    fn cut_before(&self) -> bool {
        self.from > self.start
    }

    fn cut_after(&self) -> bool {
        self.to < self.end
    }
}

impl Snippet {
    /// The window of `text` (the file named `name`) around `loc`; `None` when `loc` is not a
    /// range of `text`.
    pub fn new(name: &str, text: &str, loc: &Loc) -> Option<Snippet> {
        let b = text.as_bytes();
        let start = loc.start as usize;
        let mut end = (loc.end as usize).max(start);
        if end > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            return None;
        }
        // A span of many lines is cut to its first line.
        if memchr::memchr_iter(b'\n', &b[start..end])
            .nth(MAX_LABEL_LINES - 1)
            .is_some()
        {
            end = line_end(b, start);
        }
        let first = line_of(b, start);
        let mut parts = vec![Part {
            from: back_chars(text, start, LEAD, first.0),
            to: first.1,
            start: first.0,
            end: first.1,
        }];
        parts[0].to = fwd_chars(text, parts[0].from, WIDTH, first.1);
        let lead_chars = text[first.0..parts[0].from].chars().count();
        // The span goes on past what its first line shows: cut it there.
        if end > parts[0].to && (end <= first.1 || parts[0].cut_after()) {
            end = parts[0].to.max(start);
        }
        // The span's other lines: shown from their start, the last one so that the end shows.
        let last_byte = end.saturating_sub(1).max(start);
        let mut prev_end = first.1;
        while let Some(next) = next_line(b, prev_end).filter(|&n| n <= last_byte) {
            let line = (next, line_end(b, next));
            let mut from = line.0;
            let mut to = fwd_chars(text, from, WIDTH, line.1);
            if end <= line.1 && end > to {
                from = back_chars(text, end, WIDTH / 2, line.0);
                to = fwd_chars(text, from, WIDTH, line.1);
            }
            parts.push(Part {
                start: line.0,
                end: line.1,
                from,
                to,
            });
            prev_end = line.1;
        }
        let span_lines = parts.len();
        // One line of context on each side, shown from the same column as the span's line (or
        // from its start, when it is shorter than that).
        let context = |line: (usize, usize)| {
            let mut from = fwd_chars(text, line.0, lead_chars, line.1);
            if from == line.1 {
                from = line.0;
            }
            Part {
                start: line.0,
                end: line.1,
                from,
                to: fwd_chars(text, from, WIDTH, line.1),
            }
        };
        let before = (first.0 > 0).then(|| context(line_of(b, first.0 - 1)));
        let after = next_line(b, prev_end).map(|n| context((n, line_end(b, n))));
        let label_line = usize::from(before.is_some());
        let first_line = (loc.line as usize)
            .saturating_sub(1)
            .saturating_sub(label_line);
        let parts: Vec<Part> = before.into_iter().chain(parts).chain(after).collect();

        let mut out = String::new();
        let mut at_line = Vec::with_capacity(parts.len());
        for p in &parts {
            at_line.push(out.len());
            if p.cut_before() {
                out.push_str(ELLIPSIS);
            }
            out.push_str(&text[p.from..p.to]);
            if p.cut_after() {
                out.push_str(ELLIPSIS);
            }
            if p.end < text.len() {
                out.push('\n');
            }
        }
        let map = |k: usize, p: usize| {
            let part = &parts[k];
            let lead = if part.cut_before() { ELLIPSIS.len() } else { 0 };
            at_line[k] + lead + p.clamp(part.from, part.to) - part.from
        };
        let last = label_line + span_lines - 1;
        let offset = map(label_line, start);
        let len = map(last, end).saturating_sub(offset);
        let lp = &parts[label_line];
        let lead = if lp.cut_before() { ELLIPSIS.len() } else { 0 };
        Some(Snippet {
            name: name.to_string(),
            text: out,
            first_line,
            label: (offset, len),
            label_line,
            column_shift: (lp.from - lp.start) as isize - lead as isize,
        })
    }

    /// The span in the window: offset and length, for a [`miette::LabeledSpan`].
    pub fn label(&self) -> (usize, usize) {
        self.label
    }

    /// The window's text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        let mut column = inner.column();
        if inner.line() == self.label_line && column > 0 {
            column = column.saturating_add_signed(self.column_shift);
        }
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            column,
            inner.line_count(),
        )))
    }
}

/// The line holding byte `at`: its start and its end (before `\r\n` or `\n`).
fn line_of(b: &[u8], at: usize) -> (usize, usize) {
    let at = at.min(b.len());
    let start = memchr::memrchr(b'\n', &b[..at]).map_or(0, |i| i + 1);
    (start, line_end(b, at))
}

/// The start of the line after the one ending at `end`, if there is one.
fn next_line(b: &[u8], end: usize) -> Option<usize> {
    memchr::memchr(b'\n', &b[end..])
        .map(|i| end + i + 1)
        .filter(|&n| n < b.len())
}

/// Where the line holding byte `at` ends (before `\r\n` or `\n`).
fn line_end(b: &[u8], at: usize) -> usize {
    let end = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |i| at + i);
    if end > at && b[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// The byte `n` characters after `from`, at most `limit`.
fn fwd_chars(text: &str, from: usize, n: usize, limit: usize) -> usize {
    let from = from.min(limit);
    text[from..limit]
        .char_indices()
        .nth(n)
        .map_or(limit, |(i, _)| from + i)
}

/// The byte `n` characters before `to`, at least `floor`.
fn back_chars(text: &str, to: usize, n: usize, floor: usize) -> usize {
    if n == 0 {
        return to;
    }
    text[floor..to]
        .char_indices()
        .rev()
        .nth(n - 1)
        .map_or(floor, |(i, _)| floor + i)
}

#[cfg(test)]
mod tests {
    use super::{Snippet, WIDTH};
    use crate::findings::Loc;

    fn loc(text: &str, start: usize, end: usize) -> Loc {
        let line = text[..start].matches('\n').count() as u32 + 1;
        Loc {
            path: "a.js".into(),
            start: start as u32,
            end: end as u32,
            line,
            column: 1,
            source: None,
            span: None,
        }
    }

    fn labelled(s: &Snippet) -> &str {
        let (o, l) = s.label();
        &s.text()[o..o + l]
    }

    #[test]
    fn short_lines_are_shown_whole_with_one_line_of_context() {
        let text = "one\ntwo wx.request(x)\nthree\nfour\n";
        let at = text.find("wx").unwrap();
        let s = Snippet::new("a.js", text, &loc(text, at, at + 13)).unwrap();
        assert_eq!(s.text(), "one\ntwo wx.request(x)\nthree\n");
        assert_eq!(labelled(&s), "wx.request(x)");
        assert_eq!(s.first_line, 0);
    }

    #[test]
    fn a_long_line_is_clipped_around_the_span() {
        let mut text = "// header\n".to_string();
        text.push_str(&"a=1;".repeat(50_000));
        let at = text.len();
        text.push_str("wx.request({url:u})");
        text.push_str(&"b=2;".repeat(50_000));
        text.push_str("\nmodule.exports=api\n");
        let s = Snippet::new("a.js", &text, &loc(&text, at, at + 19)).unwrap();
        assert_eq!(labelled(&s), "wx.request({url:u})");
        for line in s.text().lines() {
            assert!(line.chars().count() <= WIDTH + 2, "{line}");
        }
        assert!(s.text().lines().nth(1).unwrap().starts_with('…'));
        assert!(s.text().lines().nth(1).unwrap().ends_with('…'));
        // The short line before it is shown whole.
        assert!(s.text().starts_with("// header\n"));
    }

    #[test]
    fn a_span_running_past_a_clipped_line_is_cut_at_the_window() {
        let mut text = "x".repeat(10);
        let at = text.len();
        text.push_str(&"[1,2,3]".repeat(1000));
        text.push_str("\n]\n");
        let s = Snippet::new("a.js", &text, &loc(&text, at, text.len() - 1)).unwrap();
        let label = labelled(&s);
        assert!(
            label.starts_with("[1,2,3]") && !label.contains('\n'),
            "{label}"
        );
        assert!(label.chars().count() <= WIDTH);
    }

    #[test]
    fn a_span_over_a_few_short_lines_is_kept_whole() {
        let text = "a\nb = {\n  c: 1,\n}\nd\n";
        let at = text.find('{').unwrap();
        let end = text.find('}').unwrap() + 1;
        let s = Snippet::new("a.js", text, &loc(text, at, end)).unwrap();
        assert_eq!(s.text(), text);
        assert_eq!(labelled(&s), "{\n  c: 1,\n}");
    }
}
