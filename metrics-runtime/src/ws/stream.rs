//! The tracked stream: every message received through it is counted, and its end ends
//! the connection.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use actix_ws::{AggregatedMessageStream, MessageStream};
use futures_core::Stream;

use super::connection::Connection;
use super::kind::{Counted, Direction};

/// A stream of received WebSocket messages, each counted as it is yielded; made by
/// [`track`](super::track).
///
/// `S` is `actix_ws::MessageStream` or, after
/// [`aggregate_continuations`](TrackedStream::aggregate_continuations),
/// `actix_ws::AggregatedMessageStream`. It yields what `S` yields. When it yields
/// `None`, the connection has ended and is recorded as such.
pub struct TrackedStream<S = MessageStream> {
    pub(super) inner: S,
    pub(super) conn: Option<Arc<Connection>>,
}

impl<S> TrackedStream<S>
where
    S: Stream + Unpin,
    S::Item: Counted,
{
    /// Waits for the next message (the `recv` of the actix-ws streams).
    pub async fn recv(&mut self) -> Option<S::Item> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl TrackedStream<MessageStream> {
    /// Sets the largest frame accepted, in bytes (`actix_ws::MessageStream::max_frame_size`;
    /// 64 KiB by default).
    #[must_use]
    pub fn max_frame_size(self, max_size: usize) -> Self {
        TrackedStream {
            inner: self.inner.max_frame_size(max_size),
            conn: self.conn,
        }
    }

    /// Joins fragmented messages (`actix_ws::MessageStream::aggregate_continuations`);
    /// each message then counts once, when it is complete.
    #[must_use]
    pub fn aggregate_continuations(self) -> TrackedStream<AggregatedMessageStream> {
        TrackedStream {
            inner: self.inner.aggregate_continuations(),
            conn: self.conn,
        }
    }
}

impl TrackedStream<AggregatedMessageStream> {
    /// Sets the largest joined message, in bytes
    /// (`actix_ws::AggregatedMessageStream::max_continuation_size`; 1 MiB by default).
    #[must_use]
    pub fn max_continuation_size(self, max_size: usize) -> Self {
        TrackedStream {
            inner: self.inner.max_continuation_size(max_size),
            conn: self.conn,
        }
    }
}

impl<S> Stream for TrackedStream<S>
where
    S: Stream + Unpin,
    S::Item: Counted,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.get_mut();
        let item = ready!(Pin::new(&mut this.inner).poll_next(cx));
        if let Some(conn) = &this.conn {
            match &item {
                Some(item) => {
                    if let Some(kind) = Counted::kind(item) {
                        conn.count(Direction::Received, kind);
                    }
                }
                None => conn.end(),
            }
        }
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
