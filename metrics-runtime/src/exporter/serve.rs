//! The exporter's server: [`serve`] on the caller's runtime, [`spawn`] on a thread and
//! runtime of its own, and the answer to each request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::Error;
use crate::registry::Scrape;

/// Serves `/metrics` on `addr` from the caller's tokio runtime (it needs tokio's `net`
/// and `time` drivers: `enable_all`), until the returned future is dropped; a connection
/// is a task of its own. Returns only when `addr` cannot be bound.
///
/// ```no_run
/// # async fn run() -> Result<(), track_metrics::exporter::Error> {
/// tokio::spawn(track_metrics::exporter::serve("127.0.0.1:9464".parse().unwrap()));
/// # Ok(())
/// # }
/// ```
pub async fn serve(addr: SocketAddr) -> Result<(), Error> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error { addr, source })?;
    accept(listener).await
}

/// Serves `/metrics` on `addr` from a thread and a current-thread tokio runtime of its
/// own, for a program that has none; the [`Exporter`] stops it when dropped. Binds before
/// returning, so an address in use is this `Err` (`127.0.0.1:0` picks a free port:
/// [`Exporter::local_addr`]).
pub fn spawn(addr: SocketAddr) -> Result<Exporter, Error> {
    let failed = |source| Error { addr, source };
    let listener = std::net::TcpListener::bind(addr).map_err(failed)?;
    listener.set_nonblocking(true).map_err(failed)?;
    let local_addr = listener.local_addr().map_err(failed)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(failed)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("track-metrics-exporter".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(err) => {
                        log::error!("track-metrics: cannot serve metrics on {local_addr}: {err}");
                        return;
                    }
                };
                tokio::select! {
                    _ = accept(listener) => {}
                    _ = stopped => {}
                }
            });
            // The runtime drops here, with the connections' tasks.
        })
        .map_err(failed)?;
    Ok(Exporter {
        local_addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// A running exporter (see [`spawn`]): dropping it stops it, and waits for its thread.
#[derive(Debug)]
pub struct Exporter {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Exporter {
    /// The address it serves on (the port chosen, for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// Accepts connections for ever, each served by a task of its own.
async fn accept(listener: TcpListener) -> Result<(), Error> {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => {
                // Out of file descriptors, say: the next accept may work.
                log::warn!("track-metrics: the exporter cannot accept a connection: {err}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|request: Request<Incoming>| async move {
                Ok::<_, Infallible>(answer(
                    request.method(),
                    request.uri().path(),
                    request.headers(),
                ))
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(err) = connection.await {
                log::debug!("track-metrics: an exporter connection ended: {err}");
            }
        });
    }
}

// The answer to `method path` with `headers`.
fn answer(method: &Method, path: &str, headers: &HeaderMap) -> Response<Full<Bytes>> {
    let (status, header, body) = match (method, path) {
        (&Method::GET, "/metrics") => {
            let value = |name: HeaderName| headers.get(name).map(HeaderValue::as_bytes);
            Scrape::answer(value(AUTHORIZATION), value(ACCEPT)).into_parts()
        }
        (&Method::GET, "/") => (
            200,
            Some(("content-type", "text/plain; charset=utf-8")),
            b"metrics are at /metrics\n".to_vec(),
        ),
        _ => (404, None, b"not found\n".to_vec()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some((name, value)) = header {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}
