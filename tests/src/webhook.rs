//! A webhook receiver on loopback, as Alertmanager's `webhook_configs` call it: it records
//! every POST (path and JSON body) and answers 200.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;

/// One request it received.
#[derive(Clone, Debug)]
pub struct Notification {
    /// The request path, e.g. `/alerts/critical`.
    pub path: String,
    /// The body, `null` if it was not JSON.
    pub body: Json,
}

/// The receiver; it serves until the test process exits.
pub struct Webhook {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    received: Arc<Mutex<Vec<Notification>>>,
}

impl Webhook {
    /// Listens on a free loopback port, one thread per connection.
    pub fn start() -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let sink = Arc::clone(&sink);
                std::thread::spawn(move || serve(stream, &sink));
            }
        });
        Webhook { url, received }
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Notification> {
        self.received.lock().unwrap().clone()
    }
}

// Reads HTTP/1.1 requests from one connection (keep-alive) until it closes.
fn serve(stream: TcpStream, sink: &Mutex<Vec<Notification>>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = serde_json::from_slice(&body).unwrap_or(Json::Null);
        sink.lock().unwrap().push(Notification { path, body });
        let answer = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}
