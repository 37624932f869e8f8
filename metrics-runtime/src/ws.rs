//! WebSocket metrics for [`actix-ws`](https://docs.rs/actix-ws): connections, messages
//! and connection lifetimes, counted by wrapping the session and the message stream.
//!
//! Enabled by the `ws` cargo feature. One line after `actix_ws::handle`:
//!
//! ```
//! use actix_web::{HttpRequest, HttpResponse, get, web};
//! use actix_ws::AggregatedMessage;
//! use metrics_runtime::track_metrics;
//!
//! #[track_metrics] // counts the upgrade itself: status="101"
//! #[get("/ws")]
//! async fn echo(req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
//!     let (response, session, stream) = actix_ws::handle(&req, body)?;
//!     let (mut session, stream) = metrics_runtime::ws::track("echo", session, stream);
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
//! They are registered on the first tracked connection, in [`registry()`](crate::registry),
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

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll, ready};

use actix_web::web::Bytes;
use actix_ws::{
    AggregatedMessage, AggregatedMessageStream, CloseReason, Closed, Item, Message, MessageStream,
    ProtocolError, Session,
};
use bytestring::ByteString;
use futures_core::Stream;
use once_cell::sync::OnceCell;
use prometheus::{Histogram, IntCounter, IntGauge};

use crate::registry::ws_families;

