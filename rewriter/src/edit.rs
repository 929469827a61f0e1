//! Byte-range edits on a file's original text, each with its safety level.
//!
//! A rewrite never reprints a file: it replaces byte ranges of the text the analyzer read, so
//! formatting and comments outside the ranges survive byte for byte. Edits of one file are
//! applied together, sorted by position; two edits that overlap are an error (two rewrites
//! disagree about the same bytes), while several insertions at one offset keep their order.

use std::fmt;

/// How safe an edit is to apply without a person reading it (as ruff's fix applicability).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Applicability {
    /// Keeps the program's behaviour: applied by `--yes`.
    Safe,
    /// Can change behaviour (a synchronous use made asynchronous, a response shape adapted):
    /// applied only after review or with `--unsafe`.
    Unsafe,
}

impl Applicability {
    /// The word the plan, the diff and the summary use.
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

impl fmt::Display for Applicability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Replace `start..end` of the original text with `text` (an insertion when the range is
/// empty, a deletion when `text` is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// Byte offset in the original text where the replaced range starts.
    pub start: usize,
    /// Byte offset where it ends (exclusive).
    pub end: usize,
    /// The replacement.
    pub text: String,
    /// Whether `--yes` may apply it.
    pub applicability: Applicability,
    /// What the edit does, for the review (`wx.request → cloudRequest`).
    pub reason: String,
}

impl Edit {
    /// A safe replacement of `start..end`.
    pub fn replace(
        start: usize,
        end: usize,
        text: impl Into<String>,
        reason: impl Into<String>,
    ) -> Edit {
        Edit {
            start,
            end,
            text: text.into(),
            applicability: Applicability::Safe,
            reason: reason.into(),
        }
    }

    /// A safe insertion at `at`.
    pub fn insert(at: usize, text: impl Into<String>, reason: impl Into<String>) -> Edit {
        Edit::replace(at, at, text, reason)
    }

    /// The same edit, marked as needing review.
    pub fn unsafe_(mut self) -> Edit {
        self.applicability = Applicability::Unsafe;
        self
    }
}

/// Why a set of edits cannot be applied to a text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The range is past the end of the text or reversed.
    #[error("edit {start}..{end} is outside the text ({len} bytes)")]
    OutOfBounds {
        /// Start of the bad range.
        start: usize,
        /// End of the bad range.
        end: usize,
        /// Length of the text.
        len: usize,
    },
    /// The range cuts a UTF-8 character in two.
    #[error("edit {start}..{end} does not fall on character boundaries")]
    NotCharBoundary {
        /// Start of the bad range.
        start: usize,
        /// End of the bad range.
        end: usize,
    },
    /// Two edits replace some of the same bytes.
    #[error("edits overlap: {first:?} ({first_reason}) and {second:?} ({second_reason})")]
    Overlap {
        /// The earlier edit's range.
        first: std::ops::Range<usize>,
        /// What it does.
        first_reason: String,
        /// The later edit's range.
        second: std::ops::Range<usize>,
        /// What it does.
        second_reason: String,
    },
}

/// The edits sorted by position (stable: insertions at one offset keep their order), checked
/// against `text`.
pub fn sorted<'e>(text: &str, edits: &'e [Edit]) -> Result<Vec<&'e Edit>, EditError> {
    let mut order: Vec<&Edit> = edits.iter().collect();
    order.sort_by_key(|e| (e.start, e.end));
    for e in &order {
        if e.start > e.end || e.end > text.len() {
            return Err(EditError::OutOfBounds {
                start: e.start,
                end: e.end,
                len: text.len(),
            });
        }
        if !text.is_char_boundary(e.start) || !text.is_char_boundary(e.end) {
            return Err(EditError::NotCharBoundary {
                start: e.start,
                end: e.end,
            });
        }
    }
    for pair in order.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        // An insertion at the end of a replaced range, or two insertions at one point, touch
        // but do not overlap.
        if b.start < a.end {
            return Err(EditError::Overlap {
                first: a.start..a.end,
                first_reason: a.reason.clone(),
                second: b.start..b.end,
                second_reason: b.reason.clone(),
            });
        }
    }
    Ok(order)
}

/// `text` with `edits` applied.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, EditError> {
    let order = sorted(text, edits)?;
    let grow: usize = order.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(text.len() + grow);
    let mut at = 0;
    for e in order {
        out.push_str(&text[at..e.start]);
        out.push_str(&e.text);
        at = e.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_keeps_the_rest_byte_for_byte() {
        let text = "const a = wx.request({ url }) // keep me\n\tnext();\n";
        let at = text.find("wx.request").unwrap();
        let edits = [Edit::replace(
            at,
            at + 10,
            "cloudRequest",
            "wx.request → cloudRequest",
        )];
        assert_eq!(
            apply(text, &edits).unwrap(),
            "const a = cloudRequest({ url }) // keep me\n\tnext();\n"
        );
    }

    #[test]
    fn insertions_at_one_point_keep_their_order() {
        let edits = [
            Edit::insert(0, "a", "first"),
            Edit::insert(0, "b", "second"),
            Edit::replace(0, 1, "X", "replace"),
        ];
        assert_eq!(apply("xyz", &edits).unwrap(), "abXyz");
    }

    #[test]
    fn insertion_at_the_end_of_a_replacement_is_not_an_overlap() {
        let edits = [Edit::replace(0, 2, "AB", "r"), Edit::insert(2, "!", "i")];
        assert_eq!(apply("abc", &edits).unwrap(), "AB!c");
    }

    #[test]
    fn overlaps_and_bad_ranges_are_errors() {
        let edits = [Edit::replace(0, 3, "", "a"), Edit::replace(2, 4, "", "b")];
        assert!(matches!(
            apply("abcdef", &edits),
            Err(EditError::Overlap { .. })
        ));
        assert!(matches!(
            apply("abc", &[Edit::replace(2, 9, "", "x")]),
            Err(EditError::OutOfBounds { .. })
        ));
        assert!(matches!(
            apply("é", &[Edit::insert(1, "x", "x")]),
            Err(EditError::NotCharBoundary { .. })
        ));
    }
}
