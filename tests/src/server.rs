//! An in-process server on a real socket (a tower/axum service's, or actix-web's), and a
//! raw keep-alive client for it: what the tests of services over a socket share.

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Runs `serve` with a listener on a free loopback port, on a 2-worker tokio runtime in
/// a thread of its own (for the rest of the process); returns the listener's address.
pub fn serve_on_own_runtime<F, Fut>(serve: F) -> SocketAddr
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1:0");
            tx.send(listener.local_addr().unwrap()).unwrap();
            serve(listener).await;
        });
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the server started")
}

/// Runs actix-web's server with `workers` workers on a free loopback port, in a thread of
/// its own, for an app of `RequestMetrics` (outermost) around the services `routes`
/// configures; returns its base URL (`http://127.0.0.1:PORT`) and handle.
pub fn serve_actix(
    workers: usize,
    routes: fn(&mut actix_web::web::ServiceConfig),
) -> (String, actix_web::dev::ServerHandle) {
    use actix_web::{App, HttpServer};
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .wrap(track_metrics::actix::RequestMetrics::default())
                    .configure(routes)
            })
            .workers(workers)
            .bind(("127.0.0.1", 0))
            .expect("bind 127.0.0.1:0");
            let addr = server.addrs()[0];
            let server = server.run();
            tx.send((format!("http://{addr}"), server.handle()))
                .unwrap();
            server.await.expect("the server runs");
        });
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the server started")
}

/// One keep-alive HTTP/1.1 connection: any method, any path.
pub struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    /// Connects to `addr`.
    pub fn open(addr: SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Connection {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        }
    }

    /// Sends `method path` without a body, returns the status and the body (the answer
    /// must have a `content-length`).
    pub fn send(&mut self, method: &str, path: &str) -> (u16, String) {
        write!(
            self.writer,
            "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\n\r\n"
        )
        .expect("write the request");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("the status line");
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a status line: {line:?}"));
        let mut length = None;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("a header line");
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = Some(value.trim().parse::<usize>().unwrap());
            }
        }
        let length = length.unwrap_or_else(|| panic!("{method} {path}: no content-length"));
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("the body");
        (status, String::from_utf8(body).expect("a text body"))
    }
}
