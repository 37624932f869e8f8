//! The OpenTelemetry naming in a user's app: `Config::naming(Naming::OpenTelemetry)` with
//! the app's tower-http layers inside and around `RequestMetricsLayer`. What the timeout
//! (408) and the body limit (413) answer inside it is counted with the route, a request
//! behind a proxy that says `https` too, and the helper-free app has no series in the
//! Prometheus names. A test binary of its own: the naming is the process's configuration.

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use tower::ServiceExt;
use track_metrics::{Config, Naming};

/// The value of the series `name{labels}` (exactly) in a text exposition.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

// `http_server_request_duration_seconds_count` of one handler, route, status and scheme.
fn count(handler: &str, method: &str, route: &str, status: &str, scheme: &str) -> String {
    let error = if status.starts_with('5') { status } else { "" };
    format!(
        r#"http_server_request_duration_seconds_count{{code_function_name="{handler}",error_type="{error}",http_request_method="{method}",http_response_status_code="{status}",http_route="{route}",network_protocol_version="1.1",url_scheme="{scheme}"}}"#
    )
}

#[tokio::test]
async fn requests_are_named_as_the_conventions_say_through_the_users_layers() {
    track_metrics::configure(Config::new().naming(Naming::OpenTelemetry)).unwrap();
    let app = axum_tower::app();
    let send = |method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>| {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let app = app.clone();
        let request = request.body(Body::from(body)).unwrap();
        async move { app.oneshot(request).await.unwrap().status() }
    };
    assert_eq!(send("GET", "/users/7", &[], vec![]).await, StatusCode::OK);
    assert_eq!(
        send("GET", "/users/7", &[("x-forwarded-proto", "https")], vec![]).await,
        StatusCode::OK
    );
    assert_eq!(
        send("GET", "/users/500", &[], vec![]).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(
            "POST",
            "/upload",
            &[],
            vec![b'x'; axum_tower::BODY_LIMIT + 1]
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // The timeout answers while the handler waits (100 ms).
    assert_eq!(
        send("GET", "/slow", &[], vec![]).await,
        StatusCode::REQUEST_TIMEOUT
    );
    assert_eq!(send("GET", "/metrics", &[], vec![]).await, StatusCode::OK);

    let text = track_metrics::render();
    for (series, want) in [
        (count("get_user", "GET", "/users/{id}", "200", "http"), 1.0),
        (count("get_user", "GET", "/users/{id}", "200", "https"), 1.0),
        (count("get_user", "GET", "/users/{id}", "404", "http"), 1.0),
        // The body's extractor refused it before the handler ran: no handler.
        (count("", "POST", "/upload", "413", "http"), 1.0),
        (count("slow", "GET", "/slow", "408", "http"), 1.0),
    ] {
        assert_eq!(value(&text, &series), Some(want), "{series}\n{text}");
    }
    // `/metrics` is left out; no request is in the Prometheus names.
    assert!(!text.contains(r#"http_route="/metrics""#), "{text}");
    assert!(!text.contains("http_requests_total{"), "{text}");
    assert_eq!(
        value(
            &text,
            r#"http_server_active_requests{http_request_method="GET",url_scheme="http"}"#
        ),
        Some(0.0),
        "{text}"
    );
}
