//! gRPC over a real socket: a tonic server with the health service behind
//! `GrpcMetricsLayer` (inside tower-http's timeout, as users stack it), a real tonic client, and the families read back from `render()`.
//!
//! The families are the process's: the tests take turns (`TURN`) and each asserts what
//! its own calls added.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use metrics_tests::scrape::Scrape;
use metrics_tests::server::serve_on_own_runtime;
use metrics_tests::tool::promtool_check_metrics;
use metrics_tests::wait::wait_for;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request};
use tonic_health::ServingStatus;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use track_metrics::tonic::GrpcMetricsLayer;

const HEALTH: &str = "grpc.health.v1.Health";
/// A service the health server reports as serving.
const SERVING: &str = "track.Serving";
const SHORT: Duration = Duration::from_secs(10);

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// The server, started once on a runtime of its own: the tests' runtimes come and go.
fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        serve_on_own_runtime(|listener| async move {
            let (reporter, health) = tonic_health::server::health_reporter();
            reporter
                .set_service_status(SERVING, ServingStatus::Serving)
                .await;
            // As users stack it: tower-http's timeout around the gRPC layer (it answers
            // with a `Default` body of its own: the layer's body must have one).
            let timeout = tower_http::timeout::TimeoutLayer::with_status_code(
                tonic::codegen::http::StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(60),
            );
            Server::builder()
                .layer(timeout)
                .layer(GrpcMetricsLayer::new())
                .add_service(health)
                .add_service(Panics)
                .serve_with_incoming(TcpIncoming::from(listener))
                .await
                .unwrap();
        })
    })
}

/// A service whose every method panics.
#[derive(Clone)]
struct Panics;

impl tonic::server::NamedService for Panics {
    const NAME: &'static str = "track.Panics";
}

impl tower::Service<tonic::codegen::http::Request<tonic::body::Body>> for Panics {
    type Response = tonic::codegen::http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = tonic::codegen::BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: tonic::codegen::http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async { panic!("a handler panics (expected by tests/grpc.rs)") })
    }
}

async fn channel() -> Channel {
    Channel::from_shared(format!("http://{}", server()))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn check(service: &str) -> Result<i32, Code> {
    HealthClient::new(channel().await)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .map(|response| response.into_inner().status)
        .map_err(|status| status.code())
}

// A unary call of `path` with an empty message, whatever the server has there.
async fn call(path: &str) -> Code {
    call_on(channel().await, path).await
}

async fn call_on(channel: Channel, path: &str) -> Code {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let path = PathAndQuery::try_from(path.to_owned()).unwrap();
    match grpc.unary(Request::new(()), path, codec).await {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// One method's series in one scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Rpc {
    started: f64,
    handled: f64,
    timed: f64,
}

fn rpc(scrape: &Scrape, service: &str, method: &str, code: &str) -> Rpc {
    let labels = [
        ("grpc_type", "unary"),
        ("grpc_service", service),
        ("grpc_method", method),
    ];
    let mut handled = labels.to_vec();
    handled.push(("grpc_code", code));
    Rpc {
        started: scrape.value("grpc_server_started_total", &labels),
        handled: scrape.value("grpc_server_handled_total", &handled),
        timed: scrape.value("grpc_server_handling_seconds_count", &labels),
    }
}

// Waits (bounded) until `service`/`method` counted `n` more RPCs with `code` than in
// `before`, and checks that it counted exactly that.
fn assert_counted(before: &Scrape, service: &str, method: &str, code: &str, n: f64) {
    let was = rpc(before, service, method, code);
    let now = wait_for("the RPCs to be recorded", SHORT, || {
        let now = rpc(
            &Scrape::parse(&track_metrics::render()),
            service,
            method,
            code,
        );
        // At rest: a scrape reads the families one after the other, so one taken while an
        // RPC ends may see it handled and not yet started (a method's first RPC starts as
        // it ends).
        let at_rest = now.started - was.started >= n
            && now.handled - was.handled >= n
            && now.timed - was.timed >= n;
        at_rest.then_some(now)
    });
    let added = Rpc {
        started: now.started - was.started,
        handled: now.handled - was.handled,
        timed: now.timed - was.timed,
    };
    assert_eq!(
        added,
        Rpc {
            started: n,
            handled: n,
            timed: n
        },
        "{service}/{method} {code}"
    );
}

#[tokio::test]
async fn check_of_a_serving_service_counts_ok() {
    let _turn = TURN.lock().await;
    server();
    let before = Scrape::parse(&track_metrics::render());
    for _ in 0..3 {
        assert_eq!(check(SERVING).await, Ok(ServingStatus::Serving as i32));
    }
    assert_counted(&before, HEALTH, "Check", "OK", 3.0);
}

#[tokio::test]
async fn check_of_an_unknown_service_counts_not_found() {
    let _turn = TURN.lock().await;
    server();
    let before = Scrape::parse(&track_metrics::render());
    for _ in 0..2 {
        assert_eq!(check("no.such.Service").await, Err(Code::NotFound));
    }
    assert_counted(&before, HEALTH, "Check", "NotFound", 2.0);
    let ok = |scrape: &Scrape| rpc(scrape, HEALTH, "Check", "OK").handled;
    assert_eq!(ok(&Scrape::parse(&track_metrics::render())), ok(&before));
}

#[tokio::test]
async fn unknown_methods_count_unimplemented_without_names() {
    let _turn = TURN.lock().await;
    server();
    let before = Scrape::parse(&track_metrics::render());
    let paths = [
        "/no.Such/Method",
        "/grpc.health.v1.Health/Nope",
        "/no.Such/Other",
        "/not-a-method",
    ];
    for path in paths {
        assert_eq!(call(path).await, Code::Unimplemented, "{path}");
    }
    assert_counted(&before, "", "", "Unimplemented", paths.len() as f64);
    let text = track_metrics::render();
    for name in ["no.Such", "Nope", "Method", "Other", "not-a-method"] {
        assert!(
            !text
                .lines()
                .any(|line| line.starts_with("grpc_") && line.contains(name)),
            "{name} in:\n{text}"
        );
    }
}

#[tokio::test]
async fn scrape_is_clean_and_started_equals_handled() {
    let _turn = TURN.lock().await;
    server();
    assert_eq!(check(SERVING).await, Ok(ServingStatus::Serving as i32));
    assert_eq!(call("/no.Such/Method").await, Code::Unimplemented);
    let text = wait_for("every RPC to end", SHORT, || {
        let text = track_metrics::render();
        let scrape = Scrape::parse(&text);
        let started: f64 = scrape
            .series("grpc_server_started_total")
            .iter()
            .map(|(_, value)| value)
            .sum();
        let handled: f64 = scrape
            .series("grpc_server_handled_total")
            .iter()
            .map(|(_, value)| value)
            .sum();
        (started > 0.0 && started == handled).then_some(text)
    });
    for family in [
        "grpc_server_started_total",
        "grpc_server_handled_total",
        "grpc_server_handling_seconds",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family}:\n{text}"
        );
    }
    promtool_check_metrics(&text);
}

