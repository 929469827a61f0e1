//! File-relative byte spans and line/column lookup.
//!
//! Every position the analyzer reports is a [`Span`]: a file and a half-open byte range into that
//! file's original bytes. swc positions are converted in exactly one place, [`Span::from_swc`].

use serde::{Serialize, Serializer};

/// Index of a file in [`crate::project::Project::files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

impl FileId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl Serialize for FileId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

/// A half-open byte range `[start, end)` in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    /// Converts a swc span into a file-relative one. `base` is the `start_pos` of the swc
    /// `SourceFile` the node came from; swc strips a UTF-8 BOM, so `bom` adds it back.
    pub fn from_swc(
        file: FileId,
        base: swc_common::BytePos,
        bom: bool,
        sp: swc_common::Span,
    ) -> Self {
        let shift = if bom { 3 } else { 0 };
        let lo = sp.lo.0.saturating_sub(base.0) + shift;
        let hi = sp.hi.0.saturating_sub(base.0) + shift;
        Span {
            file,
            start: lo,
            end: hi.max(lo),
        }
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Line starts of one file, for 1-based line and column numbers (columns count chars).
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0u32];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| (i + 1) as u32));
        LineIndex { starts }
    }

    /// The 0-based line holding a byte offset.
    pub fn line_of(&self, offset: u32) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// The byte offset where a 0-based line starts, if the text has that line.
    pub fn line_start(&self, line: usize) -> Option<u32> {
        self.starts.get(line).copied()
    }

    /// 1-based line and 1-based column (in chars) of a byte offset.
    pub fn line_col(&self, text: &str, offset: u32) -> (u32, u32) {
        let line = self.line_of(offset);
        let start = self.starts[line] as usize;
        let end = (offset as usize).min(text.len());
        let col = text
            .get(start..end)
            .map(|s| s.chars().count())
            .unwrap_or(end.saturating_sub(start));
        (line as u32 + 1, col as u32 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let text = "ab\n中文x\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 3), (2, 1));
        // "中文" is 6 bytes: offset 9 is 'x', the third char of line 2.
        assert_eq!(idx.line_col(text, 9), (2, 3));
    }

    #[test]
    fn swc_offsets_shift_by_base_and_bom() {
        let sp = swc_common::Span::new(swc_common::BytePos(11), swc_common::BytePos(15));
        let s = Span::from_swc(FileId(0), swc_common::BytePos(1), false, sp);
        assert_eq!((s.start, s.end), (10, 14));
        let s = Span::from_swc(FileId(0), swc_common::BytePos(1), true, sp);
        assert_eq!((s.start, s.end), (13, 17));
    }
}
