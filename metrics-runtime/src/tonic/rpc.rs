//! One RPC as the layer records it: its series (by its method and kind, bounded), its
//! messages, its code, and the one place it ends, its `Drop`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::{HeaderMap, HeaderName, Request};

use super::frames::Messages;
use super::methods::{self, Method};
use crate::families::GrpcFamilies;
use crate::families::grpc::{CODE_NAMES, GrpcSeries, UNKNOWN};
use crate::recording::headers;
use crate::recording::rpc::{CLIENT_STREAMS, Kind, Named, SERVER_STREAMS, UNARY};

// Codes by their number (`grpc-status`), the index of `CODE_NAMES`: a byte, to keep
// `Rpc` small (it is moved with the response future and body).
type Code = u8;
const CANCELED: Code = 1;
const UNKNOWN_CODE: Code = UNKNOWN as Code;
const DEADLINE_EXCEEDED: Code = 4;
const UNIMPLEMENTED: Code = 12;
const INTERNAL: Code = 13;

/// [`Rpc`]'s `timeout` when the request has none.
const NO_TIMEOUT: u64 = u64::MAX;

/// The headers the layer reads, made once (a `&str` would be parsed on every lookup).
const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");

/// The set bit of [`Received`]'s count once the RPC has its series.
const COUNTED: u64 = 1 << 63;

/// The messages of an RPC's request, counted by its body (see
/// [`GrpcRequestBody`](super::GrpcRequestBody)) while the RPC may not know its series
/// yet: kept here until it does, then added to the series as they come.
#[derive(Default)]
pub(super) struct Received {
    series: OnceLock<&'static GrpcSeries>,
    // The messages so far, with `COUNTED` once they are in the series.
    count: AtomicU64,
}

impl Received {
    /// `messages` more arrived.
    pub(super) fn add(&self, messages: u64) {
        if messages == 0 {
            return;
        }
        let before = self.count.fetch_add(messages, Ordering::AcqRel);
        if before & COUNTED != 0
            && let Some(series) = self.series.get()
        {
            series.received(messages);
        }
    }

    // The RPC has its series: what came so far goes in, the rest as it comes. Each
    // message is added once: before the bit is set by the `fetch_or` below, after it by
    // `add`.
    fn counted_in(&self, series: &'static GrpcSeries) {
        if self.series.set(series).is_ok() {
            let before = self.count.fetch_or(COUNTED, Ordering::AcqRel);
            series.received(before & !COUNTED);
        }
    }

    fn total(&self) -> u64 {
        self.count.load(Ordering::Acquire) & !COUNTED
    }
}

/// Where a request body counts the messages it reads.
pub(super) enum Receiving {
    /// In the series the RPC started in (its method known when it arrived); a method
    /// whose kind is inferred learns from a second message that its client streams.
    Direct(&'static GrpcSeries, Option<&'static Method>),
    /// In the RPC, which adds them to its series once it has one.
    Shared(Arc<Received>),
}

impl Receiving {
    /// `messages` more arrived, `total` so far.
    pub(super) fn add(&self, messages: u64, total: u64) {
        match self {
            Receiving::Direct(series, method) => {
                if messages > 0 {
                    series.received(messages);
                    if let Some(method) = method
                        && total > 1
                        && total - messages <= 1
                    {
                        method.infer(UNARY | CLIENT_STREAMS);
                    }
                }
            }
            Receiving::Shared(received) => received.add(messages),
        }
    }
}

