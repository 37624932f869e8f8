//! What both test files share: requests to the app, and exact counts read back.

use actix_web::http::Method;
use actix_web::test::TestRequest;

/// `method path` with `headers`.
pub fn request(method: Method, path: &str, headers: &[(&str, &str)]) -> TestRequest {
    let mut request = TestRequest::default().method(method).uri(path);
    for &header in headers {
        request = request.insert_header(header);
    }
    request
}

/// `send!(&app, method, path, headers, status)`: the request through the app, its status
/// checked; the response. (A macro: the app's request type, `actix_http::Request`, has no
/// name in actix-web.)
macro_rules! send {
    ($app:expr, $method:expr, $path:expr, $headers:expr, $status:expr) => {{
        let (method, path, headers): (actix_web::http::Method, &str, &[(&str, &str)]) =
            ($method, $path, $headers);
        let request = support::request(method.clone(), path, headers).to_request();
        let response = actix_web::test::call_service($app, request).await;
        assert_eq!(
            response.status().as_u16(),
            $status,
            "{method} {path} {headers:?}"
        );
        response
    }};
}

/// `scrape!(&app)`: the text of `GET /metrics` through the app.
macro_rules! scrape {
    ($app:expr) => {{
        let response = send!($app, actix_web::http::Method::GET, "/metrics", &[], 200);
        String::from_utf8(actix_web::test::read_body(response).await.to_vec()).unwrap()
    }};
}

/// The value of the series `name{labels}` (exactly) in a text exposition.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// `text` counts exactly `expected` (labels of `http_requests_total`, and the count) and
/// nothing else: one duration per request, nothing in flight, `/metrics` left out.
pub fn assert_exactly(text: &str, expected: &[(&str, f64)]) {
    for (labels, count) in expected {
        let series = format!("http_requests_total{{{labels}}}");
        assert_eq!(value(text, &series), Some(*count), "{series} in\n{text}");
    }
    let total: f64 = expected.iter().map(|(_, count)| count).sum();
    let counted: f64 = text
        .lines()
        .filter(|line| line.starts_with("http_requests_total{"))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum();
    assert_eq!(counted, total, "every request counted once, in\n{text}");
    let durations: f64 = text
        .lines()
        .filter(|line| line.starts_with("http_request_duration_seconds_count{"))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum();
    assert_eq!(durations, total, "one duration per request, in\n{text}");
    let in_flight: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("http_requests_in_flight{"))
        .collect();
    assert!(!in_flight.is_empty(), "{text}");
    for line in in_flight {
        assert!(line.ends_with(" 0"), "{line}");
    }
    assert!(!text.contains(r#"route="/metrics""#), "{text}");
}
