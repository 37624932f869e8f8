//! The trace a call or request belongs to, for exemplars: the current OpenTelemetry span
//! (cargo feature `opentelemetry`), or a W3C `traceparent` header, parsed strictly
//! because it is untrusted input.

use std::fmt;

/// The ids of a sampled trace: what an exemplar carries (`trace_id`, `span_id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Trace {
    trace_id: [u8; 16],
    span_id: [u8; 8],
}

impl Trace {
    /// The trace of a `traceparent` header
    /// (<https://www.w3.org/TR/trace-context/#traceparent-header>) when it is well formed
    /// and sampled: version `00`, a 32-digit trace id and a 16-digit parent id in lower-case
    /// hex, neither all zeros, and flags with the sampled bit. Anything else is `None`:
    /// no request can put text of its own into the exposition.
    #[cfg(any(feature = "actix", feature = "axum", test))]
    pub(crate) fn from_traceparent(header: &[u8]) -> Option<Trace> {
        // "00-" 32 "-" 16 "-" 2: 55 bytes, exactly (version 00 has nothing after).
        let [b'0', b'0', b'-', rest @ ..] = header else {
            return None;
        };
        if rest.len() != 52 || rest[32] != b'-' || rest[49] != b'-' {
            return None;
        }
        let trace_id: [u8; 16] = hex(&rest[..32])?;
        let span_id: [u8; 8] = hex(&rest[33..49])?;
        let [flags]: [u8; 1] = hex(&rest[50..52])?;
        let sampled = flags & 1 == 1;
        (sampled && trace_id != [0; 16] && span_id != [0; 8]).then_some(Trace { trace_id, span_id })
    }

    /// The current OpenTelemetry span's trace when it is sampled (and valid): the span of
    /// `opentelemetry`'s current context, which `tracing-opentelemetry` (0.32 on) sets
    /// to a `tracing` span's while it is entered. One thread-local read, no allocation
    /// or reference count.
    #[cfg(feature = "opentelemetry")]
    #[inline]
    pub(crate) fn current() -> Option<Trace> {
        use opentelemetry::trace::TraceContextExt;
        opentelemetry::Context::map_current(|cx| {
            let span = cx.span();
            let context = span.span_context();
            (context.is_valid() && context.is_sampled()).then(|| Trace {
                trace_id: context.trace_id().to_bytes(),
                span_id: context.span_id().to_bytes(),
            })
        })
    }

    /// The trace id as 32 lower-case hex digits (with [`fmt::Display`]).
    pub(crate) fn trace_id(&self) -> impl fmt::Display + '_ {
        Hex(&self.trace_id)
    }

    /// The span id as 16 lower-case hex digits (with [`fmt::Display`]).
    pub(crate) fn span_id(&self) -> impl fmt::Display + '_ {
        Hex(&self.span_id)
    }
}

// `N` bytes from `2 * N` lower-case hex digits; upper case is invalid in trace context.
#[cfg(any(feature = "actix", feature = "axum", test))]
fn hex<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    fn digit(d: u8) -> Option<u8> {
        match d {
            b'0'..=b'9' => Some(d - b'0'),
            b'a'..=b'f' => Some(d - b'a' + 10),
            _ => None,
        }
    }
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_sampled_traceparent_gives_its_ids() {
        let trace = Trace::from_traceparent(VALID.as_bytes()).unwrap();
        assert_eq!(
            trace.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(trace.span_id().to_string(), "00f067aa0ba902b7");
        // Other flags beside the sampled bit.
        let flags = VALID.replace("-01", "-03");
        assert!(Trace::from_traceparent(flags.as_bytes()).is_some());
    }

    #[test]
    fn anything_else_is_ignored() {
        let bad = [
            // Not sampled.
            VALID.replace("-01", "-00"),
            // Another version, or more after version 00.
            VALID.replacen("00-", "01-", 1),
            VALID.replacen("00-", "ff-", 1),
            format!("{VALID}-extra"),
            // Upper case, non-hex, all zeros.
            VALID.replace("4bf92f", "4BF92F"),
            VALID.replace("4bf92f", "4bf92g"),
            VALID.replace("4bf92f3577b34da6a3ce929d0e0e4736", &"0".repeat(32)),
            VALID.replace("00f067aa0ba902b7", &"0".repeat(16)),
            // Wrong lengths and separators, text of one's own.
            VALID[..54].to_owned(),
            VALID.replace('-', "_"),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0".to_owned(),
            "00-\"} 1 # {trace_id=\"x\"}-00f067aa0ba902b7-01".to_owned(),
            String::new(),
        ];
        for header in bad {
            assert_eq!(Trace::from_traceparent(header.as_bytes()), None, "{header}");
        }
    }
}
