//! The requests the live tests send to the example service, each checked as it is
//! answered, and what they must count.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::Duration;

use tungstenite::Message;

use crate::app::RunningApp;
use crate::http::{get, post};

/// `http_requests_total` as `(handler, method, route, status)` → count.
pub type Counts = BTreeMap<(String, String, String, String), f64>;

/// Requests sent to one app, checked one by one, and what they must count.
pub struct Traffic {
    /// `127.0.0.1:PORT` of the app.
    addr: String,
    sent: Mutex<Counts>,
}

impl Traffic {
    /// Nothing sent yet.
    pub fn new(app: &RunningApp) -> Traffic {
        Traffic {
            addr: app.addr.clone(),
            sent: Mutex::new(Counts::new()),
        }
    }

    /// `n` times every plain route, with each of its answers.
    pub fn round(&self, n: usize) {
        for i in 0..n {
            self.get("/", 200, "index", "/");
            self.get(&format!("/users/{}", i + 1), 200, "get_user", "/users/{id}");
            self.get(
                &format!("/users/{}", 900 + i),
                404,
                "get_user",
                "/users/{id}",
            );
            self.post_user(r#"{"name":"ada"}"#, 201);
            self.post_user(r#"{"name": "#, 400);
            self.get("/slow?ms=99999", 400, "slow", "/slow");
            self.get("/health", 200, "health", "/health");
            // Counted by the app's `RequestMetrics`: no route matched; rejected by the
            // query extractor before the handler.
            self.get(&format!("/no-such-route/{i}"), 404, "", "");
            self.get("/slow?ms=x", 400, "", "/slow");
            self.get("/test-metrics", 200, "test_metrics", "/test-metrics");
        }
    }

    /// `n` calls of `/slow` taking 600 ms, up to 20 at a time.
    pub fn slow(&self, n: usize) {
        std::thread::scope(|s| {
            for _ in 0..n.min(20) {
                s.spawn(|| {
                    for _ in 0..n.div_ceil(20) {
                        self.get("/slow?ms=600", 200, "slow", "/slow");
                    }
                });
            }
        });
    }

    /// `GET /users/1` once per trace id, with a sampled W3C `traceparent` of that trace
    /// (32 hex digits) and the span `00f067aa0ba902b7`: the exemplars of its bucket.
    pub fn traced(&self, trace_ids: &[&str]) {
        for trace in trace_ids {
            let header = format!("00-{trace}-00f067aa0ba902b7-01");
            let url = format!("http://{}/users/1", self.addr);
            let response = get(&url, &[("traceparent", &header)]);
            assert_eq!(response.status, 200, "traced GET /users/1");
            self.count("get_user", "GET", "/users/{id}", 200);
        }
    }

    /// `n` calls of `/error`.
    pub fn errors(&self, n: usize) {
        for _ in 0..n {
            self.get("/error", 500, "error", "/error");
        }
    }

    /// A WebSocket echo that ends with a close frame from us (clean), or by dropping the
    /// TCP connection (abnormal).
    pub fn websocket(&self, clean: bool) {
        let stream = TcpStream::connect(&self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let (mut socket, response) = tungstenite::client(format!("ws://{}/ws", self.addr), stream)
            .expect("WebSocket handshake");
        assert_eq!(response.status().as_u16(), 101);
        self.count("ws", "GET", "/ws", 101);
        socket.send(Message::text("hello")).expect("send");
        assert_eq!(socket.read().expect("echo"), Message::text("hello"));
        if clean {
            socket.close(None).expect("send close");
            loop {
                match socket.read() {
                    Ok(Message::Close(_)) => {}
                    Ok(other) => panic!("after close: {other:?}"),
                    Err(tungstenite::Error::ConnectionClosed) => break,
                    Err(err) => panic!("closing: {err}"),
                }
            }
        }
    }

    /// What the requests so far must count.
    pub fn sent(&self) -> Counts {
        self.sent.lock().unwrap().clone()
    }

    // One more request of this label set.
    fn count(&self, handler: &str, method: &str, route: &str, status: u16) {
        let key = (
            handler.to_owned(),
            method.to_owned(),
            route.to_owned(),
            status.to_string(),
        );
        *self.sent.lock().unwrap().entry(key).or_default() += 1.0;
    }

    // `GET path`, which must answer `status`.
    fn get(&self, path: &str, status: u16, handler: &str, route: &str) {
        let response = get(&format!("http://{}{path}", self.addr), &[]);
        assert_eq!(response.status, status, "GET {path}: {}", response.body);
        self.count(handler, "GET", route, status);
    }

    // `POST /users` with this body, which must answer `status`.
    fn post_user(&self, body: &str, status: u16) {
        let response = post(
            &format!("http://{}/users", self.addr),
            "application/json",
            body,
        );
        assert_eq!(response.status, status, "POST /users {body}");
        self.count("create_user", "POST", "/users", status);
    }
}
