//! The public configuration, [`Config`], and [`Error`], why
//! [`configure`](crate::configure) refuses one.

use std::collections::HashMap;
use std::fmt;

use prometheus::Registry;

#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) mod label;
mod naming;
#[cfg(feature = "native-histograms")]
mod native;
mod objective;

#[cfg(any(feature = "actix", feature = "axum"))]
pub use label::RequestLabel;
pub use naming::Naming;
pub(crate) use naming::{OTEL_BUCKETS, OTEL_LABELS};
pub use objective::Objective;

/// How the metric families are set up; pass it to [`configure`](crate::configure) before
/// first use.
///
/// ```
/// use track_metrics::{Config, configure};
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
    pub(crate) namespace: Option<String>,
    pub(crate) const_labels: HashMap<String, String>,
    pub(crate) buckets: Option<Vec<f64>>,
    pub(crate) registry: Option<Registry>,
    pub(crate) objectives: Vec<Objective>,
    pub(crate) naming: Naming,
    pub(crate) known_methods: Vec<String>,
    pub(crate) default_https: Option<String>,
    #[cfg(any(feature = "actix", feature = "axum"))]
    pub(crate) labels: Vec<RequestLabel>,
    #[cfg(feature = "native-histograms")]
    pub(crate) native_schema: Option<i8>,
    #[cfg(feature = "native-histograms")]
    pub(crate) native_range: Option<(std::time::Duration, std::time::Duration)>,
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

    /// The objectives this program declares: each latency threshold becomes a bucket
    /// boundary of `http_request_duration_seconds` (beside [`buckets`](Config::buckets)
    /// or the defaults), so the latency objective is measured exactly.
    ///
    /// An objective first used without being listed here still works: if its threshold
    /// is not a boundary, one warning is logged and it is measured at the next boundary
    /// above.
    ///
    /// ```
    /// use std::time::Duration;
    /// use track_metrics::{Config, Objective};
    ///
    /// const SEARCH: Objective = Objective::new("search").latency(Duration::from_millis(300), 0.95);
    ///
    /// let config = Config::new().objectives(&[SEARCH]);
    /// # let _ = config;
    /// ```
    pub fn objectives(mut self, objectives: &[Objective]) -> Config {
        self.objectives.extend_from_slice(objectives);
        self
    }

    /// Adds a label whose value comes from each request (see [`RequestLabel`]) to
    /// `http_requests_total`, `http_request_duration_seconds` and
    /// `http_requests_in_flight`; the request middleware applies it to every request.
    /// Tracked calls and requests without a value carry `""`. Up to 8 labels; each
    /// multiplies the series by its bound plus two (`_other` and `""`).
    ///
    /// [`configure`](crate::configure) refuses a label whose name is not a valid
    /// Prometheus label name, starts with `__`, is one the families have in either
    /// [naming](Config::naming) (`handler`, `method`, `route`, `status`, `le`, and the
    /// OpenTelemetry naming's `http_…`, `url_scheme`, `error_type`,
    /// `network_protocol_version`, `code_function_name`), a constant label's or another
    /// request label's.
    ///
    /// ```
    /// use track_metrics::{Config, RequestLabel};
    ///
    /// let config = Config::new().label(RequestLabel::header("tenant", "x-tenant").max_values(50));
    /// # let _ = config;
    /// ```
    #[cfg(any(feature = "actix", feature = "axum"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "actix", feature = "axum"))))]
    pub fn label(mut self, label: RequestLabel) -> Config {
        self.labels.push(label);
        self
    }

    /// The names of the request families: [`Naming::Prometheus`] (the default) or the
    /// OpenTelemetry HTTP semantic conventions' ([`Naming::OpenTelemetry`]). The
    /// request labels ([`label`](Config::label)), exemplars and native histograms work
    /// in both.
    ///
    /// ```
    /// use track_metrics::{Config, Naming};
    ///
    /// let config = Config::new().naming(Naming::OpenTelemetry);
    /// # let _ = config;
    /// ```
    pub fn naming(mut self, naming: Naming) -> Config {
        self.naming = naming;
        self
    }

    /// More request methods to count under their own names (in both namings), beyond
    /// the nine of RFC 9110 and PATCH; any other method counts as `_OTHER`. As
    /// `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS` does for the OpenTelemetry SDKs; each
    /// one adds a `method` value to the series' bound. Case-sensitive, as methods are.
    ///
    /// [`configure`](crate::configure) refuses a method that is not an HTTP token, is
    /// longer than 32 bytes, or more than 16 of them.
    ///
    /// ```
    /// use track_metrics::Config;
    ///
    /// let config = Config::new().known_methods(["PROPFIND", "QUERY"]);
    /// # let _ = config;
    /// ```
    pub fn known_methods<M: Into<String>>(
        mut self,
        methods: impl IntoIterator<Item = M>,
    ) -> Config {
        self.known_methods
            .extend(methods.into_iter().map(Into::into));
        self
    }

    /// The `url_scheme` (OpenTelemetry naming) of a request whose URI names no scheme
    /// and whose proxy headers (`Forwarded`, `X-Forwarded-Proto`) say none: `http`
    /// unless set to `https`. axum does not tell its layers whether the connection is
    /// TLS; actix-web does, and its requests take their connection's.
    ///
    /// [`configure`](crate::configure) refuses anything but `http` and `https`.
    ///
    /// ```
    /// use track_metrics::{Config, Naming};
    ///
    /// let config = Config::new().naming(Naming::OpenTelemetry).default_scheme("https");
    /// # let _ = config;
    /// ```
    pub fn default_scheme(mut self, scheme: impl Into<String>) -> Config {
        self.default_https = Some(scheme.into());
        self
    }

    /// Registers everything in `registry` instead of the default registry (the process
    /// collector is added to it on Linux).
    pub fn registry(mut self, registry: Registry) -> Config {
        self.registry = Some(registry);
        self
    }
}

