//! WebSocket metrics over a real socket: the built `actix-app` and its `GET /ws` echo,
//! talked to with a real WebSocket client (tungstenite), then scraped; and an
//! in-process actix-ws server whose connection task panics or returns.

use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use metrics_tests::app::RunningApp;
use metrics_tests::http::get;
use metrics_tests::scrape::Scrape;
use metrics_tests::wait::wait_for;
use track_metrics::ENV_ENABLED;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

const KINDS: [&str; 5] = ["text", "binary", "ping", "pong", "close"];
const SHORT: Duration = Duration::from_secs(10);

/// The WebSocket series of one handler in one scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Ws {
    connections: f64,
    active: f64,
    durations: f64,
    /// `http_requests_total{handler="ws",method="GET",route="/ws",status="101"}`.
    upgrades: f64,
    /// By `KINDS`.
    received: [f64; 5],
    sent: [f64; 5],
}

impl Ws {
    fn read(scrape: &Scrape, handler: &str) -> Ws {
        let h = [("handler", handler)];
        let messages = |direction: &str| {
            KINDS.map(|kind| {
                scrape.value(
                    "websocket_messages_total",
                    &[
                        ("handler", handler),
                        ("direction", direction),
                        ("kind", kind),
                    ],
                )
            })
        };
        Ws {
            connections: scrape.value("websocket_connections_total", &h),
            active: scrape.value("websocket_connections_active", &h),
            durations: scrape.value("websocket_connection_duration_seconds_count", &h),
            upgrades: scrape.requests(handler, "GET", "/ws", "101"),
            received: messages("received"),
            sent: messages("sent"),
        }
    }

    fn scrape(app: &RunningApp) -> Ws {
        let resp = get(&app.url("/metrics"), &[]);
        assert_eq!(resp.status, 200, "{}", resp.body);
        Ws::read(&Scrape::parse(&resp.body), "ws")
    }

    fn since(&self, before: &Ws) -> Ws {
        let minus = |a: [f64; 5], b: [f64; 5]| std::array::from_fn(|i| a[i] - b[i]);
        Ws {
            connections: self.connections - before.connections,
            active: self.active - before.active,
            durations: self.durations - before.durations,
            upgrades: self.upgrades - before.upgrades,
            received: minus(self.received, before.received),
            sent: minus(self.sent, before.sent),
        }
    }
}

// Waits (bounded) until every connection opened since `before` has ended, and returns
// the counts since `before`.
fn settled(app: &RunningApp, before: &Ws, connections: f64) -> Ws {
    wait_for("the connections to end", SHORT, || {
        let delta = Ws::scrape(app).since(before);
        (delta.connections == connections && delta.active == 0.0 && delta.durations == connections)
            .then_some(delta)
    })
}

fn connect(addr: &str, path: &str) -> WebSocket<TcpStream> {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(SHORT)).unwrap();
    stream.set_write_timeout(Some(SHORT)).unwrap();
    let (socket, response) =
        tungstenite::client(format!("ws://{addr}{path}"), stream).expect("WebSocket handshake");
    assert_eq!(response.status().as_u16(), 101);
    socket
}

fn send(socket: &mut WebSocket<TcpStream>, msg: Message) {
    socket.send(msg).expect("send");
}

fn read(socket: &mut WebSocket<TcpStream>) -> Message {
    socket.read().expect("read")
}

// Sends a close frame and reads until the server's close frame and the end of the
// connection; returns the server's close frame.
fn close(mut socket: WebSocket<TcpStream>) -> Option<tungstenite::protocol::CloseFrame> {
    socket.close(None).expect("send close");
    let mut reply = None;
    for _ in 0..10 {
        match socket.read() {
            Ok(Message::Close(frame)) => reply = Some(frame),
            Ok(other) => panic!("unexpected message after close: {other:?}"),
            Err(tungstenite::Error::ConnectionClosed) => {
                return reply.expect("the server answered the close with a close");
            }
            Err(err) => panic!("closing: {err}"),
        }
    }
    panic!("the connection did not close");
}

