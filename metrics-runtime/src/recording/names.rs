//! Which tracked functions use which handler name: two different functions under one
//! name count in one series, which is what the user wants when both say so (`name =
//! "…"`) and a surprise when one took its function's name by default (three functions
//! called `handler` in three modules). The surprise is logged, once per name, naming
//! both functions and the fix.

use std::collections::HashMap;
use std::panic::Location;
use std::sync::{Mutex, PoisonError};

/// A tracked function as its call site knows it: enough to tell the user which one.
#[derive(Clone, Copy)]
pub(crate) struct Origin {
    /// `module_path!()` where the function is defined.
    pub(crate) module: &'static str,
    /// The function's own name when `name = "…"` gave its handler another one; `""`
    /// when the handler name is the function's name (no `name = "…"`).
    pub(crate) function: &'static str,
    /// Where the attribute is (file, line, column).
    pub(crate) location: &'static Location<'static>,
}

impl Origin {
    // Whether the handler name was taken by default, from the function's name.
    fn by_default(&self) -> bool {
        self.function.is_empty()
    }
}

// Each handler name: the call sites that use it (by address), and whether it was warned
// about.
#[derive(Default)]
struct Users {
    sites: Vec<(usize, Origin)>,
    warned: bool,
}

static NAMES: Mutex<Option<HashMap<&'static str, Users>>> = Mutex::new(None);

/// The call site at address `site`, of the function `origin`, uses `handler`: called on
/// its first call (once, or a few times when threads race to make it). Logs one warning
/// per name when two different functions use it and at least one of them took it by
/// default; the same explicit `name = "…"` on both merges them on purpose.
#[cold]
pub(crate) fn claim(handler: &'static str, site: usize, origin: Origin) {
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    let users = names
        .get_or_insert_with(HashMap::new)
        .entry(handler)
        .or_default();
    if let Some(merged) = users.claim(handler, site, origin) {
        log::warn!("{merged}");
    }
}

impl Users {
    // The call site `site` of `origin` uses the name `handler` too: the warning to log,
    // if any.
    fn claim(&mut self, handler: &'static str, site: usize, origin: Origin) -> Option<Merged> {
        if self.sites.iter().any(|&(seen, _)| seen == site) {
            return None;
        }
        let merged = (!self.warned)
            .then(|| {
                self.sites
                    .iter()
                    .find(|(_, seen)| seen.by_default() || origin.by_default())
            })
            .flatten()
            .map(|&(_, first)| Merged(handler, first, origin));
        self.warned |= merged.is_some();
        self.sites.push((site, origin));
        merged
    }
}

// The warning: two functions that count as one handler.
struct Merged(&'static str, Origin, Origin);

impl std::fmt::Display for Merged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Merged(handler, first, second) = *self;
        write!(
            f,
            "track-metrics: two functions count as handler=\"{handler}\", in one series: "
        )?;
        function(f, handler, &first)?;
        f.write_str(" and ")?;
        function(f, handler, &second)?;
        write!(
            f,
            "; give one of them a name of its own with #[track_metrics(name = \"…\")] \
             (or both the same name = \"{handler}\" to count them together)"
        )
    }
}

// `module::function (file:line)`.
fn function(f: &mut std::fmt::Formatter<'_>, handler: &str, origin: &Origin) -> std::fmt::Result {
    let name = if origin.by_default() {
        handler
    } else {
        origin.function
    };
    let location = origin.location;
    write!(
        f,
        "`{}::{name}` ({}:{})",
        origin.module,
        location.file(),
        location.line()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn origin(module: &'static str, function: &'static str) -> Origin {
        Origin {
            module,
            function,
            location: Location::caller(),
        }
    }

    #[test]
    fn the_warning_names_both_functions_and_the_fix() {
        let (first, second) = (origin("app::users", ""), origin("app::items", "get_item"));
        let text = Merged("handler", first, second).to_string();
        let at = |origin: Origin| format!("{}:{}", origin.location.file(), origin.location.line());
        assert_eq!(
            text,
            format!(
                "track-metrics: two functions count as handler=\"handler\", in one series: \
                 `app::users::handler` ({}) and `app::items::get_item` ({}); give one of them a \
                 name of its own with #[track_metrics(name = \"…\")] (or both the same name = \
                 \"handler\" to count them together)",
                at(first),
                at(second)
            )
        );
    }

    // The warnings of these claims of one name, as the indexes of the call sites named.
    fn warned(claims: &[(usize, Origin)]) -> Vec<(usize, usize)> {
        let mut users = Users::default();
        let site = |origin: Origin| {
            let same = |(_, o): &&(usize, Origin)| std::ptr::eq(o.location, origin.location);
            claims.iter().find(same).unwrap().0
        };
        claims
            .iter()
            .filter_map(|&(at, origin)| users.claim("handler", at, origin))
            .map(|Merged(_, first, second)| (site(first), site(second)))
            .collect()
    }

    #[test]
    fn two_functions_of_one_default_name_warn_once() {
        let (a, b, c) = (
            origin("app::a", ""),
            origin("app::b", ""),
            origin("app::c", ""),
        );
        assert_eq!(warned(&[(0, a), (1, b), (2, c)]), [(0, 1)]);
        // One call site claiming twice (threads racing to make its first call).
        assert_eq!(warned(&[(0, a), (0, a)]), []);
    }

    #[test]
    fn the_same_explicit_name_twice_merges_on_purpose() {
        let (x, y) = (origin("app::a", "load"), origin("app::b", "fetch"));
        let default = origin("app::c", "");
        assert_eq!(warned(&[(0, x), (1, y)]), []);
        // A function that took it by default is told apart from the explicit ones.
        assert_eq!(warned(&[(0, x), (1, y), (2, default)]), [(0, 2)]);
        assert_eq!(warned(&[(2, default), (0, x), (1, y)]), [(2, 0)]);
    }
}
