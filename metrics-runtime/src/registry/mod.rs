//! The runtime: one per process, started by [`configure`] or on first use. It holds the
//! registry and the families, and registers them all or nothing.

use std::sync::{Arc, Mutex};

use once_cell::sync::OnceCell;
use prometheus::Registry;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;

mod build_info;
#[cfg(feature = "metrics-rs")]
pub(crate) mod facade;
mod intern;
#[cfg(any(feature = "actix", feature = "axum"))]
mod labels;
mod objectives;
mod scrape;

pub use build_info::build_info;
pub(crate) use intern::interned;
#[cfg(feature = "axum")]
pub(crate) use intern::{answered, expected};
#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) use intern::{labelled, series_of};
#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) use labels::{LabelSet, RequestLabels};
pub(crate) use objectives::join;
#[cfg(feature = "tonic")]
pub(crate) use objectives::join_rpc;
#[cfg(any(feature = "actix", feature = "axum", feature = "exporter"))]
pub(crate) use scrape::Scrape;
#[cfg(feature = "native-histograms")]
pub use scrape::render_protobuf;
pub use scrape::{render, render_openmetrics, try_render};

use crate::config::{Config, Error, Naming};
#[cfg(feature = "tonic")]
use crate::exposition::collector::GrpcCollector;
use crate::exposition::collector::HttpCollector;
#[cfg(feature = "tonic")]
use crate::families::GrpcFamilies;
#[cfg(feature = "ws")]
use crate::families::WsFamilies;
use crate::families::{Builder, HttpFamilies, ObjectiveFamilies, OtelFamilies};

struct Runtime {
    registry: Registry,
    // Shared with the collector registered for them.
    http: Arc<HttpFamilies>,
    objectives: ObjectiveFamilies,
    joined: Mutex<objectives::Joined>,
    builder: Builder,
    build_info: OnceCell<()>,
    #[cfg(feature = "ws")]
    ws: OnceCell<Option<WsFamilies>>,
    // Shared with the collector registered for them.
    #[cfg(feature = "tonic")]
    grpc: OnceCell<Option<Arc<GrpcFamilies>>>,
    // The configured buckets, for the families built after start-up.
    #[cfg(any(feature = "tonic", feature = "metrics-rs"))]
    buckets: Option<Vec<f64>>,
    // The request labels (`Config::label`); `None` when none is configured.
    #[cfg(any(feature = "actix", feature = "axum"))]
    labels: Option<RequestLabels>,
    // The known methods beyond the standard ones (`Config::known_methods`).
    #[cfg(any(feature = "actix", feature = "axum"))]
    methods: &'static [&'static str],
    // Whether an axum request whose scheme nothing says is `https` (`Config::default_scheme`).
    #[cfg(feature = "axum")]
    default_https: bool,
}

static RUNTIME: OnceCell<Runtime> = OnceCell::new();

/// The method label of a request method beyond the standard ones, if configured
/// (`Config::known_methods`): one address per value.
#[cfg(any(feature = "actix", feature = "axum"))]
#[inline]
pub(crate) fn known_method(method: &str) -> Option<&'static str> {
    runtime()
        .methods
        .iter()
        .copied()
        .find(|&known| known == method)
}

/// Sets the configuration; only before first use.
///
/// First use is the first tracked call, the first scrape or [`registry`] call, or an
/// earlier `configure`. After it, `configure` returns [`Error::AlreadyInitialized`]
/// and changes nothing. An invalid configuration returns [`Error::Invalid`] or
/// [`Error::Registration`] and also changes nothing.
///
/// ```
/// use track_metrics::{Config, Error, configure};
///
/// configure(Config::new().namespace("app")).unwrap();
/// assert!(matches!(configure(Config::new()), Err(Error::AlreadyInitialized)));
/// ```
pub fn configure(config: Config) -> Result<(), Error> {
    let mut ran = false;
    RUNTIME.get_or_try_init(|| {
        ran = true;
        let (runtime, collectors) = Runtime::build(config)?;
        runtime.register(collectors)?;
        Ok::<_, Error>(runtime)
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
/// track_metrics::registry().register(Box::new(jobs.clone())).unwrap();
/// jobs.inc();
/// assert!(track_metrics::render().contains("jobs_total 1"));
/// ```
pub fn registry() -> &'static Registry {
    &runtime().registry
}

/// Whether the configuration gives every family the constant label `name`.
#[cfg(feature = "push")]
pub(crate) fn has_const_label(name: &str) -> bool {
    runtime().builder.has_const_label(name)
}

/// The HTTP families, registered when the runtime started (if metrics are enabled).
pub(crate) fn http_families() -> &'static HttpFamilies {
    &runtime().http
}

/// The OpenTelemetry naming's request families; `None` in the Prometheus naming.
#[cfg(any(feature = "actix", feature = "axum"))]
#[inline]
pub(crate) fn otel_families() -> Option<&'static OtelFamilies> {
    http_families().otel.as_ref()
}

