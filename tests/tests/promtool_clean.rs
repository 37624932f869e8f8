//! `promtool check metrics`, its lint included, finds nothing in any exposition the project
//! makes (CONTRACT §11, §13): a scrape of each example binary (`actix-app`, `axum-app`,
//! `worker`) after traffic that makes every family appear, and an in-process registry with
//! every runtime feature this package enables, the user's own counter, gauge and histogram
//! beside ours, with and without a namespace and constant labels. Nothing at all: exit 0
//! and no output (`metrics_tests::tool::promtool_check_metrics`).
//!
//! Only the text format 0.0.4: promtool lints no other (prometheus/prometheus#8932). Given
//! an OpenMetrics scrape it reads it as 0.0.4, fails to parse the first exemplar and, without
//! one, reports every counter as a family without HELP (OpenMetrics names the family
//! `x`, its sample `x_total`); `openmetrics.rs` checks that format with a parser of its own
//! and against the text scrape of the same registry.

use std::collections::BTreeSet;
use std::time::Duration;

use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, HttpResponse, get};
use metrics_tests::app::{Example, RunningApp};
use metrics_tests::http::get as http_get;
use metrics_tests::rerun::in_child;
use metrics_tests::routes;
use metrics_tests::tool::promtool_check_metrics;
use metrics_tests::traffic::Traffic;
use metrics_tests::wait;
use track_metrics::prometheus::{Gauge, HistogramOpts, HistogramVec, IntCounterVec, Opts};
use track_metrics::{Config, Objective, ResponseStatus, track_metrics};

/// `(name, type)`: every family of section 4 (the process collector's among them) and of
/// section 11.
const FAMILIES: [(&str, &str); 9] = [
    ("http_requests_total", "counter"),
    ("http_request_duration_seconds", "histogram"),
    ("http_requests_in_flight", "gauge"),
    ("http_objective_info", "gauge"),
    ("http_objective_success_target", "gauge"),
    ("http_objective_latency_target", "gauge"),
    ("build_info", "gauge"),
    ("process_cpu_seconds_total", "counter"),
    ("process_resident_memory_bytes", "gauge"),
];

/// `(name, type)`: section 6's families.
const WEBSOCKET: [(&str, &str); 4] = [
    ("websocket_connections_total", "counter"),
    ("websocket_connections_active", "gauge"),
    ("websocket_messages_total", "counter"),
    ("websocket_connection_duration_seconds", "histogram"),
];

/// A trace id of a sampled `traceparent`: an exemplar on its bucket.
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// `(name, type)` of each `# TYPE` line of a text exposition.
fn types(text: &str) -> BTreeSet<(String, String)> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .map(|rest| {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name type");
            (name.to_owned(), kind.to_owned())
        })
        .collect()
}

/// The text scrape holds the `expected` families (ours with the namespace `prefix`, not the
/// process collector's or the user's), and promtool finds nothing in it.
fn assert_clean(text: &str, prefix: &str, expected: &[(&str, &str)]) {
    let found = types(text);
    for (name, kind) in expected {
        let name = if name.starts_with("process_") || name.starts_with("user_") {
            (*name).to_owned()
        } else {
            format!("{prefix}{name}")
        };
        assert!(
            found.contains(&(name.clone(), (*kind).to_owned())),
            "{name} ({kind}) is not in the scrape: {found:?}"
        );
    }
    promtool_check_metrics(text);
}

/// `GET /metrics` without `Accept`: the text format.
fn scrape_text(app: &RunningApp) -> String {
    let answer = http_get(&app.url("/metrics"), &[]);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.content_type.as_deref(),
        Some(track_metrics::CONTENT_TYPE)
    );
    answer.body
}

#[test]
fn actix_app_scrape_is_promtool_clean() {
    let app = RunningApp::start_example(Example::Actix, &[]);
    routes::call_every_route(&app);
    let traffic = Traffic::new(&app);
    traffic.traced(&[TRACE]);
    traffic.websocket(true);
    let text = scrape_text(&app);
    let mut expected = FAMILIES.to_vec();
    expected.extend(WEBSOCKET);
    expected.push(("demo_test_metrics_total", "counter"));
    assert_clean(&text, "", &expected);
    assert_eq!(app.terminate().code(), Some(0));
}

#[test]
fn axum_app_scrape_is_promtool_clean() {
    let app = RunningApp::start_example(Example::Axum, &[]);
    routes::call_every_route(&app);
    Traffic::new(&app).traced(&[TRACE]);
    let text = scrape_text(&app);
    let mut expected = FAMILIES.to_vec();
    expected.push(("demo_test_metrics_total", "counter"));
    assert_clean(&text, "", &expected);
    assert_eq!(app.terminate().code(), Some(0));
}

