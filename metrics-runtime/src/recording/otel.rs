//! What the OpenTelemetry naming (`Config::naming`) reads of a request as it arrives:
//! its URL scheme (the connection's, or what a proxy's `Forwarded` or
//! `X-Forwarded-Proto` header says when it says `http` or `https`) and its protocol
//! version, which key its series there ([`variant`]).

use crate::families::otel::{Variant, Version};

/// The variant of a request whose connection is `https` or not, as a proxy's headers
/// (`forwarded`, `x_forwarded_proto`: the first value of each, if any) may say
/// otherwise, of protocol `version`: with its status, it keys the request's series in
/// the OpenTelemetry naming (siblings of those it has in the Prometheus naming, see
/// `storage::sibling`).
#[inline]
pub(crate) fn variant(
    https: bool,
    forwarded: Option<&[u8]>,
    x_forwarded_proto: Option<&[u8]>,
    version: Version,
) -> Variant {
    let https = forwarded
        .and_then(forwarded_proto)
        .or_else(|| x_forwarded_proto.and_then(|value| scheme(first(value))))
        .unwrap_or(https);
    Variant::new(https, version)
}

/// The bucket limits of the OpenTelemetry naming's histogram, for a request series made
/// (empty in the Prometheus naming, which makes none).
#[cold]
pub(crate) fn limits() -> &'static [u64] {
    crate::registry::otel_families().map_or(&[], |families| &families.limits)
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
