//! A worker with no web framework: it consumes jobs from an in-process queue through
//! tracked functions (`jobs::resize` fails for every tenth job) and exposes their
//! metrics with the standalone exporter on `METRICS_ADDR` (default `127.0.0.1:9464`).
//! SIGINT or SIGTERM stops it cleanly: the job in hand is finished, the exporter
//! stopped, exit code 0.
//!
//! `WORKER_JOBS` (default: no limit) bounds how many jobs the queue is given, one every
//! `WORKER_INTERVAL_MS` (default 100) milliseconds.
//!
//! ```sh
//! cargo run -p worker
//! curl -s localhost:9464/metrics | grep jobs::
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use track_metrics::track_metrics;

/// Where the exporter listens unless `METRICS_ADDR` says otherwise.
const DEFAULT_ADDR: &str = "127.0.0.1:9464";

/// A job of the queue.
struct Job {
    id: u64,
}

/// Why a job failed.
#[derive(Debug)]
struct OutOfStock;

/// Resizes the job's image: fails for every tenth job.
#[track_metrics(name = "jobs::resize")]
fn resize(job: &Job) -> Result<(), OutOfStock> {
    if job.id.is_multiple_of(10) {
        return Err(OutOfStock);
    }
    thread::sleep(Duration::from_millis(1));
    Ok(())
}

/// Tells the job's owner it is done.
#[track_metrics(name = "jobs::notify")]
fn notify(job: &Job) {
    log::debug!("job {} done", job.id);
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::error!("worker: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    // build_info{service="worker", version, revision}: the revision is GIT_REVISION at build time.
    track_metrics::build_info!();
    let addr = std::env::var("METRICS_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_owned());
    let addr = addr
        .parse()
        .map_err(|err| format!("METRICS_ADDR={addr:?} is not an address: {err}"))?;
    let jobs = number("WORKER_JOBS")?;
    let interval = Duration::from_millis(number("WORKER_INTERVAL_MS")?.unwrap_or(100));

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|err| format!("cannot handle signal {signal}: {err}"))?;
    }
    let exporter = track_metrics::exporter::spawn(addr).map_err(|err| err.to_string())?;
    log::info!(
        "worker metrics listening on http://{}",
        exporter.local_addr()
    );

    // The queue: a producer thread gives it a job every `interval`.
    let (queue, jobs_in) = mpsc::sync_channel::<Job>(64);
    let producing = Arc::clone(&stop);
    let producer = thread::spawn(move || {
        for id in 1..=jobs.unwrap_or(u64::MAX) {
            if producing.load(Ordering::Relaxed) || queue.send(Job { id }).is_err() {
                break;
            }
            thread::sleep(interval);
        }
    });
    let mut done = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match jobs_in.recv_timeout(Duration::from_millis(50)) {
            Ok(job) => {
                match resize(&job) {
                    Ok(()) => notify(&job),
                    Err(OutOfStock) => log::warn!("job {}: out of stock", job.id),
                }
                done += 1;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                // Every job given is done: wait for a signal.
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
    drop(jobs_in);
    let _ = producer.join();
    drop(exporter);
    log::info!("worker stopped after {done} jobs");
    Ok(())
}

// The whole number in the environment variable `name`, if it is set.
fn number(name: &str) -> Result<Option<u64>, String> {
    match std::env::var(name) {
        Err(_) => Ok(None),
        Ok(value) => value
            .parse()
            .map(Some)
            .map_err(|err| format!("{name}={value:?} is not a whole number: {err}")),
    }
}
