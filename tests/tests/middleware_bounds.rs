//! What `RequestMetrics` keeps bounded (CONTRACT §8): requests that match no route count
//! under `route=""`, unknown methods under `_OTHER`, and a flood of random paths and
//! methods adds no series beyond those; disabled, the middleware only forwards.

use std::collections::BTreeSet;

use actix_web::http::Method;
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, HttpResponse, web};
use metrics_tests::junk::Junk;
use metrics_tests::rerun::{is_child, rerun_self};
use metrics_tests::scrape::Scrape;
use track_metrics::actix::RequestMetrics;
use track_metrics::{ENV_ENABLED, track_metrics};

#[track_metrics]
async fn item(id: web::Path<u32>) -> HttpResponse {
    HttpResponse::Ok().body(format!("item {id}"))
}

#[actix_web::test]
async fn a_flood_of_random_paths_and_methods_adds_no_series_beyond_the_bound() {
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default())
            .service(web::resource("/b/items/{id}").route(web::get().to(item))),
    )
    .await;
    let status = |res: actix_web::dev::ServiceResponse| res.status().as_u16();
    assert_eq!(
        status(call_service(&app, TestRequest::get().uri("/b/items/1").to_request()).await),
        200
    );
    let before = Scrape::parse(&track_metrics::render());

    let mut junk = Junk::new(0x9e37_79b9_7f4a_7c15);
    let path_chars = b"abcdefghijklmnopqrstuvwxyz0123456789-_.~%";
    for _ in 0..1000 {
        let len = 1 + (junk.number() % 40) as usize;
        let path = format!("/{}/{}", junk.word(path_chars, len), junk.number());
        let res = call_service(&app, TestRequest::get().uri(&path).to_request()).await;
        assert_eq!(status(res), 404, "{path}");
    }
    let method_chars = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ-";
    for i in 0..100 {
        let len = 3 + (junk.number() % 12) as usize;
        let method = Method::from_bytes(junk.word(method_chars, len).as_bytes()).unwrap();
        let (uri, expected) = if i % 2 == 0 {
            (format!("/b/items/{i}"), 405)
        } else {
            (format!("/nowhere/{}", junk.number()), 404)
        };
        let res = call_service(
            &app,
            TestRequest::default()
                .method(method.clone())
                .uri(&uri)
                .to_request(),
        )
        .await;
        assert_eq!(status(res), expected, "{method} {uri}");
    }

    let after = Scrape::parse(&track_metrics::render());
    // Exactly these series are new: no raw path or method became a label value.
    let new: BTreeSet<String> = after
        .label_sets("http_requests_total")
        .difference(&before.label_sets("http_requests_total"))
        .cloned()
        .collect();
    let expected: BTreeSet<String> = ["|GET||404", "|_OTHER||404", "|_OTHER|/b/items/{id}|405"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(new, expected);
    assert_eq!(after.requests("", "GET", "", "404"), 1000.0);
    assert_eq!(after.requests("", "_OTHER", "", "404"), 50.0);
    assert_eq!(after.requests("", "_OTHER", "/b/items/{id}", "405"), 50.0);
    assert_eq!(after.observed("", "GET", ""), 1000.0);
    for family in [
        "http_request_duration_seconds_count",
        "http_requests_in_flight",
    ] {
        let new = after.label_sets(family).len() - before.label_sets(family).len();
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
            .filter(|l| l.starts_with("http_"))
            .count()
            < 200
    );
}

#[actix_web::test]
async fn disabled_it_only_forwards_and_registers_nothing() {
    const TEST: &str = "disabled_it_only_forwards_and_registers_nothing";
    if !is_child(TEST) {
        let (passed, output) = rerun_self(TEST, &[(ENV_ENABLED, "false")]);
        assert!(passed, "with {ENV_ENABLED}=false:\n{output}");
        return;
    }
    assert!(!track_metrics::enabled());
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default())
            .service(web::resource("/b/items/{id}").route(web::get().to(item)))
            .service(track_metrics::actix::metrics),
    )
    .await;
    let res = call_service(&app, TestRequest::get().uri("/b/items/9").to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        read_body(res).await,
        "item 9",
        "the response is the handler's"
    );
    let res = call_service(&app, TestRequest::get().uri("/nope").to_request()).await;
    assert_eq!(res.status().as_u16(), 404);
    let res = call_service(&app, TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(res.status().as_u16(), 404, "/metrics is off");
    let families = track_metrics::registry().gather();
    let http: Vec<&str> = families
        .iter()
        .map(|f| f.name())
        .filter(|name| name.starts_with("http_"))
        .collect();
    assert!(http.is_empty(), "registered while disabled: {http:?}");
}
