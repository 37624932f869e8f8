//! The gRPC families (go-grpc-middleware's `providers/prometheus` names and labels): their
//! descriptors, bucket bounds, and the list of every series, each counting in its own
//! storage (`storage::RpcCounts`).

use std::sync::{Mutex, PoisonError};

use prometheus::core::Desc;

use super::{Builder, bounds};
use crate::storage::{RpcCounts, RpcReading, limit};

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

// The storage keeps a count per code.
const _: () = assert!(CODE_NAMES.len() == crate::storage::CODES);

/// The five gRPC server families: built and registered on the first RPC a layer sees.
/// Each keeps only its descriptor; every label set counts in its own storage
/// ([`RpcCounts`]) and exposition's `collector/grpc.rs` builds the families from the list
/// of every series.
pub(crate) struct GrpcFamilies {
    pub(crate) started: Desc,
    pub(crate) handled: Desc,
    pub(crate) handling: Desc,
    pub(crate) received: Desc,
    pub(crate) sent: Desc,
    pub(crate) bounds: Vec<f64>,
    limits: &'static [u64],
    series: Mutex<Vec<&'static GrpcSeries>>,
}

/// One RPC label set (`grpc_type`, `grpc_service`, `grpc_method`) and its counts: made
/// once per label set, so that an RPC counts without looking a series up.
pub(crate) struct GrpcSeries {
    counts: RpcCounts,
    labels: [&'static str; 3],
}

impl GrpcSeries {
    /// One RPC more started.
    #[inline]
    pub(crate) fn start(&'static self) {
        self.counts.start();
    }

    /// `messages` more received.
    #[inline]
    pub(crate) fn received(&'static self, messages: u64) {
        self.counts.received(messages);
    }

    /// `messages` more sent.
    #[inline]
    pub(crate) fn sent(&'static self, messages: u64) {
        self.counts.sent(messages);
    }

    /// One RPC handled with `code` (an index of [`CODE_NAMES`]; anything else counts as
    /// `Unknown`) after `nanos`.
    #[inline]
    pub(crate) fn handled(&'static self, code: usize, nanos: u64) {
        self.counts.handled(code, UNKNOWN, nanos);
    }

    /// The values of `grpc_type`, `grpc_service` and `grpc_method`.
    pub(crate) fn labels(&self) -> [&'static str; 3] {
        self.labels
    }

    /// Its counts, summed over every thread's shard (the buckets into `buckets`).
    pub(crate) fn read(&self, buckets: &mut Vec<u64>) -> RpcReading {
        self.counts.read(buckets)
    }
}

impl GrpcFamilies {
    /// `buckets: None` keeps the prometheus crate's default buckets (section 4's).
    pub(crate) fn new(
        builder: &Builder,
        buckets: Option<&[f64]>,
    ) -> Result<GrpcFamilies, prometheus::Error> {
        let bounds = bounds(buckets);
        Ok(GrpcFamilies {
            started: builder.desc(
                "grpc_server_started_total",
                "Total number of RPCs started on the server.",
                &GRPC_LABELS,
            )?,
            handled: builder.desc(
                "grpc_server_handled_total",
                "Total number of RPCs completed on the server, regardless of success or failure.",
                &GRPC_HANDLED_LABELS,
            )?,
            handling: builder.desc(
                "grpc_server_handling_seconds",
                "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
                &GRPC_LABELS,
            )?,
            received: builder.desc(
                "grpc_server_msg_received_total",
                "Total number of RPC stream messages received on the server.",
                &GRPC_LABELS,
            )?,
            sent: builder.desc(
                "grpc_server_msg_sent_total",
                "Total number of gRPC stream messages sent by the server.",
                &GRPC_LABELS,
            )?,
            // Leaked: the families live as long as the process, and so do their series.
            limits: Box::leak(bounds.iter().map(|&bound| limit(bound)).collect()),
            bounds,
            series: Mutex::new(Vec::new()),
        })
    }

    /// A new series of one RPC's labels (`kind`: an index of [`KIND_NAMES`]), listed for
    /// the collector. Made once per label set (the caller keeps it) and never freed.
    pub(crate) fn series(
        &self,
        kind: usize,
        service: &'static str,
        method: &'static str,
    ) -> &'static GrpcSeries {
        let series: &'static GrpcSeries = Box::leak(Box::new(GrpcSeries {
            counts: RpcCounts::new(self.limits),
            labels: [KIND_NAMES[kind % KIND_NAMES.len()], service, method],
        }));
        self.series
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(series);
        series
    }

    /// Every series so far.
    pub(crate) fn all(&self) -> Vec<&'static GrpcSeries> {
        self.series
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
