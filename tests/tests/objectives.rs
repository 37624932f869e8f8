//! Objectives and build info: the series `docker/objectives.yml` reads, exposed when a
//! handler naming an objective is first called, with the configured namespace and
//! constant labels, the latency threshold among the duration buckets; and
//! `build_info!()`. Each case runs in a fresh process (`metrics_tests::rerun`).

use std::time::Duration;

use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, HttpResponse, get};
use metrics_tests::rerun::{capture_logs, in_child, logs};
use metrics_tests::scrape::Scrape;
use track_metrics::{Config, Objective, track_metrics};

const CHECKOUT: Objective = Objective::new("checkout")
    .success_rate(0.999)
    .latency(Duration::from_millis(250), 0.99);
/// 300 ms is not a default bucket: listed in `Config::objectives`, it becomes one.
const SEARCH: Objective = Objective::new("search").latency(Duration::from_millis(300), 0.95);
/// 400 ms is no bucket and not listed: measured at the next boundary above, 0.5.
const REPORTS: Objective = Objective::new("reports").latency(Duration::from_millis(400), 0.9);
const ONLY_SUCCESS: Objective = Objective::new("only_success").success_rate(0.99);

#[track_metrics(objective = CHECKOUT)]
fn create_order(id: u32) -> Result<u32, std::io::Error> {
    Ok(id)
}

#[track_metrics(objective = CHECKOUT)]
async fn pay(amount: u64) -> u64 {
    amount
}

#[track_metrics(objective = SEARCH, route = "/search")]
fn search(q: &str) -> usize {
    q.len()
}

#[track_metrics(objective = REPORTS)]
fn report() {}

#[track_metrics(objective = ONLY_SUCCESS)]
fn ping() {}

mod elsewhere {
    use track_metrics::track_metrics;

    // The same handler name as above, naming another objective: ignored, and logged.
    #[track_metrics(name = "ping", objective = super::CHECKOUT)]
    pub fn ping() {}
}

#[track_metrics]
fn plain_call() {}

fn render() -> Scrape {
    Scrape::parse(&track_metrics::render())
}

#[test]
fn objective_series_with_namespace_and_const_labels() {
    if !in_child("objective_series_with_namespace_and_const_labels", &[&[]]) {
        return;
    }
    capture_logs();
    track_metrics::configure(
        Config::new()
            .namespace("shop")
            .const_label("region", "eu")
            .objectives(&[SEARCH]),
    )
    .unwrap();

    // Nothing before first use.
    plain_call();
    let before = render();
    assert!(
        before.keys().all(|k| !k.starts_with("shop_http_objective")),
        "no objective series before a handler naming one is called: {:?}",
        before.keys().collect::<Vec<_>>()
    );

    create_order(1).unwrap();
    futures_lite_block_on(pay(2));
    search("x");
    report();
    ping();
    elsewhere::ping();
    let scrape = render();
    let region = ("region", "eu");

    let info = scrape.series("shop_http_objective_info");
    assert_eq!(
        info,
        [
            (
                "shop_http_objective_info{handler=\"create_order\",objective=\"checkout\",region=\"eu\"}".to_owned(),
                1.0
            ),
            (
                "shop_http_objective_info{handler=\"pay\",objective=\"checkout\",region=\"eu\"}".to_owned(),
                1.0
            ),
            (
                "shop_http_objective_info{handler=\"ping\",objective=\"only_success\",region=\"eu\"}".to_owned(),
                1.0
            ),
            (
                "shop_http_objective_info{handler=\"report\",objective=\"reports\",region=\"eu\"}".to_owned(),
                1.0
            ),
            (
                "shop_http_objective_info{handler=\"search\",objective=\"search\",region=\"eu\"}".to_owned(),
                1.0
            ),
        ]
    );
    let success = scrape.series("shop_http_objective_success_target");
    assert_eq!(
        success,
        [
            (
                "shop_http_objective_success_target{objective=\"checkout\",region=\"eu\"}"
                    .to_owned(),
                0.999
            ),
            (
                "shop_http_objective_success_target{objective=\"only_success\",region=\"eu\"}"
                    .to_owned(),
                0.99
            ),
        ]
    );
    let latency = scrape.series("shop_http_objective_latency_target");
    assert_eq!(
        latency,
        [
            (
                "shop_http_objective_latency_target{objective=\"checkout\",region=\"eu\",threshold=\"0.25\"}".to_owned(),
                0.99
            ),
            (
                "shop_http_objective_latency_target{objective=\"reports\",region=\"eu\",threshold=\"0.5\"}".to_owned(),
                0.9
            ),
            (
                "shop_http_objective_latency_target{objective=\"search\",region=\"eu\",threshold=\"0.3\"}".to_owned(),
                0.95
            ),
        ]
    );

    // Each `threshold` is the `le` of a bucket of the duration histogram, written the same
    // way: 0.3 was added to the default buckets, and nothing else.
    let bucket = |handler: &str, le: &str| {
        scrape.get(
            "shop_http_request_duration_seconds_bucket",
            &[
                ("handler", handler),
                ("le", le),
                ("method", ""),
                region,
                ("route", if handler == "search" { "/search" } else { "" }),
            ],
        )
    };
    assert_eq!(bucket("create_order", "0.25"), Some(1.0));
    assert_eq!(bucket("search", "0.3"), Some(1.0));
    assert_eq!(bucket("report", "0.5"), Some(1.0));
    let les: Vec<String> = scrape
        .samples("shop_http_request_duration_seconds_bucket")
        .iter()
        .filter(|(labels, _)| metrics_tests::scrape::label(labels, "handler") == "search")
        .map(|(labels, _)| metrics_tests::scrape::label(labels, "le").to_owned())
        .collect();
    assert_eq!(
        les,
        [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.3", "0.5", "1", "2.5", "5", "10",
            "+Inf"
        ]
    );

    // One warning each: the threshold measured at another bucket, two functions under
    // one handler name (one of them named by default; see tests/names.rs), the second
    // objective of that handler.
    let warnings: Vec<String> = logs()
        .into_iter()
        .filter(|l| l.starts_with("WARN"))
        .collect();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings[0].contains("objective `reports`") && warnings[0].contains("le=\"0.5\""));
    assert!(
        warnings[1].contains("handler=\"ping\"")
            && warnings[1].contains("`objectives::ping`")
            && warnings[1].contains("`objectives::elsewhere::ping`")
    );
    assert!(warnings[2].contains("handler `ping` already counts toward objective `only_success`"));

    // Calling again changes nothing.
    report();
    elsewhere::ping();
    assert_eq!(logs().iter().filter(|l| l.starts_with("WARN")).count(), 3);
    assert_eq!(render().series("shop_http_objective_info"), info);
}