/// An RPC in progress: counted as started once its series is known (when it arrives,
/// for a known method), recorded once when dropped.
pub(super) struct Rpc {
    families: &'static GrpcFamilies,
    // Its method, once known.
    method: Option<&'static Method>,
    // Its path while its method is not known.
    path: Option<Box<str>>,
    // The series it counts in, once started.
    series: Option<&'static GrpcSeries>,
    // The request's messages while the RPC has no series; `None` when they go straight
    // to the series it started in (its method was known when it arrived).
    received: Option<Arc<Received>>,
    sent: u64,
    sent_messages: Messages,
    // The clock's reading when it arrived (`storage::now`).
    start: u64,
    // `grpc-timeout` in nanoseconds (`NO_TIMEOUT` without one): past it, the client
    // receives `DeadlineExceeded`.
    timeout: u64,
    // The code it ended with (an index of `CODE_NAMES`), once known.
    code: Option<Code>,
    // An answer's head arrived, with a code other than `Unimplemented`: the method exists.
    answered: bool,
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

impl Rpc {
    /// The RPC of `request` if it is a gRPC one (`content-type: application/grpc…`),
    /// started now if its method is known, and where its request body counts the
    /// messages it reads; `None` for any other request, when metrics are disabled, or
    /// when the families cannot be built.
    pub(super) fn start<B>(request: &Request<B>) -> Option<(Rpc, Receiving)> {
        let [content_type, grpc_timeout] = headers::firsts(
            request.headers(),
            [&http::header::CONTENT_TYPE, &GRPC_TIMEOUT],
        );
        let grpc = crate::recording::rpc::is_grpc(content_type.map(|value| value.as_bytes()));
        if !grpc || !crate::enabled() {
            return None;
        }
        let families = crate::registry::grpc_families()?;
        let start = crate::storage::now();
        let path = request.uri().path();
        let method = methods::lookup(path);
        // A known method's RPC starts in its series now, and its request's messages go
        // there as they come; another's are kept until it has one.
        let (received, receiving) = match method {
            Some(method) => {
                let series = method.series(families, method.kind());
                let inferred = (!method.is_exact()).then_some(method);
                (None, Receiving::Direct(series, inferred))
            }
            None => {
                let received = Arc::default();
                (Some(Arc::clone(&received)), Receiving::Shared(received))
            }
        };
        let mut rpc = Rpc {
            families,
            method,
            path: method.is_none().then(|| path.into()),
            series: None,
            received,
            sent: 0,
            sent_messages: Messages::default(),
            start,
            timeout: grpc_timeout
                .and_then(|value| timeout(value.as_bytes()))
                // Beyond `u64` nanoseconds (584 years): never reached.
                .map_or(NO_TIMEOUT, |timeout| {
                    u64::try_from(timeout.as_nanos()).unwrap_or(NO_TIMEOUT - 1)
                }),
            code: None,
            answered: false,
            panicked: false,
        };
        if let Receiving::Direct(series, _) = receiving {
            rpc.count_in(series);
        }
        Some((rpc, receiving))
    }

    /// A tracked method of `kind` started for this RPC: its method is known now, and of
    /// that kind from now on, counting toward the objective its function names; the RPC
    /// starts now if it had not (else it keeps the series it started in).
    pub(super) fn named(&mut self, Named { kind, objective }: Named) {
        let method = match (self.method, &self.path) {
            (Some(method), _) => method,
            (None, Some(path)) => match methods::learn(path, kind) {
                Some(method) => method,
                None => return,
            },
            (None, None) => return,
        };
        method.exact(kind);
        if let Some(objective) = objective {
            method.join(objective);
        }
        self.method = Some(method);
        self.path = None;
        if self.series.is_none() {
            self.count_in(method.series(self.families, kind));
        }
    }

    /// The response's head arrived: its headers' `grpc-status` (a trailers-only answer)
    /// becomes the code.
    pub(super) fn answered(&mut self, headers: &HeaderMap) {
        self.code = headers::first(headers, &GRPC_STATUS).map(|value| code(value.as_bytes()));
        self.answered = self.code != Some(UNIMPLEMENTED);
    }

    /// Whether the code is known (from the headers of a trailers-only answer).
    pub(super) fn has_code(&self) -> bool {
        self.code.is_some()
    }

    /// Data of the response body passed: the messages it completes are sent.
    pub(super) fn sent(&mut self, data: &impl bytes::Buf) {
        let messages = self.sent_messages.count(data);
        self.sent += messages;
        if let Some(series) = self.series
            && messages > 0
        {
            series.sent(messages);
        }
    }

    /// The trailers arrived, with the code the client receives.
    pub(super) fn trailers(&mut self, trailers: &HeaderMap) {
        self.code = Some(
            headers::first(trailers, &GRPC_STATUS)
                .map_or(UNKNOWN_CODE, |value| code(value.as_bytes())),
        );
    }

    /// The service failed: no answer, no status.
    pub(super) fn failed(&mut self) {
        self.code = Some(UNKNOWN_CODE);
    }

    /// The body ended: the code is the headers' or the trailers', else `Unknown`.
    pub(super) fn ended(&mut self) {
        self.code.get_or_insert(UNKNOWN_CODE);
    }

    // Starts the RPC in `series`: counted as started, its messages so far added.
    fn count_in(&mut self, series: &'static GrpcSeries) {
        series.start();
        if self.sent > 0 {
            series.sent(self.sent);
        }
        if let Some(received) = &self.received {
            received.counted_in(series);
        }
        self.series = Some(series);
    }