// A server-streaming RPC whose client goes away before its end (untracked, one message
// sent: inferred `unary`): the body is dropped before the trailers. (Multi-threaded: the client's connection
// must send its reset while the test waits.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_the_client_drops_counts_canceled() {
    let _turn = TURN.lock().await;
    server();
    let before = Scrape::parse(&track_metrics::render());
    let mut client = HealthClient::new(channel().await);
    let mut stream = client
        .watch(HealthCheckRequest {
            service: SERVING.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.status, ServingStatus::Serving as i32);
    drop(stream);
    drop(client);
    assert_counted(&before, HEALTH, "Watch", "Canceled", 1.0);
}

#[tokio::test]
async fn disabled_only_forwards() {
    const TEST: &str = "disabled_only_forwards";
    if !metrics_tests::rerun::in_child(TEST, &[&[(track_metrics::ENV_ENABLED, "false")]]) {
        return;
    }
    assert_eq!(check(SERVING).await, Ok(ServingStatus::Serving as i32));
    assert_eq!(check("no.such.Service").await, Err(Code::NotFound));
    assert_eq!(call("/no.Such/Method").await, Code::Unimplemented);
    let text = track_metrics::render();
    assert!(!text.contains("grpc_"), "{text}");
}

// The panic unwinds through the layer's future; the task that caught it drops the RPC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_counts_internal() {
    let _turn = TURN.lock().await;
    server();
    let before = Scrape::parse(&track_metrics::render());
    for _ in 0..2 {
        assert_ne!(call("/track.Panics/Boom").await, Code::Ok);
    }
    assert_counted(&before, "track.Panics", "Boom", "Internal", 2.0);
}

#[tokio::test]
async fn a_flood_of_random_methods_adds_no_series() {
    let _turn = TURN.lock().await;
    server();
    // The unnamed series exist from here on.
    assert_eq!(call("/no.Such/Method").await, Code::Unimplemented);
    let series = |scrape: &Scrape| {
        [
            "grpc_server_started_total",
            "grpc_server_handled_total",
            "grpc_server_handling_seconds_count",
        ]
        .map(|family| scrape.label_sets(family))
    };
    let before = Scrape::parse(&track_metrics::render());
    let channel = channel().await;
    let floods = 200;
    for i in 0..floods {
        let path = format!("/flood{i}.Service{}/Method{i}", i * 7919);
        assert_eq!(call_on(channel.clone(), &path).await, Code::Unimplemented);
    }
    assert_counted(&before, "", "", "Unimplemented", f64::from(floods));
    assert_eq!(
        series(&Scrape::parse(&track_metrics::render())),
        series(&before)
    );
}
