//! The gRPC families (go-grpc-middleware's `providers/prometheus` names and labels): the
//! prometheus crate's own, their series looked up through the labels of one RPC.

use prometheus::core::Collector;
use prometheus::{Histogram, HistogramVec, IntCounter, IntCounterVec};

use super::Builder;

/// The labels of `grpc_server_started_total` and `grpc_server_handling_seconds`.
const GRPC_LABELS: [&str; 3] = ["grpc_type", "grpc_service", "grpc_method"];

/// The labels of `grpc_server_handled_total`, in the order of [`GrpcFamilies::handled`].
const GRPC_HANDLED_LABELS: [&str; 4] = ["grpc_type", "grpc_service", "grpc_method", "grpc_code"];

/// The `grpc_type` label of every RPC for now: the layer does not yet tell streams apart.
pub(crate) const UNARY: &str = "unary";

/// Go's names of the 17 gRPC codes, by their number (`grpc-status`).
pub(crate) const CODE_NAMES: [&str; 17] = [
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

/// The three gRPC server families: built and registered on the first RPC a layer sees.
pub(crate) struct GrpcFamilies {
    started: IntCounterVec,
    handled: IntCounterVec,
    handling: HistogramVec,
}

/// The series of one RPC's labels (`grpc_type`, `grpc_service`, `grpc_method`).
pub(crate) struct GrpcSeries {
    pub(crate) started: IntCounter,
    pub(crate) handling: Histogram,
    handled: IntCounterVec,
    labels: [String; 3],
}

impl GrpcSeries {
    /// The `grpc_server_handled_total` series of this RPC's labels and `code`.
    pub(crate) fn handled(&self, code: &str) -> IntCounter {
        let [kind, service, method] = &self.labels;
        self.handled
            .with_label_values(&[kind.as_str(), service, method, code])
    }
}

impl GrpcFamilies {
    /// `buckets: None` keeps the prometheus crate's default buckets (section 4's).
    pub(crate) fn new(
        builder: &Builder,
        buckets: Option<&[f64]>,
    ) -> Result<GrpcFamilies, prometheus::Error> {
        Ok(GrpcFamilies {
            started: builder.counter(
                "grpc_server_started_total",
                "Total number of RPCs started on the server.",
                &GRPC_LABELS,
            )?,
            handled: builder.counter(
                "grpc_server_handled_total",
                "Total number of RPCs completed on the server, regardless of success or failure.",
                &GRPC_HANDLED_LABELS,
            )?,
            handling: builder.histogram(
                "grpc_server_handling_seconds",
                "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
                buckets,
                &GRPC_LABELS,
            )?,
        })
    }

    pub(crate) fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.started.clone()),
            Box::new(self.handled.clone()),
            Box::new(self.handling.clone()),
        ]
    }

    /// The series of one RPC's labels.
    pub(crate) fn series(&self, kind: &str, service: &str, method: &str) -> GrpcSeries {
        let labels = [kind, service, method];
        GrpcSeries {
            started: self.started.with_label_values(&labels),
            handling: self.handling.with_label_values(&labels),
            handled: self.handled.clone(),
            labels: labels.map(str::to_owned),
        }
    }
}
