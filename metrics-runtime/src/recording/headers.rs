//! A header of an `http` 1 request, answer or trailers, as the axum and gRPC layers read
//! the few they need.

use http::{HeaderMap, HeaderName, HeaderValue};

/// The first value of header `name`: a small map's few names are compared in turn,
/// cheaper than hashing a name that is not one of HTTP's own; a larger map is hashed.
#[inline]
pub(crate) fn first<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h HeaderValue> {
    if headers.len() > 8 {
        return headers.get(name);
    }
    headers
        .iter()
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// The first value of each of `names`, the map's names read once for all of them when
/// it is small (as [`first`]).
#[cfg(feature = "tonic")]
#[inline]
pub(crate) fn firsts<'h, const N: usize>(
    headers: &'h HeaderMap,
    names: [&HeaderName; N],
) -> [Option<&'h HeaderValue>; N] {
    if headers.len() > 8 {
        return names.map(|name| headers.get(name));
    }
    let mut found = [None; N];
    for (key, value) in headers {
        if let Some(at) = names.iter().position(|&name| key == name)
            && found[at].is_none()
        {
            found[at] = Some(value);
        }
    }
    found
}
