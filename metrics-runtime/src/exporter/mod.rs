//! `/metrics` on a port of its own, without a web framework (cargo feature `exporter`):
//! for workers, schedulers and queue consumers whose tracked functions Prometheus
//! scrapes, and for services that keep their metrics off the public port.
//!
//! ```no_run
//! #[track_metrics::track_metrics(name = "orders::consume")]
//! fn consume(order: u64) -> Result<(), String> {
//!     if order.is_multiple_of(10) { Err("out of stock".into()) } else { Ok(()) }
//! }
//!
//! fn main() -> Result<(), track_metrics::exporter::Error> {
//!     // Its own thread and runtime; dropping it stops it.
//!     let exporter = track_metrics::exporter::spawn("127.0.0.1:9464".parse().unwrap())?;
//!     println!("metrics on http://{}/metrics", exporter.local_addr());
//!     for order in 0.. {
//!         let _ = consume(order);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! `GET /metrics` answers as the frameworks' `/metrics` do (section 5 of the contract: the
//! format the `Accept` header prefers, `404` when metrics are disabled, `401` without
//! `METRICS_TOKEN` when it is set); `GET /` a one-line pointer to it; anything else
//! `404`, which counts nothing. Built on hyper 1, the HTTP crate of an axum or tonic
//! program's graph, with a current-thread tokio runtime for [`spawn`].

mod serve;

use std::fmt;
use std::io;
use std::net::SocketAddr;

pub use serve::{Exporter, serve, spawn};

/// Why the exporter could not start: its address could not be bound.
#[derive(Debug)]
pub struct Error {
    addr: SocketAddr,
    source: io::Error,
}

impl Error {
    /// The address that could not be bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot serve metrics on {}: {}", self.addr, self.source)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}
