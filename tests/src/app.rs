//! The example programs, `examples/actix-app` (the default), `examples/axum-app`, the
//! `worker` and `grpc-app`: each built once per test binary, started on `127.0.0.1:0` with a
//! clean environment; and `examples/batch`, run to its end ([`run_batch`]).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};
use std::sync::OnceLock;
use std::time::Duration;

use nix::sys::signal::Signal;
use track_metrics::ENV_ENABLED;
use track_metrics::actix::ENV_TOKEN;

use crate::process::Process;
use crate::scrape::Scrape;
use crate::workspace_root;

/// The variable the example reads its listen address from.
pub const BIND_ADDR: &str = "BIND_ADDR";

/// The address of the exporter of the worker and of grpc-app.
pub const METRICS_ADDR: &str = "METRICS_ADDR";

/// How long it may take to start listening.
const START: Duration = Duration::from_secs(20);

/// How long it may take to exit after a signal.
const EXIT: Duration = Duration::from_secs(15);

/// One of the example services: the same routes and answers, in two frameworks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Example {
    /// `examples/actix-app`.
    Actix,
    /// `examples/axum-app`.
    Axum,
    /// `examples/worker`: no web framework, the exporter on `METRICS_ADDR`.
    Worker,
    /// `examples/grpc-app`: gRPC (tonic) on `BIND_ADDR`, the exporter on `METRICS_ADDR`.
    Grpc,
}

impl Example {
    /// Every example program.
    pub const ALL: [Example; 4] = [
        Example::Actix,
        Example::Axum,
        Example::Worker,
        Example::Grpc,
    ];

    /// Its package, which is also its binary.
    pub fn package(self) -> &'static str {
        match self {
            Example::Actix => "actix-app",
            Example::Axum => "axum-app",
            Example::Worker => "worker",
            Example::Grpc => "grpc-app",
        }
    }

    /// The environment variable of the address its `/metrics` is served on (the one
    /// Prometheus scrapes).
    pub fn addr_variable(self) -> &'static str {
        match self {
            Example::Actix | Example::Axum => BIND_ADDR,
            Example::Worker | Example::Grpc => METRICS_ADDR,
        }
    }

    /// Every environment variable of an address it listens on.
    pub fn addr_variables(self) -> &'static [&'static str] {
        match self {
            Example::Actix | Example::Axum => &[BIND_ADDR],
            Example::Worker => &[METRICS_ADDR],
            Example::Grpc => &[BIND_ADDR, METRICS_ADDR],
        }
    }

    /// Builds its binary once per test process (same cargo, default profile) and returns
    /// its path.
    pub fn binary(self) -> &'static Path {
        static PATHS: [OnceLock<PathBuf>; 4] = [const { OnceLock::new() }; 4];
        let package = self.package();
        PATHS[self as usize].get_or_init(|| {
            escargot::CargoBuild::new()
                .manifest_path(workspace_root().join("Cargo.toml"))
                .package(package)
                .bin(package)
                .run()
                .unwrap_or_else(|err| panic!("cargo build -p {package} failed: {err}"))
                .path()
                .to_owned()
        })
    }

    /// Its binary with the settings it reads removed from the environment, logging at
    /// `info`.
    pub fn command(self) -> Command {
        let mut command = Command::new(self.binary());
        command
            .env_remove(ENV_ENABLED)
            .env_remove(ENV_TOKEN)
            .env_remove(BIND_ADDR)
            .env_remove(METRICS_ADDR)
            .env("RUST_LOG", "info");
        command
    }
}

/// [`Example::binary`] of `actix-app`.
pub fn binary() -> &'static Path {
    Example::Actix.binary()
}

/// [`Example::command`] of `actix-app`.
pub fn command() -> Command {
    Example::Actix.command()
}

/// Runs `examples/batch` (built once per test process) to its end with `envs` and none of
/// the settings it reads from this process' environment.
pub fn run_batch(envs: &[(&str, &str)]) -> Output {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    let binary = PATH.get_or_init(|| {
        escargot::CargoBuild::new()
            .manifest_path(workspace_root().join("Cargo.toml"))
            .package("batch")
            .bin("batch")
            .run()
            .unwrap_or_else(|err| panic!("cargo build -p batch failed: {err}"))
            .path()
            .to_owned()
    });
    let mut command = Command::new(binary);
    for variable in ["PUSHGATEWAY_URL", "BATCH_JOB", "BATCH_ROWS", ENV_ENABLED] {
        command.env_remove(variable);
    }
    command.envs(envs.iter().copied());
    command.output().expect("the batch job runs")
}

/// The example service, listening; killed when dropped.
pub struct RunningApp {
    process: Process,
    /// `127.0.0.1:PORT`, where `/metrics` is served.
    pub addr: String,
    /// `127.0.0.1:PORT` of its gRPC server (grpc-app only).
    pub grpc_addr: Option<String>,
}

impl RunningApp {
    /// Starts `actix-app` on `127.0.0.1:0` with these extra environment variables and waits
    /// until it listens.
    pub fn start(envs: &[(&str, &str)]) -> RunningApp {
        RunningApp::start_example(Example::Actix, envs)
    }

    /// Starts `example` on `127.0.0.1:0` (each of its addresses) with these extra
    /// environment variables and waits until it listens.
    pub fn start_example(example: Example, envs: &[(&str, &str)]) -> RunningApp {
        let mut command = example.command();
        for variable in example.addr_variables() {
            command.env(variable, "127.0.0.1:0");
        }
        command.envs(envs.iter().copied());
        let process = Process::spawn(example.package(), &mut command);
        let after = |marker: &'static str| {
            move |line: &str| Some(line.split(marker).nth(1)?.trim().to_owned())
        };
        let addr = process.wait_for_line(START, after("listening on http://"));
        let grpc_addr =
            (example == Example::Grpc).then(|| process.wait_for_line(START, after("gRPC on ")));
        RunningApp {
            process,
            addr,
            grpc_addr,
        }
    }

    /// `http://127.0.0.1:PORT<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// One scrape of its `/metrics`, which must answer 200.
    pub fn scrape(&self) -> Scrape {
        Scrape::fetch(&self.url(""))
    }

    /// What it wrote to stderr so far.
    pub fn stderr(&self) -> Vec<String> {
        self.process.stderr()
    }

    /// The process, to check that it still runs.
    pub fn process(&self) -> &Process {
        &self.process
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(self) -> ExitStatus {
        self.signal(Signal::SIGTERM)
    }

    /// Sends `signal` and waits (bounded) for the exit status.
    pub fn signal(self, signal: Signal) -> ExitStatus {
        self.process.stop(signal, EXIT)
    }
}
