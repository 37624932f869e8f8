use std::sync::Arc;

use actix_web::FromRequest;
use actix_web::test::TestRequest;
use actix_web::web;
use actix_web::web::Bytes;
use actix_ws::{AggregatedMessage, Item, Message, MessageStream, Session};
use prometheus::IntCounter;

use super::connection::Handles;
use super::kind::{Direction, Kind};
use super::track;

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
        text.contains(
            r#"websocket_messages_total{direction="sent",handler="unit_registered",kind="pong"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("# TYPE websocket_connection_duration_seconds histogram"));
    assert!(text.contains("# TYPE websocket_connections_active gauge"));
    assert!(text.contains("# TYPE websocket_connections_total counter"));
}
