//! `track_metrics::exporter` (cargo feature `exporter`) over a real socket: tracked calls
//! made in other threads read back exactly from its `/metrics`; `/` points there and
//! anything else is `404` without a new series; concurrent scrapes; a bad address is an
//! `Err` naming it; dropping it stops it; `METRICS_TOKEN` and `PROMETHEUS_ENABLED=false`
//! apply as on the frameworks' `/metrics` (in child processes, the settings being read
//! once per process).

use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::thread;

use metrics_tests::http::{get, send};
use metrics_tests::rerun::in_child;
use metrics_tests::scrape::Scrape;
use track_metrics::exporter::{self, Exporter};
use track_metrics::track_metrics;

/// What Prometheus 2 sends.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

#[track_metrics(name = "orders::consume")]
fn consume(order: u64) -> Result<(), String> {
    if order.is_multiple_of(10) {
        Err("out of stock".to_owned())
    } else {
        Ok(())
    }
}

#[track_metrics]
fn ex_other() {}

// One exporter for the tests of this process that share it.
fn shared() -> &'static Exporter {
    static EXPORTER: OnceLock<Exporter> = OnceLock::new();
    EXPORTER.get_or_init(|| exporter::spawn(loopback()).expect("an exporter on a free port"))
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn scrape(addr: SocketAddr) -> Scrape {
    let answer = get(&format!("http://{addr}/metrics"), &[]);
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.content_type.as_deref(),
        Some(track_metrics::CONTENT_TYPE)
    );
    Scrape::parse(&answer.body)
}

#[test]
fn calls_made_in_other_threads_read_back_exactly() {
    let addr = shared().local_addr();
    thread::scope(|scope| {
        for worker in 0..4 {
            scope.spawn(move || {
                for order in 0..250 {
                    let _ = consume(worker * 1000 + order);
                }
            });
        }
    });
    let scrape = scrape(addr);
    assert_eq!(scrape.requests("orders::consume", "", "", "200"), 900.0);
    assert_eq!(scrape.requests("orders::consume", "", "", "500"), 100.0);
    assert_eq!(scrape.observed("orders::consume", "", ""), 1000.0);
    assert_eq!(scrape.in_flight("orders::consume", "", ""), 0.0);
    // OpenMetrics when preferred, as Prometheus asks.
    let om = get(
        &format!("http://{addr}/metrics"),
        &[("accept", PROMETHEUS_ACCEPT)],
    );
    assert_eq!(
        om.content_type.as_deref(),
        Some(track_metrics::OPENMETRICS_CONTENT_TYPE)
    );
    assert!(om.body.ends_with("# EOF\n"));
}

#[test]
fn the_root_points_to_metrics_and_anything_else_is_404_without_new_series() {
    let addr = shared().local_addr();
    ex_other();
    let root = get(&format!("http://{addr}/"), &[]);
    assert_eq!(
        (root.status, root.body.as_str()),
        (200, "metrics are at /metrics\n")
    );
    let before = scrape(addr).keys().count();
    for i in 0..200 {
        let path = format!("http://{addr}/junk/{i}?x={i}");
        assert_eq!(send("GET", &path).status, 404);
    }
    assert_eq!(send("POST", &format!("http://{addr}/metrics")).status, 404);
    assert_eq!(send("DELETE", &format!("http://{addr}/")).status, 404);
    assert_eq!(scrape(addr).keys().count(), before, "no new series");
}

#[test]
fn concurrent_scrapes_all_answer() {
    let addr = shared().local_addr();
    ex_other();
    thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(move || {
                for _ in 0..20 {
                    let scrape = scrape(addr);
                    assert!(scrape.observed("ex_other", "", "") >= 1.0);
                }
            });
        }
        scope.spawn(|| {
            for _ in 0..2000 {
                ex_other();
            }
        });
    });
}

#[test]
fn a_bad_address_is_an_error_that_names_it() {
    // In use: the shared exporter's.
    let taken = shared().local_addr();
    let err = exporter::spawn(taken).unwrap_err();
    assert_eq!(err.addr(), taken);
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("cannot serve metrics on {taken}: ")),
        "{message}"
    );
    assert!(!message.contains('\n'));
    // Not an address of this machine (TEST-NET-1).
    let foreign: SocketAddr = "192.0.2.1:9464".parse().unwrap();
    let message = exporter::spawn(foreign).unwrap_err().to_string();
    assert!(message.contains("192.0.2.1:9464"), "{message}");
}

#[test]
fn dropping_it_stops_it() {
    let exporter = exporter::spawn(loopback()).unwrap();
    let addr = exporter.local_addr();
    assert_eq!(get(&format!("http://{addr}/"), &[]).status, 200);
    drop(exporter);
    assert!(
        TcpStream::connect(addr).is_err(),
        "still listening on {addr}"
    );
}

#[tokio::test]
async fn serve_runs_on_the_callers_runtime() {
    // Bind a free port first, then serve there (`serve` binds itself).
    let addr = std::net::TcpListener::bind(loopback())
        .unwrap()
        .local_addr()
        .unwrap();
    let server = tokio::spawn(exporter::serve(addr));
    let answer = tokio::task::spawn_blocking(move || {
        metrics_tests::wait::wait_for("the exporter", std::time::Duration::from_secs(10), || {
            metrics_tests::http::try_get(&format!("http://{addr}/"), &[])
        })
    })
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    // A second `serve` on the same address: the error, at once.
    let err = exporter::serve(addr).await.unwrap_err();
    assert_eq!(err.addr(), addr);
    server.abort();
}

#[test]
fn the_token_and_the_disabled_setting_apply() {
    const TEST: &str = "the_token_and_the_disabled_setting_apply";
    if !in_child(
        TEST,
        &[
            &[("METRICS_TOKEN", "s3cret")],
            &[("PROMETHEUS_ENABLED", "false")],
        ],
    ) {
        return;
    }
    let exporter = exporter::spawn(loopback()).unwrap();
    let url = format!("http://{}/metrics", exporter.local_addr());
    if std::env::var("PROMETHEUS_ENABLED").as_deref() == Ok("false") {
        assert_eq!(get(&url, &[]).status, 404);
        return;
    }
    assert_eq!(get(&url, &[]).status, 401);
    assert_eq!(get(&url, &[("authorization", "Bearer wrong")]).status, 401);
    assert_eq!(get(&url, &[("authorization", "Bearer s3cret")]).status, 200);
}
