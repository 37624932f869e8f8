//! The servers the live tests run from the project's configuration on loopback ports, one
//! type a file: [`Prometheus`], [`Alertmanager`] (alone or in a cluster),
//! [`VictoriaMetrics`], [`Pushgateway`], and the Prometheus query API that the first and the last answer
//! ([`QueryApi`]). Each starts as a [`Process`], is waited for
//! until ready, and stops on a signal or when dropped.

mod alertmanager;
mod api;
mod prometheus;
mod pushgateway;
mod victoria;

use std::net::TcpListener;
use std::time::Duration;

pub use alertmanager::{Alertmanager, Cluster};
pub use api::QueryApi;
pub use prometheus::Prometheus;
pub use pushgateway::{Group, Pushgateway};
pub use victoria::VictoriaMetrics;

use crate::http::try_get;
use crate::process::Process;

/// How long a server may take to be ready.
const READY: Duration = Duration::from_secs(30);

/// How long a server may take to exit after SIGTERM.
const EXIT: Duration = Duration::from_secs(30);

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// Waits until `url` answers 200, failing early if the server exits.
fn wait_ready(process: &Process, url: &str) {
    process.wait_ready(READY, || try_get(url, &[]).map(|r| r.status) == Some(200));
}
