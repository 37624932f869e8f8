//! What the process-wide registry looks like from outside: [`render`] and
//! [`try_render`], and the answer of a `/metrics` endpoint of either framework
//! ([`Scrape`]).

use crate::exposition::Units;
use crate::exposition::exemplars::Exemplars;
#[cfg(any(feature = "actix", feature = "axum", feature = "exporter"))]
use crate::exposition::negotiate::Format;
#[cfg(any(feature = "actix", feature = "axum", feature = "exporter"))]
use crate::exposition::{CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE};
use crate::exposition::{openmetrics, text};

/// The registry in the Prometheus text exposition format 0.0.4.
///
/// The first call counts as first use: the HTTP families are registered (when
/// metrics are enabled). On an encoding error the error is logged and the text
/// encoded so far is returned; [`try_render`] returns the error instead.
///
/// ```
/// #[track_metrics::track_metrics]
/// fn work() {}
///
/// work();
/// let text = track_metrics::render();
/// assert!(text.contains(r#"http_requests_total{handler="work",method="",route="",status="200"} 1"#));
/// ```
pub fn render() -> String {
    try_render().unwrap_or_else(|err| {
        log::error!("track-metrics: cannot encode metrics: {err}");
        String::new()
    })
}

/// Like [`render`], but an encoding error is returned.
pub fn try_render() -> Result<String, prometheus::Error> {
    text::encode(&super::registry().gather())
}

/// The registry in the OpenMetrics 1.0.0 text format, with the same series as
/// [`render`] (see [`OPENMETRICS_CONTENT_TYPE`](crate::OPENMETRICS_CONTENT_TYPE)).
///
/// A `/metrics` endpoint of this crate answers in this format when the scrape's `Accept`
/// header prefers it, as Prometheus' does. On an encoding error the error is logged and
/// an empty string is returned.
///
/// ```
/// #[track_metrics::track_metrics]
/// fn work() {}
///
/// work();
/// let text = track_metrics::render_openmetrics();
/// assert!(text.contains("# TYPE http_requests counter\n"));
/// assert!(text.contains(r#"http_requests_total{handler="work",method="",route="",status="200"} 1"#));
/// assert!(text.ends_with("# EOF\n"));
/// ```
pub fn render_openmetrics() -> String {
    openmetrics::encode(&super::registry().gather(), &exemplars(), &units()).unwrap_or_else(|err| {
        log::error!("track-metrics: cannot encode metrics: {err}");
        String::new()
    })
}

/// The registry in Prometheus' protobuf exposition (feature `native-histograms`; see
/// [`PROTOBUF_CONTENT_TYPE`](crate::PROTOBUF_CONTENT_TYPE)): length-delimited
/// `io.prometheus.client.MetricFamily` messages, the same families and series as
/// [`render`], and `http_request_duration_seconds` with its native buckets beside the
/// classic ones.
///
/// A `/metrics` endpoint of this crate answers in this format when the scrape's `Accept`
/// header prefers it, as Prometheus' does with its `native-histograms` feature on. On
/// an encoding error the error is logged and nothing is returned.
///
/// ```
/// #[track_metrics::track_metrics]
/// fn work() {}
///
/// work();
/// let bytes = track_metrics::render_protobuf();
/// assert!(!bytes.is_empty());
/// ```
#[cfg(feature = "native-histograms")]
pub fn render_protobuf() -> Vec<u8> {
    protobuf(&super::registry().gather()).unwrap_or_else(|err| {
        log::error!("track-metrics: cannot encode metrics: {err}");
        Vec::new()
    })
}

// `families` in the protobuf exposition, with the exemplars and native buckets of the
// HTTP families (read after `families` were gathered).
#[cfg(feature = "native-histograms")]
fn protobuf(families: &[prometheus::proto::MetricFamily]) -> Result<Vec<u8>, prometheus::Error> {
    let http = super::http_families();
    let natives = crate::exposition::native::Natives::of(http);
    crate::exposition::protobuf::encode(families, &Exemplars::of(http), &natives)
}

/// What a `/metrics` endpoint answers, whatever the framework: the section 5 rules of
/// the contract, decided once for both.
#[cfg(any(feature = "actix", feature = "axum", feature = "exporter"))]
pub(crate) enum Scrape {
    /// `200`, the registry in the format the scrape prefers.
    Metrics(Vec<u8>, Format),
    /// `404`: metrics are disabled.
    Disabled,
    /// `401` with `WWW-Authenticate: Bearer`: `METRICS_TOKEN` is set and the request
    /// does not carry it.
    Unauthorized,
    /// `500`: encoding failed, for this one-line reason.
    Failed(String),
}

#[cfg(any(feature = "actix", feature = "axum", feature = "exporter"))]
impl Scrape {
    /// The answer to a scrape with these `Authorization` and `Accept` headers.
    pub(crate) fn answer(authorization: Option<&[u8]>, accept: Option<&[u8]>) -> Scrape {
        if !crate::settings::enabled() {
            return Scrape::Disabled;
        }
        if !crate::settings::scrape_allowed(authorization) {
            return Scrape::Unauthorized;
        }
        let format = Format::negotiate(accept);
        let families = super::registry().gather();
        let body = match format {
            Format::Text => text::encode(&families).map(String::into_bytes),
            Format::OpenMetrics => {
                openmetrics::encode(&families, &exemplars(), &units()).map(String::into_bytes)
            }
            #[cfg(feature = "native-histograms")]
            Format::Protobuf => protobuf(&families),
        };
        match body {
            Ok(body) => Scrape::Metrics(body, format),
            Err(err) => Scrape::Failed(one_line(&err.to_string())),
        }
    }

    /// The status code, the header to send with it (name in lower case, value) if any,
    /// and the body.
    pub(crate) fn into_parts(self) -> (u16, Option<(&'static str, &'static str)>, Vec<u8>) {
        match self {
            Scrape::Metrics(body, format) => {
                let content_type = match format {
                    Format::Text => CONTENT_TYPE,
                    Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
                    #[cfg(feature = "native-histograms")]
                    Format::Protobuf => crate::exposition::PROTOBUF_CONTENT_TYPE,
                };
                (200, Some(("content-type", content_type)), body)
            }
            Scrape::Disabled => (404, None, b"metrics are disabled\n".to_vec()),
            Scrape::Unauthorized => (
                401,
                Some(("www-authenticate", "Bearer")),
                b"a bearer token is required\n".to_vec(),
            ),
            Scrape::Failed(reason) => (
                500,
                None,
                format!("cannot encode metrics: {reason}\n").into_bytes(),
            ),
        }
    }
}

// The message of an error, on one line.
#[cfg(any(feature = "actix", feature = "axum", feature = "exporter"))]
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// The units of the `metrics` facade's families, as described, for an OpenMetrics scrape.
fn units() -> Units {
    #[cfg(feature = "metrics-rs")]
    return super::facade::units();
    #[cfg(not(feature = "metrics-rs"))]
    Units::default()
}

// The exemplars of the HTTP families now, for an OpenMetrics scrape.
fn exemplars() -> Exemplars {
    Exemplars::of(super::http_families())
}
