//! The four kinds of RPC over a real socket: the example's `demo.Echo` service (every
//! method tracked) in-process behind `GrpcMetricsLayer`, its generated client, and the
//! families read back from `render()`: each method's `grpc_type` from its tracked
//! function's types, its messages, its codes, a deadline the server exceeds. Also an
//! untracked server-streaming method (tonic-health's `Watch`), whose type is inferred
//! from its messages.
//!
//! The families are the process's: the tests take turns (`TURN`) and each asserts what
//! its own calls added.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use grpc_app::echo_client::EchoClient;
use grpc_app::echo_server::EchoServer;
use grpc_app::{EchoReply, EchoRequest, EchoService};
use metrics_tests::scrape::{Scrape, label};
use metrics_tests::server::serve_on_own_runtime;
use metrics_tests::wait::wait_for;
use tokio_stream::StreamExt;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request, Status};
use tonic_health::ServingStatus;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::server::HealthReporter;
use track_metrics::tonic::GrpcMetricsLayer;

const SHORT: Duration = Duration::from_secs(10);
const ECHO: &str = "demo.Echo";
const HEALTH: &str = "grpc.health.v1.Health";

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// The server, started once on a runtime of its own, and the health reporter.
fn server() -> &'static (SocketAddr, HealthReporter) {
    static SERVER: OnceLock<(SocketAddr, HealthReporter)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let (reporter, health) = tonic_health::server::health_reporter();
        let addr = serve_on_own_runtime(move |listener| async move {
            Server::builder()
                .layer(GrpcMetricsLayer::new())
                .add_service(EchoServer::new(EchoService))
                .add_service(health)
                .serve_with_incoming(TcpIncoming::from(listener))
                .await
                .unwrap();
        });
        (addr, reporter)
    })
}