/// Whether an axum request whose URI and proxy headers name no scheme is `https`
/// (`Config::default_scheme`).
#[cfg(feature = "axum")]
#[inline]
pub(crate) fn default_https() -> bool {
    runtime().default_https
}

/// The request labels of the configuration, `None` when it has none.
#[cfg(any(feature = "actix", feature = "axum"))]
#[inline]
pub(crate) fn request_labels() -> Option<&'static RequestLabels> {
    runtime().labels.as_ref()
}

/// The WebSocket families, built and registered on the first call; `None` when they
/// cannot be built, because the configured constant labels clash with theirs
/// (`handler`, `direction`, `kind`). That is logged once, and WebSockets are not counted.
#[cfg(feature = "ws")]
pub(crate) fn ws_families() -> Option<&'static WsFamilies> {
    let runtime = runtime();
    runtime
        .ws
        .get_or_init(|| match WsFamilies::new(&runtime.builder) {
            Ok(families) => {
                runtime.register_late(families.collectors());
                Some(families)
            }
            Err(err) => {
                log::error!(
                    "track-metrics: cannot create the WebSocket families: {err}; WebSockets are not counted"
                );
                None
            }
        })
        .as_ref()
}

/// The gRPC families, built and registered on the first RPC a layer sees; `None` when
/// they cannot be built, because the configured constant labels clash with theirs
/// (`grpc_type`, `grpc_service`, `grpc_method`, `grpc_code`). That is logged once, and
/// RPCs are not counted.
#[cfg(feature = "tonic")]
pub(crate) fn grpc_families() -> Option<&'static GrpcFamilies> {
    let runtime = runtime();
    runtime
        .grpc
        .get_or_init(
            || match GrpcFamilies::new(&runtime.builder, runtime.buckets.as_deref()) {
                Ok(families) => {
                    let families = Arc::new(families);
                    runtime.register_late(vec![Box::new(GrpcCollector::new(Arc::clone(
                        &families,
                    )))]);
                    Some(families)
                }
                Err(err) => {
                    log::error!(
                        "track-metrics: cannot create the gRPC families: {err}; RPCs are not counted"
                    );
                    None
                }
            },
        )
        .as_deref()
}

// The runtime, started with the default configuration on first use. That configuration
// cannot be invalid; registering can still fail when the user already registered a
// family of the same name. The families then keep working unregistered, and the reason
// is logged: a request never fails for it.
fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        let (runtime, collectors) =
            Runtime::build(Config::default()).expect("the default configuration is valid");
        if let Err(err) = runtime.register(collectors) {
            log::error!("track-metrics: {err}; tracked handlers are not exported");
        }
        runtime
    })
}

