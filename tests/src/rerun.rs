//! Fresh processes for settings that are read once per process: a test reruns its own
//! binary, filtered to itself, with the environment it needs.

use std::process::Command;

use track_metrics::ENV_ENABLED;
use track_metrics::actix::ENV_TOKEN;

/// Runs this test binary again, only `test_name`, with `envs` and without the settings of
/// this process. Returns whether it passed, and its output.
pub fn rerun_self(test_name: &str, envs: &[(&str, &str)]) -> (bool, String) {
    let exe = std::env::current_exe().expect("current test binary");
    let mut command = Command::new(exe);
    command
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_MARKER, test_name)
        .env_remove(ENV_ENABLED)
        .env_remove(ENV_TOKEN);
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

/// Runs the calling test in a child process per environment and asserts each passed,
/// returning `false`; in the child, returns `true` (the test's body then runs).
pub fn in_child(test: &str, envs: &[&[(&str, &str)]]) -> bool {
    if is_child(test) {
        return true;
    }
    for env in envs {
        let (passed, output) = rerun_self(test, env);
        assert!(passed, "{test} with {env:?} failed:\n{output}");
    }
    false
}

/// Every log record of this process from [`capture_logs`] on, as `LEVEL message`.
pub fn logs() -> Vec<String> {
    LOGS.lock().unwrap().clone()
}

/// Keeps every log record of this process (for [`logs`]); once per process.
pub fn capture_logs() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
}

static LOGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        LOGS.lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}
