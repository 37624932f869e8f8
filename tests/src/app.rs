//! The example service, `examples/actix-app`: built once per test binary, started on
//! `127.0.0.1:0` with a clean environment.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::OnceLock;
use std::time::Duration;

use metrics_runtime::ENV_ENABLED;
use metrics_runtime::actix::ENV_TOKEN;
use nix::sys::signal::Signal;

use crate::process::Process;
use crate::workspace_root;

/// The variable the example reads its listen address from.
pub const BIND_ADDR: &str = "BIND_ADDR";

/// How long it may take to start listening.
const START: Duration = Duration::from_secs(20);

/// How long it may take to exit after a signal.
const EXIT: Duration = Duration::from_secs(15);

/// Builds the example binary once per test process (same cargo, default profile) and
/// returns its path.
pub fn binary() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        escargot::CargoBuild::new()
            .manifest_path(workspace_root().join("Cargo.toml"))
            .package("actix-app")
            .bin("actix-app")
            .run()
            .unwrap_or_else(|err| panic!("cargo build -p actix-app failed: {err}"))
            .path()
            .to_owned()
    })
}

/// The example binary with the settings it reads removed from the environment, logging at
/// `info`.
pub fn command() -> Command {
    let mut command = Command::new(binary());
    command
        .env_remove(ENV_ENABLED)
        .env_remove(ENV_TOKEN)
        .env_remove(BIND_ADDR)
        .env("RUST_LOG", "info");
    command
}

/// The example service, listening; killed when dropped.
pub struct RunningApp {
    process: Process,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl RunningApp {
    /// Starts it on `127.0.0.1:0` with these extra environment variables and waits until it
    /// listens.
    pub fn start(envs: &[(&str, &str)]) -> RunningApp {
        let mut command = command();
        command
            .env(BIND_ADDR, "127.0.0.1:0")
            .envs(envs.iter().copied());
        let process = Process::spawn("actix-app", &mut command);
        let addr = process.wait_for_line(START, |line| {
            let addr = line.split("listening on http://").nth(1)?;
            Some(addr.trim().to_owned())
        });
        RunningApp { process, addr }
    }

    /// `http://127.0.0.1:PORT<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
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
