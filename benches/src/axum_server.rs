use std::net::SocketAddr;
use std::process::ExitCode;

use axum::Router;

/// Serves `app()` as `name` on `BIND_ADDR` (default `default_addr`).
pub fn main(name: &'static str, default_addr: &str, app: impl FnOnce() -> Router) -> ExitCode {
    let raw = std::env::var("BIND_ADDR").unwrap_or_else(|_| default_addr.to_owned());
    let addr: SocketAddr = match raw.parse() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!(
                "{name}: invalid BIND_ADDR {raw:?}: {err} (expected IP:PORT, such as {default_addr})"
            );
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("{name}: cannot start tokio: {err}");
            return ExitCode::FAILURE;
        }
    };
    let served = rt.block_on(async move {
        let app = app();
        let listener = tokio::net::TcpListener::bind(addr).await?;
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown(name))
            .await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{name}: cannot serve on {addr}: {err}");
            ExitCode::from(2)
        }
    }
}

// SIGINT or SIGTERM.
async fn shutdown(name: &'static str) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(err) => {
            eprintln!("{name}: cannot listen for SIGTERM: {err}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
