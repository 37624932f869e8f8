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
    // `grpc_objective_info{objective, grpc_service, grpc_method}`: the gRPC methods whose
    // tracked function names an objective, counted by the gRPC layer.
    #[cfg(feature = "tonic")]
    grpc_info: GaugeVec,
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
            #[cfg(feature = "tonic")]
            grpc_info: builder.float_gauge(
                "grpc_objective_info",
                "1 for each gRPC method counting toward an objective.",
                &["objective", "grpc_service", "grpc_method"],
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
            #[cfg(feature = "tonic")]
            Box::new(self.grpc_info.clone()),
            Box::new(self.success_target.clone()),
            Box::new(self.latency_target.clone()),
        ]
    }

    /// `handler` counts toward `objective`.
    pub(crate) fn member(&self, objective: &str, handler: &str) {
        self.info.with_label_values(&[objective, handler]).set(1.0);
    }

    /// The gRPC method `service`/`method` counts toward `objective`.
    #[cfg(feature = "tonic")]
    pub(crate) fn grpc_member(&self, objective: &str, service: &str, method: &str) {
        self.grpc_info
            .with_label_values(&[objective, service, method])
            .set(1.0);
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