async fn channel() -> Channel {
    Channel::from_shared(format!("http://{}", server().0))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn echo() -> EchoClient<Channel> {
    EchoClient::new(channel().await)
}

// Every reply of a `Repeat`, its end status included.
async fn repeat(
    client: &mut EchoClient<Channel>,
    request: EchoRequest,
) -> Vec<Result<EchoReply, Status>> {
    let replies = client.repeat(request).await.unwrap().into_inner();
    replies.collect().await
}

fn request(text: &str, code: Code) -> EchoRequest {
    EchoRequest {
        text: text.to_owned(),
        code: code as i32,
        ..EchoRequest::default()
    }
}

/// What one method counted: started, timed, messages, and handled by code.
#[derive(Debug, Default, PartialEq)]
struct Counts {
    started: f64,
    timed: f64,
    received: f64,
    sent: f64,
    handled: BTreeMap<String, f64>,
}

fn counts(scrape: &Scrape, kind: &str, service: &str, method: &str) -> Counts {
    let labels = [
        ("grpc_type", kind),
        ("grpc_service", service),
        ("grpc_method", method),
    ];
    let handled = scrape
        .samples("grpc_server_handled_total")
        .iter()
        .filter(|(sample, _)| labels.iter().all(|(k, v)| label(sample, k) == *v))
        .map(|(sample, value)| (label(sample, "grpc_code").to_owned(), *value))
        .collect();
    Counts {
        started: scrape.value("grpc_server_started_total", &labels),
        timed: scrape.value("grpc_server_handling_seconds_count", &labels),
        received: scrape.value("grpc_server_msg_received_total", &labels),
        sent: scrape.value("grpc_server_msg_sent_total", &labels),
        handled,
    }
}

// What a method added since `before`, once `n` more RPCs of it are timed (bounded wait).
fn added(before: &Scrape, kind: &str, service: &str, method: &str, n: f64) -> Counts {
    let was = counts(before, kind, service, method);
    let now = wait_for("the RPCs to be recorded", SHORT, || {
        let now = counts(
            &Scrape::parse(&track_metrics::render()),
            kind,
            service,
            method,
        );
        // At rest: a scrape reads the families one after the other, so one taken while an
        // RPC ends may see it in one family and not yet in another.
        let handled: f64 = now.handled.values().sum::<f64>() - was.handled.values().sum::<f64>();
        let at_rest = now.started - was.started >= n && handled >= n && now.timed - was.timed >= n;
        at_rest.then_some(now)
    });
    Counts {
        started: now.started - was.started,
        timed: now.timed - was.timed,
        received: now.received - was.received,
        sent: now.sent - was.sent,
        handled: now
            .handled
            .iter()
            .map(|(code, value)| (code.clone(), value - was.handled.get(code).unwrap_or(&0.0)))
            .filter(|(_, value)| *value != 0.0)
            .collect(),
    }
}

fn expect(rpcs: f64, received: f64, sent: f64, handled: &[(&str, f64)]) -> Counts {
    Counts {
        started: rpcs,
        timed: rpcs,
        received,
        sent,
        handled: handled
            .iter()
            .map(|(code, n)| ((*code).to_owned(), *n))
            .collect(),
    }
}

#[tokio::test]
async fn unary_counts_its_codes_and_messages() {
    let _turn = TURN.lock().await;
    let before = Scrape::parse(&track_metrics::render());
    let mut client = echo().await;
    for _ in 0..2 {
        let reply = client.say(request("hi", Code::Ok)).await.unwrap();
        assert_eq!(reply.into_inner().text, "hi");
    }
    let err = client.say(request("x", Code::NotFound)).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(
        added(&before, "unary", ECHO, "Say", 3.0),
        expect(3.0, 3.0, 2.0, &[("OK", 2.0), ("NotFound", 1.0)])
    );
    // `say` names the objective `echo`: the method counts toward it, in the gRPC
    // families; the function itself records nothing (no `http_*` series of its own).
    let scrape = Scrape::parse(&track_metrics::render());
    let member = [
        ("objective", "echo"),
        ("grpc_service", ECHO),
        ("grpc_method", "Say"),
    ];
    assert_eq!(scrape.get("grpc_objective_info", &member), Some(1.0));
    assert_eq!(
        scrape.get("http_objective_success_target", &[("objective", "echo")]),
        Some(0.999)
    );
    let latency = [("objective", "echo"), ("threshold", "0.25")];
    assert_eq!(
        scrape.get("http_objective_latency_target", &latency),
        Some(0.99)
    );
    assert!(scrape.samples("http_objective_info").is_empty());
    assert_eq!(scrape.total_of("say"), 0.0);
}

#[tokio::test]
async fn server_streams_count_every_message_sent() {
    let _turn = TURN.lock().await;
    let before = Scrape::parse(&track_metrics::render());
    let mut client = echo().await;
    let three = EchoRequest {
        count: 3,
        ..request("r", Code::Ok)
    };
    let replies = repeat(&mut client, three).await;
    assert_eq!(replies.len(), 3);
    assert!(replies.iter().all(Result::is_ok));
    // Two replies, then an error in the trailers.
    let failing = EchoRequest {
        count: 2,
        ..request("r", Code::Internal)
    };
    let replies = repeat(&mut client, failing).await;
    assert_eq!(replies.len(), 3);
    assert_eq!(replies[2].as_ref().unwrap_err().code(), Code::Internal);
    assert_eq!(
        added(&before, "server_stream", ECHO, "Repeat", 2.0),
        expect(2.0, 2.0, 5.0, &[("OK", 1.0), ("Internal", 1.0)])
    );
}

#[tokio::test]
async fn client_streams_count_every_message_received() {
    let _turn = TURN.lock().await;
    let before = Scrape::parse(&track_metrics::render());
    let mut client = echo().await;
    let requests = ["a", "b", "c"].map(|text| request(text, Code::Ok));
    let reply = client.collect(tokio_stream::iter(requests)).await.unwrap();
    assert_eq!(reply.into_inner().text, "a b c");
    let requests = [request("a", Code::Ok), request("b", Code::InvalidArgument)];
    let err = client
        .collect(tokio_stream::iter(requests))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        added(&before, "client_stream", ECHO, "Collect", 2.0),
        expect(2.0, 5.0, 1.0, &[("OK", 1.0), ("InvalidArgument", 1.0)])
    );
}