impl Runtime {
    // The runtime of `config` with its families built but not registered, and what to
    // register: the HTTP families, plus the process collector in a registry of the
    // user's own (the default registry has one already).
    fn build(config: Config) -> Result<(Runtime, Vec<Box<dyn Collector>>), Error> {
        config.check_buckets()?;
        #[cfg(any(feature = "actix", feature = "axum"))]
        config.check_labels()?;
        #[cfg_attr(not(feature = "axum"), allow(unused_variables))]
        let (methods, default_https) = config.check_requests()?;
        let buckets = config.histogram_buckets();
        let otel_buckets = (config.naming == Naming::OpenTelemetry).then(|| config.otel_buckets());
        #[cfg(feature = "native-histograms")]
        let native = config.native_settings()?;
        let Config {
            namespace,
            const_labels,
            registry,
            #[cfg(any(feature = "actix", feature = "axum"))]
            labels,
            ..
        } = config;
        let builder = Builder::new(namespace, const_labels);
        // The request labels' names follow the families' own, in the order declared.
        #[cfg(any(feature = "actix", feature = "axum"))]
        let names: Vec<&str> = labels.iter().map(|label| label.name()).collect();
        #[cfg(not(any(feature = "actix", feature = "axum")))]
        let names: Vec<&str> = Vec::new();
        let mut http = HttpFamilies::new(&builder, buckets.as_deref(), &names)?;
        if let Some(otel_buckets) = otel_buckets {
            http = http.with_otel(OtelFamilies::new(&builder, &otel_buckets, &names)?);
        }
        #[cfg(any(feature = "actix", feature = "axum"))]
        let labels = RequestLabels::new(&labels);
        #[cfg(feature = "native-histograms")]
        let http = http.with_native(crate::storage::NativeLayout::new(
            native.schema,
            native.zero_threshold,
            native.top,
        ));
        let http = Arc::new(http);
        let objectives = ObjectiveFamilies::new(&builder)?;
        let mut collectors: Vec<Box<dyn Collector>> =
            vec![Box::new(HttpCollector::new(Arc::clone(&http)))];
        collectors.extend(objectives.collectors());
        if registry.is_some() {
            collectors.extend(process_collector());
        }
        let runtime = Runtime {
            registry: registry.unwrap_or_else(|| prometheus::default_registry().clone()),
            http,
            objectives,
            joined: Mutex::default(),
            builder,
            build_info: OnceCell::new(),
            #[cfg(feature = "ws")]
            ws: OnceCell::new(),
            #[cfg(feature = "tonic")]
            grpc: OnceCell::new(),
            #[cfg(any(feature = "tonic", feature = "metrics-rs"))]
            buckets: buckets.clone(),
            #[cfg(any(feature = "actix", feature = "axum"))]
            labels,
            #[cfg(any(feature = "actix", feature = "axum"))]
            methods: methods.leak(),
            #[cfg(feature = "axum")]
            default_https,
        };
        Ok((runtime, collectors))
    }

    // Registers all or nothing, when metrics are enabled; nothing otherwise.
    fn register(&self, collectors: Vec<Box<dyn Collector>>) -> Result<(), Error> {
        if !crate::enabled() {
            return Ok(());
        }
        register_all(&self.registry, collectors)
    }

    // For families built after start-up: a failure is logged, never fatal, and the
    // families keep working unregistered.
    fn register_late(&self, collectors: Vec<Box<dyn Collector>>) {
        if let Err(err) = self.register(collectors) {
            log::error!("track-metrics: {err}; these metrics are not exported");
        }
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

// On a failure the collectors registered so far are unregistered again, so a failed
// `configure` leaves the registry as it was.
fn register_all(registry: &Registry, collectors: Vec<Box<dyn Collector>>) -> Result<(), Error> {
    let mut done: Vec<Box<dyn Collector>> = Vec::new();
    for collector in collectors {
        let copy = stand_in(&*collector);
        if let Err(source) = registry.register(collector) {
            for registered in done {
                let _ = registry.unregister(registered);
            }
            let family = refused(registry, &*copy);
            return Err(Error::Registration { family, source });
        }
        done.push(copy);
    }
    Ok(())
}

// Which family of a collector the registry refused: the first one it refuses alone
// (each one it accepts is unregistered again), else the collector's first.
fn refused(registry: &Registry, collector: &dyn Collector) -> String {
    let descs = collector.desc();
    if descs.len() > 1 {
        for desc in &descs {
            let alone = SameDescs(vec![(*desc).clone()]);
            match registry.register(Box::new(alone)) {
                Err(_) => return desc.fq_name.clone(),
                Ok(()) => {
                    let _ = registry.unregister(Box::new(SameDescs(vec![(*desc).clone()])));
                }
            }
        }
    }
    descs
        .first()
        .map(|desc| desc.fq_name.clone())
        .unwrap_or_default()
}

// `Registry::unregister` matches by descriptor; a collector with the same descriptors
// stands in for the one that was moved into the registry.
fn stand_in(collector: &dyn Collector) -> Box<dyn Collector> {
    Box::new(SameDescs(collector.desc().into_iter().cloned().collect()))
}

// A collector of these descriptors that collects nothing.
struct SameDescs(Vec<Desc>);

impl Collector for SameDescs {
    fn desc(&self) -> Vec<&Desc> {
        self.0.iter().collect()
    }
    fn collect(&self) -> Vec<MetricFamily> {
        Vec::new()
    }
}
