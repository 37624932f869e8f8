//! axum routes and a tonic service on one port, over real sockets: each request counted
//! once, gRPC requests only in the gRPC families, every other one only in the HTTP ones.
//! Two setups: tonic's server with the axum routes added (`Routes::from(router)`), and
//! axum's server with the tonic service nested in the router (`route_service`), the gRPC
//! layer around the service and the HTTP one around the whole router.
//!
//! The families are the process's: the tests take turns (`TURN`) and each asserts what
//! its own requests added.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use grpc_app::echo_client::EchoClient;
use grpc_app::echo_server::EchoServer;
use grpc_app::{EchoRequest, EchoService};
use metrics_tests::scrape::Scrape;
use metrics_tests::wait::wait_for;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tower::Layer;
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::tonic::GrpcMetricsLayer;
use track_metrics::track_metrics;

const SHORT: Duration = Duration::from_secs(10);

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[track_metrics]
async fn hello() -> &'static str {
    "hello"
}

fn http_routes() -> Router {
    Router::new().route("/hello", get(hello))
}

/// What one round of traffic added.
#[derive(Debug, PartialEq)]
struct Added {
    hello: f64,
    unrouted: f64,
    http_total: f64,
    say: f64,
    grpc_total: f64,
}

fn totals(scrape: &Scrape) -> Added {
    let say = [
        ("grpc_type", "unary"),
        ("grpc_service", "demo.Echo"),
        ("grpc_method", "Say"),
        ("grpc_code", "OK"),
    ];
    Added {
        hello: scrape.requests("hello", "GET", "/hello", "200"),
        unrouted: scrape.requests("", "GET", "", "404"),
        http_total: total(scrape, "http_requests_total"),
        say: scrape.value("grpc_server_handled_total", &say),
        grpc_total: total(scrape, "grpc_server_handled_total"),
    }
}

fn total(scrape: &Scrape, family: &str) -> f64 {
    scrape.samples(family).iter().map(|(_, value)| value).sum()
}

// Three requests to the route, one to no route, two RPCs; what they added once all are
// recorded.
async fn traffic(addr: SocketAddr) -> Added {
    let before = totals(&Scrape::parse(&track_metrics::render()));
    let base = format!("http://{addr}");
    for _ in 0..3 {
        let response = tokio::task::spawn_blocking({
            let url = format!("{base}/hello");
            move || metrics_tests::http::get(&url, &[])
        });
        assert_eq!(response.await.unwrap().status, 200);
    }
    let missing = tokio::task::spawn_blocking({
        let url = format!("{base}/nope");
        move || metrics_tests::http::get(&url, &[])
    });
    assert_eq!(missing.await.unwrap().status, 404);
    let mut client = EchoClient::connect(base).await.unwrap();
    for _ in 0..2 {
        let request = EchoRequest {
            text: "hi".to_owned(),
            ..EchoRequest::default()
        };
        assert_eq!(client.say(request).await.unwrap().into_inner().text, "hi");
    }
    let now = wait_for("the requests to be recorded", SHORT, || {
        let now = totals(&Scrape::parse(&track_metrics::render()));
        (now.say - before.say >= 2.0 && now.hello - before.hello >= 3.0).then_some(now)
    });
    Added {
        hello: now.hello - before.hello,
        unrouted: now.unrouted - before.unrouted,
        http_total: now.http_total - before.http_total,
        say: now.say - before.say,
        grpc_total: now.grpc_total - before.grpc_total,
    }
}

const EXPECTED: Added = Added {
    hello: 3.0,
    unrouted: 1.0,
    http_total: 4.0,
    say: 2.0,
    grpc_total: 2.0,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tonic_server_with_axum_routes() {
    let _turn = TURN.lock().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The HTTP routes with their layer; the gRPC service added after it, so outside it.
    let routes = Routes::from(http_routes().layer(RequestMetricsLayer::new()))
        .add_service(EchoServer::new(EchoService));
    let server = tokio::spawn(
        Server::builder()
            .accept_http1(true)
            .layer(GrpcMetricsLayer::new())
            .add_routes(routes)
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    assert_eq!(traffic(addr).await, EXPECTED);
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_server_with_a_tonic_service() {
    let _turn = TURN.lock().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The HTTP layer around the whole router (it lets gRPC requests pass), the gRPC one
    // around the service.
    let router = http_routes()
        .route_service(
            "/demo.Echo/{*method}",
            GrpcMetricsLayer::new().layer(EchoServer::new(EchoService)),
        )
        .layer(RequestMetricsLayer::new());
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    assert_eq!(traffic(addr).await, EXPECTED);
    server.abort();
}
