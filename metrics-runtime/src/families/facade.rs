//! The `metrics` facade's families (feature `metrics-rs`): one per name a program records
//! through `metrics::counter!`, `gauge!` or `histogram!`, with the label names of its
//! first series, its series made on first use, and what `describe_*` says of it (HELP
//! and unit), which may change at any time.
//!
//! Also the names each family's exposition takes (its samples', and an OpenMetrics
//! counter's name without `_total`), against which a facade family is checked before it
//! is made: the runtime's own families' ([`ours`]) and the other facade families'.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use prometheus::core::Desc;

use super::Builder;
use crate::storage::{FacadeCounter, FacadeGauge, FacadeHistogram};

/// The three kinds of facade metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FacadeKind {
    Counter,
    Gauge,
    Histogram,
}

impl FacadeKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            FacadeKind::Counter => "counter",
            FacadeKind::Gauge => "gauge",
            FacadeKind::Histogram => "histogram",
        }
    }
}

/// One series' values, shared with the facade's handles.
#[derive(Clone, Debug)]
pub(crate) enum FacadeCell {
    Counter(Arc<FacadeCounter>),
    Gauge(Arc<FacadeGauge>),
    Histogram(Arc<FacadeHistogram>),
}

/// What `describe_*` said of a family, or nothing yet.
#[derive(Debug, Default)]
pub(crate) struct About {
    pub(crate) help: String,
    /// The unit as OpenMetrics writes it (`seconds`, `bytes`), if any.
    pub(crate) unit: Option<&'static str>,
}

/// A family's description, shared by the table of descriptions and the family.
pub(crate) type SharedAbout = Arc<RwLock<About>>;

/// One facade family: its name and label names (sorted) in `desc`, its kind, bounds
/// (histograms) and series by label values (in `desc`'s order).
pub(crate) struct FacadeFamily {
    pub(crate) desc: Desc,
    pub(crate) kind: FacadeKind,
    pub(crate) about: SharedAbout,
    // The HELP until one is described: the name the family was first recorded as, so
    // the exposition stays valid for `promtool check metrics`' lint.
    pub(crate) undescribed: String,
    pub(crate) bounds: Arc<[f64]>,
    series: Mutex<HashMap<Vec<String>, FacadeCell>>,
}

impl FacadeFamily {
    /// A family of this name and these label names (valid, sorted, distinct); the
    /// prometheus crate's checks of both are `desc`'s.
    pub(crate) fn new(
        name: &str,
        recorded_as: &str,
        kind: FacadeKind,
        label_names: Vec<String>,
        bounds: Arc<[f64]>,
        about: SharedAbout,
    ) -> Result<FacadeFamily, prometheus::Error> {
        // The registry needs a help text to check the name; the scrape writes `about`'s.
        let desc = Desc::new(
            name.to_owned(),
            name.to_owned(),
            label_names,
            HashMap::new(),
        )?;
        Ok(FacadeFamily {
            desc,
            kind,
            about,
            undescribed: format!("{recorded_as} (recorded through the metrics facade)"),
            bounds,
            series: Mutex::default(),
        })
    }

    /// The HELP now: the description, or the name it was first recorded as.
    pub(crate) fn help(&self) -> String {
        let about = self.about.read().unwrap_or_else(PoisonError::into_inner);
        if about.help.is_empty() {
            self.undescribed.clone()
        } else {
            about.help.clone()
        }
    }

    /// Whether a series with these label names (sorted) belongs here.
    pub(crate) fn has_labels(&self, names: &[String]) -> bool {
        self.desc.variable_labels == names
    }

    /// The series of these label values, made on first use.
    pub(crate) fn series(&self, values: Vec<String>) -> FacadeCell {
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        series
            .entry(values)
            .or_insert_with(|| match self.kind {
                FacadeKind::Counter => FacadeCell::Counter(Arc::default()),
                FacadeKind::Gauge => FacadeCell::Gauge(Arc::default()),
                FacadeKind::Histogram => {
                    FacadeCell::Histogram(Arc::new(FacadeHistogram::new(self.bounds.clone())))
                }
            })
            .clone()
    }

    /// Calls `each` with every series' label values and values.
    pub(crate) fn each(&self, mut each: impl FnMut(&[String], &FacadeCell)) {
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        for (values, cell) in series.iter() {
            each(values, cell);
        }
    }
}

