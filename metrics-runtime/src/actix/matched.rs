//! The route actix-web routed a request to, read from the request once it is answered.
//!
//! `HttpRequest::match_pattern()` is exact when routing reached a resource (its path and
//! guards matched: actix keeps the ids of the resources it went through and marks the
//! request "matched"). When it did not (every candidate's guard refused it: two scopes
//! told apart by a header, neither accepting; `#[get("/x")]`, whose `Get` guard is on the
//! resource, hit with POST), an app or scope default service answers, and
//! `match_pattern()` falls back to matching the path alone against every resource,
//! guards ignored: it names the guarded resource's pattern. That mark is private to
//! actix-web (`resource_path_matched`); what is public is `match_info()`, whose
//! `unprocessed()` part only shrinks when a resource definition matched the path and its
//! guards passed (actix-router's `capture_match_info_fn`):
//!
//! - a resource (not a prefix) that matched consumes the whole path: nothing is left, and
//!   `match_pattern()` is its exact pattern. This is nearly every request, and costs
//!   nothing more;
//! - routing that stopped at the app (nothing matched) leaves the whole path, and at a
//!   scope (it matched, nothing in it did) the rest after the scope's prefix;
//! - a service mounted at a prefix (actix-files' `Files`, `ResourceDef::prefix`) matches
//!   and leaves the rest of the path too.
//!
//! Where routing stopped, a default service answered, or a middleware inside ours
//! answered before routing went on (an auth middleware on the app or a scope, a 401 or
//! 403): the request looks the same either way. A default service answers 404 (actix's
//! own, and nearly every one written for it) or 405 (actix's guide mounts one for methods
//! no route takes); a middleware rarely does, and its answer is best counted under the
//! route the path leads to (what `match_pattern()` says). So: with path left over and a
//! 404 or 405, the request matched no route, unless a prefix service
//! matched (answering 404 itself, a file not found): then the part of the path routing
//! consumed leads, guards ignored, to the same pattern as `match_pattern()`; else
//! `match_pattern()`. The extra matching (a regex per dynamic pattern tried) only runs
//! for 404s and 405s with path left over below the app: misses inside scopes and prefix
//! services' own 404s.
//!
//! The edges this leaves (no public signal tells them apart):
//! - a default service that answers another status than 404 or 405 (a single-page app's
//!   `index.html`, a 410) for a path a guarded resource would match counts under that
//!   resource's pattern; a middleware that answers 404 or 405 before routing, under `""`;
//! - a resource of an empty pattern refused by its guard for a path that ends exactly
//!   where its scope's prefix does (`#[get("")]` in `web::scope("/users")`, hit at
//!   `/users` with POST): nothing is left over either way, so it counts under
//!   `/users`;
//! - a prefix service reached after an earlier resource or scope whose guard refused the
//!   request and whose pattern matches the same prefix: its own 404s count under `""`;
//! - a request answered by a middleware's error (`Err`), not a response: actix gives no
//!   request back, so it counts under the route its path took before (see
//!   `route_cache.rs`).

use actix_web::HttpRequest;

/// The pattern of the resource actix routed `req` to, answered with `status`; `None`
/// when it matched none.
#[inline]
pub(super) fn matched_route(req: &HttpRequest, status: u16) -> Option<String> {
    // The status first: it is at hand (the path left over is not).
    if !matches!(status, 404 | 405) {
        return req.match_pattern();
    }
    let rest = req.match_info().unprocessed();
    if rest.is_empty() {
        return req.match_pattern();
    }
    unmatched_or_prefix(req, rest)
}

// A 404 or 405 with `rest` of the path left over: a default service's (no route), or a prefix
// service's own.
#[cold]
fn unmatched_or_prefix(req: &HttpRequest, rest: &str) -> Option<String> {
    let consumed = req.match_info().as_str().strip_suffix(rest)?;
    // Nothing consumed: routing stopped at the app, or a service mounted at the root
    // (pattern `""`, the same label as no route) matched.
    if consumed.is_empty() {
        return None;
    }
    let pattern = req.match_pattern()?;
    let prefix = req.resource_map().match_pattern(consumed)?;
    (prefix == pattern).then_some(pattern)
}
