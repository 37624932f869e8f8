//! `RequestMetricsLayer` on a plain tower service (no axum router) served by hyper over
//! a real socket, as docs/status.md claims it works: every request counted once, with
//! `route=""` (nothing set a `MatchedPath`), the request's method (standard or
//! `_OTHER`) and the status of the response; a tracked function that builds the
//! response names the request.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use metrics_tests::scrape::Scrape;
use metrics_tests::server::{Connection, serve_on_own_runtime};
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::track_metrics;

#[track_metrics(name = "hyper::created")]
fn created(path: &str) -> Response<String> {
    let mut res = Response::new(format!("made {path}"));
    *res.status_mut() = StatusCode::CREATED;
    res
}

// The plain service: answers by path, without any router.
async fn answer(req: Request<Incoming>) -> Result<Response<String>, Infallible> {
    let path = req.uri().path().to_owned();
    let status = match path.as_str() {
        "/hy/ok" => StatusCode::OK,
        "/hy/created" => return Ok(created(&path)),
        "/hy/teapot" => StatusCode::IM_A_TEAPOT,
        _ => StatusCode::NOT_FOUND,
    };
    let mut res = Response::new(path);
    *res.status_mut() = status;
    Ok(res)
}

// Serves the layered service with hyper's HTTP/1 server on a free loopback port; its
// address.
fn serve() -> SocketAddr {
    serve_on_own_runtime(|listener| async move {
        let service = tower::ServiceBuilder::new()
            .layer(RequestMetricsLayer::new())
            .service_fn(answer);
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

#[test]
fn a_plain_hyper_service_counts_every_request_with_an_empty_route() {
    let addr = serve();
    let mut connection = Connection::open(addr);
    let cases = [
        ("GET", "/hy/ok", 200, 3),
        ("POST", "/hy/ok", 200, 2),
        ("DELETE", "/hy/teapot", 418, 1),
        ("PUT", "/hy/created", 201, 2),
        ("GET", "/hy/nowhere/1", 404, 1),
        ("GET", "/hy/nowhere/2", 404, 1),
        ("BREW", "/hy/ok", 200, 1),
        ("M-SEARCH", "/hy/teapot", 418, 2),
    ];
    for (method, path, expected, times) in cases {
        for _ in 0..times {
            let (status, body) = connection.send(method, path);
            assert_eq!(status, expected, "{method} {path}");
            let want = if path == "/hy/created" {
                format!("made {path}")
            } else {
                path.to_owned()
            };
            assert_eq!(body, want, "the response is the service's");
        }
    }

    let s = Scrape::parse(&track_metrics::render());
    assert_eq!(s.requests("", "GET", "", "200"), 3.0);
    assert_eq!(s.requests("", "POST", "", "200"), 2.0);
    assert_eq!(s.requests("", "DELETE", "", "418"), 1.0);
    assert_eq!(s.requests("hyper::created", "PUT", "", "201"), 2.0);
    assert_eq!(s.requests("", "GET", "", "404"), 2.0);
    assert_eq!(s.requests("", "_OTHER", "", "200"), 1.0);
    assert_eq!(s.requests("", "_OTHER", "", "418"), 2.0);
    // Exactly those: 13 requests, each once, every one timed, none in flight, no
    // series of the tracked function's own, no path as a label.
    let total: f64 = s
        .samples("http_requests_total")
        .iter()
        .map(|(_, v)| v)
        .sum();
    assert_eq!(total, 13.0, "{}", s.text);
    let observed: f64 = s
        .samples("http_request_duration_seconds_count")
        .iter()
        .map(|(_, v)| v)
        .sum();
    assert_eq!(observed, 13.0);
    for (labels, value) in s.samples("http_requests_in_flight") {
        assert_eq!(*value, 0.0, "{labels:?} in flight");
    }
    assert_eq!(s.requests("hyper::created", "", "", "201"), 0.0);
    assert!(!s.text.contains("/hy/"), "{}", s.text);
}
