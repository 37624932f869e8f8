//! Requests through the real `Router` with tower-http's layers inside and around
//! `RequestMetricsLayer`: exact counts and labels of what each layer answered.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, Response, header};
use tower::ServiceExt;

/// The value of the series `name{labels}` (exactly) in a text exposition.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn send(app: &Router, request: Request<Body>) -> Response<Body> {
    app.clone().oneshot(request).await.unwrap()
}

async fn get(app: &Router, path: &str, status: u16) -> Response<Body> {
    let response = send(app, Request::get(path).body(Body::empty()).unwrap()).await;
    assert_eq!(response.status().as_u16(), status, "GET {path}");
    response
}

async fn upload(app: &Router, len: usize, content_length: bool, status: u16) {
    let mut request = Request::post("/upload");
    if content_length {
        request = request.header(header::CONTENT_LENGTH, len);
    }
    let request = request.body(Body::from(vec![b'x'; len])).unwrap();
    let response = send(app, request).await;
    assert_eq!(
        response.status().as_u16(),
        status,
        "POST /upload, {len} bytes, content-length: {content_length}"
    );
}

/// What the requests below must have counted, in `text`.
fn assert_counts(text: &str) {
    let expected = [
        // Answered by the tracked handler: 200s and its own 404.
        (
            r#"handler="get_user",method="GET",route="/users/{id}",status="200""#,
            2.0,
        ),
        (
            r#"handler="get_user",method="GET",route="/users/{id}",status="404""#,
            1.0,
        ),
        // The router's fallback: no route, no handler.
        (r#"handler="",method="GET",route="",status="404""#, 1.0),
        // Under the limit, the handler answered.
        (
            r#"handler="upload",method="POST",route="/upload",status="200""#,
            1.0,
        ),
        // Over it: the limit layer answered from `Content-Length` before the handler,
        // and without one, the limited body failed the handler's `Bytes` extractor.
        // Both inside the metrics layer: counted with the route, no handler.
        (
            r#"handler="",method="POST",route="/upload",status="413""#,
            2.0,
        ),
        // The timeout dropped the tracked handler it had started and answered 408.
        (
            r#"handler="slow",method="GET",route="/slow",status="408""#,
            1.0,
        ),
        // Compressed (gzip) and not: the same 200 (compression is outside).
        (
            r#"handler="report",method="GET",route="/report",status="200""#,
            2.0,
        ),
    ];
    for (labels, count) in expected {
        let series = format!("http_requests_total{{{labels}}}");
        assert_eq!(value(text, &series), Some(count), "{series} in\n{text}");
    }
    // Every request counted once: nothing else (no 499 of the dropped handler, no 500).
    let total: f64 = expected.iter().map(|(_, count)| count).sum();
    let counted: f64 = text
        .lines()
        .filter(|line| line.starts_with("http_requests_total{"))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum();
    assert_eq!(counted, total, "{text}");
    // One duration per request too.
    for (series, count) in [
        (
            r#"handler="get_user",method="GET",route="/users/{id}""#,
            3.0,
        ),
        (r#"handler="",method="POST",route="/upload""#, 2.0),
        (r#"handler="slow",method="GET",route="/slow""#, 1.0),
        (r#"handler="report",method="GET",route="/report""#, 2.0),
    ] {
        let series = format!("http_request_duration_seconds_count{{{series}}}");
        assert_eq!(value(text, &series), Some(count), "{series} in\n{text}");
    }
    // Nothing in flight any more, whichever series a request was in flight under.
    let in_flight: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("http_requests_in_flight{"))
        .collect();
    assert!(!in_flight.is_empty(), "{text}");
    for line in in_flight {
        assert!(line.ends_with(" 0"), "{line}");
    }
    // `/metrics` is left out: no series names it.
    assert!(!text.contains(r#"route="/metrics""#), "{text}");
}

#[tokio::test]
async fn each_layer_answer_is_counted_once_with_its_route() {
    let app = axum_tower::app();
    get(&app, "/users/1", 200).await;
    get(&app, "/users/2", 200).await;
    get(&app, "/users/404", 404).await;
    get(&app, "/nowhere", 404).await;

    upload(&app, 10, true, 200).await;
    upload(&app, 1000, true, 413).await;
    upload(&app, 1000, false, 413).await;

    let started = std::time::Instant::now();
    get(&app, "/slow", 408).await;
    assert!(
        started.elapsed() < axum_tower::TIMEOUT * 50,
        "the timeout answered"
    );

    // Compressed when asked for.
    let request = Request::get("/report")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let response = send(&app, request).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    assert_eq!(&body[..2], [0x1f, 0x8b], "a gzip stream");
    let plain = axum_tower::report_text();
    assert!(body.len() < plain.len(), "compressed");
    // And not otherwise.
    let response = get(&app, "/report", 200).await;
    assert!(!response.headers().contains_key(header::CONTENT_ENCODING));
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    assert_eq!(body, plain.as_bytes());

    let response = get(&app, "/metrics", 200).await;
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    assert_counts(std::str::from_utf8(&body).unwrap());
    assert_counts(&track_metrics::render());
}
