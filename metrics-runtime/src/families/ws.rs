//! The WebSocket families: the prometheus crate's own, their series looked up through
//! typed labels ([`Direction`], [`Kind`]), and their buckets.

use prometheus::core::Collector;
use prometheus::{Histogram, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec};

use super::Builder;

/// Upper bounds, in seconds, of `websocket_connection_duration_seconds`: from a tenth
/// of a second (a probe, a failed handshake) to an hour (a long-lived dashboard); longer
/// connections land in `+Inf`.
pub const DURATION_BUCKETS: &[f64] = &[
    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// The `kind` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Binary,
    Ping,
    Pong,
    Close,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Text,
        Kind::Binary,
        Kind::Ping,
        Kind::Pong,
        Kind::Close,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Binary => "binary",
            Kind::Ping => "ping",
            Kind::Pong => "pong",
            Kind::Close => "close",
        }
    }
}

/// The `direction` label.
#[derive(Clone, Copy)]
pub(crate) enum Direction {
    Received = 0,
    Sent = 1,
}

impl Direction {
    pub(crate) const ALL: [Direction; 2] = [Direction::Received, Direction::Sent];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Direction::Received => "received",
            Direction::Sent => "sent",
        }
    }
}

/// The label of every WebSocket family.
const WS_LABELS: [&str; 1] = ["handler"];

/// The labels of `websocket_messages_total`, in the order of [`WsFamilies::messages`].
const WS_MESSAGE_LABELS: [&str; 3] = ["handler", "direction", "kind"];

/// The four WebSocket families: built and registered on the first tracked connection.
pub(crate) struct WsFamilies {
    connections: IntCounterVec,
    active: IntGaugeVec,
    messages: IntCounterVec,
    duration: HistogramVec,
}

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
                Some(DURATION_BUCKETS),
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
