//! The metric families: built in one place, with the configured namespace, constant
//! labels and buckets, and their label names written once.
//!
//! A family here is only built; the registry module decides where and when it is
//! registered. Its series are looked up through typed labels, so the order of the
//! label values is known here and nowhere else.

use std::collections::HashMap;

use prometheus::core::Collector;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
};

#[cfg(feature = "ws")]
use crate::ws::kind::{Direction, Kind};

/// Builds every family of one configuration: its namespace and constant labels go on
/// each family.
pub(crate) struct Builder {
    namespace: Option<String>,
    const_labels: HashMap<String, String>,
}

impl Builder {
    pub(crate) fn new(namespace: Option<String>, const_labels: HashMap<String, String>) -> Builder {
        Builder {
            namespace,
            const_labels,
        }
    }

    fn opts(&self, name: &str, help: &str) -> Opts {
        let mut opts = Opts::new(name, help).const_labels(self.const_labels.clone());
        if let Some(namespace) = &self.namespace {
            opts = opts.namespace(namespace.clone());
        }
        opts
    }

    fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<IntCounterVec, prometheus::Error> {
        IntCounterVec::new(self.opts(name, help), labels)
    }

    fn gauge(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<IntGaugeVec, prometheus::Error> {
        IntGaugeVec::new(self.opts(name, help), labels)
    }

    // `buckets: None` keeps the prometheus crate's default buckets.
    fn histogram(
        &self,
        name: &str,
        help: &str,
        buckets: Option<&[f64]>,
        labels: &[&str],
    ) -> Result<HistogramVec, prometheus::Error> {
        let mut opts = HistogramOpts::from(self.opts(name, help));
        if let Some(buckets) = buckets {
            opts = opts.buckets(buckets.to_vec());
        }
        HistogramVec::new(opts, labels)
    }
}

/// The labels of every HTTP family, in the order of [`HttpLabels::values`].
const HTTP_LABELS: [&str; 3] = ["handler", "method", "route"];

/// The label `http_requests_total` has after [`HTTP_LABELS`].
const STATUS_LABEL: &str = "status";

const REQUEST_LABELS: [&str; 4] = {
    let [handler, method, route] = HTTP_LABELS;
    [handler, method, route, STATUS_LABEL]
};

/// The values of [`HTTP_LABELS`] for one tracked call site.
#[derive(Clone, Copy)]
pub(crate) struct HttpLabels<'a> {
    pub(crate) handler: &'a str,
    pub(crate) method: &'a str,
    pub(crate) route: &'a str,
}

impl<'a> HttpLabels<'a> {
    fn values(self) -> [&'a str; 3] {
        [self.handler, self.method, self.route]
    }
}

/// The HTTP families: built and registered when the runtime starts.
pub(crate) struct HttpFamilies {
    requests: IntCounterVec,
    duration: HistogramVec,
    in_flight: IntGaugeVec,
}

impl HttpFamilies {
    // `buckets: None` for Prometheus' default buckets.
    pub(crate) fn new(
        builder: &Builder,
        buckets: Option<&[f64]>,
    ) -> Result<HttpFamilies, prometheus::Error> {
        Ok(HttpFamilies {
            requests: builder.counter(
                "http_requests_total",
                "HTTP requests answered and tracked calls made, by status code.",
                &REQUEST_LABELS,
            )?,
            duration: builder.histogram(
                "http_request_duration_seconds",
                "Time to answer an HTTP request or to run a tracked call, in seconds.",
                buckets,
                &HTTP_LABELS,
            )?,
            in_flight: builder.gauge(
                "http_requests_in_flight",
                "HTTP requests and tracked calls in progress.",
                &HTTP_LABELS,
            )?,
        })
    }

    pub(crate) fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.requests.clone()),
            Box::new(self.duration.clone()),
            Box::new(self.in_flight.clone()),
        ]
    }

    pub(crate) fn requests(&self, labels: HttpLabels<'_>, status: u16) -> IntCounter {
        let [handler, method, route] = labels.values();
        let status = status.to_string();
        self.requests
            .with_label_values(&[handler, method, route, &status])
    }

    pub(crate) fn duration(&self, labels: HttpLabels<'_>) -> Histogram {
        self.duration.with_label_values(&labels.values())
    }

    pub(crate) fn in_flight(&self, labels: HttpLabels<'_>) -> IntGauge {
        self.in_flight.with_label_values(&labels.values())
    }
}

/// The label of every WebSocket family.
#[cfg(feature = "ws")]
const WS_LABELS: [&str; 1] = ["handler"];

/// The labels of `websocket_messages_total`, in the order of [`WsFamilies::messages`].
#[cfg(feature = "ws")]
const WS_MESSAGE_LABELS: [&str; 3] = ["handler", "direction", "kind"];

/// The four WebSocket families: built and registered on the first tracked connection.
#[cfg(feature = "ws")]
pub(crate) struct WsFamilies {
    connections: IntCounterVec,
    active: IntGaugeVec,
    messages: IntCounterVec,
    duration: HistogramVec,
}

#[cfg(feature = "ws")]
impl WsFamilies {
    pub(crate) fn new(builder: &Builder) -> Result<WsFamilies, prometheus::Error> {
        Ok(WsFamilies {
            connections: builder.counter(
                "websocket_connections_total",
                "WebSocket connections opened by tracked handlers.",
                &WS_LABELS,
            )?,
            active: builder.gauge(
                "websocket_connections_active",
                "WebSocket connections of tracked handlers currently open.",
                &WS_LABELS,
            )?,
            messages: builder.counter(
                "websocket_messages_total",
                "WebSocket messages received and sent by tracked handlers, by kind.",
                &WS_MESSAGE_LABELS,
            )?,
            duration: builder.histogram(
                "websocket_connection_duration_seconds",
                "How long WebSocket connections of tracked handlers stayed open, in seconds.",
                Some(crate::ws::DURATION_BUCKETS),
                &WS_LABELS,
            )?,
        })
    }

    pub(crate) fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.connections.clone()),
            Box::new(self.active.clone()),
            Box::new(self.messages.clone()),
            Box::new(self.duration.clone()),
        ]
    }

    pub(crate) fn connections(&self, handler: &str) -> IntCounter {
        self.connections.with_label_values(&[handler])
    }

    pub(crate) fn active(&self, handler: &str) -> IntGauge {
        self.active.with_label_values(&[handler])
    }

    pub(crate) fn duration(&self, handler: &str) -> Histogram {
        self.duration.with_label_values(&[handler])
    }

    pub(crate) fn messages(&self, handler: &str, direction: Direction, kind: Kind) -> IntCounter {
        self.messages
            .with_label_values(&[handler, direction.label(), kind.label()])
    }
}