// Text `t{i}` and binary `[i]` messages and one ping, then their echoes and the pong.
fn exchange(socket: &mut WebSocket<TcpStream>, texts: usize, binaries: u8, tag: &str) {
    for i in 0..texts {
        send(socket, Message::text(format!("{tag} t{i}")));
    }
    for i in 0..binaries {
        send(socket, Message::binary(vec![i, 0xff]));
    }
    send(socket, Message::Ping(tag.as_bytes().to_vec().into()));
    for i in 0..texts {
        assert_eq!(read(socket), Message::text(format!("{tag} t{i}")));
    }
    for i in 0..binaries {
        assert_eq!(read(socket), Message::binary(vec![i, 0xff]));
    }
    assert_eq!(read(socket), Message::Pong(tag.as_bytes().to_vec().into()));
}

#[test]
fn echo_counts_every_message_by_direction_and_kind() {
    let app = RunningApp::start(&[]);
    let before = Ws::scrape(&app);

    let mut socket = connect(&app.addr, "/ws");
    exchange(&mut socket, 5, 3, "one");
    let open = Ws::scrape(&app).since(&before);
    assert_eq!(
        (open.connections, open.active, open.durations, open.upgrades),
        (1.0, 1.0, 0.0, 1.0),
        "while open"
    );
    let reply = close(socket);
    assert_eq!(reply.map(|f| f.code), None, "the close is echoed as sent");

    assert_eq!(
        settled(&app, &before, 1.0),
        Ws {
            connections: 1.0,
            active: 0.0,
            durations: 1.0,
            upgrades: 1.0,
            received: [5.0, 3.0, 1.0, 0.0, 1.0],
            sent: [5.0, 3.0, 0.0, 1.0, 1.0],
        }
    );
}

#[test]
fn a_client_that_vanishes_is_no_longer_active() {
    let app = RunningApp::start(&[]);
    let before = Ws::scrape(&app);

    let mut socket = connect(&app.addr, "/ws");
    send(&mut socket, Message::text("bye"));
    assert_eq!(read(&mut socket), Message::text("bye"));
    assert_eq!(Ws::scrape(&app).since(&before).active, 1.0);
    // No close frame: the TCP connection just goes away.
    socket.get_ref().shutdown(Shutdown::Both).unwrap();
    drop(socket);

    let delta = settled(&app, &before, 1.0);
    assert_eq!(
        delta.received,
        [1.0, 0.0, 0.0, 0.0, 0.0],
        "no close received"
    );
    assert_eq!(delta.sent[..4], [1.0, 0.0, 0.0, 0.0]);
    assert_eq!(delta.upgrades, 1.0);
}