#[test]
fn worker_scrape_is_promtool_clean() {
    // 20 jobs: jobs 10 and 20 fail (500), the others succeed.
    let worker = RunningApp::start_example(
        Example::Worker,
        &[("WORKER_JOBS", "20"), ("WORKER_INTERVAL_MS", "1")],
    );
    wait::poll("the 20 jobs", Duration::from_secs(30), || {
        let done = worker.scrape().observed("jobs::notify", "", "");
        if done == 18.0 {
            Ok(())
        } else {
            Err(format!("{done} notified"))
        }
    });
    let text = scrape_text(&worker);
    let expected: Vec<(&str, &str)> = FAMILIES
        .into_iter()
        .filter(|(name, _)| !name.starts_with("http_objective"))
        .collect();
    assert_clean(&text, "", &expected);
    assert_eq!(worker.terminate().code(), Some(0));
}

const CHECKOUT: Objective = Objective::new("checkout")
    .success_rate(0.999)
    .latency(Duration::from_millis(250), 0.99);
/// 300 ms: a bucket once listed in `Config::objectives`, else measured at 0.5.
const SEARCH: Objective = Objective::new("search").latency(Duration::from_millis(300), 0.95);
/// Above the largest bucket: measured at `+Inf`.
const EXPORT: Objective = Objective::new("export")
    .success_rate(0.9)
    .latency(Duration::from_secs(60), 0.9);

struct Answer(u16);

impl ResponseStatus for Answer {
    fn status(&self) -> u16 {
        self.0
    }
}

#[track_metrics(objective = CHECKOUT)]
fn checkout(status: u16) -> Answer {
    Answer(status)
}

#[track_metrics(objective = SEARCH, route = "/search")]
fn search() -> Answer {
    Answer(200)
}

#[track_metrics(objective = EXPORT)]
fn export() -> Result<(), std::io::Error> {
    Err(std::io::Error::other("disk full"))
}

#[get("/orders/{id}")]
#[track_metrics(objective = CHECKOUT, name = "get_order")]
async fn get_order(id: actix_web::web::Path<u32>) -> HttpResponse {
    if *id > 100 {
        HttpResponse::NotFound().finish()
    } else {
        HttpResponse::Ok().finish()
    }
}

/// The user's own families, registered with the runtime's registry.
fn register_own() {
    let registry = track_metrics::registry();
    let jobs = IntCounterVec::new(Opts::new("user_jobs_total", "Jobs run."), &["queue"]).unwrap();
    let depth = Gauge::new("user_queue_depth", "Jobs waiting.").unwrap();
    let sizes = HistogramVec::new(
        HistogramOpts::new("user_payload_bytes", "Payload sizes.")
            .buckets(vec![64.0, 1024.0, 65536.0]),
        &["queue"],
    )
    .unwrap();
    registry.register(Box::new(jobs.clone())).unwrap();
    registry.register(Box::new(depth.clone())).unwrap();
    registry.register(Box::new(sizes.clone())).unwrap();
    jobs.with_label_values(&["mail"]).inc_by(3);
    depth.set(7.0);
    sizes.with_label_values(&["mail"]).observe(300.0);
}

/// Every family the runtime makes in-process: tracked calls of many statuses and of each
/// kind of objective, requests through the actix middleware (one traced: an exemplar), a
/// series only in flight, `build_info!()`, and the user's own families; then `render()`.
async fn exercise_and_render() -> String {
    register_own();
    track_metrics::build_info!();
    for status in [200, 201, 204, 301, 400, 404, 418, 500, 503] {
        let _ = checkout(status);
    }
    let _ = search();
    let _ = export();
    let app = init_service(
        App::new()
            .wrap(track_metrics::actix::RequestMetrics::default())
            .service(get_order),
    )
    .await;
    let traced = TestRequest::get()
        .uri("/orders/1")
        .insert_header(("traceparent", format!("00-{TRACE}-00f067aa0ba902b7-01")))
        .to_request();
    assert_eq!(call_service(&app, traced).await.status(), 200);
    for (uri, status) in [("/orders/101", 404), ("/nowhere", 404)] {
        let resp = call_service(&app, TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(resp.status(), status, "{uri}");
    }
    track_metrics::render()
}

/// What [`exercise_and_render`] must expose, the user's families among them.
fn in_process_families() -> Vec<(&'static str, &'static str)> {
    let mut expected = FAMILIES.to_vec();
    expected.extend([
        ("user_jobs_total", "counter"),
        ("user_queue_depth", "gauge"),
        ("user_payload_bytes", "histogram"),
    ]);
    expected
}

#[actix_web::test]
async fn in_process_registry_is_promtool_clean() {
    if !in_child("in_process_registry_is_promtool_clean", &[&[]]) {
        return;
    }
    let text = exercise_and_render().await;
    assert_clean(&text, "", &in_process_families());
}

#[actix_web::test]
async fn in_process_registry_with_namespace_and_const_labels_is_promtool_clean() {
    if !in_child(
        "in_process_registry_with_namespace_and_const_labels_is_promtool_clean",
        &[&[]],
    ) {
        return;
    }
    track_metrics::configure(
        Config::new()
            .namespace("shop")
            .const_label("region", "eu")
            .objectives(&[SEARCH]),
    )
    .unwrap();
    let text = exercise_and_render().await;
    assert!(
        text.contains("le=\"0.3\""),
        "SEARCH's threshold is a bucket"
    );
    assert_clean(&text, "shop_", &in_process_families());
}
