//! The tracked session: every message sent through it is counted.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::web::Bytes;
use actix_ws::{CloseReason, Closed, Item, Message, Session};
use bytestring::ByteString;

use super::connection::Connection;
use super::kind::{Direction, Kind, item_kind, message_kind};

/// An `actix_ws::Session` whose sent messages are counted; made by
/// [`track`](super::track).
///
/// The methods are those of `actix_ws::Session`. Clones share the connection: it ends
/// when the stream and every clone are dropped (or the stream reports its end).
#[derive(Clone)]
pub struct TrackedSession {
    pub(super) inner: Session,
    pub(super) conn: Option<Arc<Connection>>,
}

impl TrackedSession {
    /// Sends a text message (`actix_ws::Session::text`).
    pub async fn text(&mut self, msg: impl Into<ByteString>) -> Result<(), Closed> {
        let sent = self.inner.text(msg).await;
        self.count(&sent, Kind::Text);
        sent
    }

    /// Sends a binary message (`actix_ws::Session::binary`).
    pub async fn binary(&mut self, msg: impl Into<Bytes>) -> Result<(), Closed> {
        let sent = self.inner.binary(msg).await;
        self.count(&sent, Kind::Binary);
        sent
    }

    /// Pings the client (`actix_ws::Session::ping`).
    pub async fn ping(&mut self, msg: &[u8]) -> Result<(), Closed> {
        let sent = self.inner.ping(msg).await;
        self.count(&sent, Kind::Ping);
        sent
    }

    /// Answers a ping (`actix_ws::Session::pong`).
    pub async fn pong(&mut self, msg: &[u8]) -> Result<(), Closed> {
        let sent = self.inner.pong(msg).await;
        self.count(&sent, Kind::Pong);
        sent
    }

    /// Sends one frame of a fragmented message (`actix_ws::Session::continuation`); the
    /// first frame counts the message, as `text` or `binary`.
    pub async fn continuation(&mut self, msg: Item) -> Result<(), Closed> {
        let kind = item_kind(&msg);
        let sent = self.inner.continuation(msg).await;
        if let Some(kind) = kind {
            self.count(&sent, kind);
        }
        sent
    }

    /// Sends a close frame and consumes this session (`actix_ws::Session::close`).
    pub async fn close(self, reason: Option<CloseReason>) -> Result<(), Closed> {
        let TrackedSession { inner, conn } = self;
        let sent = inner.close(reason).await;
        if let (Ok(()), Some(conn)) = (&sent, &conn) {
            conn.count(Direction::Sent, Kind::Close);
        }
        sent
    }

    #[inline]
    fn count(&self, sent: &Result<(), Closed>, kind: Kind) {
        if let (Ok(()), Some(conn)) = (sent, &self.conn) {
            conn.count(Direction::Sent, kind);
        }
    }
}

// A message counts when the channel accepted it, as with the methods above.
impl futures_sink::Sink<Message> for TrackedSession {
    type Error = Closed;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        Pin::new(&mut self.get_mut().inner).poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, msg: Message) -> Result<(), Closed> {
        let this = self.get_mut();
        let kind = message_kind(&msg);
        let sent = Pin::new(&mut this.inner).start_send(msg);
        if let Some(kind) = kind {
            this.count(&sent, kind);
        }
        sent
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}
