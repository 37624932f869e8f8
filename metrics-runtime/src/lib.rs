//! Prometheus RED metrics for Rust web handlers, one line each.
//!
//! Put [`#[track_metrics]`](track_metrics) on a handler and every call is counted by
//! status in `http_requests_total`, timed into `http_request_duration_seconds` and
//! tracked in `http_requests_in_flight`. Wrap the app in [`actix::RequestMetrics`] and
//! every request is counted once, with the route actix matched, the status it sent and
//! the tracked handler that answered. Mount [`actix::metrics`] to serve them. On axum
//! (cargo feature `axum`, without the default `actix`), `axum::RequestMetricsLayer` and
//! `axum::metrics` do the same for a `Router`.
//!
//! Add it with `cargo add track-metrics` (for axum:
//! `cargo add track-metrics --no-default-features --features axum`; the `axum` module
//! has its example).
//!
//! ```no_run
//! # #[cfg(feature = "actix")]
//! # mod example {
//! use actix_web::{App, HttpResponse, HttpServer, get};
//! use track_metrics::actix::RequestMetrics;
//! use track_metrics::track_metrics;
//!
//! #[track_metrics] // above the route attribute, so it can read method and route
//! #[get("/")]
//! async fn index() -> HttpResponse {
//!     HttpResponse::Ok().body("hello")
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     HttpServer::new(|| {
//!         App::new()
//!             .wrap(RequestMetrics::default())
//!             .service(index)
//!             .service(track_metrics::actix::metrics)
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! Families are registered lazily in [`registry()`] (the prometheus crate's default
//! registry unless [`configure`]d), so your own metrics show up on the same `/metrics`.
//! `PROMETHEUS_ENABLED=false` turns everything off ([`enabled`]); `METRICS_TOKEN`
//! protects `/metrics` with a bearer token. With the `ws` cargo feature, `ws::track`
//! counts the connections and messages of actix-ws WebSockets.
//!
//! | cargo feature | default | adds |
//! |---|---|---|
//! | `actix` | yes | actix-web 4: `actix::RequestMetrics`, `actix::metrics`, the status of its types |
//! | `ws` | no | `ws`: WebSocket metrics on actix-ws (implies `actix`) |
//! | `axum` | no | axum 0.8: `axum::RequestMetricsLayer`, `axum::metrics`, the status of its types |
//! | `opentelemetry` | no | exemplars from the current OpenTelemetry span (opentelemetry 0.31; `tracing` spans through tracing-opentelemetry 0.32), for tracked calls and requests |
//! | `exporter` | no | `exporter::spawn` / `exporter::serve`: `/metrics` on a port of its own, without a web framework (hyper 1, tokio) |
//! | `push` | no | `push::push` / `push::Pusher`: the registry pushed to a Prometheus Pushgateway, for batch jobs (hyper 1's client, tokio) |
//! | `metrics-rs` | no | `metrics_rs::install`: what is recorded through the `metrics` facade (metrics 0.24) served on the same `/metrics` |
//! | `native-histograms` | no | native (exponential) buckets in `http_request_duration_seconds` beside the classic ones, and the protobuf exposition that carries them (`render_protobuf`, negotiated by `/metrics`; prost 0.14) |

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The layers, lowest first; each module imports only from the layers above it in this
// list (ARCHITECTURE.md has the map, and scripts/check-layers checks the `use` lines).
//
// 1. Leaf concerns: the configuration, the environment, what a response is.
mod config;
mod responds;
mod settings;
mod trace;
// 2. Storage: one label set's counts, its per-thread shards, the clock.
mod storage;
// 3. Families: the metric families, their labels and buckets.
mod families;
// 4. Exposition: the families as Prometheus reads them (the collector, the encoders).
mod exposition;
// 5. The registry: the process-wide runtime, `configure`, one series per label set,
//    `render` and the `/metrics` answer.
mod registry;
// 6. Recording: call sites and their guards, the request a middleware serves.
mod recording;
// 7. The status rules, and the probe that finishes a tracked call with its value's
//    status.
mod status;
// 8. Adapters: actix-web, axum, tonic, actix-ws, the standalone exporter, the push, the
//    `metrics` facade, and what generated
//    code calls.
#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
#[cfg(feature = "exporter")]
#[cfg_attr(docsrs, doc(cfg(feature = "exporter")))]
pub mod exporter;
#[cfg(feature = "metrics-rs")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics-rs")))]
pub mod metrics_rs;
#[cfg(feature = "push")]
#[cfg_attr(docsrs, doc(cfg(feature = "push")))]
pub mod push;
#[cfg(feature = "tonic")]
#[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
pub mod tonic;
#[cfg(feature = "ws")]
#[cfg_attr(docsrs, doc(cfg(feature = "ws")))]
pub mod ws;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[cfg(any(feature = "actix", feature = "axum"))]
pub use config::RequestLabel;
pub use config::{Config, Error, Naming, Objective};
#[cfg(feature = "native-histograms")]
pub use exposition::PROTOBUF_CONTENT_TYPE;
pub use exposition::{CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE};
#[cfg(any(feature = "actix", feature = "axum"))]
pub use recording::request::set_label;
#[cfg(feature = "native-histograms")]
pub use registry::render_protobuf;
pub use registry::{configure, registry};
pub use registry::{render, render_openmetrics, try_render};
pub use settings::{ENV_ENABLED, ENV_TOKEN, enabled};
pub use status::ResponseStatus;

/// The prometheus crate (0.14) that [`registry()`] belongs to, re-exported: register
/// metrics of your own with the very version this crate uses, and they are served on the
/// same `/metrics`. (Your own `prometheus = "0.14"` dependency works as well, with any of
/// its features.)
///
/// ```
/// use track_metrics::prometheus::{IntCounter, Opts};
///
/// let jobs = IntCounter::with_opts(Opts::new("jobs_done_total", "Jobs done.")).unwrap();
/// track_metrics::registry().register(Box::new(jobs.clone())).unwrap();
/// jobs.inc();
/// assert!(track_metrics::render().contains("jobs_done_total 1"));
/// ```
pub use prometheus;

/// Exposes `build_info{service, version, revision}` = 1: which build of the program is
/// running. Call it once, in `main`.
///
/// `service` and `version` are the calling crate's name and version (`CARGO_PKG_NAME`,
/// `CARGO_PKG_VERSION`); `revision` is the `GIT_REVISION` environment variable at build
/// time (`GIT_REVISION=$(git rev-parse --short HEAD) cargo build`), empty when it is
/// unset. The family takes the configured namespace and constant labels, like every
/// other (a constant label `service`, when configured, names the service instead).
/// Later calls change nothing; with metrics disabled it registers nothing.
///
/// ```
/// track_metrics::build_info!();
/// # let text = track_metrics::render();
/// # assert!(text.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))));
/// ```
#[macro_export]
macro_rules! build_info {
    () => {
        $crate::__private::build_info(
            ::core::env!("CARGO_PKG_NAME"),
            ::core::env!("CARGO_PKG_VERSION"),
            match ::core::option_env!("GIT_REVISION") {
                ::core::option::Option::Some(revision) => revision,
                ::core::option::Option::None => "",
            },
        )
    };
}

/// Records Prometheus RED metrics for every call of a function.
///
/// Each call raises `http_requests_in_flight` while it runs, is timed into
/// `http_request_duration_seconds` and is counted in `http_requests_total` with the
/// status it answered with, under the labels `handler`, `method` and `route`.
///
/// Under [`actix::RequestMetrics`] (or axum's `RequestMetricsLayer`), the handler's call
/// names the request instead: the middleware counts the request, with the route the
/// framework matched and the status it sent, and the call records nothing of its own. (The call that names a request is
/// the first tracked call that starts while it is served, is not inside another
/// tracked call, and returns a response; every other tracked call counts on its own.)
///
/// Put it **above** the actix-web route attribute (`#[get]`, `#[post]`, `#[route]`,
/// ...): it then reads the method and the route pattern from it. Below it, the
/// attribute cannot see the route (actix-web has already turned the function into a
/// service): calls are still counted, with empty `method` and `route` unless they are
/// given as arguments.
///
/// # Arguments
///
/// All optional, in any order, each at most once:
///
/// | argument | the label it sets | default |
/// |---|---|---|
/// | `name = "..."` | `handler` | the function's name (see [Names](#names)) |
/// | `method = "GET"` | `method` (upper case; several joined by `,`) | from the route attribute, else empty |
/// | `route = "/users/{id}"` | `route`: the pattern, never the raw path | from the route attribute, else empty |
/// | `crate = "..."` | – (path of this crate in generated code) | `::track_metrics` |
/// | `objective = PATH` | – (the [`Objective`] constant the handler counts toward) | none |
///
/// # Names
///
/// Two different functions with one `handler` name count in the same series. When
/// that is on purpose, say so: give both the same `name = "…"`. When one of them took
/// the name by default (three functions called `handler` in three modules, `get` in two
/// `impl` blocks), the first call of the second one logs a warning (the `log` crate,
/// once per name) naming both functions, their files and lines, and the fix: a
/// `name = "…"` of its own. Calls of one function (every instantiation of a generic one
/// included) are never two functions.
///
/// # Status
///
/// The `status` label is decided by the type of the value the function returns, at
/// compile time (through type aliases and `impl Trait` too), when the call counts on
/// its own (a request the middleware counts has the status the framework sent):
///
/// | the function's value | `status` |
/// |---|---|
/// | `HttpResponse` (any body) | its status code |
/// | `(T, StatusCode)` | that status code |
/// | `Ok(v)` of a `Result` | the status of `v` by this table |
/// | `Err(e)`, `e` an `actix_web::Error` or a `ResponseError` | `e.status_code()` |
/// | `Err(e)` otherwise | `500` |
/// | `Some(v)` / `None` of an `Option` | the status of `v` / `404` |
/// | a type implementing [`ResponseStatus`] | what it reports |
/// | anything else (`String`, `&str`, `Json<T>`, `Html`, `()`) | `200` |
/// | the function panicked | `500`, and the panic keeps unwinding |
/// | the future was dropped before it finished | `499` |
///
/// axum's `StatusCode`, `Response<B>`, `(StatusCode, T)` and rejections count their
/// status too (see [`ResponseStatus`]); the repository's guide `docs/status.md` has the
/// details. Implement [`ResponseStatus`] for your own responders and errors to count
/// the status they really send. Whatever the outcome, a panic or a dropped future
/// included, the in-flight gauge goes back down and the duration is observed exactly
/// once per call.
///
/// # Examples
///
/// ```
/// use actix_web::{HttpResponse, ResponseError, get, http::StatusCode, web};
/// use track_metrics::track_metrics;
///
/// #[derive(Debug)]
/// struct NotFound;
/// impl std::fmt::Display for NotFound {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("not found")
///     }
/// }
/// impl ResponseError for NotFound {
///     fn status_code(&self) -> StatusCode {
///         StatusCode::NOT_FOUND
///     }
/// }
///
/// /// Counted as `handler="get_user", method="GET", route="/users/{id}"`.
/// #[track_metrics]
/// #[get("/users/{id}")]
/// async fn get_user(id: web::Path<u32>) -> Result<HttpResponse, NotFound> {
///     if *id > 100 {
///         return Err(NotFound); // status="404"
///     }
///     Ok(HttpResponse::Ok().body(format!("user {id}"))) // status="200"
/// }
///
/// // Any function, sync or async, with explicit labels:
/// #[track_metrics(name = "Billing::charge", method = "POST", route = "/charge")]
/// fn charge(amount: u64) -> Result<u64, std::io::Error> {
///     Ok(amount)
/// }
/// # assert_eq!(charge(3).unwrap(), 3);
/// ```
///
/// # Equivalent code
///
/// `get_user` above becomes, in effect (`CallSite`, `responds` and `status` stand for
/// items of the hidden, unstable `track_metrics::__private`):
///
/// ```ignore
/// async fn get_user(id: web::Path<u32>) -> Result<HttpResponse, NotFound> {
///     static SITE: CallSite = CallSite::new("get_user", "GET", "/users/{id}");
///     // `None` when metrics are disabled; `responds`: whether the value is a response
///     // (decided from the return type at compile time), so it can name a request. Then
///     // which function this is, for the first call's check of the name (its module;
///     // `""`: the handler's name is its own; the file and line come with the call).
///     let guard = SITE.start(responds::<Result<HttpResponse, NotFound>>(), module_path!(), "");
///     let out = async move { /* the original body */ }.await;
///     status(&out).__metrics_finish(guard); // with a guard: records the status of `out`
///     out
/// }
/// ```
///
/// The inner `async` block (a closure in a plain `fn`) is where `return` and `?` land,
/// so that the outcome can be seen. The real expansion picks a cheaper equivalent where
/// it can, with the same effect: the body as a plain block when it cannot leave early,
/// a closure when it awaits nothing. The call site's own counts are allocated on the
/// first call and kept by the `static`, so a call does no hashing, allocation or
/// locking; the first call also checks that no other function uses its handler name
/// ([Names](#names)). A guard dropped without being finished records `500` while panicking and
/// `499` otherwise (a cancelled future). The signature, attributes and doc comments of
/// the function are unchanged.
///
/// # Renamed dependency
///
/// Generated code names `::track_metrics`. If you renamed the dependency, or reach
/// it through a re-export, say where it is:
///
/// ```
/// # use track_metrics as rt;
/// #[rt::track_metrics(crate = "rt")]
/// fn work() {}
/// # work();
/// ```
pub use track_metrics_macros::track_metrics;