/// Why [`configure`](crate::configure) refused a configuration.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Metrics were already in use (a tracked call, a scrape,
    /// [`registry`](crate::registry()) or an earlier `configure`), so the configuration
    /// can no longer change.
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

impl Config {
    // The prometheus crate checks buckets only when the first series is created; check
    // them up front so that `configure` can refuse them.
    pub(crate) fn check_buckets(&self) -> Result<(), Error> {
        let Some(buckets) = &self.buckets else {
            return Ok(());
        };
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

    /// The known methods beyond the standard ones, checked; and whether a request whose
    /// scheme nothing says is `https`.
    pub(crate) fn check_requests(&self) -> Result<(Vec<&'static str>, bool), Error> {
        const MAX_METHODS: usize = 16;
        if self.known_methods.len() > MAX_METHODS {
            return Err(Error::Invalid(format!(
                "{} known methods configured, at most {MAX_METHODS} are allowed",
                self.known_methods.len()
            )));
        }
        let mut methods: Vec<&'static str> = Vec::new();
        for method in &self.known_methods {
            if method.len() > 32 || !is_token(method) {
                return Err(Error::Invalid(format!(
                    "known method `{method}` is not an HTTP method token of at most 32 bytes"
                )));
            }
            if !methods.contains(&method.as_str()) {
                // Leaked on purpose: one address per value, as the standard ones have.
                methods.push(Box::leak(method.clone().into_boxed_str()));
            }
        }
        let https = match self.default_https.as_deref() {
            None | Some("http") => false,
            Some("https") => true,
            Some(other) => {
                return Err(Error::Invalid(format!(
                    "default scheme `{other}` is neither `http` nor `https`"
                )));
            }
        };
        Ok((methods, https))
    }

    // Refuses request labels that cannot be used: each one's own checks, too many, and
    // a name taken by a constant label or an earlier request label.
    #[cfg(any(feature = "actix", feature = "axum"))]
    pub(crate) fn check_labels(&self) -> Result<(), Error> {
        if self.labels.len() > label::MAX_LABELS {
            return Err(Error::Invalid(format!(
                "{} request labels declared, at most {} are allowed",
                self.labels.len(),
                label::MAX_LABELS
            )));
        }
        for (at, label) in self.labels.iter().enumerate() {
            label.check().map_err(Error::Invalid)?;
            let name = label.name();
            if self.const_labels.contains_key(name) {
                return Err(Error::Invalid(format!(
                    "request label `{name}` is also a constant label"
                )));
            }
            if self.labels[..at]
                .iter()
                .any(|earlier| earlier.name() == name)
            {
                return Err(Error::Invalid(format!(
                    "request label `{name}` is declared twice"
                )));
            }
        }
        Ok(())
    }

    // The duration histogram's buckets: the configured ones (`None`: the defaults) with
    // every objective's latency threshold added as a boundary.
    pub(crate) fn histogram_buckets(&self) -> Option<Vec<f64>> {
        self.buckets_over(prometheus::DEFAULT_BUCKETS)
    }

    // The OpenTelemetry naming's duration buckets: the configured ones, else the
    // conventions', with every objective's latency threshold added as a boundary.
    pub(crate) fn otel_buckets(&self) -> Vec<f64> {
        self.buckets_over(&OTEL_BUCKETS)
            .unwrap_or_else(|| OTEL_BUCKETS.to_vec())
    }

    // [`Config::histogram_buckets`] with `default` for the buckets not configured.
    fn buckets_over(&self, default: &[f64]) -> Option<Vec<f64>> {
        let mut thresholds = self
            .objectives
            .iter()
            .filter_map(Objective::latency_target)
            .map(|(threshold, _)| threshold.as_secs_f64())
            .peekable();
        if thresholds.peek().is_none() {
            return self.buckets.clone();
        }
        let mut buckets = self.buckets.clone().unwrap_or_else(|| default.to_vec());
        // The buckets are in order (`check_buckets` first): each threshold goes where a
        // sort would put it. (A sort's generic code was
        // 5 % of this crate's LLVM IR.)
        for threshold in thresholds {
            let at = buckets.partition_point(|&bound| bound < threshold);
            if buckets.get(at) != Some(&threshold) {
                buckets.insert(at, threshold);
            }
        }
        Some(buckets)
    }
}

/// Whether `text` is an HTTP token (RFC 9110): a method, or a header name.
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`: a Prometheus label name (the request labels' names, the push's
/// grouping labels).
#[cfg(any(feature = "actix", feature = "axum", feature = "push"))]
pub(crate) fn is_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn latency_thresholds_become_boundaries_in_order_once() {
        let latency = |ms| Objective::new("o").latency(Duration::from_millis(ms), 0.9);
        let config = Config::new().objectives(&[latency(300), latency(250), latency(300)]);
        let mut expected = prometheus::DEFAULT_BUCKETS.to_vec();
        expected.insert(6, 0.3);
        assert_eq!(config.histogram_buckets(), Some(expected));

        let config = Config::new()
            .buckets(vec![0.1, 1.0, f64::INFINITY])
            .objectives(&[latency(20_000), latency(50), latency(1_000), latency(500)]);
        assert_eq!(
            config.histogram_buckets(),
            Some(vec![0.05, 0.1, 0.5, 1.0, 20.0, f64::INFINITY])
        );
        assert_eq!(Config::new().histogram_buckets(), None);
    }
}
