//! A batch job: a nightly import that reads rows, parses them (`import::parse` refuses
//! every seventh row) and stores the good ones, each step a tracked function, then pushes
//! the counts to a Prometheus Pushgateway and exits. Prometheus scrapes the gateway
//! (`honor_labels: true`: the job keeps its own `job` label).
//!
//! - `PUSHGATEWAY_URL` (default `http://127.0.0.1:9091`): where to push.
//! - `BATCH_JOB` (default `batch`): the job's name, its group on the gateway.
//! - `BATCH_ROWS` (default 100): how many rows to import.
//!
//! Exit code 0 when the counts reached the gateway; a gateway that is down or refuses is
//! one line on stderr naming it, and exit code 2 (as is a bad setting).
//!
//! ```sh
//! prometheus-pushgateway &   # or: docker compose -f docker/docker-compose.yml up pushgateway
//! cargo run -p batch
//! curl -s localhost:9091/metrics | grep import::
//! ```

use std::process::ExitCode;

use track_metrics::track_metrics;

/// Where the job pushes unless `PUSHGATEWAY_URL` says otherwise.
const DEFAULT_GATEWAY: &str = "http://127.0.0.1:9091";

/// One row of the import.
struct Row {
    number: u64,
}

/// Why a row could not be parsed.
#[derive(Debug)]
struct Malformed;

/// Reads row `number` of the source.
#[track_metrics(name = "import::read")]
fn read(number: u64) -> Row {
    Row { number }
}

/// Parses a row: every seventh is malformed.
#[track_metrics(name = "import::parse")]
fn parse(row: &Row) -> Result<u64, Malformed> {
    if row.number % 7 == 6 {
        return Err(Malformed);
    }
    Ok(row.number * 10)
}

/// Stores a parsed row.
#[track_metrics(name = "import::store")]
fn store(value: u64) -> u64 {
    value
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("batch: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let gateway = std::env::var("PUSHGATEWAY_URL").unwrap_or_else(|_| DEFAULT_GATEWAY.to_owned());
    let job = std::env::var("BATCH_JOB").unwrap_or_else(|_| "batch".to_owned());
    let rows = match std::env::var("BATCH_ROWS") {
        Ok(rows) => rows
            .parse::<u64>()
            .map_err(|err| format!("BATCH_ROWS={rows:?} is not a number: {err}"))?,
        Err(_) => 100,
    };
    let (mut stored, mut malformed) = (0u64, 0u64);
    for number in 0..rows {
        match parse(&read(number)) {
            Ok(value) => {
                store(value);
                stored += 1;
            }
            Err(Malformed) => malformed += 1,
        }
    }
    track_metrics::push::push(&gateway, &job).map_err(|err| err.to_string())?;
    log::info!("imported {stored} rows ({malformed} malformed), pushed to {gateway} as job {job}");
    Ok(())
}