    // The kind its messages show: more than one received, the client streams; more
    // than one sent, the server streams.
    fn inferred(&self) -> Kind {
        let mut kind = UNARY;
        if self
            .received
            .as_ref()
            .is_some_and(|received| received.total() > 1)
        {
            kind |= CLIENT_STREAMS;
        }
        if self.sent > 1 {
            kind |= SERVER_STREAMS;
        }
        kind
    }
}

impl Drop for Rpc {
    // The one place an RPC is recorded.
    fn drop(&mut self) {
        let nanos = crate::storage::nanos_since(self.start);
        let timeout = (self.timeout != NO_TIMEOUT).then_some(self.timeout);
        let code = match self.code {
            // Past its deadline the client has stopped waiting for any answer.
            _ if timeout.is_some_and(|timeout| nanos >= timeout) => DEADLINE_EXCEEDED,
            Some(code) => code,
            None if std::thread::panicking() => INTERNAL,
            // Dropped at its deadline: by tonic's own timeout (which started its clock
            // just before this one), or by the client's reset.
            None if timeout
                .is_some_and(|timeout| nanos.saturating_add(margin(timeout)) >= timeout) =>
            {
                DEADLINE_EXCEEDED
            }
            None => CANCELED,
        };
        let inferred = self.inferred();
        if let Some(method) = self.method {
            method.infer(inferred);
        }
        let series = match (self.series, &self.path) {
            (Some(series), _) => series,
            // Its first RPC that answered (or whose handler panicked: only a handler
            // does) makes a method known, of the kind its messages showed.
            (None, Some(path)) if self.answered || self.panicked => {
                match methods::learn(path, inferred) {
                    Some(method) => {
                        method.infer(inferred);
                        method.series(self.families, method.kind())
                    }
                    None => methods::unnamed(self.families),
                }
            }
            // `Unimplemented`, or ended before any answer (cancelled, the service failed):
            // whether the method exists is not known.
            _ => methods::unnamed(self.families),
        };
        if self.series.is_none() {
            self.count_in(series);
        }
        // Timed before it counts as handled: a scrape that sees it handled sees it timed.
        series.handled(usize::from(code), nanos);
    }
}

/// The code (an index of `CODE_NAMES`) of a `grpc-status` value; `Unknown` for a value
/// that is no code.
fn code(status: &[u8]) -> Code {
    let code = i32::from(::tonic::Code::from_bytes(status));
    Code::try_from(code)
        .ok()
        .filter(|&code| usize::from(code) < CODE_NAMES.len())
        .unwrap_or(UNKNOWN_CODE)
}

/// How much earlier than its deadline an RPC dropped without an answer still counts as
/// `DeadlineExceeded`: whoever dropped it started the deadline's clock before the layer
/// did (tonic's timeout, just before, or longer before on a loaded machine; a client
/// across the network). A tenth of the timeout, at least 5 ms: a client that cancels that
/// close to its deadline is rare.
fn margin(timeout: u64) -> u64 {
    (timeout / 10).max(5_000_000)
}

/// The duration of a `grpc-timeout` value: at most eight digits and a unit (`H`, `M`,
/// `S`, `m`, `u`, `n`); `None` for any other value.
fn timeout(value: &[u8]) -> Option<Duration> {
    let (unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let amount = digits
        .iter()
        .fold(0u64, |amount, digit| amount * 10 + u64::from(digit - b'0'));
    Some(match unit {
        b'H' => Duration::from_secs(amount * 3600),
        b'M' => Duration::from_secs(amount * 60),
        b'S' => Duration::from_secs(amount),
        b'm' => Duration::from_millis(amount),
        b'u' => Duration::from_micros(amount),
        b'n' => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        for number in 0..CODE_NAMES.len() {
            assert_eq!(usize::from(code(number.to_string().as_bytes())), number);
        }
        for junk in ["", "17", "-1", "ok", "0x1", "999999999999"] {
            assert_eq!(code(junk.as_bytes()), UNKNOWN_CODE, "{junk}");
        }
    }

    #[test]
    fn timeouts() {
        assert_eq!(timeout(b"1H"), Some(Duration::from_secs(3600)));
        assert_eq!(timeout(b"2M"), Some(Duration::from_secs(120)));
        assert_eq!(timeout(b"99999999S"), Some(Duration::from_secs(99_999_999)));
        assert_eq!(timeout(b"250m"), Some(Duration::from_millis(250)));
        assert_eq!(timeout(b"7u"), Some(Duration::from_micros(7)));
        assert_eq!(timeout(b"0n"), Some(Duration::ZERO));
        for junk in ["", "S", "100", "100x", "123456789S", "-1S", "1.5S", " 1S"] {
            assert_eq!(timeout(junk.as_bytes()), None, "{junk}");
        }
    }
}
