//! Which names the request families take: [`Naming`].

/// The names and labels of the request families (see [`Config::naming`](crate::Config::naming)).
///
/// - [`Naming::Prometheus`] (the default): `http_requests_total`,
///   `http_request_duration_seconds` and `http_requests_in_flight`, labelled `handler`,
///   `method`, `route` (and `status` on the counter).
/// - [`Naming::OpenTelemetry`]: the OpenTelemetry HTTP server metrics as Prometheus names
///   them, what the OpenTelemetry Java agent, Go's `otelhttp` and .NET expose:
///   `http_server_request_duration_seconds` (a histogram with the conventions' buckets
///   unless [`Config::buckets`](crate::Config::buckets) says otherwise, labelled
///   `http_request_method`, `http_route`, `http_response_status_code`, `url_scheme`,
///   `error_type`, `network_protocol_version` and `code_function_name`, the tracked handler
///   that answered) and `http_server_active_requests` (a gauge by `http_request_method`
///   and `url_scheme`). There is no request counter: the histogram's `_count` is the
///   count. Tracked calls made outside any request (a worker's jobs, a helper spawned
///   off a request) keep the Prometheus names: the conventions have nothing for them.
///
/// ```
/// use track_metrics::{Config, Naming};
///
/// let config = Config::new().naming(Naming::OpenTelemetry);
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Naming {
    /// `http_requests_total`, `http_request_duration_seconds`, `http_requests_in_flight`.
    #[default]
    Prometheus,
    /// `http_server_request_duration_seconds`, `http_server_active_requests`.
    OpenTelemetry,
}

/// The OpenTelemetry HTTP conventions' buckets for `http.server.request.duration`, in
/// seconds.
pub(crate) const OTEL_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The labels of the OpenTelemetry naming's duration histogram before the request
/// labels, in the order of its values (`families::otel`); a request label may not take
/// one (`config::label`).
pub(crate) const OTEL_LABELS: [&str; 7] = [
    "http_request_method",
    "http_route",
    "http_response_status_code",
    "url_scheme",
    "error_type",
    "network_protocol_version",
    "code_function_name",
];
