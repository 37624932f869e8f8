//! The metric families: built in one place, with the configured namespace, constant
//! labels and buckets, and their label names written once.
//!
//! A family here is only built; the registry module decides where and when it is
//! registered. The WebSocket families are the prometheus crate's own, their series
//! looked up through typed labels. The HTTP families keep only their descriptors,
//! their buckets and the list of every series: each series counts in its own storage
//! (see `series`) and the `collector` module exposes them. Either way the order of the
//! label values is known here and nowhere else.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use prometheus::core::{Collector, Desc};
#[cfg(feature = "ws")]
use prometheus::{Histogram, IntCounter, IntGauge};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts};

use crate::series::Series;
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

    pub(crate) fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<IntCounterVec, prometheus::Error> {
        IntCounterVec::new(self.opts(name, help), labels)
    }

    pub(crate) fn gauge(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<IntGaugeVec, prometheus::Error> {
        IntGaugeVec::new(self.opts(name, help), labels)
    }

    // `buckets: None` keeps the prometheus crate's default buckets.
    pub(crate) fn histogram(
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
    /// The values in the order of the families' label names.
    pub(crate) fn values(self) -> [&'a str; 3] {
        [self.handler, self.method, self.route]
    }
}

/// The HTTP families: their descriptors, the histogram's buckets, and every series,
/// which the collector (see `collector`) exposes as the three families.
pub(crate) struct HttpFamilies {
    pub(crate) requests: Desc,
    pub(crate) duration: Desc,
    pub(crate) in_flight: Desc,
    // The histogram's upper bounds in seconds, without `+Inf`, as the prometheus crate
    // keeps them.
    pub(crate) bounds: Vec<f64>,
    // Per bound, the first whole number of nanoseconds above it.
    limits: Vec<u64>,
    // Every series, in the order they were made; never shrinks.
    series: Mutex<Vec<&'static Series>>,
}

impl HttpFamilies {
    // `buckets: None` for Prometheus' default buckets.
    pub(crate) fn new(
        builder: &Builder,
        buckets: Option<&[f64]>,
    ) -> Result<HttpFamilies, prometheus::Error> {
        // The prometheus crate's own families, built as before for their descriptors:
        // the same names, help texts, label checks and errors.
        let requests = builder.counter(
            "http_requests_total",
            "HTTP requests answered and tracked calls made, by status code.",
            &REQUEST_LABELS,
        )?;
        let duration = builder.histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request or to run a tracked call, in seconds.",
            buckets,
            &HTTP_LABELS,
        )?;
        let in_flight = builder.gauge(
            "http_requests_in_flight",
            "HTTP requests and tracked calls in progress.",
            &HTTP_LABELS,
        )?;
        let bounds = bounds(buckets);
        Ok(HttpFamilies {
            requests: desc(&requests)?,
            duration: desc(&duration)?,
            in_flight: desc(&in_flight)?,
            limits: bounds.iter().map(|&bound| limit(bound)).collect(),
            bounds,
            series: Mutex::new(Vec::new()),
        })
    }

    /// Per bucket bound, the first whole number of nanoseconds above it.
    pub(crate) fn limits(&self) -> &[u64] {
        &self.limits
    }

    /// Lists a new series, for the collector.
    pub(crate) fn list(&self, series: &'static Series) {
        self.series
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(series);
    }

    /// Every series listed so far. A copy: a scrape does not hold the lock while it
    /// reads them, so a new series never waits for one.
    pub(crate) fn series(&self) -> Vec<&'static Series> {
        self.series
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

// The one descriptor of a prometheus family.
fn desc(family: &dyn Collector) -> Result<Desc, prometheus::Error> {
    family
        .desc()
        .first()
        .map(|desc| (*desc).clone())
        .ok_or_else(|| prometheus::Error::Msg("a family without a descriptor".to_owned()))
}

// The bounds a prometheus histogram keeps of `buckets`: the defaults for none, a last
// `+Inf` left out (it is implicit).
fn bounds(buckets: Option<&[f64]>) -> Vec<f64> {
    let mut bounds = buckets
        .filter(|buckets| !buckets.is_empty())
        .unwrap_or(prometheus::DEFAULT_BUCKETS)
        .to_vec();
    if bounds.last().is_some_and(|&b| b == f64::INFINITY) {
        bounds.pop();
    }
    bounds
}

/// The smallest whole number of nanoseconds above `bound` seconds, as the prometheus
/// crate decides it: it observed `nanos as f64 / 1e9` in the first bucket whose bound
/// is not below it (`le`, less or equal). So a call of `n` nanoseconds goes in the first
/// bucket whose limit is above `n`, with integer compares only, exactly as before.
pub(crate) fn limit(bound: f64) -> u64 {
    let fits = |nanos: u64| nanos as f64 / 1e9 <= bound;
    if !fits(0) {
        return 0;
    }
    if fits(u64::MAX) {
        return u64::MAX;
    }
    // `fits` is monotonic: find the first count that does not fit, between one that
    // fits (`low`) and one that does not (`high`).
    let (mut low, mut high) = (0u64, u64::MAX);
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if fits(mid) {
            low = mid;
        } else {
            high = mid;
        }
    }
    high
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
