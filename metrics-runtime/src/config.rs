//! Configuration, the registry and the lazily registered metric families.

use std::collections::HashMap;
use std::fmt;

use once_cell::sync::OnceCell;
use prometheus::core::Collector;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

/// How the metric families are set up; pass it to [`configure`] before first use.
///
/// ```
/// use metrics_runtime::{Config, configure};
///
/// configure(
///     Config::new()
///         .namespace("shop")
///         .const_label("service", "checkout")
///         .buckets(vec![0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0]),
/// )
/// .expect("configure runs before the first tracked call");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Config {
    namespace: Option<String>,
    const_labels: HashMap<String, String>,
    buckets: Option<Vec<f64>>,
    registry: Option<Registry>,
}

impl Config {
    /// The defaults: no namespace, no constant labels, Prometheus' default buckets,
    /// the prometheus crate's default registry.
    pub fn new() -> Config {
        Config::default()
    }

    /// Prefixes every family name: `namespace("shop")` gives `shop_http_requests_total`.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Config {
        self.namespace = Some(namespace.into());
        self
    }

    /// Adds a label with the same value on every series, such as `service="checkout"`.
    pub fn const_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Config {
        self.const_labels.insert(name.into(), value.into());
        self
    }

    /// Upper bounds, in seconds, of the request duration histogram's buckets.
    pub fn buckets(mut self, buckets: Vec<f64>) -> Config {
        self.buckets = Some(buckets);
        self
    }

    /// Registers everything in `registry` instead of the default registry (the process
    /// collector is added to it on Linux).
    pub fn registry(mut self, registry: Registry) -> Config {
        self.registry = Some(registry);
        self
    }
}

/// Why [`configure`] refused a configuration.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Metrics were already in use (a tracked call, a scrape, [`registry`] or an earlier
    /// `configure`), so the configuration can no longer change.
    AlreadyInitialized,
    /// An invalid namespace, constant label or bucket list.
    Invalid(String),
    /// The registry refused a family, usually because one of the same name is
    /// already registered.
    Registration {
        /// The full name of the family.
        family: String,
        /// What the registry said.
        source: prometheus::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::AlreadyInitialized => f.write_str(
                "metrics are already in use; call configure() before the first tracked call or scrape",
            ),
            Error::Invalid(reason) => write!(f, "invalid metrics configuration: {reason}"),
            Error::Registration { family, source } => {
                write!(f, "cannot register the metric family `{family}`: {source}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Registration { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<prometheus::Error> for Error {
    fn from(err: prometheus::Error) -> Error {
        Error::Invalid(err.to_string())
    }
}

/// The HTTP families of one configuration.
pub(crate) struct Families {
    pub(crate) requests: IntCounterVec,
    pub(crate) duration: HistogramVec,
    pub(crate) in_flight: IntGaugeVec,
}

pub(crate) struct Runtime {
    pub(crate) registry: Registry,
    pub(crate) families: Families,
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    namespace: Option<String>,
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    const_labels: HashMap<String, String>,
}

static RUNTIME: OnceCell<Runtime> = OnceCell::new();

/// Sets the configuration; only before first use.
///
/// First use is the first tracked call, the first scrape or [`registry`] call, or an
/// earlier `configure`. After it, `configure` returns [`Error::AlreadyInitialized`]
/// and changes nothing. An invalid configuration returns [`Error::Invalid`] or
/// [`Error::Registration`] and
/// also changes nothing.
///
/// ```
/// use metrics_runtime::{Config, Error, configure};
///
/// configure(Config::new().namespace("app")).unwrap();
/// assert!(matches!(configure(Config::new()), Err(Error::AlreadyInitialized)));
/// ```
pub fn configure(config: Config) -> Result<(), Error> {
    let mut ran = false;
    RUNTIME.get_or_try_init(|| {
        ran = true;
        Runtime::new(config)
    })?;
    if ran {
        Ok(())
    } else {
        Err(Error::AlreadyInitialized)
    }
}

/// The registry every family is registered in: the prometheus crate's default
/// registry unless [`configure`] set another one.
///
/// Register your own metrics here and they are served on the same `/metrics`.
///
/// ```
/// use prometheus::IntCounter;
///
/// let jobs = IntCounter::new("jobs_total", "Jobs processed.").unwrap();
/// metrics_runtime::registry().register(Box::new(jobs.clone())).unwrap();
/// jobs.inc();
/// assert!(metrics_runtime::render().contains("jobs_total 1"));
/// ```
pub fn registry() -> &'static Registry {
    &runtime().registry
}

// The runtime, created with the default configuration on first use.
pub(crate) fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(Runtime::fallback)
}

impl Runtime {
    fn new(config: Config) -> Result<Runtime, Error> {
        let families = Families::new(&config)?;
        let custom_registry = config.registry.is_some();
        let registry = config
            .registry
            .unwrap_or_else(|| prometheus::default_registry().clone());
        if crate::enabled() {
            let mut collectors: Vec<Box<dyn Collector>> = vec![
                Box::new(families.requests.clone()),
                Box::new(families.duration.clone()),
                Box::new(families.in_flight.clone()),
            ];
            if custom_registry {
                collectors.extend(process_collector());
            }
            register_all(&registry, collectors)?;
        }
        Ok(Runtime {
            registry,
            families,
            namespace: config.namespace,
            const_labels: config.const_labels,
        })
    }

