//! Pushes the registry to a Prometheus [Pushgateway](https://github.com/prometheus/pushgateway)
//! (cargo feature `push`): for batch and cron jobs that end before Prometheus would scrape
//! them. Their tracked functions count as in any program; one call at the end sends the
//! counts, and the gateway keeps them for Prometheus (scraped with `honor_labels: true`).
//!
//! ```no_run
//! #[track_metrics::track_metrics(name = "import::load")]
//! fn load(day: u32) -> Result<u64, String> {
//!     Ok(u64::from(day) * 10)
//! }
//!
//! fn main() -> Result<(), track_metrics::push::Error> {
//!     for day in 1..=7 {
//!         let _ = load(day);
//!     }
//!     // PUT http://127.0.0.1:9091/metrics/job/nightly-import: the job's group replaced.
//!     track_metrics::push::push("http://127.0.0.1:9091", "nightly-import")
//! }
//! ```
//!
//! [`push`] sends the whole registry (`PUT`, replacing every metric of the job's group),
//! [`Pusher`] the same with grouping labels, `add` (`POST`: only the families pushed are
//! replaced in the group), a timeout, and periodic pushes from a long job
//! ([`Pusher::every`]). The registry is sent in the text format, without
//! the `process_*` families (they would describe a process long gone). With metrics
//! disabled (`PROMETHEUS_ENABLED=false`) nothing is sent, the group is left as it is, and
//! the push is `Ok`.
//!
//! Every failure is an [`Error`], one line naming the gateway's URL: an invalid job,
//! grouping label or URL before anything is sent; a gateway that cannot be reached,
//! that does not answer within the timeout (10 s unless [`Pusher::timeout`] says
//! otherwise), or that answers with a status other than 2xx. A push never panics and
//! never waits past its timeout. Each push runs on a thread of its own with a
//! current-thread tokio runtime (hyper 1's client), so it can be called from `main`, from
//! any thread, and from inside an async runtime alike.

mod grouping;
mod periodic;
mod send;

use std::fmt;
use std::time::Duration;

use grouping::Target;
pub use periodic::{Periodic, PushHandle};

/// The timeout of a push unless [`Pusher::timeout`] sets one: connecting, sending and
/// reading the answer together.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Pushes the registry to the Pushgateway at `gateway_url` (such as
/// `http://127.0.0.1:9091`) as the group of job `job`, replacing every metric the group
/// had (`PUT /metrics/job/<job>`).
///
/// `Pusher::new(gateway_url, job).push()`: see [`Pusher`] for grouping labels, `add` and
/// the timeout.
///
/// ```no_run
/// if let Err(err) = track_metrics::push::push("http://127.0.0.1:9091", "backup") {
///     eprintln!("{err}");
///     std::process::exit(1);
/// }
/// ```
pub fn push(gateway_url: &str, job: &str) -> Result<(), Error> {
    Pusher::new(gateway_url, job).push()
}

/// A push of the registry to a Pushgateway: its URL, the job, the grouping labels and the
/// timeout.
///
/// ```no_run
/// use std::time::Duration;
/// use track_metrics::push::Pusher;
///
/// let pusher = Pusher::new("http://127.0.0.1:9091", "db-migrate")
///     .grouping("shard", "eu-1")
///     .timeout(Duration::from_secs(3));
/// pusher.push()?; // PUT: the group {job="db-migrate", shard="eu-1"} replaced
/// pusher.add()?; // POST: only the families pushed replaced in it
/// # Ok::<(), track_metrics::push::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Pusher {
    url: String,
    job: String,
    grouping: Vec<(String, String)>,
    timeout: Duration,
}

impl Pusher {
    /// A push to the Pushgateway at `gateway_url` (`http://host:port`, with a path prefix
    /// if the gateway is served under one) as job `job`. Nothing is checked or sent yet.
    pub fn new(gateway_url: impl Into<String>, job: impl Into<String>) -> Pusher {
        Pusher {
            url: gateway_url.into(),
            job: job.into(),
            grouping: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// One more grouping label: the group is the job and these labels, and the gateway
    /// puts them on every metric of the group. `name` must be a label name
    /// (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`), not `job` or `instance`, and
    /// given once; `value` may be anything, `/` and empty included.
    pub fn grouping(mut self, name: impl Into<String>, value: impl Into<String>) -> Pusher {
        self.grouping.push((name.into(), value.into()));
        self
    }

    /// How long a push may take in all: connecting, sending and reading the answer
    /// (default [`DEFAULT_TIMEOUT`]). Past it, the push is an [`Error`].
    pub fn timeout(mut self, timeout: Duration) -> Pusher {
        self.timeout = timeout;
        self
    }

    /// Sends the registry, replacing every metric of the group (`PUT`).
    pub fn push(&self) -> Result<(), Error> {
        self.send(send::Method::Put)
    }

    /// Sends the registry, replacing in the group only the families sent (`POST`): what
    /// another push put in the group under other names stays.
    pub fn add(&self) -> Result<(), Error> {
        self.send(send::Method::Post)
    }

    /// Pushes (`PUT`) every `interval` once [spawned](Periodic::spawn), and once more at
    /// the end: for a long job whose progress should be visible while it runs.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use track_metrics::push::Pusher;
    ///
    /// # fn work(_: u32) {}
    /// let pushing = Pusher::new("http://127.0.0.1:9091", "reindex")
    ///     .every(Duration::from_secs(30))
    ///     .spawn();
    /// for batch in 0..1_000 {
    ///     work(batch);
    /// }
    /// pushing.finish()?; // the last counts, pushed now
    /// # Ok::<(), track_metrics::push::Error>(())
    /// ```
    pub fn every(self, interval: Duration) -> Periodic {
        Periodic::new(self, interval)
    }

    fn send(&self, method: send::Method) -> Result<(), Error> {
        let target = Target::new(&self.url, &self.job, &self.grouping)?;
        if !crate::enabled() {
            return Ok(());
        }
        let body = send::exposition().map_err(|err| Error::Encode(err.to_string()))?;
        send::send(&target, method, body, self.timeout)
    }
}

/// Why a push failed: one line, naming the gateway's URL where one was involved.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The job, a grouping label, a constant label of the configuration or the URL cannot
    /// make a push (nothing was sent).
    Invalid(String),
    /// The gateway could not be reached (nothing was pushed).
    Unreachable {
        /// Where the push went.
        url: String,
        /// What connecting or exchanging said.
        reason: String,
    },
    /// The gateway did not answer within the timeout.
    Timeout {
        /// Where the push went.
        url: String,
        /// The timeout.
        after: Duration,
    },
    /// The gateway answered with a status other than 2xx.
    Refused {
        /// Where the push went.
        url: String,
        /// The status it answered with.
        status: u16,
        /// The first line of its answer.
        message: String,
    },
    /// The registry could not be encoded.
    Encode(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(why) => write!(f, "cannot push metrics: {why}"),
            Error::Unreachable { url, reason } => {
                write!(f, "cannot push metrics to {url}: {reason}")
            }
            Error::Timeout { url, after } => {
                write!(
                    f,
                    "cannot push metrics to {url}: no answer within {after:?}"
                )
            }
            Error::Refused {
                url,
                status,
                message,
            } => write!(
                f,
                "cannot push metrics to {url}: the gateway answered {status}: {message}"
            ),
            Error::Encode(why) => write!(f, "cannot push metrics: cannot encode them: {why}"),
        }
    }
}

impl std::error::Error for Error {}
