//! The methods the server is known to have, by path: what an RPC's labels may name.
//!
//! A method becomes known when a tracked method of its path starts (its kind exact, from
//! its types), or when an RPC of its path ends having answered something other than
//! `Unimplemented` (its kind inferred from the messages it exchanged). So the table is
//! bounded by the methods the program has, never by what clients ask for; an RPC of a
//! path not known counts with the `""` labels unless its own end makes it known.
//!
//! Each method keeps the kind its next RPCs start with, and one series per kind it has
//! been counted under (made once, never freed: a handful per method). A thread looks a
//! path up in a table of its own first, so a known method's RPC takes no lock.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

use foldhash::fast::FixedState;

use crate::config::Objective;
use crate::families::GrpcFamilies;
use crate::families::grpc::{GrpcSeries, KIND_NAMES, kind_index};
use crate::recording::rpc::{Kind, UNARY};

/// The kind bit of a method whose kind came from its tracked function's types: the
/// messages of its RPCs do not change it.
const EXACT: Kind = 0x80;

/// A method of the server.
pub(super) struct Method {
    // Its path, `/pkg.Service/Method`, and the service and method in it.
    path: &'static str,
    service: &'static str,
    name: &'static str,
    // The kind its RPCs start with, with `EXACT` when its types told it.
    kind: AtomicU8,
    series: [OnceLock<&'static GrpcSeries>; KIND_NAMES.len()],
    // Its objective's series are set (by its tracked function's first RPC).
    joined: AtomicBool,
}

impl Method {
    // The method of `path` (one `split_path` accepts), starting as `kind`; its path kept
    // for the program's life.
    fn new(path: &str, kind: Kind) -> Method {
        let path: &'static str = Box::leak(path.into());
        let (service, name) = split_path(path).unwrap_or_default();
        Method {
            path,
            service,
            name,
            kind: AtomicU8::new(kind),
            series: Default::default(),
            joined: AtomicBool::new(false),
        }
    }

    /// The kind its next RPC starts with.
    pub(super) fn kind(&self) -> Kind {
        self.kind.load(Ordering::Relaxed) & !EXACT
    }

    /// Whether its kind came from its tracked function's types.
    pub(super) fn is_exact(&self) -> bool {
        self.kind.load(Ordering::Relaxed) & EXACT != 0
    }

    /// Its series for RPCs of `kind`.
    pub(super) fn series(
        &'static self,
        families: &GrpcFamilies,
        kind: Kind,
    ) -> &'static GrpcSeries {
        let index = kind_index(kind);
        self.series[index].get_or_init(|| families.series(index, self.service, self.name))
    }

    /// Its tracked function says it is of `kind`: its next RPCs start so.
    pub(super) fn exact(&self, kind: Kind) {
        self.kind.store(kind | EXACT, Ordering::Relaxed);
    }

    /// Its tracked function names `objective`: the method counts toward it (its series
    /// set once).
    pub(super) fn join(&'static self, objective: &'static Objective) {
        if !self.joined.swap(true, Ordering::Relaxed) {
            crate::registry::join_rpc(objective, self.service, self.name);
        }
    }

    /// An RPC of it exchanged messages as one of `kind` does (more than one received:
    /// the client streams; more than one sent: the server streams): unless its types
    /// told its kind, its next RPCs start as both kinds together.
    pub(super) fn infer(&self, kind: Kind) {
        let _ = self
            .kind
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |known| {
                (known & EXACT == 0 && known | kind != known).then_some(known | kind)
            });
    }
}

/// Every known method, by path. Bounded by the program (see the module's doc).
static KNOWN: OnceLock<Mutex<HashMap<Box<str>, &'static Method, FixedState>>> = OnceLock::new();

/// The series of RPCs whose method is not known: `grpc_type="unary"`,
/// `grpc_service=""`, `grpc_method=""`.
static UNNAMED: OnceLock<&'static GrpcSeries> = OnceLock::new();

