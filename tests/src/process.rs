//! A child process under test: the example service, Prometheus and Alertmanager alike.
//! Its stderr is captured line by line; it is killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::wait;

/// A running child process; killed (and waited for) when dropped.
pub struct Process {
    name: String,
    child: Mutex<Child>,
    stderr: Arc<Mutex<Vec<String>>>,
    reader: Mutex<Option<JoinHandle<()>>>,
}

impl Process {
    /// Starts `command` with stdin and stdout closed and stderr captured. A program that
    /// cannot be started fails the test: every program a test runs is required.
    pub fn spawn(name: &str, command: &mut Command) -> Process {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start `{}` ({err}): it is required; scripts/test installs it",
                    command.get_program().display()
                )
            });
        let pipe = child.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Process {
            name: name.to_owned(),
            child: Mutex::new(child),
            stderr,
            reader: Mutex::new(Some(reader)),
        }
    }

    /// What it wrote to stderr so far, line by line.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Fails the test, with its stderr, if it has exited.
    pub fn assert_running(&self) {
        if let Some(status) = self.child.lock().unwrap().try_wait().unwrap() {
            panic!(
                "{} exited ({status}):\n{}",
                self.name,
                self.stderr().join("\n")
            );
        }
    }

    /// Waits (bounded) for a stderr line that `find` picks something out of, while the
    /// process runs.
    pub fn wait_for_line<T>(
        &self,
        timeout: Duration,
        mut find: impl FnMut(&str) -> Option<T>,
    ) -> T {
        let what = format!("{} to start", self.name);
        wait::poll(&what, timeout, || {
            let lines = self.stderr();
            match lines.iter().find_map(|line| find(line)) {
                Some(found) => Ok(found),
                None => {
                    self.assert_running();
                    Err(format!("{lines:?}"))
                }
            }
        })
    }

    /// Waits (bounded) until `ready` holds, failing early if the process exits.
    pub fn wait_ready(&self, timeout: Duration, mut ready: impl FnMut() -> bool) {
        let what = format!("{} to be ready", self.name);
        wait::wait_for(&what, timeout, || {
            self.assert_running();
            ready().then_some(())
        });
    }

    /// Sends `signal`.
    pub fn signal(&self, signal: Signal) {
        let id = self.child.lock().unwrap().id();
        let pid = nix::unistd::Pid::from_raw(i32::try_from(id).expect("a pid fits in i32"));
        nix::sys::signal::kill(pid, signal).expect("send the signal");
    }

    /// Waits (bounded) for it to exit; its stderr is then complete.
    pub fn wait(&self, timeout: Duration) -> ExitStatus {
        let what = format!("{} to exit", self.name);
        let status = wait::wait_for(&what, timeout, || {
            self.child
                .lock()
                .unwrap()
                .try_wait()
                .expect("wait for the child")
        });
        if let Some(reader) = self.reader.lock().unwrap().take() {
            reader.join().expect("the stderr reader");
        }
        status
    }

    /// Sends `signal` and waits (bounded) for the exit status.
    pub fn stop(&self, signal: Signal, timeout: Duration) -> ExitStatus {
        self.signal(signal);
        self.wait(timeout)
    }

    /// Prints the last lines of its stderr, for a test that failed.
    pub fn print_tail(&self) {
        let lines = self.stderr();
        let tail = &lines[lines.len().saturating_sub(30)..];
        eprintln!("--- {} stderr, last lines:\n{}", self.name, tail.join("\n"));
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let child = self
            .child
            .get_mut()
            .unwrap_or_else(|poison| poison.into_inner());
        let _ = child.kill();
        let _ = child.wait();
        if std::thread::panicking() {
            self.print_tail();
        }
    }
}
