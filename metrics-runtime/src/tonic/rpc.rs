//! One RPC as the layer records it: its labels (from the path, bounded), its code, and
//! the one place it is recorded, its `Drop`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use http::HeaderMap;

use crate::families::GrpcFamilies;
use crate::families::grpc::{CODE_NAMES, GrpcSeries, UNARY};

/// The code of an RPC that ended without a status (Go's name).
const UNKNOWN: &str = "Unknown";
const CANCELED: &str = "Canceled";
const INTERNAL: &str = "Internal";
/// `grpc-status` of `Unimplemented`.
const UNIMPLEMENTED: &str = "12";

/// The series of every method that answered something other than `Unimplemented`, by
/// path: bounded by the methods the server has, never by what clients ask for.
static KNOWN: OnceLock<Mutex<HashMap<Box<str>, Arc<GrpcSeries>>>> = OnceLock::new();
/// The series with `grpc_service` and `grpc_method` `""`: unknown services and methods,
/// paths that are no gRPC method.
static UNNAMED: OnceLock<Arc<GrpcSeries>> = OnceLock::new();

/// An RPC in progress: started (now or once its answer shows that its method exists),
/// recorded once when dropped.
pub(super) struct Rpc {
    families: &'static GrpcFamilies,
    labels: Labels,
    start: Instant,
    // The code it ended with, once known; dropped without one, it was cancelled.
    code: Option<&'static str>,
    // The service or the body panicked while polled (`Internal`).
    panicked: bool,
}

/// Marks the RPC `Internal` if dropped while a panic unwinds: held on the stack while the
/// inner future or body is polled. (The RPC itself is dropped later, by the task that
/// caught the panic, when `std::thread::panicking()` no longer tells.)
pub(super) struct Unwinding<'a>(pub(super) &'a mut Option<Rpc>);

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        if let Some(rpc) = self.0
            && std::thread::panicking()
        {
            rpc.panicked = true;
            rpc.code.get_or_insert(INTERNAL);
        }
    }
}

enum Labels {
    // Counted as started in this series.
    Started(Arc<GrpcSeries>),
    // Not counted yet: the path's method is not known to exist.
    Pending(Box<str>),
}

impl Rpc {
    /// The RPC of a request to `path`, counted as started if its method is known to
    /// exist; `None` when metrics are disabled or the families cannot be built.
    pub(super) fn start(path: &str) -> Option<Rpc> {
        if !crate::enabled() {
            return None;
        }
        let families = crate::registry::grpc_families()?;
        let start = Instant::now();
        let known = known().lock().ok()?.get(path).cloned();
        let labels = match known {
            Some(series) => {
                series.started.inc();
                Labels::Started(series)
            }
            None => Labels::Pending(path.into()),
        };
        Some(Rpc {
            families,
            labels,
            start,
            code: None,
            panicked: false,
        })
    }

    /// The response's head arrived: its headers' `grpc-status` (a trailers-only answer)
    /// becomes the code, and an RPC not counted yet is counted now, by its method's
    /// labels unless it was answered `Unimplemented` (then by `""`).
    pub(super) fn answered(&mut self, headers: &HeaderMap) {
        let status = headers.get("grpc-status");
        self.code = status.map(|value| code_name(value.as_bytes()));
        let Labels::Pending(path) = &self.labels else {
            return;
        };
        let series = if status.is_some_and(|value| value.as_bytes() == UNIMPLEMENTED.as_bytes()) {
            unnamed(self.families)
        } else {
            named(self.families, path)
        };
        series.started.inc();
        self.labels = Labels::Started(series);
    }

    /// Whether the code is known (from the headers of a trailers-only answer).
    pub(super) fn has_code(&self) -> bool {
        self.code.is_some()
    }

    /// The trailers arrived, with the code the client receives.
    pub(super) fn trailers(&mut self, trailers: &HeaderMap) {
        self.code = Some(
            trailers
                .get("grpc-status")
                .map_or(UNKNOWN, |value| code_name(value.as_bytes())),
        );
    }

    /// The service failed: no answer, no status.
    pub(super) fn failed(&mut self) {
        self.code = Some(UNKNOWN);
    }

    /// The body ended: the code is the headers' or the trailers', else `Unknown`.
    pub(super) fn ended(&mut self) {
        self.code.get_or_insert(UNKNOWN);
    }
}

impl Drop for Rpc {
    // The one place an RPC is recorded.
    fn drop(&mut self) {
        let code = match self.code {
            Some(code) => code,
            None if std::thread::panicking() => INTERNAL,
            None => CANCELED,
        };
        let series = match &self.labels {
            Labels::Started(series) => Arc::clone(series),
            // Its handler panicked: the method exists (tonic's routing never panics).
            Labels::Pending(path) if self.panicked => {
                let series = named(self.families, path);
                series.started.inc();
                series
            }
            // Ended before its answer (cancelled, or the service failed): whether the
            // method exists is not known, so it counts with the unnamed labels.
            Labels::Pending(_) => {
                let series = unnamed(self.families);
                series.started.inc();
                series
            }
        };
        // Timed before it counts as handled: a scrape that sees it handled sees it timed.
        series.handling.observe(self.start.elapsed().as_secs_f64());
        series.handled(code).inc();
    }
}

/// Go's name of a `grpc-status` value; `Unknown` for a value that is no code.
pub(super) fn code_name(status: &[u8]) -> &'static str {
    let code = i32::from(::tonic::Code::from_bytes(status));
    usize::try_from(code)
        .ok()
        .and_then(|code| CODE_NAMES.get(code))
        .copied()
        .unwrap_or(UNKNOWN)
}

/// `("pkg.Service", "Method")` of a path `/pkg.Service/Method`; `None` for any other.
pub(super) fn split_path(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    let valid = |part: &str| !part.is_empty() && !part.contains('/');
    (valid(service) && valid(method)).then_some((service, method))
}

fn known() -> &'static Mutex<HashMap<Box<str>, Arc<GrpcSeries>>> {
    KNOWN.get_or_init(Mutex::default)
}

fn unnamed(families: &GrpcFamilies) -> Arc<GrpcSeries> {
    Arc::clone(UNNAMED.get_or_init(|| Arc::new(families.series(UNARY, "", ""))))
}

// The series of a method that answered; remembered, so that its next RPCs count as
// started when they arrive.
fn named(families: &GrpcFamilies, path: &str) -> Arc<GrpcSeries> {
    let Some((service, method)) = split_path(path) else {
        return unnamed(families);
    };
    let Ok(mut known) = known().lock() else {
        return Arc::new(families.series(UNARY, service, method));
    };
    Arc::clone(
        known
            .entry(path.into())
            .or_insert_with(|| Arc::new(families.series(UNARY, service, method))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn codes() {
        for (number, name) in CODE_NAMES.iter().enumerate() {
            assert_eq!(code_name(number.to_string().as_bytes()), *name);
        }
        for junk in ["", "17", "-1", "ok", "0x1", "999999999999"] {
            assert_eq!(code_name(junk.as_bytes()), UNKNOWN, "{junk}");
        }
    }
}
