//! Requests through the framework's real service stack, counts read back from a scrape.

/// The value of the series `name{labels}` (exactly) in a text exposition.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// What both services must have counted after two 200s, one 404 and one unrouted
/// request, and what `/metrics` served.
fn assert_counted(scraped: &str) {
    assert_counts(scraped);
    assert_counts(&track_metrics::render());
}

fn assert_counts(text: &str) {
    let handler = r#"handler="get_user",method="GET",route="/api/users/{id}""#;
    assert_eq!(
        value(
            text,
            &format!("http_requests_total{{{handler},status=\"200\"}}")
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        value(
            text,
            &format!("http_requests_total{{{handler},status=\"404\"}}")
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            text,
            r#"http_requests_total{handler="",method="GET",route="",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            text,
            &format!("http_request_duration_seconds_count{{{handler}}}")
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(text, &format!("http_requests_in_flight{{{handler}}}")),
        Some(0.0),
        "{text}"
    );
    // The helper counts on its own, with the status of its value (an Option: 200 or 404).
    let helper = r#"handler="db::load_user",method="",route="""#;
    assert_eq!(
        value(
            text,
            &format!("http_requests_total{{{helper},status=\"200\"}}")
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        value(
            text,
            &format!("http_requests_total{{{helper},status=\"404\"}}")
        ),
        Some(1.0),
        "{text}"
    );
    // `/metrics` is left out: no series names it.
    assert!(!text.contains(r#"route="/metrics""#), "{text}");
}

#[cfg(feature = "actix")]
#[actix_web::test]
async fn actix_requests_are_counted_once_with_their_route() {
    use actix_web::test::{TestRequest, call_service, init_service, read_body};

    let app = init_service(basic::actix::app()).await;
    for (path, status) in [
        ("/api/users/1", 200),
        ("/api/users/2", 200),
        ("/api/users/404", 404),
        ("/nowhere", 404),
    ] {
        let response = call_service(&app, TestRequest::get().uri(path).to_request()).await;
        assert_eq!(response.status().as_u16(), status, "{path}");
    }
    let response = call_service(&app, TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(response.status().as_u16(), 200);
    let body = read_body(response).await;
    assert_counted(std::str::from_utf8(&body).unwrap());
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn axum_requests_are_counted_once_with_their_route() {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    let app = basic::axum::app();
    for (path, status) in [
        ("/api/users/1", 200),
        ("/api/users/2", 200),
        ("/api/users/404", 404),
        ("/nowhere", 404),
    ] {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
    }
    let request = Request::get("/metrics").body(Body::empty()).unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    assert_counted(std::str::from_utf8(&body).unwrap());
}