thread_local! {
    // This thread's copy of what it found in `KNOWN`.
    static LOCAL: RefCell<HashMap<Box<str>, &'static Method, FixedState>> =
        const { RefCell::new(HashMap::with_hasher(seed())) };
    // The method this thread found last: its path compared first, cheaper than hashing
    // it, for a server whose traffic goes mostly to one method at a time.
    static LAST: Cell<Option<&'static Method>> = const { Cell::new(None) };
}

const fn seed() -> FixedState {
    FixedState::with_seed(0x0a4f_4b3c_9d21_6e85)
}

/// The known method of `path`, if any.
pub(super) fn lookup(path: &str) -> Option<&'static Method> {
    if let Ok(Some(last)) = LAST.try_with(Cell::get)
        && last.path == path
    {
        return Some(last);
    }
    let local = LOCAL.try_with(|local| local.borrow().get(path).copied());
    let method = match local {
        Ok(Some(method)) => method,
        _ => {
            let method = known().lock().ok()?.get(path).copied()?;
            let _ = LOCAL.try_with(|local| local.borrow_mut().insert(path.into(), method));
            method
        }
    };
    let _ = LAST.try_with(|last| last.set(Some(method)));
    Some(method)
}

/// The method of `path`, made known now if it was not (starting as `kind`); `None` for
/// a path that is not `/pkg.Service/Method`.
pub(super) fn learn(path: &str, kind: Kind) -> Option<&'static Method> {
    if let Some(method) = lookup(path) {
        return Some(method);
    }
    split_path(path)?;
    let mut known = known().lock().ok()?;
    let method = *known
        .entry(path.into())
        .or_insert_with(|| leak(Method::new(path, kind)));
    Some(method)
}

/// The series of RPCs whose method is not known.
pub(super) fn unnamed(families: &GrpcFamilies) -> &'static GrpcSeries {
    UNNAMED.get_or_init(|| families.series(kind_index(UNARY), "", ""))
}

/// `("pkg.Service", "Method")` of a path `/pkg.Service/Method`; `None` for any other.
pub(super) fn split_path(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    let valid = |part: &str| !part.is_empty() && !part.contains('/');
    (valid(service) && valid(method)).then_some((service, method))
}

fn known() -> &'static Mutex<HashMap<Box<str>, &'static Method, FixedState>> {
    KNOWN.get_or_init(|| Mutex::new(HashMap::with_hasher(seed())))
}

// Made once per method (or kind of a method) and kept for the program's life.
fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::rpc::{CLIENT_STREAMS, SERVER_STREAMS};

    #[test]
    fn paths() {
        assert_eq!(
            split_path("/grpc.health.v1.Health/Check"),
            Some(("grpc.health.v1.Health", "Check"))
        );
        assert_eq!(split_path("/Svc/M"), Some(("Svc", "M")));
        for path in ["", "/", "//", "/a/", "//b", "/a/b/c", "a/b", "/ab"] {
            assert_eq!(split_path(path), None, "{path}");
        }
    }

    #[test]
    fn kinds_are_learned() {
        assert!(lookup("/test.Kinds/Inferred").is_none());
        let inferred = learn("/test.Kinds/Inferred", UNARY).unwrap();
        assert!(std::ptr::eq(
            lookup("/test.Kinds/Inferred").unwrap(),
            inferred
        ));
        inferred.infer(UNARY | SERVER_STREAMS);
        inferred.infer(UNARY | CLIENT_STREAMS);
        assert_eq!(inferred.kind(), UNARY | CLIENT_STREAMS | SERVER_STREAMS);

        let exact = learn("/test.Kinds/Exact", UNARY).unwrap();
        exact.exact(UNARY | SERVER_STREAMS);
        exact.infer(UNARY | CLIENT_STREAMS);
        assert_eq!(exact.kind(), UNARY | SERVER_STREAMS);

        assert!(learn("/not-a-method", UNARY).is_none());
    }
}
