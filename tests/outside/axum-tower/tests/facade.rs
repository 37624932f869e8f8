//! The `metrics` facade in a user's axum app (feature `metrics-rs`): what the handler
//! records through `metrics::counter!` is served by the same `/metrics`, exactly, beside
//! the layer's request counts.

use axum::body::{Body, to_bytes};
use axum::http::Request;
use tower::ServiceExt;

/// The value of the series `name{labels}` (exactly) in a text exposition.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn facade_counts_are_served_on_the_same_metrics() {
    track_metrics::metrics_rs::install().unwrap();
    let app = axum_tower::app();
    for len in [3, 0, 5] {
        let request = Request::post("/upload")
            .body(Body::from(vec![b'x'; len]))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    let request = Request::get("/metrics").body(Body::empty()).unwrap();
    let response = app.oneshot(request).await.unwrap();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let text = std::str::from_utf8(&body).unwrap();
    assert_eq!(
        value(text, r#"shop_uploads_total{size="some"}"#),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        value(text, r#"shop_uploads_total{size="empty"}"#),
        Some(1.0),
        "{text}"
    );
    let requests =
        r#"http_requests_total{handler="upload",method="POST",route="/upload",status="200"}"#;
    assert_eq!(value(text, requests), Some(3.0), "{text}");
}
