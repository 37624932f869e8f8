//! The route a request is in flight under before actix has routed it.
//!
//! When `RequestMetrics` receives a request, actix has not routed it yet. Matching the
//! path against every resource again (`ServiceRequest::match_pattern`) runs a regex per
//! dynamic pattern tried: more than the rest of the middleware costs. So each worker
//! keeps, per method and path, the route its last request there was answered under, in
//! a small set-associative table: a path served before costs one hash and a compare,
//! and is in flight under its route from the start. A path new to the worker is in
//! flight under `route=""` until its route is known: when it first waits (then the path
//! is matched, once, against the resources of a request kept for that), or when it is
//! answered (then actix says, at no cost, which route it took). The table has a fixed
//! size (1024 paths of up to 64 bytes, copied inline: keeping one allocates nothing), so
//! a flood of random paths replaces entries but never grows it.
//!
//! Where a request starts is only a guess: the same method and path can take another
//! route this time (guards that look at headers), and a path may equal a pattern left
//! out without taking it (`/metrics` when the endpoint is mounted elsewhere). So a
//! request is recorded, or left out, by the route it took (`Request::route` when it is
//! answered): a request that started left out is counted if that route is not, one that
//! started in flight under a route leaves it if its route is left out.

use std::cell::{Cell, RefCell};
use std::hash::BuildHasher;
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::dev::ServiceRequest;

use crate::recording::Excluded;
use crate::recording::request::Start;
use crate::storage::Series;

/// The table: `SETS` sets of `WAYS` entries, each path in one set; a path longer than
/// `MAX_PATH` bytes is not kept.
const SETS: usize = 256;
const WAYS: usize = 4;
const MAX_PATH: usize = 64;

#[derive(Clone, Copy)]
struct Entry {
    // 0 for a free entry (no path is empty).
    len: u8,
    path: [u8; MAX_PATH],
    method: &'static str,
    start: Start,
}

impl Entry {
    const FREE: Entry = Entry {
        len: 0,
        path: [0; MAX_PATH],
        method: "",
        start: Start::Excluded,
    };

    // `method` is a label of `recording::method_label`: one `&'static str` per value,
    // so the same method is the same pointer.
    fn is(&self, method: &'static str, path: &[u8]) -> bool {
        usize::from(self.len) == path.len()
            && std::ptr::eq(self.method, method)
            && self.path[..path.len()] == *path
    }
}

/// One worker's routes: the table, the routes left out, and a request to match paths
/// against the app's resources.
pub(super) struct Routes {
    exclude: Arc<Excluded>,
    entries: RefCell<Box<[Entry]>>,
    // Per set, the way the next new path replaces.
    victims: Box<[Cell<u8>]>,
    // The first request this worker answered, kept for its `resource_map()`.
    resources: RefCell<Option<HttpRequest>>,
}

impl Routes {
    pub(super) fn new(exclude: Arc<Excluded>) -> Routes {
        Routes {
            exclude,
            entries: RefCell::new(vec![Entry::FREE; SETS * WAYS].into_boxed_slice()),
            victims: (0..SETS).map(|_| Cell::new(0)).collect(),
            resources: RefCell::new(None),
        }
    }

    /// Whether `route` (a pattern) is left out.
    pub(super) fn excluded(&self, route: &str) -> bool {
        self.exclude.contains(route)
    }

    /// Where `req` starts; with the path to learn its route for when it is not known.
    pub(super) fn start(
        &self,
        req: &ServiceRequest,
        method: &'static str,
    ) -> (Start, Option<Box<str>>) {
        let path = req.path();
        if let Ok(entries) = self.entries.try_borrow()
            && let Some(entry) = entries[set(method, path.as_bytes())]
                .iter()
                .find(|e| e.is(method, path.as_bytes()))
        {
            return (entry.start, None);
        }
        if self.resources.try_borrow().is_ok_and(|kept| kept.is_none()) {
            // Nothing kept to match against later (this worker has answered nothing
            // yet): match now, at the full cost, while the worker starts.
            let route = req.match_pattern();
            let start = self.start_of(method, route.as_deref().unwrap_or(""));
            self.learn(method, path.as_bytes(), start);
            return (start, None);
        }
        if self.excluded(path) {
            // A static pattern left out, such as `/metrics`: most likely its route, so
            // not in flight meanwhile (nor matched while it waits).
            return (Start::Excluded, None);
        }
        (Start::Unrouted, Some(path.into()))
    }

    /// The route `path` will match, by matching it against the app's resources; `None`
    /// when no request is kept to do it.
    pub(super) fn resolve(&self, path: &str) -> Option<String> {
        let kept = self.resources.try_borrow().ok()?;
        Some(
            kept.as_ref()?
                .resource_map()
                .match_pattern(path)
                .unwrap_or_default(),
        )
    }

    /// `req` was answered and counted in `counted` (`None`: its route is left out): keep
    /// what a later request needs. `expected`: where it started, when its route was
    /// known then.
    pub(super) fn answered(
        &self,
        req: &HttpRequest,
        method: &'static str,
        expected: Option<&'static Series>,
        counted: Option<&'static Series>,
    ) {
        if let Ok(mut kept) = self.resources.try_borrow_mut()
            && kept.is_none()
        {
            *kept = Some(req.clone());
        }
        // A path new to the worker, or answered by another handler (or by none) than
        // last time.
        if expected.is_none() || !same(expected, counted) {
            let start = counted.map_or(Start::Excluded, Start::Routed);
            self.learn(method, req.path().as_bytes(), start);
        }
    }

    fn start_of(&self, method: &'static str, route: &str) -> Start {
        if self.excluded(route) {
            Start::Excluded
        } else {
            Start::Routed(crate::registry::series_of("", method, route))
        }
    }

    fn learn(&self, method: &'static str, path: &[u8], start: Start) {
        if path.is_empty() || path.len() > MAX_PATH {
            return;
        }
        let Ok(mut entries) = self.entries.try_borrow_mut() else {
            return;
        };
        let set = set(method, path);
        let ways = &mut entries[set.clone()];
        let way = match ways.iter().position(|e| e.is(method, path) || e.len == 0) {
            Some(way) => way,
            None => {
                let victim = &self.victims[set.start / WAYS];
                let way = usize::from(victim.get());
                victim.set(((way + 1) % WAYS) as u8);
                way
            }
        };
        let mut bytes = [0; MAX_PATH];
        bytes[..path.len()].copy_from_slice(path);
        ways[way] = Entry {
            len: path.len() as u8,
            path: bytes,
            method,
            start,
        };
    }
}

fn same(a: Option<&'static Series>, b: Option<&'static Series>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => std::ptr::eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

// The entries of the set `(method, path)` belongs to.
fn set(method: &str, path: &[u8]) -> std::ops::Range<usize> {
    // `method` is one of `method_label`'s `&'static str`s: its address tells it.
    let hash = foldhash::fast::FixedState::with_seed(0x1319_8a2e_0370_7344)
        .hash_one((method.as_ptr() as usize, path));
    let set = (hash as usize) & (SETS - 1);
    set * WAYS..(set + 1) * WAYS
}
