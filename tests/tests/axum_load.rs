//! `RequestMetricsLayer` over a real socket (`axum::serve` on 127.0.0.1): under load, 4
//! client threads × 10 000 requests on keep-alive connections while `/metrics` is
//! scraped the whole time: every request counted and timed exactly once, nothing stays
//! in flight, no counter ever goes down in any scrape. And what stays bounded (CONTRACT
//! §8): a flood of random paths and methods adds no series beyond `route=""` per method
//! and status.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use metrics_tests::junk::Junk;
use metrics_tests::scrape::Scrape;
use metrics_tests::server::{Connection, serve_on_own_runtime};
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::track_metrics;

const CLIENTS: usize = 4;
const REQUESTS: usize = 10_000;

#[track_metrics]
async fn axload_item(Path(id): Path<u32>) -> String {
    id.to_string()
}

#[track_metrics]
async fn axbound_item(Path(id): Path<u32>) -> String {
    format!("item {id}")
}

// Serves `app` on a free loopback port (for the rest of the process); its address.
fn serve(app: Router) -> SocketAddr {
    serve_on_own_runtime(|listener| async move {
        axum::serve(listener, app).await.expect("the server runs");
    })
}

#[test]
fn every_request_counted_exactly_once_under_load_with_scrapes() {
    let addr = serve(
        Router::new()
            .route("/axload/items/{id}", get(axload_item))
            .route("/axload/metrics", get(track_metrics::axum::metrics))
            .layer(RequestMetricsLayer::new()),
    );
    let done = Arc::new(AtomicBool::new(false));

    let scraper = {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            let mut connection = Connection::open(addr);
            let mut highest: HashMap<String, f64> = HashMap::new();
            let mut scrapes = 0u32;
            while !done.load(Ordering::Acquire) {
                let (status, body) = connection.send("GET", "/axload/metrics");
                assert_eq!(status, 200);
                scrapes += 1;
                let scrape = Scrape::parse(&body);
                for family in ["http_requests_total", "http_request_duration_seconds_count"] {
                    for (labels, value) in scrape.samples(family) {
                        let key = format!("{family}{labels:?}");
                        let high = highest.entry(key.clone()).or_insert(0.0);
                        assert!(*value >= *high, "{key} went down: {high} -> {value}");
                        *high = *value;
                    }
                }
                thread::sleep(Duration::from_millis(5));
            }
            (scrapes, connection)
        })
    };

    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            thread::spawn(move || {
                let mut connection = Connection::open(addr);
                for i in 0..REQUESTS {
                    let id = (client * REQUESTS + i) % 50;
                    let (status, body) = connection.send("GET", &format!("/axload/items/{id}"));
                    assert_eq!(status, 200);
                    assert_eq!(body, id.to_string());
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client failed");
    }
    done.store(true, Ordering::Release);
    let (scrapes, mut connection) = scraper.join().expect("the scraper failed");

    let (status, body) = connection.send("GET", "/axload/metrics");
    assert_eq!(status, 200);
    let last = Scrape::parse(&body);
    let sent = (CLIENTS * REQUESTS) as f64;
    // The scrapes are requests too: every earlier one counted, this one in flight.
    last.assert_exact_after_load(
        "axload_item",
        "/axload/items/{id}",
        sent,
        "/axload/metrics",
        scrapes,
    );
}

// The only test of this binary that reaches the fallback (`route=""`).
#[test]
fn a_flood_of_random_paths_and_methods_adds_no_series_beyond_the_bound() {
    let addr = serve(
        Router::new()
            .route("/axbound/items/{id}", get(axbound_item))
            .layer(RequestMetricsLayer::new()),
    );
    let mut connection = Connection::open(addr);
    assert_eq!(connection.send("GET", "/axbound/items/1").0, 200);
    let before = Scrape::parse(&track_metrics::render());

    let mut junk = Junk::new(0x9e37_79b9_7f4a_7c15);
    let path_chars = b"abcdefghijklmnopqrstuvwxyz0123456789-_.~%";
    for _ in 0..1000 {
        let len = 1 + (junk.number() % 40) as usize;
        let path = format!("/{}/{}", junk.word(path_chars, len), junk.number());
        assert_eq!(connection.send("GET", &path).0, 404, "{path}");
    }
    let method_chars = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ-";
    for i in 0..100 {
        let len = 3 + (junk.number() % 12) as usize;
        let method = junk.word(method_chars, len);
        let (uri, expected) = if i % 2 == 0 {
            (format!("/axbound/items/{i}"), 405)
        } else {
            (format!("/nowhere/{}", junk.number()), 404)
        };
        assert_eq!(connection.send(&method, &uri).0, expected, "{method} {uri}");
    }

    let after = Scrape::parse(&track_metrics::render());
    // Exactly these series are new: no raw path or method became a label value. (The
    // load test of this binary may add its own `/axload/` series meanwhile.)
    let mine = |scrape: &Scrape, family: &str| -> BTreeSet<String> {
        scrape
            .label_sets(family)
            .into_iter()
            .filter(|set| !set.contains("|/axload/"))
            .collect()
    };
    let new: BTreeSet<String> = mine(&after, "http_requests_total")
        .difference(&mine(&before, "http_requests_total"))
        .cloned()
        .collect();
    let expected: BTreeSet<String> = [
        "|GET||404",
        "|_OTHER||404",
        "|_OTHER|/axbound/items/{id}|405",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(new, expected);
    assert_eq!(after.requests("", "GET", "", "404"), 1000.0);
    assert_eq!(after.requests("", "_OTHER", "", "404"), 50.0);
    assert_eq!(
        after.requests("", "_OTHER", "/axbound/items/{id}", "405"),
        50.0
    );
    assert_eq!(after.observed("", "GET", ""), 1000.0);
    assert_eq!(after.in_flight("", "GET", ""), 0.0);
    assert_eq!(after.in_flight("", "_OTHER", ""), 0.0);
    for family in [
        "http_request_duration_seconds_count",
        "http_requests_in_flight",
    ] {
        let new = mine(&after, family).len() - mine(&before, family).len();
        assert!(new <= 3, "{family}: {new} new series");
    }
    assert!(
        !after.text.contains("/nowhere/"),
        "a raw path became a label"
    );
    assert!(
        after
            .text
            .lines()
            .filter(|l| l.starts_with("http_") && !l.contains("/axload/"))
            .count()
            < 200
    );
}