    /// Options for a further family, with the configured namespace and constant labels.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    pub(crate) fn opts(&self, name: &str, help: &str) -> Opts {
        family_opts(&self.namespace, &self.const_labels, name, help)
    }

    /// Registers families created after start-up (when metrics are enabled). A
    /// failure is logged, never fatal: the families keep working unregistered.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    pub(crate) fn register_later(&self, collectors: Vec<Box<dyn Collector>>) {
        if !crate::enabled() {
            return;
        }
        if let Err(err) = register_all(&self.registry, collectors) {
            log::error!("metrics-runtime: {err}; these metrics are not exported");
        }
    }

    // The default configuration cannot be invalid; registering can still fail when
    // the user already registered a family of the same name. Metrics then keep working
    // unregistered, and the reason is logged: a request never fails for it.
    fn fallback() -> Runtime {
        Runtime::new(Config::default()).unwrap_or_else(|err| {
            log::error!("metrics-runtime: {err}; tracked handlers are not exported");
            Runtime {
                registry: prometheus::default_registry().clone(),
                families: Families::new(&Config::default()).expect("default families are valid"),
                namespace: None,
                const_labels: HashMap::new(),
            }
        })
    }
}

#[cfg(target_os = "linux")]
fn process_collector() -> Option<Box<dyn Collector>> {
    Some(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))
}

#[cfg(not(target_os = "linux"))]
fn process_collector() -> Option<Box<dyn Collector>> {
    None
}

// Registers all or nothing, so a failed `configure` leaves the registry as it was.
fn register_all(registry: &Registry, collectors: Vec<Box<dyn Collector>>) -> Result<(), Error> {
    let mut done: Vec<Box<dyn Collector>> = Vec::new();
    for collector in collectors {
        let copy = clone_collector(&*collector);
        let family = copy
            .desc()
            .first()
            .map(|d| d.fq_name.clone())
            .unwrap_or_default();
        if let Err(source) = registry.register(collector) {
            for registered in done {
                let _ = registry.unregister(registered);
            }
            return Err(Error::Registration { family, source });
        }
        done.push(copy);
    }
    Ok(())
}

// `Registry::unregister` matches by descriptor; a collector with the same descriptors
// stands in for the one that was moved into the registry.
fn clone_collector(collector: &dyn Collector) -> Box<dyn Collector> {
    struct SameDescs(Vec<prometheus::core::Desc>);
    impl Collector for SameDescs {
        fn desc(&self) -> Vec<&prometheus::core::Desc> {
            self.0.iter().collect()
        }
        fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
            Vec::new()
        }
    }
    Box::new(SameDescs(collector.desc().into_iter().cloned().collect()))
}

impl Families {
    fn new(config: &Config) -> Result<Families, Error> {
        let opts = |name: &str, help: &str| {
            family_opts(&config.namespace, &config.const_labels, name, help)
        };
        let requests = IntCounterVec::new(
            opts(
                "http_requests_total",
                "Requests handled by tracked handlers, by status code.",
            ),
            &["handler", "method", "route", "status"],
        )?;
        if let Some(buckets) = &config.buckets {
            check_buckets(buckets)?;
        }
        let mut duration_opts = HistogramOpts::from(opts(
            "http_request_duration_seconds",
            "Time spent in tracked handlers, in seconds.",
        ));
        if let Some(buckets) = &config.buckets {
            duration_opts = duration_opts.buckets(buckets.clone());
        }
        let duration = HistogramVec::new(duration_opts, &["handler", "method", "route"])?;
        let in_flight = IntGaugeVec::new(
            opts(
                "http_requests_in_flight",
                "Calls of tracked handlers currently running.",
            ),
            &["handler", "method", "route"],
        )?;
        Ok(Families {
            requests,
            duration,
            in_flight,
        })
    }
}

// The prometheus crate checks buckets only when the first series is created; check
// them up front so that `configure` can refuse them.
fn check_buckets(buckets: &[f64]) -> Result<(), Error> {
    if buckets.is_empty() {
        return Err(Error::Invalid("the bucket list is empty".to_owned()));
    }
    if buckets.iter().any(|b| b.is_nan()) {
        return Err(Error::Invalid("a bucket bound is NaN".to_owned()));
    }
    if let Some(pair) = buckets.windows(2).find(|pair| pair[0] >= pair[1]) {
        return Err(Error::Invalid(format!(
            "buckets must be strictly increasing, found {} then {}",
            pair[0], pair[1]
        )));
    }
    Ok(())
}

fn family_opts(
    namespace: &Option<String>,
    const_labels: &HashMap<String, String>,
    name: &str,
    help: &str,
) -> Opts {
    let mut opts = Opts::new(name, help).const_labels(const_labels.clone());
    if let Some(namespace) = namespace {
        opts = opts.namespace(namespace.clone());
    }
    opts
}
