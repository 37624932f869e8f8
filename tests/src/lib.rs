//! Support for the tests of this package, one module per thing a test does: run a child
//! process ([`process`]), run an example service as one ([`app`]), the requests both
//! examples answer alike and what they count ([`routes`]), talk HTTP ([`http`]), call
//! grpc-app and know what its RPCs count ([`grpc`]), serve in-process on a socket and talk raw keep-alive HTTP/1.1 to it
//! ([`server`]), read a
//! scrape ([`scrape`]), wait for something ([`wait`]), rerun a test in a fresh process
//! ([`rerun`]), make junk for floods ([`junk`]), run a required tool ([`tool`]), build a
//! Go reference server ([`go`]), read the
//! files of `docker/` ([`docker`]), the PromQL in them ([`promql`]) and the queries of the guides in `docs/` ([`guides`]); and for the
//! live ops tests: the servers of the stack ([`servers`]), starting and stopping a stack
//! once per test binary ([`stack`]), the traffic they send ([`traffic`]) and a webhook
//! receiving Alertmanager's notifications ([`webhook`]).

use std::path::Path;

pub mod app;
pub mod docker;
pub mod go;
pub mod grpc;
pub mod guides;
pub mod http;
pub mod junk;
pub mod process;
pub mod promql;
pub mod rerun;
pub mod routes;
pub mod scrape;
pub mod server;
pub mod servers;
pub mod stack;
pub mod tool;
pub mod traffic;
pub mod wait;
pub mod webhook;

/// The workspace root.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
}
