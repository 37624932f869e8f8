//! A call's life: in flight while it runs; panics, cancellation and futures never
//! polled; exact counts under concurrency.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::Duration;

use metrics_tests::scrape::Scrape;
use metrics_tests::wait::wait_for;
use track_metrics::track_metrics;

fn scrape() -> Scrape {
    Scrape::parse(&track_metrics::render())
}

fn count(handler: &str, status: &str) -> f64 {
    scrape().requests(handler, "", "", status)
}

fn observed(handler: &str) -> f64 {
    scrape().value(
        "http_request_duration_seconds_count",
        &[("handler", handler), ("method", ""), ("route", "")],
    )
}

fn in_flight(handler: &str) -> Option<f64> {
    scrape().get(
        "http_requests_in_flight",
        &[("handler", handler), ("method", ""), ("route", "")],
    )
}

#[track_metrics]
fn sync_panics(panic: bool) -> u8 {
    if panic {
        panic!("boom");
    }
    7
}

#[test]
fn a_sync_panic_counts_500_and_keeps_unwinding() {
    let caught = std::panic::catch_unwind(|| sync_panics(true));
    let payload = caught.expect_err("the panic propagates through the tracked function");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    assert_eq!(sync_panics(false), 7);
    assert_eq!(count("sync_panics", "500"), 1.0);
    assert_eq!(count("sync_panics", "200"), 1.0);
    assert_eq!(
        observed("sync_panics"),
        2.0,
        "the duration is observed once per call"
    );
    assert_eq!(in_flight("sync_panics"), Some(0.0));
}

#[track_metrics]
async fn async_panics() -> String {
    tokio::task::yield_now().await;
    panic!("async boom");
}

#[tokio::test]
async fn an_async_panic_counts_500_and_keeps_unwinding() {
    let joined = tokio::spawn(async_panics()).await;
    let err = joined.expect_err("the task panicked");
    assert!(err.is_panic());
    assert_eq!(count("async_panics", "500"), 1.0);
    assert_eq!(observed("async_panics"), 1.0);
    assert_eq!(in_flight("async_panics"), Some(0.0));
}

#[track_metrics]
async fn sleeps(ms: u64) -> &'static str {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "done"
}

#[tokio::test]
async fn a_future_dropped_midway_counts_499() {
    let result = tokio::time::timeout(Duration::from_millis(20), sleeps(10_000)).await;
    assert!(result.is_err(), "the timeout fired");
    assert_eq!(count("sleeps", "499"), 1.0);
    assert_eq!(count("sleeps", "200"), 0.0);
    assert_eq!(observed("sleeps"), 1.0);
    assert_eq!(in_flight("sleeps"), Some(0.0));
}

#[track_metrics]
async fn never_polled() -> u8 {
    1
}

#[test]
fn a_future_dropped_before_its_first_poll_counts_nothing() {
    drop(never_polled());
    assert!(!scrape().text.contains("handler=\"never_polled\""));
}

#[track_metrics]
async fn waits_for(rx: tokio::sync::oneshot::Receiver<()>) -> &'static str {
    let _ = rx.await;
    "released"
}

// Multi-threaded: the test blocks while polling the gauge, the call runs on a worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_while_running() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(waits_for(rx));
    wait_for("the call to start", Duration::from_secs(5), || {
        (in_flight("waits_for") == Some(1.0)).then_some(())
    });
    assert_eq!(
        count("waits_for", "200"),
        0.0,
        "not counted before it finishes"
    );
    tx.send(()).unwrap();
    assert_eq!(task.await.unwrap(), "released");
    assert_eq!(in_flight("waits_for"), Some(0.0));
    assert_eq!(count("waits_for", "200"), 1.0);
}

#[track_metrics]
fn hot(i: u64) -> Result<u64, String> {
    if i.is_multiple_of(10) {
        Err("every tenth".to_owned())
    } else {
        Ok(i)
    }
}

#[test]
fn exact_counts_from_four_threads_while_scraping() {
    const THREADS: u64 = 4;
    const CALLS: u64 = 100_000;
    let done = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(THREADS as usize + 1));
    let (tx, rx) = mpsc::channel();

    // A scraper that checks no counter ever goes down between scrapes.
    let scraper = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut last = (0.0, 0.0);
            let mut scrapes = 0;
            while !done.load(Ordering::Acquire) {
                let now = (count("hot", "200"), count("hot", "500"));
                assert!(
                    now.0 >= last.0 && now.1 >= last.1,
                    "a counter went down: {last:?} -> {now:?}"
                );
                last = now;
                scrapes += 1;
            }
            tx.send(scrapes).unwrap();
        })
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                let mut sum = 0;
                for i in 0..CALLS {
                    sum += hot(i).unwrap_or(0);
                }
                sum
            })
        })
        .collect();
    start.wait();
    for worker in workers {
        assert_eq!(
            worker.join().unwrap(),
            (0..CALLS).filter(|i| i % 10 != 0).sum::<u64>()
        );
    }
    done.store(true, Ordering::Release);
    scraper.join().unwrap();
    assert!(rx.recv().unwrap() > 0, "the scraper ran concurrently");
    assert_eq!(count("hot", "200"), (THREADS * CALLS * 9 / 10) as f64);
    assert_eq!(count("hot", "500"), (THREADS * CALLS / 10) as f64);
    assert_eq!(observed("hot"), (THREADS * CALLS) as f64);
    assert_eq!(in_flight("hot"), Some(0.0));
}
