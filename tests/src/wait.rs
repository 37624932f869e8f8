//! Waiting, bounded: poll a check until it holds or the time is up.

use std::time::{Duration, Instant};

/// How long to sleep between two checks.
const INTERVAL: Duration = Duration::from_millis(50);

/// Polls `check` until it returns `Ok`, or returns its last `Err` after `timeout`.
/// Never fails by itself: for a caller that waits first and asserts later.
pub fn settle<T, E>(timeout: Duration, mut check: impl FnMut() -> Result<T, E>) -> Result<T, E> {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(value) => return Ok(value),
            Err(last) if Instant::now() >= deadline => return Err(last),
            Err(_) => std::thread::sleep(INTERVAL),
        }
    }
}

/// Polls `check` until it returns `Ok`, or fails with the last thing it saw after `timeout`.
pub fn poll<T>(what: &str, timeout: Duration, check: impl FnMut() -> Result<T, String>) -> T {
    settle(timeout, check).unwrap_or_else(|last| {
        panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}")
    })
}

/// Polls `check` until it returns `Some`, or fails after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    settle(timeout, || check().ok_or(()))
        .unwrap_or_else(|()| panic!("timed out after {timeout:?} waiting for {what}"))
}
