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
