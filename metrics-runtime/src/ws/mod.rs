//! WebSocket metrics for [`actix-ws`](https://docs.rs/actix-ws): connections, messages
//! and connection lifetimes, counted by wrapping the session and the message stream.
//!
//! Enabled by the `ws` cargo feature. One line after `actix_ws::handle`:
//!
//! ```
//! use actix_web::{HttpRequest, HttpResponse, get, web};
//! use actix_ws::AggregatedMessage;
//! use track_metrics::track_metrics;
//!
//! #[track_metrics] // counts the upgrade itself: status="101"
//! #[get("/ws")]
//! async fn echo(req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
//!     let (response, session, stream) = actix_ws::handle(&req, body)?;
//!     let (mut session, stream) = track_metrics::ws::track("echo", session, stream);
//!     let mut stream = stream.aggregate_continuations();
//!     actix_web::rt::spawn(async move {
//!         while let Some(Ok(msg)) = stream.recv().await {
//!             let sent = match msg {
//!                 AggregatedMessage::Text(text) => session.text(text).await,
//!                 AggregatedMessage::Binary(bytes) => session.binary(bytes).await,
//!                 AggregatedMessage::Ping(bytes) => session.pong(&bytes).await,
//!                 AggregatedMessage::Pong(_) => Ok(()),
//!                 AggregatedMessage::Close(reason) => {
//!                     let _ = session.close(reason).await;
//!                     return;
//!                 }
//!             };
//!             if sent.is_err() {
//!                 return;
//!             }
//!         }
//!     }); // the connection ends when the task ends, however it ends
//!     Ok(response)
//! }
//! ```
//!
//! # Families
//!
//! | family | type | labels |
//! |---|---|---|
//! | `websocket_connections_total` | counter | `handler` |
//! | `websocket_connections_active` | gauge | `handler` |
//! | `websocket_messages_total` | counter | `handler`, `direction` (`received`/`sent`), `kind` (`text`/`binary`/`ping`/`pong`/`close`) |
//! | `websocket_connection_duration_seconds` | histogram, buckets [`DURATION_BUCKETS`] | `handler` |
//!
//! They are registered on the first tracked connection, in [`registry()`](crate::registry()),
//! with the configured namespace and constant labels. When metrics are disabled
//! ([`enabled()`](crate::enabled) is `false`), [`track`] registers and counts nothing and
//! the wrappers only forward.
//!
//! # What counts as a message
//!
//! One WebSocket message, not one frame: a text or binary message sent in several
//! frames (continuations) counts once, as `text` or `binary`, when its first frame
//! arrives or is sent (`Item::FirstText` / `Item::FirstBinary`); the `Continue` and
//! `Last` frames that follow are not counted again. Through
//! [`aggregate_continuations`](TrackedStream::aggregate_continuations) it counts once
//! when the whole message has arrived. Every ping, pong and close frame is a message.
//! A received message counts when the stream yields it; a sent one when the session
//! accepted it (the call returned `Ok`). A protocol error is not a message.
//!
//! # When a connection ends
//!
//! `websocket_connections_active` goes back down and the duration is observed exactly
//! once, at the first of:
//! - the tracked stream reports the end of the connection (yields `None`): the peer
//!   closed the TCP connection or vanished, or the response body was dropped;
//! - the tracked stream and every clone of the tracked session have been dropped: the
//!   task that held them returned, broke out of its loop after a close frame or a
//!   protocol error, or panicked.
//!
//! So keep them in the task that serves the connection (or drop a session clone kept
//! elsewhere, such as in a room of a chat, when the connection ends).

mod connection;
pub(crate) mod kind;
mod session;
mod stream;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use actix_ws::Session;
use futures_core::Stream;

use connection::Connection;
pub use session::TrackedSession;
pub use stream::TrackedStream;

pub use crate::families::ws::DURATION_BUCKETS;

/// Starts counting one WebSocket connection: wraps the session and the message stream
/// that `actix_ws::handle` returned.
///
/// `handler` is the `handler` label: a name from the source code (such as the route
/// handler's name), so that the number of series stays bounded. `stream` is the
/// `actix_ws::MessageStream` from `handle` (or an `actix_ws::AggregatedMessageStream`
/// made from it). Use the returned [`TrackedSession`] and [`TrackedStream`] as you
/// would use the originals: every message they send or yield is counted, and the
/// connection ends when the stream reports its end or both are dropped (see the
/// [module docs](self#when-a-connection-ends)).
///
/// Counts the connection in `websocket_connections_total` and
/// `websocket_connections_active`. The label handles are resolved here, once per
/// connection; counting a message is one atomic add.
///
/// ```
/// use actix_web::{HttpRequest, HttpResponse, web};
///
/// async fn chat(req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
///     let (response, session, stream) = actix_ws::handle(&req, body)?;
///     let (mut session, mut stream) = track_metrics::ws::track("chat", session, stream);
///     actix_web::rt::spawn(async move {
///         while let Some(Ok(actix_ws::Message::Text(text))) = stream.recv().await {
///             if session.text(format!("you said: {text}")).await.is_err() {
///                 break;
///             }
///         }
///     });
///     Ok(response)
/// }
/// ```
pub fn track<S>(
    handler: &'static str,
    session: Session,
    stream: S,
) -> (TrackedSession, TrackedStream<S>)
where
    S: Stream + Unpin,
    S::Item: kind::Counted,
{
    let conn = Connection::open(handler).map(Arc::new);
    (
        TrackedSession {
            inner: session,
            conn: conn.clone(),
        },
        TrackedStream {
            inner: stream,
            conn,
        },
    )
}
