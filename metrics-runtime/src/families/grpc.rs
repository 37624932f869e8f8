//! The gRPC families (go-grpc-middleware's `providers/prometheus` names and labels): the
//! prometheus crate's own, their series looked up through the labels of one RPC.

use std::sync::OnceLock;

use prometheus::core::Collector;
use prometheus::{Histogram, HistogramVec, IntCounter, IntCounterVec};

use super::Builder;

/// The labels of `grpc_server_started_total` and `grpc_server_handling_seconds`.
const GRPC_LABELS: [&str; 3] = ["grpc_type", "grpc_service", "grpc_method"];

/// The labels of `grpc_server_handled_total`, in the order of [`GrpcFamilies::handled`].
const GRPC_HANDLED_LABELS: [&str; 4] = ["grpc_type", "grpc_service", "grpc_method", "grpc_code"];

/// The `grpc_type` label values, by the index of [`kind_index`].
pub(crate) const KIND_NAMES: [&str; 4] = ["unary", "client_stream", "server_stream", "bidi_stream"];

/// The index in [`KIND_NAMES`] of a kind of RPC (`recording::rpc`'s bits: `1` unary,
/// `2` the client streams, `4` the server streams).
pub(crate) fn kind_index(kind: u8) -> usize {
    usize::from((kind >> 1) & 3)
}

/// The number of `Unknown`, the code of an RPC that ended without one.
pub(crate) const UNKNOWN: usize = 2;

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

/// The five gRPC server families: built and registered on the first RPC a layer sees.
pub(crate) struct GrpcFamilies {
    started: IntCounterVec,
    handled: IntCounterVec,
    handling: HistogramVec,
    received: IntCounterVec,
    sent: IntCounterVec,
}

/// The series of one RPC's labels (`grpc_type`, `grpc_service`, `grpc_method`): made
/// once per label set, so that an RPC counts without looking a series up.
pub(crate) struct GrpcSeries {
    pub(crate) started: IntCounter,
    pub(crate) handling: Histogram,
    pub(crate) received: IntCounter,
    pub(crate) sent: IntCounter,
    // `grpc_server_handled_total` by code (its number), each made on its first use.
    handled: [OnceLock<IntCounter>; 17],
    handled_family: IntCounterVec,
    labels: [String; 3],
}

impl GrpcSeries {
    /// The `grpc_server_handled_total` series of this RPC's labels and `code` (an index
    /// of [`CODE_NAMES`]).
    pub(crate) fn handled(&self, code: usize) -> &IntCounter {
        // Every caller passes a code's number; anything else would be no code: `Unknown`.
        let code = if code < CODE_NAMES.len() {
            code
        } else {
            UNKNOWN
        };
        self.handled[code].get_or_init(|| {
            let [kind, service, method] = &self.labels;
            self.handled_family.with_label_values(&[
                kind.as_str(),
                service,
                method,
                CODE_NAMES[code],
            ])
        })
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
            received: builder.counter(
                "grpc_server_msg_received_total",
                "Total number of RPC stream messages received on the server.",
                &GRPC_LABELS,
            )?,
            sent: builder.counter(
                "grpc_server_msg_sent_total",
                "Total number of gRPC stream messages sent by the server.",
                &GRPC_LABELS,
            )?,
        })
    }

    pub(crate) fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.started.clone()),
            Box::new(self.handled.clone()),
            Box::new(self.handling.clone()),
            Box::new(self.received.clone()),
            Box::new(self.sent.clone()),
        ]
    }

    /// The series of one RPC's labels (`kind`: an index of [`KIND_NAMES`]).
    pub(crate) fn series(&self, kind: usize, service: &str, method: &str) -> GrpcSeries {
        let labels = [KIND_NAMES[kind], service, method];
        GrpcSeries {
            started: self.started.with_label_values(&labels),
            handling: self.handling.with_label_values(&labels),
            received: self.received.with_label_values(&labels),
            sent: self.sent.with_label_values(&labels),
            handled: Default::default(),
            handled_family: self.handled.clone(),
            labels: labels.map(str::to_owned),
        }
    }
}