#[get("/orders/{id}")]
#[track_metrics(objective = CHECKOUT, name = "get_order")]
async fn get_order() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[actix_web::test]
async fn a_handler_under_the_middleware_joins_its_objective() {
    if !in_child("a_handler_under_the_middleware_joins_its_objective", &[&[]]) {
        return;
    }
    let app = init_service(
        App::new()
            .wrap(track_metrics::actix::RequestMetrics::default())
            .service(get_order),
    )
    .await;
    let resp = call_service(&app, TestRequest::get().uri("/orders/7").to_request()).await;
    assert_eq!(resp.status(), 200);
    let scrape = render();
    assert_eq!(
        scrape.get(
            "http_objective_info",
            &[("handler", "get_order"), ("objective", "checkout")]
        ),
        Some(1.0)
    );
    // The middleware counted the request under the handler's name: the rules join
    // on it.
    assert_eq!(
        scrape.requests("get_order", "GET", "/orders/{id}", "200"),
        1.0
    );
    assert_eq!(
        scrape.get(
            "http_objective_latency_target",
            &[("objective", "checkout"), ("threshold", "0.25")]
        ),
        Some(0.99)
    );
}

#[test]
fn build_info_names_the_build() {
    if !in_child(
        "build_info_names_the_build",
        &[&[("PROMETHEUS_ENABLED", "true")]],
    ) {
        return;
    }
    track_metrics::build_info!();
    track_metrics::build_info!();
    let scrape = render();
    assert_eq!(
        scrape.series("build_info"),
        [(
            format!(
                "build_info{{revision=\"{}\",service=\"metrics-tests\",version=\"{}\"}}",
                option_env!("GIT_REVISION").unwrap_or(""),
                env!("CARGO_PKG_VERSION")
            ),
            1.0
        )]
    );
}

#[test]
fn build_info_takes_a_configured_service_label() {
    if !in_child("build_info_takes_a_configured_service_label", &[&[]]) {
        return;
    }
    track_metrics::configure(
        Config::new()
            .namespace("app")
            .const_label("service", "checkout"),
    )
    .unwrap();
    track_metrics::build_info!();
    let series = render().series("app_build_info");
    assert_eq!(series.len(), 1);
    assert!(
        series[0].0.contains("service=\"checkout\"") && series[0].0.contains("version=\""),
        "{series:?}"
    );
}

#[test]
fn disabled_exposes_no_objective_and_no_build_info() {
    if !in_child(
        "disabled_exposes_no_objective_and_no_build_info",
        &[&[("PROMETHEUS_ENABLED", "false")]],
    ) {
        return;
    }
    track_metrics::build_info!();
    create_order(1).unwrap();
    let text = track_metrics::render();
    assert!(
        !text.contains("objective") && !text.contains("build_info"),
        "{text}"
    );
}

// A tiny executor for one future that never waits (`pay` awaits nothing).
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("the future waited"),
    }
}
