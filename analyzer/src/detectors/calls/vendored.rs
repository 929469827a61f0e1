//! Code the app did not write: npm packages (`miniprogram_npm/<pkg>/…`, what DevTools' "build
//! npm" writes) and minified vendor files (`*.min.js`).
//!
//! - An npm package's functions pass their requests through to the app: a backend call is
//!   where the app calls into the package (`WXAPI.goodsList(…)` in a page), never one of the
//!   package's hundreds of endpoint functions, and a package function the app never calls is
//!   not reported. The package is not the app's code to rewrite.
//! - In a minified vendor file the request stays where it is (the file names its endpoint),
//!   but its callers are the app's calls into the file, through the file's own functions.
//! - In both, the function around a network API call is a wrapper when the app calls it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::world::{Gfn, Origin, World};
use crate::findings::Loc;

/// Whether a call in function `owner` of file `fi` hands its routes to its callers whatever
/// they are: any function of an npm package.
pub(super) fn passes_through(w: &World<'_>, fi: usize, owner: Option<usize>) -> bool {
    owner.is_some() && w.origin(fi) == Origin::Npm
}

/// The callers of `g`, a function of vendored code: the calls from the file's own functions
/// are replaced by those functions' callers, so that the list names where the app calls into
/// the file. `by_fn` is the calls of each function of vendored code (the calling function,
/// where).
pub(super) fn callers(
    w: &World<'_>,
    g: Gfn,
    by_fn: &HashMap<Gfn, Vec<(Option<Gfn>, Loc)>>,
) -> Vec<Loc> {
    let file = w.files[g.0].js.file;
    let mut out = Vec::new();
    let mut seen: HashSet<Gfn> = HashSet::default();
    let mut todo = vec![g];
    seen.insert(g);
    while let Some(f) = todo.pop() {
        for (from, loc) in by_fn.get(&f).into_iter().flatten() {
            match from {
                Some(c) if w.files[c.0].js.file == file && by_fn.contains_key(c) => {
                    if seen.insert(*c) {
                        todo.push(*c);
                    }
                }
                _ => out.push(loc.clone()),
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
