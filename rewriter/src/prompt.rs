//! Asking on a terminal, file by file and hunk by hunk, which changes to keep (as
//! `git add -p`). The questions and answers go through any reader and writer, so a test can
//! answer them.

use std::io::{self, BufRead, Write};

use crate::review::{self, Hunk, Palette};

/// One file to ask about.
#[derive(Debug, Clone)]
pub struct Question<'a> {
    /// Its path in the project.
    pub path: &'a str,
    /// What happens to it, for files that are not a text diff (`new file`, `moved to
    /// cloud/storage/…`, `removed`): shown above the hunks.
    pub note: Option<String>,
    /// Its diff.
    pub hunks: &'a [Hunk],
    /// Whether it is shown as a diff from nothing (a new file) or to nothing (removed).
    pub old_exists: bool,
    /// Whether the file exists afterwards.
    pub new_exists: bool,
}

/// The answers: per file, per hunk, whether to keep it. A file without hunks (a move) is kept
/// when its one entry is `true`.
pub type Answers = Vec<Vec<bool>>;

const FILE_HELP: &str = "y - keep this file's changes\n\
n - leave this file as it is\n\
s - split: ask for each hunk\n\
a - keep this and every later file\n\
d - leave this and every later file\n\
q - stop here: keep what was kept so far, leave the rest\n";

const HUNK_HELP: &str = "y - keep this hunk\nn - leave it out\na - keep it and the later hunks of this file\nd - leave it and the later hunks of this file\n";

fn ask_line(
    input: &mut dyn BufRead,
    output: &mut dyn Write,
    prompt: &str,
) -> io::Result<Option<char>> {
    write!(output, "{prompt}")?;
    output.flush()?;
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(line.trim().chars().next().map(|c| c.to_ascii_lowercase()))
}

/// Shows each file's diff and asks. End of input is `q`.
pub fn ask(
    questions: &[Question<'_>],
    input: &mut dyn BufRead,
    output: &mut dyn Write,
    palette: Palette,
) -> io::Result<Answers> {
    let mut answers: Answers = questions
        .iter()
        .map(|q| vec![false; q.hunks.len().max(1)])
        .collect();
    let mut all: Option<bool> = None;
    for (i, q) in questions.iter().enumerate() {
        if let Some(keep) = all {
            answers[i].iter_mut().for_each(|a| *a = keep);
            continue;
        }
        let mut text = String::new();
        review::write_file_header(
            &mut text,
            q.old_exists.then_some(q.path),
            q.new_exists.then_some(q.path),
            palette,
        );
        if let Some(note) = &q.note {
            text.push_str(note);
            text.push('\n');
        }
        for h in q.hunks {
            review::write_hunk(&mut text, h, palette);
        }
        output.write_all(text.as_bytes())?;
        let prompt = format!(
            "({}/{}) Keep the changes to {}? [y,n,s,a,d,q,?] ",
            i + 1,
            questions.len(),
            q.path
        );
        loop {
            match ask_line(input, output, &prompt)? {
                Some('y') => {
                    answers[i].iter_mut().for_each(|a| *a = true);
                    break;
                }
                Some('n') => break,
                Some('a') => {
                    answers[i].iter_mut().for_each(|a| *a = true);
                    all = Some(true);
                    break;
                }
                Some('d') => {
                    all = Some(false);
                    break;
                }
                Some('s') if q.hunks.len() > 1 => {
                    ask_hunks(q, &mut answers[i], input, output, palette)?;
                    break;
                }
                Some('s') => {
                    writeln!(output, "This file has one change only.")?;
                }
                None | Some('q') => return Ok(answers),
                _ => write!(output, "{FILE_HELP}")?,
            }
        }
    }
    Ok(answers)
}

fn ask_hunks(
    q: &Question<'_>,
    keep: &mut [bool],
    input: &mut dyn BufRead,
    output: &mut dyn Write,
    palette: Palette,
) -> io::Result<()> {
    let mut rest: Option<bool> = None;
    for (h, hunk) in q.hunks.iter().enumerate() {
        if let Some(k) = rest {
            keep[h] = k;
            continue;
        }
        let mut text = String::new();
        review::write_hunk(&mut text, hunk, palette);
        output.write_all(text.as_bytes())?;
        let prompt = format!(
            "  hunk {}/{} of {}: keep it? [y,n,a,d,?] ",
            h + 1,
            q.hunks.len(),
            q.path
        );
        loop {
            match ask_line(input, output, &prompt)? {
                Some('y') => keep[h] = true,
                Some('n') | None => keep[h] = false,
                Some('a') => {
                    keep[h] = true;
                    rest = Some(true);
                }
                Some('d') => rest = Some(false),
                _ => {
                    write!(output, "{HUNK_HELP}")?;
                    continue;
                }
            }
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::Edit;

    fn hunks_of(text: &str, at: &[&str]) -> Vec<Hunk> {
        let edits: Vec<Edit> = at
            .iter()
            .map(|n| {
                let i = text.find(n).unwrap();
                Edit::replace(i, i + n.len(), n.to_uppercase(), "upper")
            })
            .collect();
        review::hunks(text, &edits).unwrap()
    }

    #[test]
    fn answers_per_file_and_per_hunk() {
        let long: String = (1..=30).map(|i| format!("line{i}\n")).collect();
        let a = hunks_of(&long, &["line2\n", "line25\n"]);
        let b = hunks_of("x\ny\n", &["y"]);
        let c = hunks_of("p\nq\n", &["q"]);
        let qs = [
            Question {
                path: "a.js",
                note: None,
                hunks: &a,
                old_exists: true,
                new_exists: true,
            },
            Question {
                path: "b.js",
                note: None,
                hunks: &b,
                old_exists: true,
                new_exists: true,
            },
            Question {
                path: "c.js",
                note: None,
                hunks: &c,
                old_exists: true,
                new_exists: true,
            },
        ];
        let mut input: &[u8] = b"s\nn\ny\n?\nn\ny\n";
        let mut out = Vec::new();
        let answers = ask(&qs, &mut input, &mut out, Palette::plain()).unwrap();
        assert_eq!(answers, vec![vec![false, true], vec![false], vec![true]]);
        let shown = String::from_utf8(out).unwrap();
        assert!(shown.contains("(1/3) Keep the changes to a.js?"), "{shown}");
        assert!(shown.contains("hunk 2/2 of a.js"), "{shown}");
        assert!(shown.contains("s - split"), "help after `?`: {shown}");
    }

    #[test]
    fn all_and_quit_and_end_of_input() {
        let b = hunks_of("x\ny\n", &["y"]);
        let q = |path| Question {
            path,
            note: None,
            hunks: &b,
            old_exists: true,
            new_exists: true,
        };
        let qs = [q("1.js"), q("2.js"), q("3.js")];
        let mut input: &[u8] = b"n\na\n";
        let answers = ask(&qs, &mut input, &mut Vec::new(), Palette::plain()).unwrap();
        assert_eq!(answers, vec![vec![false], vec![true], vec![true]]);
        let mut input: &[u8] = b"y\nq\n";
        let answers = ask(&qs, &mut input, &mut Vec::new(), Palette::plain()).unwrap();
        assert_eq!(answers, vec![vec![true], vec![false], vec![false]]);
        let mut input: &[u8] = b"";
        let answers = ask(&qs, &mut input, &mut Vec::new(), Palette::plain()).unwrap();
        assert_eq!(answers, vec![vec![false], vec![false], vec![false]]);
    }
}
