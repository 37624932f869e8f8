//! The request families of the OpenTelemetry naming (`Config::naming`): the HTTP server
//! metrics of the OpenTelemetry semantic conventions as Prometheus names them,
//! `http_server_request_duration_seconds` and `http_server_active_requests`.
//!
//! A request's series there is a sibling of its series (see `storage::sibling`), keyed by
//! what the conventions put on a request beyond the route, method and handler: its URL
//! scheme and protocol version (the *variant*, known when it arrives) and the status it
//! was answered with. The key's layout is decided here and nowhere else:
//! `REQUEST | variant << 10 | status`, status 0 while in flight.

use prometheus::core::Desc;

use super::{Builder, bounds};
use crate::storage::{Series, limit};

/// The duration histogram's labels before the request labels, in the order of
/// [`OtelFamilies::duration_values`].
const DURATION_LABELS: [&str; 7] = crate::config::OTEL_LABELS;

/// The active requests gauge's labels before the request labels.
const ACTIVE_LABELS: [&str; 2] = ["http_request_method", "url_scheme"];

/// Set in every key of a request's series (so that none is 0, a series' own).
const REQUEST: u32 = 1 << 13;

/// A request's scheme and protocol version (three bits: `http` and HTTP/1.1 are 0), kept
/// as the key of its series in flight (never 0: a request holds an `Option` of it in
/// four bytes).
#[cfg(any(feature = "actix", feature = "axum", test))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Variant(std::num::NonZeroU32);

#[cfg(any(feature = "actix", feature = "axum", test))]
impl Variant {
    /// `https`: the request's scheme is `https` (else `http`); `version`: its protocol
    /// version as the conventions write it (`1.0`, `1.1`, `2`, `3`; anything else is
    /// `1.1`).
    #[inline]
    pub(crate) fn new(https: bool, version: Version) -> Variant {
        let key = REQUEST | (u32::from(https) | (version as u32) << 1) << 10;
        Variant(std::num::NonZeroU32::new(key).unwrap_or(std::num::NonZeroU32::MIN))
    }

    /// The key of a request of this variant in flight.
    #[inline]
    pub(crate) fn in_flight(self) -> u32 {
        self.0.get()
    }

    /// The key of a request of this variant answered with `status` (`100..=599`, any
    /// other counts as 500, as in the storage).
    #[inline]
    pub(crate) fn counted(self, status: u16) -> u32 {
        let status = if (100..=599).contains(&status) {
            status
        } else {
            500
        };
        self.in_flight() | u32::from(status)
    }
}

/// The protocol versions the conventions name.
#[cfg(any(feature = "actix", feature = "axum", test))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Version {
    Http11 = 0,
    Http10 = 1,
    Http2 = 2,
    Http3 = 3,
}

/// What a request series' key says.
pub(crate) struct Key {
    /// `http` or `https`.
    pub(crate) scheme: &'static str,
    /// `1.0`, `1.1`, `2` or `3`.
    pub(crate) version: &'static str,
    /// The status it was answered with; `None` while in flight.
    pub(crate) status: Option<u16>,
}

impl Key {
    /// The key of a request series; `None` for a series' own (tracked calls).
    pub(crate) fn of(key: u32) -> Option<Key> {
        if key & REQUEST == 0 {
            return None;
        }
        let variant = key >> 10 & 0b111;
        let scheme = if variant & 1 == 1 { "https" } else { "http" };
        let version = match variant >> 1 {
            0 => "1.1",
            1 => "1.0",
            2 => "2",
            _ => "3",
        };
        let status = (key & 0x3ff) as u16;
        Some(Key {
            scheme,
            version,
            status: (status != 0).then_some(status),
        })
    }

    /// `http_response_status_code` and `error_type` of a request answered with `status`:
    /// the status, and for a 5xx the status again, else `""`; for a request dropped
    /// before its response (counted 499, as in the Prometheus naming) no status (`""`,
    /// which Prometheus reads as no label) and `_OTHER`.
    pub(crate) fn status_and_error(status: u16) -> (&'static str, &'static str) {
        match status {
            499 => ("", "_OTHER"),
            500.. => (status_label(status), status_label(status)),
            _ => (status_label(status), ""),
        }
    }
}

