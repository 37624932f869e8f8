//! The `metrics` facade on this crate's registry (cargo feature `metrics-rs`): what your
//! code and your dependencies record through `metrics::counter!`, `gauge!` and
//! `histogram!` (metrics 0.24) is served on the same `/metrics` as the tracked handlers,
//! in every format, after one [`install`].
//!
//! ```
//! track_metrics::metrics_rs::install().unwrap();
//!
//! metrics::describe_counter!("mail.sent", "Mails handed to the relay.");
//! metrics::counter!("mail.sent", "queue" => "bulk").increment(3);
//! metrics::gauge!("mail.queue_depth").set(12.0);
//! metrics::histogram!("mail.send_seconds").record(0.04);
//!
//! let text = track_metrics::render();
//! assert!(text.contains("# HELP mail_sent_total Mails handed to the relay.\n"));
//! assert!(text.contains("mail_sent_total{queue=\"bulk\"} 3\n"));
//! assert!(text.contains("mail_queue_depth 12\n"));
//! assert!(text.contains("mail_send_seconds_bucket{le=\"0.05\"} 1\n"));
//! ```
//!
//! - **Names**: each character a Prometheus name cannot have becomes `_` (`mail.sent` is
//!   `mail_sent`), as metrics-exporter-prometheus writes them, and a counter's name gets
//!   `_total` when it lacks it. Label names alike; label values are kept as they are.
//! - **HELP and units**: what `describe_*` says is the family's HELP, also when it is
//!   described after its first use (the next scrape shows it); until then, the name it
//!   was recorded as, so that `promtool check metrics` finds nothing to lint. A unit is written in
//!   OpenMetrics (`# UNIT`) when the family's name ends with it (`_seconds` for
//!   [`Unit::Seconds`](metrics::Unit::Seconds)), as OpenMetrics requires; names are
//!   never changed for a unit.
//! - **Histograms** have the configured buckets ([`Config::buckets`](crate::Config::buckets),
//!   Prometheus' defaults otherwise), the same for every facade histogram.
//! - **Dropped, with one warning naming it** (through `log`): a metric whose family
//!   would take a name of this crate's own families (`http_requests_total`, or
//!   `http_request_duration_seconds_count` as a gauge), or of another facade family, or
//!   one already registered in [`registry()`](crate::registry) (your own); a name
//!   recorded as two kinds, or with other label names than its first series; a label
//!   name twice; `le` on a histogram. It is recorded nowhere; nothing panics.
//! - Namespace and constant labels ([`Config::namespace`](crate::Config::namespace)) are this
//!   crate's families', not the facade's: its names are your code's and your
//!   dependencies' own.
//! - With metrics disabled (`PROMETHEUS_ENABLED=false`), the facade's handles do nothing.
//! - Label values come from the code that records: a label whose values come from
//!   traffic makes a series per value, as with any Prometheus client.

mod names;
mod recorder;

use std::fmt;

/// Installs the recorder of the `metrics` facade that records into this crate's
/// registry: once per process, before the facade's metrics are recorded (what is
/// recorded before has gone to no recorder).
///
/// A second call, or a call after another recorder was installed (a
/// metrics-exporter-prometheus one, say), is [`Error::AlreadyInstalled`] and changes
/// nothing.
///
/// `install` itself does not start the runtime: the first facade metric recorded does,
/// as a tracked call does, so [`configure`](crate::configure) (buckets, a registry of
/// your own) before that, in either order with `install`. Everything that serves or
/// sends the registry has the facade's families: `/metrics`, [`render`](crate::render),
/// the exporter, a push.
///
/// ```
/// use track_metrics::metrics_rs::{Error, install};
///
/// install().unwrap();
/// assert!(matches!(install(), Err(Error::AlreadyInstalled)));
/// ```
pub fn install() -> Result<(), Error> {
    metrics::set_global_recorder(recorder::Recorder::default()).map_err(|_| Error::AlreadyInstalled)
}

/// Why [`install`] did not install.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The facade has a recorder already: this one, or another.
    AlreadyInstalled,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::AlreadyInstalled => {
                f.write_str("the metrics facade has a recorder already installed")
            }
        }
    }
}

impl std::error::Error for Error {}
