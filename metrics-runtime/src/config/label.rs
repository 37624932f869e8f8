//! [`RequestLabel`]: a label of the request families whose value comes from the request
//! (a tenant, a client app), declared in [`Config::label`](crate::Config::label), with
//! the bound that keeps its values few whatever the traffic.

use std::fmt;
use std::sync::Arc;

/// How many distinct values a label keeps when neither [`RequestLabel::allow`] nor
/// [`RequestLabel::max_values`] says.
pub(crate) const DEFAULT_MAX_VALUES: usize = 100;

/// The longest value kept, in bytes; a longer one is `_other`.
pub(crate) const MAX_VALUE_LEN: usize = 64;

/// How many request labels a configuration may declare: each multiplies the series.
pub(crate) const MAX_LABELS: usize = 8;

/// The value of a label whose value is not kept: past the bound, not allowed, over 64
/// bytes, or with a byte outside `!`..=`~`.
pub(crate) const OTHER: &str = "_other";

/// The labels of the request families a request label may not take: these, and the
/// OpenTelemetry naming's (`OTEL_LABELS`), so that switching the naming
/// (`Config::naming`) never makes a label clash.
const OURS: [&str; 5] = ["handler", "method", "route", "status", "le"];

/// A label of `http_requests_total`, `http_request_duration_seconds` and
/// `http_requests_in_flight` whose value comes from each request: a header, or a
/// closure over the framework's request. Declared in
/// [`Config::label`](crate::Config::label) and applied by the request middleware
/// (`actix::RequestMetrics`, `axum::RequestMetricsLayer`) to every request.
///
/// Bounded by construction: [`allow`](RequestLabel::allow) keeps the listed values,
/// [`max_values`](RequestLabel::max_values) the first `n` distinct values the process
/// sees (100 when neither is given). Any other value is `_other`; an absent or empty one
/// `""`; one over 64 bytes, or with a byte outside the visible ASCII characters
/// (`!`..=`~`), `_other`. So no traffic can make more than `bound + 2` values per label.
///
/// ```
/// use track_metrics::{Config, RequestLabel};
///
/// let config = Config::new()
///     .label(RequestLabel::header("tenant", "x-tenant").allow(["acme", "globex"]))
///     .label(RequestLabel::header("client", "x-client").max_values(20));
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct RequestLabel {
    pub(crate) name: String,
    pub(crate) source: Source,
    pub(crate) bound: Bound,
}

/// Where a request label's value comes from.
#[derive(Clone)]
pub(crate) enum Source {
    /// The first value of this header.
    Header(Header),
    /// A closure over actix-web's request, as the middleware receives it.
    #[cfg(feature = "actix")]
    Actix(Arc<ActixFn>),
    /// A closure over the head of axum's request, as the layer receives it.
    #[cfg(feature = "axum")]
    Axum(Arc<AxumFn>),
}

/// A header a request label reads: its name as given (in lower case), and parsed once
/// for each framework's header map (`None` when it is no valid name: `configure`
/// refuses it).
#[derive(Clone)]
pub(crate) struct Header {
    pub(crate) name: String,
    #[cfg(feature = "actix")]
    pub(crate) actix: Option<actix_web::http::header::HeaderName>,
    #[cfg(feature = "axum")]
    pub(crate) axum: Option<axum::http::HeaderName>,
}

impl Header {
    fn new(name: &str) -> Header {
        let name = name.to_ascii_lowercase();
        Header {
            #[cfg(feature = "actix")]
            actix: actix_web::http::header::HeaderName::from_lowercase(name.as_bytes()).ok(),
            #[cfg(feature = "axum")]
            axum: axum::http::HeaderName::from_lowercase(name.as_bytes()).ok(),
            name,
        }
    }
}

/// What [`RequestLabel::actix`] takes.
#[cfg(feature = "actix")]
pub(crate) type ActixFn =
    dyn for<'r> Fn(&'r actix_web::dev::ServiceRequest) -> Option<&'r str> + Send + Sync;