/// The two families, their buckets and their limits.
pub(crate) struct OtelFamilies {
    pub(crate) duration: Desc,
    pub(crate) active: Desc,
    // The histogram's upper bounds in seconds, without `+Inf`.
    pub(crate) bounds: Vec<f64>,
    // Per bound, the first whole number of nanoseconds above it (for the request series
    // the middlewares make).
    #[cfg_attr(not(any(feature = "actix", feature = "axum")), allow(dead_code))]
    pub(crate) limits: Vec<u64>,
}

impl OtelFamilies {
    // `buckets`: the bounds (the conventions' unless configured); `extra`: the names of
    // the request labels, after the families' own.
    pub(crate) fn new(
        builder: &Builder,
        buckets: &[f64],
        extra: &[&str],
    ) -> Result<OtelFamilies, prometheus::Error> {
        let labels =
            |own: &[&'static str]| -> Vec<&str> { own.iter().chain(extra).copied().collect() };
        let duration = builder.desc(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests.",
            &labels(&DURATION_LABELS),
        )?;
        let active = builder.desc(
            "http_server_active_requests",
            "Number of active HTTP server requests.",
            &labels(&ACTIVE_LABELS),
        )?;
        let bounds = bounds(Some(buckets));
        Ok(OtelFamilies {
            duration,
            active,
            limits: bounds.iter().map(|&bound| limit(bound)).collect(),
            bounds,
        })
    }
}

/// `status` (`100..=599`, as the keys hold it) as the label writes it: made once per
/// process, so that a scrape allocates no string per series for it.
fn status_label(status: u16) -> &'static str {
    static LABELS: std::sync::OnceLock<Box<[String]>> = std::sync::OnceLock::new();
    let labels = LABELS.get_or_init(|| (100..=599u16).map(|code| code.to_string()).collect());
    status
        .checked_sub(100)
        .and_then(|at| labels.get(usize::from(at)))
        .map_or("500", String::as_str)
}

impl OtelFamilies {
    /// The values of the duration histogram's variable labels for `series`, a request
    /// series of key `key` answered with `status`, in the descriptor's order; `""` for
    /// the status of a request dropped before its response (which has none: Prometheus
    /// reads an empty value as no label) and for request labels it has no value of.
    pub(crate) fn duration_values(
        &self,
        series: &Series,
        key: &Key,
        status: u16,
    ) -> Vec<&'static str> {
        let labels = series.labels();
        let (status, error) = Key::status_and_error(status);
        self.with_extra(
            series,
            [
                labels.method,
                labels.route,
                status,
                key.scheme,
                error,
                key.version,
                labels.handler,
            ],
        )
    }

    /// The values of the active requests gauge's variable labels for `series`, a
    /// request series of key `key`, in the descriptor's order.
    pub(crate) fn active_values(&self, series: &Series, key: &Key) -> Vec<&'static str> {
        self.with_extra(series, [series.labels().method, key.scheme])
    }

    // `own` and the series' request label values, `""` for those it has none of.
    fn with_extra<const N: usize>(
        &self,
        series: &Series,
        own: [&'static str; N],
    ) -> Vec<&'static str> {
        let extra = series.extra();
        let request_labels = self.active.variable_labels.len() - ACTIVE_LABELS.len();
        let absent = request_labels.saturating_sub(extra.len());
        let mut values = Vec::with_capacity(N + request_labels);
        values.extend(own);
        values.extend(extra);
        values.extend(std::iter::repeat_n("", absent));
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_say_what_they_were_made_of() {
        let plain = Variant::new(false, Version::Http11);
        assert_eq!(plain.in_flight(), REQUEST);
        let key = Key::of(plain.in_flight()).unwrap();
        assert_eq!((key.scheme, key.version, key.status), ("http", "1.1", None));
        for (https, version, name) in [
            (true, Version::Http2, "2"),
            (false, Version::Http10, "1.0"),
            (true, Version::Http3, "3"),
        ] {
            for (status, counted, labels) in [
                (200, 200, ("200", "")),
                (404, 404, ("404", "")),
                (503, 503, ("503", "503")),
                (499, 499, ("", "_OTHER")),
                (99, 500, ("500", "500")),
                (600, 500, ("500", "500")),
            ] {
                let key = Key::of(Variant::new(https, version).counted(status)).unwrap();
                let scheme = if https { "https" } else { "http" };
                assert_eq!((key.scheme, key.version), (scheme, name));
                assert_eq!(key.status, Some(counted));
                assert_eq!(Key::status_and_error(counted), labels);
            }
        }
        assert!(Key::of(0).is_none());
    }
}
