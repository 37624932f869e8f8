//! Exposition: the families as Prometheus reads them. The HTTP families' collector
//! (every series turned into the three families' protos, [`collector`]), the
//! encoders of a gathered registry ([`text`], [`openmetrics`]), and which of them a
//! scrape's `Accept` header prefers (`negotiate`, with a framework's `/metrics`). It knows the families, never the
//! process-wide registry: the registry layer above calls it.

mod by_series;
pub(crate) mod collector;
pub(crate) mod exemplars;
pub(crate) mod model;
#[cfg(feature = "native-histograms")]
pub(crate) mod native;
#[cfg(any(feature = "actix", feature = "axum", feature = "exporter"))]
pub(crate) mod negotiate;
pub(crate) mod openmetrics;
#[cfg(feature = "native-histograms")]
mod proto;
#[cfg(feature = "native-histograms")]
pub(crate) mod protobuf;
pub(crate) mod text;

pub use openmetrics::OPENMETRICS_CONTENT_TYPE;

/// The units families have beyond the OpenTelemetry naming's duration (whose unit the
/// OpenMetrics encoder knows): the `metrics` facade's, as described, by family name.
#[derive(Debug, Default)]
pub(crate) struct Units(std::collections::HashMap<String, &'static str>);

impl Units {
    #[cfg(any(feature = "metrics-rs", test))]
    pub(crate) fn new(units: std::collections::HashMap<String, &'static str>) -> Units {
        Units(units)
    }

    /// The unit of the family of this name, if it has one.
    pub(crate) fn of(&self, family: &str) -> Option<&'static str> {
        self.0.get(family).copied()
    }
}
#[cfg(feature = "native-histograms")]
pub use protobuf::PROTOBUF_CONTENT_TYPE;
pub use text::CONTENT_TYPE;