/// Every name the exposition of a family of this name and kind takes: its samples' and,
/// in OpenMetrics, a counter's family name (without `_total`).
pub(crate) fn taken(name: &str, kind: FacadeKind) -> Vec<String> {
    let mut names = vec![name.to_owned()];
    match kind {
        FacadeKind::Counter => names.extend(name.strip_suffix("_total").map(str::to_owned)),
        FacadeKind::Gauge => {}
        FacadeKind::Histogram => {
            names.extend(["_bucket", "_sum", "_count"].map(|suffix| format!("{name}{suffix}")));
        }
    }
    names
}

// The runtime's own families, whichever of them this build and configuration register
// and whenever it does (some on first use): a facade family may take none of their
// names.
const OURS: [(&str, FacadeKind); 19] = [
    ("http_requests_total", FacadeKind::Counter),
    ("http_request_duration_seconds", FacadeKind::Histogram),
    ("http_requests_in_flight", FacadeKind::Gauge),
    (
        "http_server_request_duration_seconds",
        FacadeKind::Histogram,
    ),
    ("http_server_active_requests", FacadeKind::Gauge),
    ("http_objective_info", FacadeKind::Gauge),
    ("grpc_objective_info", FacadeKind::Gauge),
    ("http_objective_success_target", FacadeKind::Gauge),
    ("http_objective_latency_target", FacadeKind::Gauge),
    ("build_info", FacadeKind::Gauge),
    ("websocket_connections_total", FacadeKind::Counter),
    ("websocket_connections_active", FacadeKind::Gauge),
    ("websocket_messages_total", FacadeKind::Counter),
    (
        "websocket_connection_duration_seconds",
        FacadeKind::Histogram,
    ),
    ("grpc_server_started_total", FacadeKind::Counter),
    ("grpc_server_handled_total", FacadeKind::Counter),
    ("grpc_server_handling_seconds", FacadeKind::Histogram),
    ("grpc_server_msg_received_total", FacadeKind::Counter),
    ("grpc_server_msg_sent_total", FacadeKind::Counter),
];

/// Every name the runtime's own families take with this builder's namespace.
pub(crate) fn ours(builder: &Builder) -> Vec<String> {
    OURS.iter()
        .flat_map(|&(name, kind)| taken(&builder.name(name), kind))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::{HttpFamilies, ObjectiveFamilies, OtelFamilies};

    #[test]
    fn a_family_takes_its_samples_names() {
        assert_eq!(
            taken("jobs_total", FacadeKind::Counter),
            ["jobs_total", "jobs"]
        );
        assert_eq!(taken("queue", FacadeKind::Gauge), ["queue"]);
        assert_eq!(
            taken("wait", FacadeKind::Histogram),
            ["wait", "wait_bucket", "wait_sum", "wait_count"]
        );
    }

    // The list of our families is the families' own names: every family built here is
    // in it, with its kind.
    #[test]
    fn ours_lists_every_family_of_the_runtime() {
        let builder = Builder::new(Some("app".to_owned()), HashMap::new());
        let ours = ours(&builder);
        let http = HttpFamilies::new(&builder, None, &[]).unwrap();
        let otel = OtelFamilies::new(&builder, &[1.0], &[]).unwrap();
        let mut names: Vec<String> = [&http.requests, &http.duration, &http.in_flight]
            .into_iter()
            .chain([&otel.duration, &otel.active])
            .map(|desc| desc.fq_name.clone())
            .collect();
        for collector in ObjectiveFamilies::new(&builder).unwrap().collectors() {
            names.extend(collector.desc().iter().map(|desc| desc.fq_name.clone()));
        }
        #[cfg(feature = "tonic")]
        {
            let grpc = crate::families::GrpcFamilies::new(&builder, None).unwrap();
            let descs = [
                &grpc.started,
                &grpc.handled,
                &grpc.handling,
                &grpc.received,
                &grpc.sent,
            ];
            names.extend(descs.map(|desc| desc.fq_name.clone()));
        }
        #[cfg(feature = "ws")]
        for collector in crate::families::WsFamilies::new(&builder)
            .unwrap()
            .collectors()
        {
            names.extend(collector.desc().iter().map(|desc| desc.fq_name.clone()));
        }
        names.push(builder.name("build_info"));
        for name in &names {
            assert!(ours.contains(name), "{name} is not in OURS");
        }
        assert!(ours.contains(&"app_http_request_duration_seconds_count".to_owned()));
        assert!(ours.contains(&"app_http_requests".to_owned()));
    }
}
