//! The objective families: which handlers count toward which objective, and the
//! objectives' targets, for the rules of `docker/objectives.yml`.

use prometheus::GaugeVec;
use prometheus::core::Collector;

use super::Builder;

/// `http_objective_info{objective, handler}`, `http_objective_success_target{objective}`
/// and `http_objective_latency_target{objective, threshold}`.
///
/// All three are float gauges, `info` too: the exposition is the same (a gauge's value is
/// a float in every format), and one gauge type is compiled instead of two.
pub(crate) struct ObjectiveFamilies {
    info: GaugeVec,
    success_target: GaugeVec,
    latency_target: GaugeVec,
}

impl ObjectiveFamilies {
    pub(crate) fn new(builder: &Builder) -> Result<ObjectiveFamilies, prometheus::Error> {
        Ok(ObjectiveFamilies {
            info: builder.float_gauge(
                "http_objective_info",
                "1 for each handler counting toward an objective.",
                &["objective", "handler"],
            )?,
            success_target: builder.float_gauge(
                "http_objective_success_target",
                "The share of an objective's requests that must not answer 5xx.",
                &["objective"],
            )?,
            latency_target: builder.float_gauge(
                "http_objective_latency_target",
                "The share of an objective's requests that must finish within `threshold` seconds, the le of a bucket of http_request_duration_seconds.",
                &["objective", "threshold"],
            )?,
        })
    }

    /// What to register: the three families (a family with no series yet is not
    /// exposed).
    pub(crate) fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.info.clone()),
            Box::new(self.success_target.clone()),
            Box::new(self.latency_target.clone()),
        ]
    }

    /// `handler` counts toward `objective`.
    pub(crate) fn member(&self, objective: &str, handler: &str) {
        self.info.with_label_values(&[objective, handler]).set(1.0);
    }

    pub(crate) fn success_target(&self, objective: &str, target: f64) {
        self.success_target
            .with_label_values(&[objective])
            .set(target);
    }

    /// `threshold`: the `le` of the threshold's bucket as the duration histogram writes
    /// it. Not a label `le` itself: only histograms carry one (`promtool check metrics`).
    pub(crate) fn latency_target(&self, objective: &str, threshold: &str, target: f64) {
        self.latency_target
            .with_label_values(&[objective, threshold])
            .set(target);
    }
}