/// What [`RequestLabel::axum`] takes.
#[cfg(feature = "axum")]
pub(crate) type AxumFn =
    dyn for<'r> Fn(&'r axum::http::request::Parts) -> Option<&'r str> + Send + Sync;

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::Header(header) => format!("header `{}`", header.name),
            #[cfg(feature = "actix")]
            Source::Actix(_) => "a closure over actix-web's request".to_owned(),
            #[cfg(feature = "axum")]
            Source::Axum(_) => "a closure over axum's request".to_owned(),
        }
    }
}

/// Which values a request label keeps.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Bound {
    /// These values, exactly.
    Allow(Arc<[String]>),
    /// The first this many distinct values seen.
    Max(usize),
}

impl RequestLabel {
    /// The label `label` with the value of the request's header `header` (its first
    /// value, if the request has several; an empty value counts as absent).
    ///
    /// ```
    /// use track_metrics::RequestLabel;
    ///
    /// let tenant = RequestLabel::header("tenant", "X-Tenant");
    /// # let _ = tenant;
    /// ```
    pub fn header(label: impl Into<String>, header: impl AsRef<str>) -> RequestLabel {
        RequestLabel {
            name: label.into(),
            source: Source::Header(Header::new(header.as_ref())),
            bound: Bound::Max(DEFAULT_MAX_VALUES),
        }
    }

