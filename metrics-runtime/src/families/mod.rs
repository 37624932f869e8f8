//! The metric families: built in one place, with the configured namespace, constant
//! labels and buckets, and their label names written once.
//!
//! A family here is only built; the registry module decides where and when it is
//! registered. The WebSocket families are the prometheus crate's own, their series
//! looked up through typed labels. The HTTP and gRPC families keep only their
//! descriptors, their buckets and the list of every series: each series counts in its
//! own storage (see `storage`) and exposition's `collector` exposes them. Either way the order of the
//! label values is known here and nowhere else.

use std::collections::HashMap;

#[cfg(any(feature = "ws", test))]
use prometheus::IntGaugeVec;
use prometheus::core::{Desc, Describer};
use prometheus::{GaugeVec, Opts};
#[cfg(any(feature = "ws", test))]
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec};

#[cfg(feature = "metrics-rs")]
pub(crate) mod facade;
#[cfg(feature = "tonic")]
pub(crate) mod grpc;
mod http;
mod objectives;
pub(crate) mod otel;
#[cfg(feature = "ws")]
pub(crate) mod ws;

#[cfg(feature = "metrics-rs")]
pub(crate) use facade::{FacadeCell, FacadeFamily, FacadeKind};
#[cfg(feature = "tonic")]
pub(crate) use grpc::GrpcFamilies;
pub(crate) use http::HttpFamilies;
pub(crate) use objectives::ObjectiveFamilies;
pub(crate) use otel::OtelFamilies;
#[cfg(feature = "ws")]
pub(crate) use ws::WsFamilies;

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

    /// Whether every family carries the constant label `name`.
    pub(crate) fn has_const_label(&self, name: &str) -> bool {
        self.const_labels.contains_key(name)
    }

    /// The name a family of this name has: the namespace's prefix on it.
    #[cfg(feature = "metrics-rs")]
    pub(crate) fn name(&self, name: &str) -> String {
        match &self.namespace {
            Some(namespace) => format!("{namespace}_{name}"),
            None => name.to_owned(),
        }
    }

    fn opts(&self, name: &str, help: &str) -> Opts {
        let mut opts = Opts::new(name, help).const_labels(self.const_labels.clone());
        if let Some(namespace) = &self.namespace {
            opts = opts.namespace(namespace.clone());
        }
        opts
    }

    /// The descriptor of a family of this name, help text and labels: the one the
    /// prometheus crate's `IntCounterVec`, `IntGaugeVec` or `HistogramVec` of the same
    /// options would have (their `new` only describes the options; the buckets are not
    /// part of it), with the same checks and errors, without building one.
    pub(crate) fn desc(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<Desc, prometheus::Error> {
        let labels = labels.iter().map(|&label| label.to_owned()).collect();
        self.opts(name, help).variable_labels(labels).describe()
    }

    #[cfg(any(feature = "ws", test))]
    pub(crate) fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<IntCounterVec, prometheus::Error> {
        IntCounterVec::new(self.opts(name, help), labels)
    }

    #[cfg(any(feature = "ws", test))]
    pub(crate) fn gauge(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<IntGaugeVec, prometheus::Error> {
        IntGaugeVec::new(self.opts(name, help), labels)
    }

    pub(crate) fn float_gauge(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<GaugeVec, prometheus::Error> {
        GaugeVec::new(self.opts(name, help), labels)
    }

    // `buckets: None` keeps the prometheus crate's default buckets.
    #[cfg(any(feature = "ws", test))]
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

/// A bucket's `le` label as the duration histogram writes it (the prometheus crate's
/// text encoder: Rust's `Display` of the bound).
pub(crate) fn bound_label(bound: f64) -> String {
    if bound == f64::INFINITY {
        "+Inf".to_owned()
    } else {
        bound.to_string()
    }
}

// The bounds a prometheus histogram keeps of `buckets`: the defaults for none, a last
// `+Inf` left out (it is implicit).
pub(crate) fn bounds(buckets: Option<&[f64]>) -> Vec<f64> {
    let mut bounds = buckets
        .filter(|buckets| !buckets.is_empty())
        .unwrap_or(prometheus::DEFAULT_BUCKETS)
        .to_vec();
    if bounds.last().is_some_and(|&b| b == f64::INFINITY) {
        bounds.pop();
    }
    bounds
}
