//! Helpers shared by the behaviour and end-to-end tests: running the example binary
//! on a free loopback port, talking HTTP to it, and reading scrapes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
}

/// Builds the example binary once per test process and returns its path.
pub fn app_binary() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| cargo_build_bin("actix-app", "actix-app"))
}

/// `cargo build -p <package> --bin <bin>` with the same cargo and profile; returns the executable.
pub fn cargo_build_bin(package: &str, bin: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "--message-format=json",
            "-p",
            package,
            "--bin",
            bin,
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build");
    assert!(output.status.success(), "cargo build -p {package} failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == bin)
        .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo build reported no executable for {bin}"))
}

/// The example service, started on `127.0.0.1:0`; killed when dropped.
pub struct RunningApp {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl RunningApp {
    /// Starts the app with these extra environment variables and waits until it listens.
    pub fn start(envs: &[(&str, &str)]) -> RunningApp {
        let mut command = Command::new(app_binary());
        command
            .env_remove("PROMETHEUS_ENABLED")
            .env_remove("METRICS_TOKEN")
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start actix-app");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let pipe = child.stderr.take().expect("piped stderr");
        let lines = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(addr.trim().to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("actix-app did not start: {:?}", stderr.lock().unwrap()));
        RunningApp {
            child,
            addr,
            stderr,
        }
    }

    /// `http://127.0.0.1:PORT<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// What the app wrote to stderr so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(self) -> ExitStatus {
        self.signal(nix::sys::signal::Signal::SIGTERM)
    }

    /// Sends `signal` and waits (bounded) for the exit status.
    pub fn signal(mut self, signal: nix::sys::signal::Signal) -> ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).expect("send the signal");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for actix-app") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "actix-app did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response: status, headers we look at, body.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Body as text.
    pub body: String,
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into()
    })
}

fn read(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Response {
    let mut response = response.expect("HTTP request");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Response {
        status: response.status().as_u16(),
        content_type,
        body: response.body_mut().read_to_string().expect("read body"),
    }
}

/// `GET url` with optional headers.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = agent().get(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    read(req.call())
}

/// `POST url` with a body of the given content type.
pub fn post(url: &str, content_type: &str, body: &str) -> Response {
    read(
        agent()
            .post(url)
            .header("content-type", content_type)
            .send(body),
    )
}

/// One scrape, indexed by series: `name{label="value",...}` (labels sorted) → value.
#[derive(Debug, Default)]
pub struct Scrape {
    samples: HashMap<String, f64>,
    /// The raw text.
    pub text: String,
}

impl Scrape {
    /// Parses the text exposition format; histograms become `_bucket` (with `le`),
    /// `_sum` and `_count` series as on the wire.
    pub fn parse(text: &str) -> Scrape {
        use openmetrics_parser::{MetricNumber, PrometheusValue};
        let parsed = openmetrics_parser::prometheus::parse_prometheus(text)
            .unwrap_or_else(|err| panic!("an invalid exposition ({err:?}):\n{text}"));
        let mut samples = HashMap::new();
        for (name, family) in parsed.families {
            for sample in family.iter_samples() {
                let labelset = sample.get_labelset().expect("labels match their names");
                let mut labels: Vec<(String, String)> = labelset
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                match &sample.value {
                    PrometheusValue::Counter(counter) => {
                        samples.insert(key(&name, &labels), counter.value.as_f64());
                    }
                    PrometheusValue::Gauge(v) | PrometheusValue::Unknown(v) => {
                        samples.insert(key(&name, &labels), v.as_f64());
                    }
                    PrometheusValue::Histogram(h) => {
                        let sum = h.sum.as_ref().map_or(0.0, MetricNumber::as_f64);
                        samples.insert(key(&format!("{name}_sum"), &labels), sum);
                        let count = h.count.unwrap_or_default() as f64;
                        samples.insert(key(&format!("{name}_count"), &labels), count);
                        for bucket in &h.buckets {
                            labels.push(("le".to_owned(), format_le(bucket.upper_bound)));
                            samples.insert(
                                key(&format!("{name}_bucket"), &labels),
                                bucket.count.as_f64(),
                            );
                            labels.pop();
                        }
                    }
                    PrometheusValue::Summary(_) => {}
                }
            }
        }
        Scrape {
            samples,
            text: text.to_owned(),
        }
    }

    /// The value of one series, `None` if absent.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples.get(&key(name, &labels)).copied()
    }

    /// `http_requests_total` for one label set, `0` if absent.
    pub fn requests(&self, handler: &str, method: &str, route: &str, status: &str) -> f64 {
        self.value(
            "http_requests_total",
            &[
                ("handler", handler),
                ("method", method),
                ("route", route),
                ("status", status),
            ],
        )
    }

    /// The value of one series, `0` if absent (a counter not yet created).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    /// Every series of a family, as `(labels, value)`.
    pub fn series(&self, name: &str) -> Vec<(String, f64)> {
        let prefix = format!("{name}{{");
        let mut out: Vec<(String, f64)> = self
            .samples
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix) || k.as_str() == name)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

fn format_le(le: f64) -> String {
    if le.is_infinite() {
        "+Inf".to_owned()
    } else {
        le.to_string()
    }
}

fn key(name: &str, labels: &[(String, String)]) -> String {
    let mut labels = labels.to_vec();
    labels.sort();
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// Polls `check` every 50 ms until it returns `Some`, or panics after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs this test binary again with `args` and `envs`, for tests that need a fresh
/// process (settings read once). Returns whether it passed, and its output.
pub fn rerun_self(test_name: &str, envs: &[(&str, &str)]) -> (bool, String) {
    let exe = std::env::current_exe().expect("current test binary");
    let mut command = Command::new(exe);
    command
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_MARKER, test_name)
        .env_remove("PROMETHEUS_ENABLED")
        .env_remove("METRICS_TOKEN");
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().expect("rerun test binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("1 passed") || !output.status.success(),
        "the child ran no test:\n{text}"
    );
    (output.status.success(), text)
}

/// Set in a child started by [`rerun_self`] to the name of the test it runs.
pub const CHILD_MARKER: &str = "METRICS_TESTS_CHILD";

/// Whether this process is a [`rerun_self`] child started for `test_name`.
pub fn is_child(test_name: &str) -> bool {
    std::env::var(CHILD_MARKER).is_ok_and(|name| name == test_name)
}