    /// The label `label` with the value `value` gives for actix-web's request, as
    /// `RequestMetrics` receives it (before routing: what its headers, its path, its
    /// connection or the extensions of middleware wrapped outside it say); `None` or an
    /// empty value counts as absent. Under axum's layer the value is always absent. A
    /// value learnt later (by an inner middleware, the handler) is given with
    /// [`set_label`](crate::set_label).
    ///
    /// ```
    /// use track_metrics::RequestLabel;
    ///
    /// // The API version from the path's first segment: `/v2/orders` gives `v2`.
    /// let version = RequestLabel::actix("api_version", |req| {
    ///     req.path().split('/').nth(1).filter(|segment| segment.starts_with('v'))
    /// })
    /// .allow(["v1", "v2"]);
    /// # let _ = version;
    /// ```
    #[cfg(feature = "actix")]
    #[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
    pub fn actix<F>(label: impl Into<String>, value: F) -> RequestLabel
    where
        F: for<'r> Fn(&'r actix_web::dev::ServiceRequest) -> Option<&'r str>
            + Send
            + Sync
            + 'static,
    {
        RequestLabel {
            name: label.into(),
            source: Source::Actix(Arc::new(value)),
            bound: Bound::Max(DEFAULT_MAX_VALUES),
        }
    }

    /// The label `label` with the value `value` gives for the head of axum's request
    /// (method, URI, headers, extensions), as `RequestMetricsLayer` receives it;
    /// `None` or an empty value counts as absent. Under actix-web's middleware the
    /// value is always absent. A value learnt later (by an inner layer, the handler) is
    /// given with [`set_label`](crate::set_label).
    ///
    /// ```
    /// use track_metrics::RequestLabel;
    ///
    /// // The API version from the path's first segment: `/v2/orders` gives `v2`.
    /// let version = RequestLabel::axum("api_version", |parts| {
    ///     parts.uri.path().split('/').nth(1).filter(|segment| segment.starts_with('v'))
    /// })
    /// .allow(["v1", "v2"]);
    /// # let _ = version;
    /// ```
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn axum<F>(label: impl Into<String>, value: F) -> RequestLabel
    where
        F: for<'r> Fn(&'r axum::http::request::Parts) -> Option<&'r str> + Send + Sync + 'static,
    {
        RequestLabel {
            name: label.into(),
            source: Source::Axum(Arc::new(value)),
            bound: Bound::Max(DEFAULT_MAX_VALUES),
        }
    }

    /// Keeps only these values (exact, case-sensitive); any other is `_other`. Each must
    /// be a value that can be kept: 1 to 64 bytes from `!` to `~`, not `_other`.
    ///
    /// ```
    /// use track_metrics::RequestLabel;
    ///
    /// let tenant = RequestLabel::header("tenant", "x-tenant").allow(["acme", "globex"]);
    /// # let _ = tenant;
    /// ```
    #[must_use]
    pub fn allow<I>(mut self, values: I) -> RequestLabel
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.bound = Bound::Allow(values.into_iter().map(Into::into).collect());
        self
    }

    /// Keeps the first `n` distinct values the process sees (one bound for all workers
    /// and threads; absent and invalid values take no slot); any later new value is
    /// `_other`. The values kept are the first ones seen since the process started: after
    /// a restart, the first `n` of the new process.
    ///
    /// ```
    /// use track_metrics::RequestLabel;
    ///
    /// let client = RequestLabel::header("client", "x-client").max_values(20);
    /// # let _ = client;
    /// ```
    #[must_use]
    pub fn max_values(mut self, n: usize) -> RequestLabel {
        self.bound = Bound::Max(n);
        self
    }

    /// The label's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    // Why this label cannot be used, if it cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        let name = &self.name;
        if !super::is_label_name(name) {
            return Err(format!(
                "request label `{name}` is not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"
            ));
        }
        if name.starts_with("__") {
            return Err(format!(
                "request label `{name}` starts with `__`, which Prometheus reserves"
            ));
        }
        if OURS.contains(&name.as_str()) || super::OTEL_LABELS.contains(&name.as_str()) {
            return Err(format!(
                "request label `{name}` is a label the request families already have"
            ));
        }
        if let Source::Header(header) = &self.source
            // A token: the name is in lower case already (`Header::new`).
            && !super::is_token(&header.name)
        {
            return Err(format!(
                "request label `{name}`: `{}` is not a valid header name",
                header.name
            ));
        }
        if let Bound::Allow(values) = &self.bound
            && let Some(value) = values.iter().find(|value| !is_kept(value))
        {
            return Err(format!(
                "request label `{name}`: allowed value `{value}` can never be kept (1 to 64 bytes from `!` to `~`, not `_other`)"
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for RequestLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestLabel")
            .field("name", &self.name)
            .field("source", &self.source.describe())
            .field("bound", &self.bound)
            .finish()
    }
}

/// Whether a value can be a label's own value: 1 to 64 bytes, each a visible ASCII
/// character, and not `_other`.
pub(crate) fn is_kept(value: impl AsRef<[u8]>) -> bool {
    let value = value.as_ref();
    !value.is_empty()
        && value.len() <= MAX_VALUE_LEN
        && value.iter().all(u8::is_ascii_graphic)
        && value != OTHER.as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for name in ["tenant", "_t", "client_app2", "T"] {
            assert!(RequestLabel::header(name, "x-h").check().is_ok(), "{name}");
        }
        for (name, reason) in [
            ("", "not a valid"),
            ("2x", "not a valid"),
            ("a-b", "not a valid"),
            ("tenänt", "not a valid"),
            ("__tenant", "reserves"),
            ("route", "already have"),
            ("http_route", "already have"),
            ("url_scheme", "already have"),
            ("status", "already have"),
            ("le", "already have"),
        ] {
            let err = RequestLabel::header(name, "x-h").check().unwrap_err();
            assert!(err.contains(&format!("`{name}`")), "{err}");
            assert!(err.contains(reason), "{err}");
        }
        let err = RequestLabel::header("t", "x tenant").check().unwrap_err();
        assert!(err.contains("not a valid header name"), "{err}");
    }

    #[test]
    fn allowed_values_must_be_keepable() {
        let ok = RequestLabel::header("t", "x-t").allow(["acme", "a.b-c_d~!"]);
        assert!(ok.check().is_ok());
        for bad in ["", "_other", "has space", "é", &"x".repeat(65)] {
            let err = RequestLabel::header("t", "x-t")
                .allow(["acme", bad])
                .check()
                .unwrap_err();
            assert!(err.contains("can never be kept"), "{bad}: {err}");
        }
        assert!(is_kept("x".repeat(64)));
    }
}
