//! The external tools the ops checks run to completion (`promtool`, `amtool`, `npm`), and
//! `promtool check metrics` on an exposition. Every one is required: a missing tool is a
//! failure, never a skip.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `tool args` in `dir` with `input` on its stdin and fails the test unless it
/// succeeds; returns its stdout.
pub fn run_ok_with_input(tool: &str, args: &[&str], dir: &Path, input: &str) -> String {
    let out = run_with_input(tool, args, dir, input);
    succeeded(tool, args, &out)
}

/// Runs `tool args` in `dir` with `input` on its stdin, to completion, whatever its exit
/// status; fails the test if it cannot run or does not read its input.
pub fn run_with_input(tool: &str, args: &[&str], dir: &Path, input: &str) -> Output {
    let mut child = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| missing(tool, &err));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("wait for the tool");
    let written = writer.join().expect("the stdin writer");
    written.expect("the tool read all of its input");
    out
}

/// `promtool check metrics` on an exposition in the text format 0.0.4: fails the test
/// unless promtool reports nothing at all. promtool lints only that format (an
/// OpenMetrics text is read as 0.0.4: an exemplar is a parse error, a counter's `_total`
/// samples a family without HELP); it writes each finding as a line on stderr and exits 3
/// for lint findings, 1 for a text it cannot parse, 0 with no output when it finds nothing.
pub fn promtool_check_metrics(text: &str) {
    let out = run_with_input(
        "promtool",
        &["check", "metrics"],
        crate::workspace_root(),
        text,
    );
    let report =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && report.is_empty(),
        "`promtool check metrics` found something ({}):\n{report}\nin:\n{text}",
        out.status
    );
}

/// Runs `tool args` in `dir` and fails the test unless it succeeds; returns its stdout.
pub fn run_ok(tool: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|err| missing(tool, &err));
    succeeded(tool, args, &out)
}

// A required tool that cannot be started fails the test.
fn missing(tool: &str, err: &std::io::Error) -> ! {
    panic!("cannot run `{tool}` ({err}): it is required; scripts/test installs it")
}

// Its stdout, after asserting that it succeeded.
fn succeeded(tool: &str, args: &[&str], out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "`{tool} {}` failed ({}):\n{stdout}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
