//! `RequestMetrics` under load over a real socket: 4 client threads × 10 000 requests
//! against a wrapped app on 127.0.0.1 while `/metrics` is scraped the whole time. Every
//! request is counted and timed exactly once, nothing stays in flight, and no counter
//! ever goes down in any scrape.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use metrics_tests::http::get;
use metrics_tests::scrape::Scrape;
use track_metrics::track_metrics;

const CLIENTS: usize = 4;
const REQUESTS: usize = 10_000;

#[track_metrics]
async fn load_item(id: web::Path<u32>) -> HttpResponse {
    HttpResponse::Ok().body(id.to_string())
}

// Starts the app on a free loopback port in a thread of its own; returns its address.
fn serve() -> (String, actix_web::dev::ServerHandle) {
    metrics_tests::server::serve_actix(2, |routes| {
        routes
            .route("/load/items/{id}", web::get().to(load_item))
            .service(track_metrics::actix::metrics);
    })
}

#[test]
fn every_request_counted_exactly_once_under_load_with_scrapes() {
    let (base, server) = serve();
    let done = Arc::new(AtomicBool::new(false));

    let scraper = {
        let (base, done) = (base.clone(), Arc::clone(&done));
        thread::spawn(move || {
            let mut highest: HashMap<String, f64> = HashMap::new();
            let mut scrapes = 0u32;
            while !done.load(Ordering::Acquire) {
                let answer = get(&format!("{base}/metrics"), &[]);
                assert_eq!(answer.status, 200);
                scrapes += 1;
                let scrape = Scrape::parse(&answer.body);
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
            scrapes
        })
    };

    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let base = base.clone();
            thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                for i in 0..REQUESTS {
                    let id = (client * REQUESTS + i) % 50;
                    let mut answer = agent
                        .get(&format!("{base}/load/items/{id}"))
                        .call()
                        .expect("HTTP request");
                    assert_eq!(answer.status().as_u16(), 200);
                    assert_eq!(answer.body_mut().read_to_string().unwrap(), id.to_string());
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client failed");
    }
    done.store(true, Ordering::Release);
    let scrapes = scraper.join().expect("the scraper failed");

    let last = Scrape::parse(&get(&format!("{base}/metrics"), &[]).body);
    let sent = (CLIENTS * REQUESTS) as f64;
    // The scrapes are requests too: every earlier one counted, this one in flight.
    last.assert_exact_after_load("load_item", "/load/items/{id}", sent, "/metrics", scrapes);
    actix_web::rt::System::new().block_on(server.stop(true));
}
