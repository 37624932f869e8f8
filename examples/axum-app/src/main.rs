//! The example axum service: every request counted by the `RequestMetricsLayer`, every
//! handler named with `#[track_metrics]`; the routes and answers of `actix-app`, without
//! `/ws`.
//!
//! `cargo run -p axum-app`, then `curl 127.0.0.1:8081/metrics`. Listens on `BIND_ADDR`
//! (default `127.0.0.1:8081`).

mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;

/// Where it listens without `BIND_ADDR`.
const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8081";

/// How long requests still being served may take after a shutdown signal (as actix-app's
/// `shutdown_timeout`).
const DRAIN: Duration = Duration::from_secs(5);

/// Reads `BIND_ADDR`, serves, and exits 0 after a clean shutdown, 2 on a bad address or
/// one it cannot listen on.
fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    // build_info{service, version, revision}: the revision is GIT_REVISION at build time.
    track_metrics::build_info!();

    let raw = std::env::var("BIND_ADDR").unwrap_or_else(|_| DEFAULT_BIND_ADDR.to_owned());
    let addr: SocketAddr = match raw.parse() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!(
                "axum-app: invalid BIND_ADDR {raw:?}: {err} (expected IP:PORT, such as {DEFAULT_BIND_ADDR})"
            );
            return ExitCode::from(2);
        }
    };

    let served = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .and_then(|runtime| runtime.block_on(serve(addr)));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("axum-app: cannot serve on {addr}: {err}");
            ExitCode::from(2)
        }
    }
}

/// Serves until SIGINT or SIGTERM, then drains: the requests being served may finish
/// (for at most `DRAIN`), idle connections are closed.
async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    // Installed before the address is announced, so that a signal sent as soon as the
    // service listens already stops it cleanly.
    let signal = shutdown_signal()?;
    let listener = TcpListener::bind(addr).await?;
    let app = routes::router(routes::AppState::new());
    log::info!("axum-app listening on http://{}", listener.local_addr()?);

    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        signal.await;
        let _ = stopping.send(());
    });
    tokio::select! {
        served = server => served,
        () = async {
            // Only after the signal: the channel closes early only once `server` is done.
            let _ = stopped.await;
            tokio::time::sleep(DRAIN).await;
        } => {
            log::warn!("axum-app: requests still running after {DRAIN:?}; exiting anyway");
            Ok(())
        }
    }
}

/// Resolves on the first SIGINT or SIGTERM; the handlers are installed when it is made.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        };
        log::info!("axum-app: {name} received, shutting down");
    })
}

/// Resolves on Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        log::info!("axum-app: Ctrl-C received, shutting down");
    })
}