/// Upper bounds, in seconds, of `websocket_connection_duration_seconds`: from a tenth
/// of a second (a probe, a failed handshake) to an hour (a long-lived dashboard); longer
/// connections land in `+Inf`.
pub const DURATION_BUCKETS: &[f64] = &[
    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

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
///     let (mut session, mut stream) = metrics_runtime::ws::track("chat", session, stream);
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
    S::Item: sealed::Counted,
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

/// An `actix_ws::Session` whose sent messages are counted; made by [`track`].
///
/// The methods are those of `actix_ws::Session`. Clones share the connection: it ends
/// when the stream and every clone are dropped (or the stream reports its end).
#[derive(Clone)]
pub struct TrackedSession {
    inner: Session,
    conn: Option<Arc<Connection>>,
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

/// A stream of received WebSocket messages, each counted as it is yielded; made by
/// [`track`].
///
/// `S` is `actix_ws::MessageStream` or, after
/// [`aggregate_continuations`](TrackedStream::aggregate_continuations),
/// `actix_ws::AggregatedMessageStream`. It yields what `S` yields. When it yields
/// `None`, the connection has ended and is recorded as such.
pub struct TrackedStream<S = MessageStream> {
    inner: S,
    conn: Option<Arc<Connection>>,
}

impl<S> TrackedStream<S>
where
    S: Stream + Unpin,
    S::Item: sealed::Counted,
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
    S::Item: sealed::Counted,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.get_mut();
        let item = ready!(Pin::new(&mut this.inner).poll_next(cx));
        if let Some(conn) = &this.conn {
            match &item {
                Some(item) => {
                    if let Some(kind) = sealed::Counted::kind(item) {
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

mod sealed {
    use super::*;

    /// An item of a message stream [`track`](super::track) can count.
    pub trait Counted {
        /// What kind of message it is; `None` for what is not counted (an error, the
        /// rest of a fragmented message).
        fn kind(&self) -> Option<Kind>;
    }

    impl Counted for Result<Message, ProtocolError> {
        #[inline]
        fn kind(&self) -> Option<Kind> {
            self.as_ref().ok().and_then(message_kind)
        }
    }

    impl Counted for Result<AggregatedMessage, ProtocolError> {
        #[inline]
        fn kind(&self) -> Option<Kind> {
            Some(match self.as_ref().ok()? {
                AggregatedMessage::Text(_) => Kind::Text,
                AggregatedMessage::Binary(_) => Kind::Binary,
                AggregatedMessage::Ping(_) => Kind::Ping,
                AggregatedMessage::Pong(_) => Kind::Pong,
                AggregatedMessage::Close(_) => Kind::Close,
            })
        }
    }

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
}

pub(crate) use sealed::Kind;

// A fragmented message counts once, by its first frame.
fn message_kind(msg: &Message) -> Option<Kind> {
    match msg {
        Message::Text(_) => Some(Kind::Text),
        Message::Binary(_) => Some(Kind::Binary),
        Message::Ping(_) => Some(Kind::Ping),
        Message::Pong(_) => Some(Kind::Pong),
        Message::Close(_) => Some(Kind::Close),
        Message::Continuation(item) => item_kind(item),
        Message::Nop => None,
    }
}

fn item_kind(item: &Item) -> Option<Kind> {
    match item {
        Item::FirstText(_) => Some(Kind::Text),
        Item::FirstBinary(_) => Some(Kind::Binary),
        Item::Continue(_) | Item::Last(_) => None,
    }
}

/// The `direction` label.
#[derive(Clone, Copy)]
pub(crate) enum Direction {
    Received = 0,
    Sent = 1,
}

impl Direction {
    const ALL: [Direction; 2] = [Direction::Received, Direction::Sent];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Direction::Received => "received",
            Direction::Sent => "sent",
        }
    }
}

/// The series of one handler, resolved once and shared by its connections.
struct Handles {
    connections: IntCounter,
    active: IntGauge,
    duration: Histogram,
    /// `[direction][kind]`.
    messages: [[IntCounter; 5]; 2],
}

impl Handles {
    // Cached per handler name, so a connection costs one map lookup.
    fn of(handler: &'static str) -> Option<Arc<Handles>> {
        static CACHE: OnceCell<RwLock<HashMap<&'static str, Arc<Handles>>>> = OnceCell::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(handles) = cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(handler)
        {
            return Some(Arc::clone(handles));
        }
        let families = ws_families()?;
        let mut cache = cache.write().unwrap_or_else(PoisonError::into_inner);
        let handles = cache.entry(handler).or_insert_with(|| {
            Arc::new(Handles {
                connections: families.connections(handler),
                active: families.active(handler),
                duration: families.duration(handler),
                messages: Direction::ALL.map(|direction| {
                    Kind::ALL.map(|kind| families.messages(handler, direction, kind))
                }),
            })
        });
        Some(Arc::clone(handles))
    }
}

/// One open connection, shared by its stream and sessions; recorded as ended once.
struct Connection {
    handles: Arc<Handles>,
    start: quanta::Instant,
    ended: AtomicBool,
}

impl Connection {
    // `None` (nothing counted, nothing registered) when metrics are disabled.
    fn open(handler: &'static str) -> Option<Connection> {
        if !crate::enabled() {
            return None;
        }
        let handles = Handles::of(handler)?;
        handles.connections.inc();
        handles.active.inc();
        Some(Connection {
            handles,
            start: quanta::Instant::now(),
            ended: AtomicBool::new(false),
        })
    }

    #[inline]
    fn count(&self, direction: Direction, kind: Kind) {
        self.handles.messages[direction as usize][kind as usize].inc();
    }

    // The first caller records; any later call does nothing.
    fn end(&self) {
        if !self.ended.swap(true, Ordering::AcqRel) {
            self.handles
                .duration
                .observe(self.start.elapsed().as_secs_f64());
            self.handles.active.dec();
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::FromRequest;
    use actix_web::test::TestRequest;
    use actix_web::web;

    // A masked client frame (mask 0, so the payload stays readable); payloads < 126 bytes.
    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![u8::from(fin) << 7 | opcode, 0x80 | payload.len() as u8];
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(payload);
        out
    }

    // `actix_ws::handle` on a request whose body is `frames` and then the end of input.
    async fn upgrade(frames: &[Vec<u8>]) -> (actix_web::HttpResponse, Session, MessageStream) {
        let (req, mut payload) = TestRequest::get()
            .insert_header(("upgrade", "websocket"))
            .insert_header(("connection", "upgrade"))
            .insert_header(("sec-websocket-version", "13"))
            .insert_header(("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="))
            .set_payload(frames.concat())
            .to_http_parts();
        let body = web::Payload::from_request(&req, &mut payload)
            .await
            .unwrap();
        actix_ws::handle(&req, body).unwrap()
    }

    fn handles(handler: &'static str) -> Arc<Handles> {
        Handles::of(handler).expect("metrics are enabled in tests")
    }

    fn counts(handles: &Handles, direction: Direction) -> [u64; 5] {
        handles.messages[direction as usize]
            .each_ref()
            .map(IntCounter::get)
    }

    const TEXT: u8 = 1;
    const BINARY: u8 = 2;
    const CONTINUATION: u8 = 0;
    const CLOSE: u8 = 8;
    const PING: u8 = 9;
    const PONG: u8 = 10;

    #[actix_web::test]
    async fn counts_messages_not_frames_and_ends_when_the_stream_ends() {
        let (response, session, stream) = upgrade(&[
            frame(true, TEXT, b"hello"),
            frame(true, BINARY, b"\x01\x02"),
            frame(false, TEXT, b"frag"),
            frame(true, PING, b"p"),
            frame(false, CONTINUATION, b"men"),
            frame(true, CONTINUATION, b"ted"),
            frame(true, PONG, b""),
            frame(true, CLOSE, &[0x03, 0xe8]),
        ])
        .await;
        assert_eq!(response.status().as_u16(), 101);
        let (mut session, mut stream) = track("unit_raw", session, stream);
        let h = handles("unit_raw");
        assert_eq!((h.connections.get(), h.active.get()), (1, 1));

        let mut yielded = 0;
        while let Some(item) = stream.recv().await {
            item.unwrap();
            yielded += 1;
        }
        assert_eq!(yielded, 8, "every frame is yielded");
        // [text, binary, ping, pong, close]; the fragmented text counts once.
        assert_eq!(counts(&h, Direction::Received), [2, 1, 1, 1, 1]);
        // The end of input ends the connection, though the session is still held.
        assert_eq!((h.active.get(), h.duration.get_sample_count()), (0, 1));

        session.text("a").await.unwrap();
        session.binary(&b"b"[..]).await.unwrap();
        session.ping(b"").await.unwrap();
        session.pong(b"").await.unwrap();
        session
            .continuation(Item::FirstBinary(Bytes::from_static(b"x")))
            .await
            .unwrap();
        session
            .continuation(Item::Last(Bytes::from_static(b"y")))
            .await
            .unwrap();
        session.clone().close(None).await.unwrap();
        assert!(session.text("late").await.is_err(), "closed");
        assert_eq!(counts(&h, Direction::Sent), [1, 2, 1, 1, 1]);

        drop((session, stream));
        assert_eq!((h.active.get(), h.duration.get_sample_count()), (0, 1));
        assert_eq!(h.connections.get(), 1);
        drop(response);
    }

    #[actix_web::test]
    async fn aggregated_messages_count_once_when_complete() {
        let (_response, session, stream) = upgrade(&[
            frame(false, BINARY, b"a"),
            frame(false, CONTINUATION, b"b"),
            frame(true, PING, b""),
            frame(true, CONTINUATION, b"c"),
            frame(true, TEXT, b"t"),
        ])
        .await;
        let (_session, stream) = track("unit_aggregated", session, stream);
        let mut stream = stream.aggregate_continuations().max_continuation_size(1024);
        let h = handles("unit_aggregated");
        assert!(matches!(
            stream.recv().await,
            Some(Ok(AggregatedMessage::Ping(_)))
        ));
        assert_eq!(counts(&h, Direction::Received), [0, 0, 1, 0, 0]);
        assert_eq!(
            stream.recv().await.unwrap().unwrap(),
            AggregatedMessage::Binary(Bytes::from_static(b"abc"))
        );
        assert!(matches!(
            stream.recv().await,
            Some(Ok(AggregatedMessage::Text(_)))
        ));
        assert!(stream.recv().await.is_none());
        assert_eq!(counts(&h, Direction::Received), [1, 1, 1, 0, 0]);
        assert_eq!((h.active.get(), h.duration.get_sample_count()), (0, 1));
    }

    #[actix_web::test]
    async fn dropping_the_stream_and_every_session_ends_the_connection_once() {
        let (_response, session, stream) = upgrade(&[]).await;
        let (session, stream) = track("unit_drop", session, stream);
        let h = handles("unit_drop");
        let other = session.clone();
        drop(stream);
        drop(session);
        assert_eq!((h.active.get(), h.duration.get_sample_count()), (1, 0));
        drop(other);
        assert_eq!((h.active.get(), h.duration.get_sample_count()), (0, 1));
        assert_eq!(h.connections.get(), 1);
    }

    #[actix_web::test]
    async fn a_panicking_task_ends_the_connection_once() {
        let (_response, session, stream) =
            upgrade(&[frame(true, TEXT, b"boom"), frame(true, TEXT, b"never")]).await;
        let (session, stream) = track("unit_panic", session, stream);
        let h = handles("unit_panic");
        let task = actix_web::rt::spawn(async move {
            let (_session, mut stream) = (session, stream);
            if let Some(Ok(Message::Text(text))) = stream.recv().await {
                panic!("the task fails on {text}");
            }
        });
        assert!(task.await.unwrap_err().is_panic());
        assert_eq!(counts(&h, Direction::Received), [1, 0, 0, 0, 0]);
        assert_eq!((h.active.get(), h.duration.get_sample_count()), (0, 1));
        assert_eq!(h.connections.get(), 1);
    }

    #[actix_web::test]
    async fn a_protocol_error_is_not_a_message() {
        // Client frames must be masked: an unmasked one is a protocol error.
        let (_response, session, stream) = upgrade(&[vec![0x81, 0x01, b'x']]).await;
        let (_session, mut stream) = track("unit_protocol_error", session, stream);
        let h = handles("unit_protocol_error");
        assert!(matches!(stream.recv().await, Some(Err(_))));
        assert_eq!(counts(&h, Direction::Received), [0; 5]);
        drop(stream);
        assert_eq!(h.active.get(), 1, "a session is still held");
    }

    #[test]
    fn families_are_registered_with_their_labels() {
        let handles = handles("unit_registered");
        handles.messages[Direction::Sent as usize][Kind::Pong as usize].inc();
        let text = crate::render();
        assert!(
            text.contains(r#"websocket_messages_total{direction="sent",handler="unit_registered",kind="pong"} 1"#),
            "{text}"
        );
        assert!(text.contains("# TYPE websocket_connection_duration_seconds histogram"));
        assert!(text.contains("# TYPE websocket_connections_active gauge"));
        assert!(text.contains("# TYPE websocket_connections_total counter"));
    }
}
