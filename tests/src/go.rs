//! The Go reference servers of `tests/go/`, built with Debian's Go toolchain and packages in
//! GOPATH mode: no module proxy, no network. A missing `go` or package fails the test with
//! the command that installs it, never a skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Debian's GOPATH: the sources of its `golang-*-dev` packages.
pub const GOPATH: &str = "/usr/share/gocode";

/// The Debian packages of the Go reference servers (`scripts/test` installs them).
pub const PACKAGES: [&str; 5] = [
    "golang-go",
    "golang-google-grpc-dev",
    "golang-github-grpc-ecosystem-go-grpc-prometheus-dev",
    "golang-github-prometheus-client-golang-dev",
    "golang-google-protobuf-dev",
];

/// The import paths the servers use, each with the package that ships it under [`GOPATH`].
const IMPORTS: [(&str, &str); 4] = [
    ("google.golang.org/grpc", "golang-google-grpc-dev"),
    (
        "github.com/grpc-ecosystem/go-grpc-prometheus",
        "golang-github-grpc-ecosystem-go-grpc-prometheus-dev",
    ),
    (
        "github.com/prometheus/client_golang/prometheus",
        "golang-github-prometheus-client-golang-dev",
    ),
    (
        "google.golang.org/protobuf/encoding/protowire",
        "golang-google-protobuf-dev",
    ),
];

/// Builds `tests/go/<name>` (a `main` package) into `<scratch>/go/<name>` and returns the
/// binary. `scratch` holds the build cache too (a test's `CARGO_TARGET_TMPDIR`), so a
/// second build is quick. Fails the test if `go` or a package is missing, or the build
/// fails.
pub fn build(name: &str, scratch: &Path) -> PathBuf {
    require();
    let source = crate::workspace_root().join("tests/go").join(name);
    let out = scratch.join("go");
    let binary = out.join(name);
    let started = Instant::now();
    let built = go()
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(&source)
        .env("GOCACHE", out.join("cache"))
        .output()
        .unwrap_or_else(|err| panic!("cannot run `go` ({err}); {}", install_hint()));
    assert!(
        built.status.success(),
        "`go build` of {} failed ({}):\n{}{}",
        source.display(),
        built.status,
        String::from_utf8_lossy(&built.stdout),
        String::from_utf8_lossy(&built.stderr)
    );
    eprintln!("go build {name}: {:.1?}", started.elapsed());
    binary
}

// `go` in GOPATH mode against Debian's sources, nothing from the user's Go settings, no
// cgo (no C compiler needed), no toolchain or module downloads.
fn go() -> Command {
    let mut go = Command::new("go");
    go.env("GO111MODULE", "off")
        .env("GOPATH", GOPATH)
        .env("GOFLAGS", "")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0");
    go
}

// Fails the test, naming what to install, unless `go` runs and every package is there.
fn require() {
    let version = go().arg("version").output();
    match version {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "`go version` failed ({}): {}; {}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            install_hint()
        ),
        Err(err) => panic!("cannot run `go` ({err}); {}", install_hint()),
    }
    let missing: Vec<String> = IMPORTS
        .iter()
        .filter(|(import, _)| !Path::new(GOPATH).join("src").join(import).is_dir())
        .map(|(import, package)| format!("{import} (Debian's {package})"))
        .collect();
    assert!(
        missing.is_empty(),
        "missing Go packages under {GOPATH}/src: {}; {}",
        missing.join(", "),
        install_hint()
    );
}

fn install_hint() -> String {
    format!(
        "the Go reference servers need `apt-get install {}` (scripts/test installs them)",
        PACKAGES.join(" ")
    )
}
