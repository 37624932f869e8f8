//! The HTTP families: `http_requests_total`, `http_request_duration_seconds` and
//! `http_requests_in_flight`, their label names, and the list of every series.

use std::sync::{Mutex, PoisonError};

use prometheus::core::Desc;

use super::{Builder, OtelFamilies, bounds};
use crate::storage::{HttpLabels, Series, limit};

/// The labels of every HTTP family, in the order of [`HttpLabels::values`].
const HTTP_LABELS: [&str; 3] = ["handler", "method", "route"];

/// The label `http_requests_total` has after [`HTTP_LABELS`] and the request labels.
const STATUS_LABEL: &str = "status";

// `HttpLabels` holds the values of [`HTTP_LABELS`] for one series (the storage keeps
// them with its counts); their order is decided here.
impl<'a> HttpLabels<'a> {
    /// The values in the order of the families' label names.
    pub(crate) fn values(self) -> [&'a str; 3] {
        [self.handler, self.method, self.route]
    }
}

/// The HTTP families: their descriptors, the histogram's buckets, and every series,
/// which the collector (see `exposition::collector`) exposes as the three families.
pub(crate) struct HttpFamilies {
    pub(crate) requests: Desc,
    pub(crate) duration: Desc,
    pub(crate) in_flight: Desc,
    // The histogram's upper bounds in seconds, without `+Inf`, as the prometheus crate
    // keeps them.
    pub(crate) bounds: Vec<f64>,
    // Per bound, the first whole number of nanoseconds above it.
    limits: Vec<u64>,
    // The window of the duration's native buckets, when it keeps them.
    #[cfg(feature = "native-histograms")]
    native: Option<&'static crate::storage::NativeLayout>,
    // Every series, in the order they were made; never shrinks.
    series: Mutex<Vec<&'static Series>>,
    // The OpenTelemetry naming's families (`Config::naming`), whose series are siblings
    // of these (see `otel.rs`); `None` in the Prometheus naming.
    pub(crate) otel: Option<OtelFamilies>,
}

impl HttpFamilies {
    // `buckets: None` for Prometheus' default buckets; `extra`: the names of the request
    // labels (`Config::label`), after [`HTTP_LABELS`] in every family, in the order of
    // each series' values (`Series::extra`).
    pub(crate) fn new(
        builder: &Builder,
        buckets: Option<&[f64]>,
        extra: &[&str],
    ) -> Result<HttpFamilies, prometheus::Error> {
        let labels: Vec<&str> = HTTP_LABELS.iter().chain(extra).copied().collect();
        let with_status: Vec<&str> = labels.iter().copied().chain([STATUS_LABEL]).collect();
        // The descriptors the prometheus crate's own families had: the same names, help
        // texts, label checks and errors. (The buckets are checked by the configuration.)
        let requests = builder.desc(
            "http_requests_total",
            "HTTP requests answered and tracked calls made, by status code.",
            &with_status,
        )?;
        let duration = builder.desc(
            "http_request_duration_seconds",
            "Time to answer an HTTP request or to run a tracked call, in seconds.",
            &labels,
        )?;
        let in_flight = builder.desc(
            "http_requests_in_flight",
            "HTTP requests and tracked calls in progress.",
            &labels,
        )?;
        let bounds = bounds(buckets);
        Ok(HttpFamilies {
            requests,
            duration,
            in_flight,
            limits: bounds.iter().map(|&bound| limit(bound)).collect(),
            bounds,
            #[cfg(feature = "native-histograms")]
            native: None,
            series: Mutex::new(Vec::new()),
            otel: None,
        })
    }

    /// These families with native buckets in the duration histogram, in `layout`'s
    /// window, beside the classic ones.
    #[cfg(feature = "native-histograms")]
    pub(crate) fn with_native(mut self, layout: crate::storage::NativeLayout) -> HttpFamilies {
        self.native = Some(Box::leak(Box::new(layout)));
        self
    }

    /// These families with the OpenTelemetry naming's beside them: requests are counted
    /// there.
    pub(crate) fn with_otel(mut self, otel: OtelFamilies) -> HttpFamilies {
        self.otel = Some(otel);
        self
    }

    /// A new series of `labels` (no request label values) in these families.
    #[cfg(test)]
    pub(crate) fn new_series(&'static self, labels: HttpLabels<'static>) -> &'static Series {
        self.new_labelled(labels, &[])
    }

    /// A new series of `labels` and the request labels' values `extra` (see
    /// [`HttpFamilies::new`]) in these families, listed for the collector. (One per
    /// label set: the registry interns them.)
    pub(crate) fn new_labelled(
        &'static self,
        labels: HttpLabels<'static>,
        extra: &'static [&'static str],
    ) -> &'static Series {
        #[cfg(feature = "native-histograms")]
        let series = match self.native {
            Some(layout) => Series::with_native(&self.limits, layout, labels, extra),
            None => Series::new(&self.limits, labels, extra),
        };
        #[cfg(not(feature = "native-histograms"))]
        let series = Series::new(&self.limits, labels, extra);
        self.series
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(series);
        series
    }

    /// The values of the histogram's and the gauge's variable labels for `series`, in
    /// the descriptors' order: [`HTTP_LABELS`]' and the request labels' (`""` for those
    /// it has no value of).
    pub(crate) fn values(&self, series: &Series) -> impl Iterator<Item = &'static str> + Clone {
        let extra = series.extra();
        let absent = self.request_labels().saturating_sub(extra.len());
        series
            .labels()
            .values()
            .into_iter()
            .chain(extra.iter().copied())
            .chain(std::iter::repeat_n("", absent))
    }

    /// How many request labels (`Config::label`) follow [`HTTP_LABELS`].
    pub(crate) fn request_labels(&self) -> usize {
        self.in_flight.variable_labels.len() - HTTP_LABELS.len()
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
