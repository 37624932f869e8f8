//! One push: the registry encoded, then sent on a thread of its own with a current-thread
//! tokio runtime and hyper 1's HTTP/1 client, within the push's timeout.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper_util::rt::TokioIo;

use super::Error;
use super::grouping::Target;

/// How a push replaces what the group had.
#[derive(Clone, Copy)]
pub(super) enum Method {
    /// Every metric of the group.
    Put,
    /// The families pushed.
    Post,
}

/// The registry in the text format, without the `process_*` families.
pub(super) fn exposition() -> Result<String, prometheus::Error> {
    let mut families = crate::registry().gather();
    families.retain(|family| !family.name().starts_with("process_"));
    crate::exposition::text::encode(&families)
}

/// Sends `body` to `target` and reads the answer, within `timeout`.
pub(super) fn send(
    target: &Target,
    method: Method,
    body: String,
    timeout: Duration,
) -> Result<(), Error> {
    let thread_target = target.clone();
    let exchange = std::thread::Builder::new()
        .name("track-metrics-push".to_owned())
        .spawn(move || {
            let target = &thread_target;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| target.unreachable("cannot start a runtime", &err))?;
            runtime.block_on(async {
                tokio::time::timeout(timeout, exchange(target, method, body))
                    .await
                    .unwrap_or_else(|_| {
                        Err(Error::Timeout {
                            url: target.url.clone(),
                            after: timeout,
                        })
                    })
            })
        })
        .map_err(|err| target.unreachable("cannot start a thread", &err))?;
    exchange.join().unwrap_or_else(|_| {
        Err(Error::Unreachable {
            url: target.url.clone(),
            reason: "the push's thread panicked".to_owned(),
        })
    })
}

impl Target {
    // The gateway could not be reached: `what` failed with `err`.
    fn unreachable(&self, what: &str, err: &dyn std::fmt::Display) -> Error {
        Error::Unreachable {
            url: self.url.clone(),
            reason: format!("{what}: {err}"),
        }
    }
}

async fn exchange(target: &Target, method: Method, body: String) -> Result<(), Error> {
    let stream = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|err| target.unreachable("cannot connect", &err))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|err| target.unreachable("cannot start HTTP", &err))?;
    let connection = tokio::spawn(connection);
    let authority = if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let request = hyper::Request::builder()
        .method(match method {
            Method::Put => hyper::Method::PUT,
            Method::Post => hyper::Method::POST,
        })
        .uri(target.path.as_str())
        .header(HOST, authority)
        .header(CONTENT_TYPE, crate::exposition::CONTENT_TYPE)
        .body(Full::new(Bytes::from(body)))
        .map_err(|err| target.unreachable("cannot make the request", &err))?;
    let answer = sender
        .send_request(request)
        .await
        .map_err(|err| target.unreachable("the exchange failed", &err))?;
    let status = answer.status();
    let text = answer
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default();
    connection.abort();
    if status.is_success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&text);
    let message = text.lines().next().unwrap_or("").trim();
    Err(Error::Refused {
        url: target.url.clone(),
        status: status.as_u16(),
        message: if message.is_empty() {
            status.canonical_reason().unwrap_or("").to_owned()
        } else {
            message.chars().take(200).collect()
        },
    })
}
