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
    let unreachable = |reason: String| Error::Unreachable {
        url: target.url.clone(),
        reason,
    };
    let thread_target = target.clone();
    let exchange = std::thread::Builder::new()
        .name("track-metrics-push".to_owned())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| Outcome::Failed(format!("cannot start a runtime: {err}")))?;
            runtime.block_on(async {
                tokio::time::timeout(timeout, exchange(&thread_target, method, body))
                    .await
                    .unwrap_or(Err(Outcome::TimedOut))
            })
        })
        .map_err(|err| unreachable(format!("cannot start a thread: {err}")))?;
    match exchange.join() {
        Ok(Ok(())) => Ok(()),
        Ok(Err(Outcome::Failed(reason))) => Err(unreachable(reason)),
        Ok(Err(Outcome::TimedOut)) => Err(Error::Timeout {
            url: target.url.clone(),
            after: timeout,
        }),
        Ok(Err(Outcome::Refused(status, message))) => Err(Error::Refused {
            url: target.url.clone(),
            status,
            message,
        }),
        Err(_) => Err(unreachable("the push's thread panicked".to_owned())),
    }
}

/// How an exchange went wrong.
enum Outcome {
    Failed(String),
    TimedOut,
    Refused(u16, String),
}

async fn exchange(target: &Target, method: Method, body: String) -> Result<(), Outcome> {
    let failed =
        |what: &str, err: &dyn std::fmt::Display| Outcome::Failed(format!("{what}: {err}"));
    let stream = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|err| failed("cannot connect", &err))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|err| failed("cannot start HTTP", &err))?;
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
        .map_err(|err| failed("cannot make the request", &err))?;
    let answer = sender
        .send_request(request)
        .await
        .map_err(|err| failed("the exchange failed", &err))?;
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
    Err(Outcome::Refused(
        status.as_u16(),
        if message.is_empty() {
            status.canonical_reason().unwrap_or("").to_owned()
        } else {
            message.chars().take(200).collect()
        },
    ))
}