#[test]
fn a_protocol_error_ends_the_connection() {
    let app = RunningApp::start(&[]);
    let before = Ws::scrape(&app);

    let mut socket = connect(&app.addr, "/ws");
    // Over the server's 64 KiB frame limit.
    send(&mut socket, Message::binary(vec![0; 100 * 1024]));
    match read(&mut socket) {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Protocol),
        other => panic!("expected a close frame, got {other:?}"),
    }

    let delta = settled(&app, &before, 1.0);
    assert_eq!(
        delta.received, [0.0; 5],
        "an oversized frame is not a message"
    );
    assert_eq!(delta.sent, [0.0, 0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn fifty_concurrent_connections_are_counted_exactly() {
    const CONNECTIONS: usize = 50;
    let app = RunningApp::start(&[]);
    let before = Ws::scrape(&app);
    let connected = AtomicUsize::new(0);
    let go = AtomicBool::new(false);

    std::thread::scope(|scope| {
        for n in 0..CONNECTIONS {
            let (app, connected, go) = (&app, &connected, &go);
            scope.spawn(move || {
                let tag = format!("c{n}");
                let mut socket = connect(&app.addr, "/ws");
                send(&mut socket, Message::text(tag.clone()));
                assert_eq!(read(&mut socket), Message::text(tag.clone()));
                connected.fetch_add(1, Ordering::SeqCst);
                wait_for("the go signal", Duration::from_secs(60), || {
                    go.load(Ordering::SeqCst).then_some(())
                });
                exchange(&mut socket, 3, 2, &tag);
                close(socket);
            });
        }
        wait_for("every connection to open", Duration::from_secs(60), || {
            (connected.load(Ordering::SeqCst) == CONNECTIONS).then_some(())
        });
        let open = Ws::scrape(&app).since(&before);
        assert_eq!(
            (open.connections, open.active, open.durations),
            (50.0, 50.0, 0.0),
            "all open at once"
        );
        go.store(true, Ordering::SeqCst);
    });

    assert_eq!(
        settled(&app, &before, 50.0),
        Ws {
            connections: 50.0,
            active: 0.0,
            durations: 50.0,
            upgrades: 50.0,
            received: [200.0, 100.0, 50.0, 0.0, 50.0],
            sent: [200.0, 100.0, 0.0, 50.0, 50.0],
        }
    );
}

#[test]
fn the_echo_works_with_metrics_disabled() {
    let app = RunningApp::start(&[(ENV_ENABLED, "false")]);
    let mut socket = connect(&app.addr, "/ws");
    exchange(&mut socket, 2, 1, "off");
    close(socket);
    assert_eq!(get(&app.url("/metrics"), &[]).status, 404);
}

// An in-process server whose connection tasks end badly; served on a thread of its own.
struct InProcess {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: std::thread::JoinHandle<()>,
}

impl InProcess {
    fn start() -> InProcess {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(|| {
                    App::new()
                        .route("/panics", web::get().to(panics))
                        .route("/returns", web::get().to(returns))
                })
                .workers(1)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .expect("bind 127.0.0.1:0");
                let addr = server.addrs()[0];
                let server = server.run();
                tx.send((addr, server.handle())).unwrap();
                server.await.expect("in-process server");
            });
        });
        let (addr, handle) = rx.recv_timeout(SHORT).expect("the server started");
        InProcess {
            addr,
            handle,
            thread,
        }
    }

    fn stop(self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        self.thread.join().unwrap();
    }
}

// The connection task panics on the first text message.
async fn panics(req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let (session, mut stream) = track_metrics::ws::track("in_process_panics", session, stream);
    actix_web::rt::spawn(async move {
        let _session = session;
        if let Some(Ok(actix_ws::Message::Text(text))) = stream.recv().await {
            panic!("the connection task fails on {text:?} (on purpose)");
        }
    });
    Ok(response)
}

// The connection task returns after the first message, without a close frame.
async fn returns(req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let (mut session, mut stream) = track_metrics::ws::track("in_process_returns", session, stream);
    actix_web::rt::spawn(async move {
        if let Some(Ok(actix_ws::Message::Text(text))) = stream.recv().await {
            let _ = session.text(text).await;
        }
    });
    Ok(response)
}

// The server's end of the connection drops it: the client reads its end.
fn read_until_closed(mut socket: WebSocket<TcpStream>) {
    for _ in 0..10 {
        match socket.read() {
            Ok(Message::Close(_) | Message::Text(_)) => {}
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => return,
        }
    }
    panic!("the server did not end the connection");
}

fn in_process(handler: &str) -> Ws {
    Ws::read(&Scrape::parse(&track_metrics::render()), handler)
}

#[test]
fn a_server_task_that_panics_or_returns_ends_its_connection_once() {
    let server = InProcess::start();
    let addr = server.addr.to_string();
    for (path, handler, sent) in [
        ("/panics", "in_process_panics", 0.0),
        ("/returns", "in_process_returns", 1.0),
    ] {
        let mut socket = connect(&addr, path);
        send(&mut socket, Message::text("go"));
        read_until_closed(socket);
        let done = wait_for(handler, SHORT, || {
            let ws = in_process(handler);
            (ws.durations == 1.0).then_some(ws)
        });
        // Still exactly once a while later: nothing records the end a second time.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(in_process(handler), done, "{handler}");
        assert_eq!(
            done,
            Ws {
                connections: 1.0,
                active: 0.0,
                durations: 1.0,
                upgrades: 0.0,
                received: [1.0, 0.0, 0.0, 0.0, 0.0],
                sent: [sent, 0.0, 0.0, 0.0, 0.0],
            },
            "{handler}"
        );
    }
    server.stop();
}
