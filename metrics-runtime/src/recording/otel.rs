//! What the OpenTelemetry naming (`Config::naming`) reads of a request as it arrives:
//! its URL scheme (the connection's, or what a proxy's `Forwarded` or
//! `X-Forwarded-Proto` header says when it says `http` or `https`) and its protocol
//! version, which key its series there ([`Otel`]).

use crate::families::OtelFamilies;
use crate::families::otel::{Variant, Version};

/// A request's part in the OpenTelemetry naming: its scheme and protocol version, which
/// with its status key its series there (siblings of those it has in the Prometheus
/// naming, see `storage::sibling`), and the limits of their buckets.
#[derive(Clone, Copy)]
pub(crate) struct Otel {
    pub(crate) variant: Variant,
    pub(crate) limits: &'static [u64],
}

impl Otel {
    /// The part in `families` of a request whose connection is `https` or not, as a
    /// proxy's headers (`forwarded`, `x_forwarded_proto`: the first value of each, if
    /// any) may say otherwise, of protocol `version`.
    #[inline]
    pub(crate) fn of(
        families: &'static OtelFamilies,
        https: bool,
        forwarded: Option<&[u8]>,
        x_forwarded_proto: Option<&[u8]>,
        version: Version,
    ) -> Otel {
        let https = forwarded
            .and_then(forwarded_proto)
            .or_else(|| x_forwarded_proto.and_then(|value| scheme(first(value))))
            .unwrap_or(https);
        Otel {
            variant: Variant::new(https, version),
            limits: &families.limits,
        }
    }
}

// The `proto` parameter of a `Forwarded` header's first element (RFC 7239), if it is
// `http` (false) or `https` (true).
fn forwarded_proto(value: &[u8]) -> Option<bool> {
    first(value).split(|&byte| byte == b';').find_map(|pair| {
        let at = pair.iter().position(|&byte| byte == b'=')?;
        let (key, value) = (trim(&pair[..at]), trim(&pair[at + 1..]));
        if !key.eq_ignore_ascii_case(b"proto") {
            return None;
        }
        let value = value
            .strip_prefix(b"\"")
            .and_then(|value| value.strip_suffix(b"\""))
            .unwrap_or(value);
        scheme(value)
    })
}

// A header's first comma-separated element.
fn first(value: &[u8]) -> &[u8] {
    let end = value
        .iter()
        .position(|&byte| byte == b',')
        .unwrap_or(value.len());
    trim(&value[..end])
}

fn trim(value: &[u8]) -> &[u8] {
    value.trim_ascii()
}

// `http` (false) or `https` (true), in any case; `None` for anything else.
fn scheme(value: &[u8]) -> Option<bool> {
    if value.eq_ignore_ascii_case(b"https") {
        Some(true)
    } else if value.eq_ignore_ascii_case(b"http") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_headers_name_the_scheme_only_when_it_is_one_of_the_two() {
        for (value, want) in [
            (&b"proto=https"[..], Some(true)),
            (b"for=192.0.2.60;proto=http;by=203.0.113.43", Some(false)),
            (
                b"For=\"[2001:db8:cafe::17]:4711\"; Proto=\"HTTPS\"",
                Some(true),
            ),
            (b"proto=https, proto=http", Some(true)),
            (b"for=a, proto=https", None),
            (b"proto=ftp", None),
            (b"proto", None),
            (b"", None),
        ] {
            assert_eq!(
                forwarded_proto(value),
                want,
                "{}",
                String::from_utf8_lossy(value)
            );
        }
        for (value, want) in [
            (&b"https"[..], Some(true)),
            (b" HTTP ", Some(false)),
            (b"https, http", Some(true)),
            (b"wss", None),
        ] {
            assert_eq!(scheme(first(value)), want);
        }
    }
}