#[tokio::test]
async fn bidi_streams_count_both_ways() {
    let _turn = TURN.lock().await;
    let before = Scrape::parse(&track_metrics::render());
    let mut client = echo().await;
    let requests = ["a", "b"].map(|text| request(text, Code::Ok));
    let replies: Vec<_> = client
        .chat(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner()
        .collect()
        .await;
    assert_eq!(replies.len(), 2);
    assert!(replies.iter().all(Result::is_ok));
    assert_eq!(
        added(&before, "bidi_stream", ECHO, "Chat", 1.0),
        expect(1.0, 2.0, 2.0, &[("OK", 1.0)])
    );
}

#[tokio::test]
async fn a_deadline_the_server_exceeds_counts_deadline_exceeded() {
    let _turn = TURN.lock().await;
    let before = Scrape::parse(&track_metrics::render());
    let mut client = echo().await;
    let mut slow = Request::new(EchoRequest {
        delay_ms: 2_000,
        ..request("slow", Code::Ok)
    });
    slow.set_timeout(Duration::from_millis(100));
    // tonic's server drops the call at the deadline and answers `Cancelled` ("Timeout
    // expired"); the client, past its deadline, has stopped waiting: it is
    // `DeadlineExceeded` that it got.
    let err = client.say(slow).await.unwrap_err();
    assert!(
        matches!(err.code(), Code::Cancelled | Code::DeadlineExceeded),
        "{err:?}"
    );
    assert_eq!(
        added(&before, "unary", ECHO, "Say", 1.0),
        expect(1.0, 1.0, 0.0, &[("DeadlineExceeded", 1.0)])
    );
}

// Multi-threaded: the client's connection must send its reset while the test waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untracked_stream_is_typed_by_its_messages() {
    let _turn = TURN.lock().await;
    let (_, reporter) = server();
    const WATCHED: &str = "track.Watched";
    reporter
        .set_service_status(WATCHED, ServingStatus::Serving)
        .await;
    let before = Scrape::parse(&track_metrics::render());
    let mut health = HealthClient::new(channel().await);
    let mut updates = health
        .watch(HealthCheckRequest {
            service: WATCHED.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    updates.next().await.unwrap().unwrap();
    reporter
        .set_service_status(WATCHED, ServingStatus::NotServing)
        .await;
    updates.next().await.unwrap().unwrap();
    // The client goes away: the stream is dropped before its trailers.
    drop(updates);
    drop(health);
    assert_eq!(
        added(&before, "server_stream", HEALTH, "Watch", 1.0),
        expect(1.0, 1.0, 2.0, &[("Canceled", 1.0)])
    );
}

// Concurrent RPCs of every kind on several connections while another thread scrapes:
// the counters never go down, and at rest every RPC is started, handled and timed once,
// with every message.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rpcs_with_scrapes_are_exact_at_rest() {
    let _turn = TURN.lock().await;
    let before = Scrape::parse(&track_metrics::render());
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let scraper = std::thread::spawn({
        let done = std::sync::Arc::clone(&done);
        move || {
            let mut last = 0.0;
            let mut scrapes = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let scrape = Scrape::parse(&track_metrics::render());
                let handled: f64 = scrape
                    .samples("grpc_server_handled_total")
                    .iter()
                    .map(|(_, value)| value)
                    .sum();
                assert!(handled >= last, "handled went down: {last} -> {handled}");
                last = handled;
                scrapes += 1;
            }
            scrapes
        }
    });
    const TASKS: usize = 4;
    const ROUNDS: usize = 50;
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        tasks.push(tokio::spawn(async {
            let mut client = echo().await;
            for _ in 0..ROUNDS {
                client.say(request("hi", Code::Ok)).await.unwrap();
                let two = EchoRequest {
                    count: 2,
                    ..request("r", Code::Ok)
                };
                assert_eq!(repeat(&mut client, two).await.len(), 2);
                let requests = ["a", "b"].map(|text| request(text, Code::Ok));
                client.collect(tokio_stream::iter(requests)).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let n = (TASKS * ROUNDS) as f64;
    let say = added(&before, "unary", ECHO, "Say", n);
    let repeated = added(&before, "server_stream", ECHO, "Repeat", n);
    let collected = added(&before, "client_stream", ECHO, "Collect", n);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(scraper.join().unwrap() > 0);
    assert_eq!(say, expect(n, n, n, &[("OK", n)]));
    assert_eq!(repeated, expect(n, n, 2.0 * n, &[("OK", n)]));
    assert_eq!(collected, expect(n, 2.0 * n, n, &[("OK", n)]));
}

// Every code of section 14 a handler can answer, read back under Go's name.
#[tokio::test]
async fn every_code_is_counted_by_gos_name() {
    let _turn = TURN.lock().await;
    const NAMES: [&str; 17] = [
        "OK",
        "Canceled",
        "Unknown",
        "InvalidArgument",
        "DeadlineExceeded",
        "NotFound",
        "AlreadyExists",
        "PermissionDenied",
        "ResourceExhausted",
        "FailedPrecondition",
        "Aborted",
        "OutOfRange",
        "Unimplemented",
        "Internal",
        "Unavailable",
        "DataLoss",
        "Unauthenticated",
    ];
    let before = Scrape::parse(&track_metrics::render());
    let mut client = echo().await;
    for number in 0..17 {
        let code = Code::from(number);
        let answer = client.say(request("x", code)).await;
        assert_eq!(
            answer.map_or_else(|status| status.code(), |_| Code::Ok),
            code
        );
    }
    let every: Vec<(&str, f64)> = NAMES.iter().map(|name| (*name, 1.0)).collect();
    assert_eq!(
        added(&before, "unary", ECHO, "Say", 17.0),
        expect(17.0, 17.0, 1.0, &every)
    );
}
