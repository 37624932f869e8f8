//! The built `grpc-app` end to end: gRPC on a free loopback port (`BIND_ADDR`), `/metrics`
//! on another (`METRICS_ADDR`), called by its generated tonic client as a user would, then
//! scraped: every method with OK and error codes, streams with their message counts, a
//! deadline the server exceeds, exact values of every gRPC series (contract section 14);
//! `promtool check metrics`; bad addresses exit 2 with one line; SIGINT and SIGTERM exit 0.
//! Each test runs an app of its own, so that what it scrapes is exactly what it sent.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use metrics_tests::app::{BIND_ADDR, Example, METRICS_ADDR, RunningApp};
use metrics_tests::grpc::{Counted, Echo, HANDLED, PER_METHOD, SERVICE, grpc_type};
use metrics_tests::process::Process;
use metrics_tests::routes;
use metrics_tests::scrape::Scrape;
use metrics_tests::tool::promtool_check_metrics;
use metrics_tests::wait::poll;
use nix::sys::signal::Signal;
use tonic::Code;

const GRPC: Example = Example::Grpc;
const SETTLE: Duration = Duration::from_secs(10);

async fn start() -> (RunningApp, Echo) {
    let app = RunningApp::start_example(GRPC, &[]);
    let echo = Echo::connect(app.grpc_addr.as_deref().expect("grpc-app's gRPC address")).await;
    (app, echo)
}

// Waits (bounded) until the app shows `counted.rpcs()` RPCs started, handled and timed,
// whatever their labels; returns that scrape.
fn settled(app: &RunningApp, counted: &Counted) -> Scrape {
    poll("every RPC to be recorded", SETTLE, || {
        let scrape = app.scrape();
        let total = |family: &str| -> f64 { scrape.samples(family).iter().map(|(_, v)| v).sum() };
        let seen = [HANDLED, PER_METHOD[0], PER_METHOD[1]].map(total);
        if seen == [counted.rpcs(); 3] {
            Ok(scrape)
        } else {
            Err(format!("started, handled, timed: {seen:?}"))
        }
    })
}

// The labels of one method's series.
fn labels(method: &str) -> [(&str, &str); 3] {
    [
        ("grpc_method", method),
        ("grpc_service", SERVICE),
        ("grpc_type", grpc_type(method)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn say_counts_unary_rpcs_by_code_one_message_each_way() {
    let (app, mut echo) = start().await;
    for text in ["a", "b", "c"] {
        echo.say(text, Code::Ok).await;
    }
    echo.say("missing", Code::NotFound).await;
    echo.say("missing", Code::NotFound).await;
    echo.say("broken", Code::Internal).await;
    let scrape = settled(&app, &echo.counted);
    // OK: received 1, sent 1; an error: received 1, sent 0.
    assert_eq!(echo.counted.received["Say"], 6.0);
    assert_eq!(echo.counted.sent["Say"], 3.0);
    echo.counted.assert_scraped(&scrape);
    let mut inf = labels("Say").to_vec();
    inf.push(("le", "+Inf"));
    assert_eq!(
        scrape.get("grpc_server_handling_seconds_bucket", &inf),
        Some(6.0),
        "the histogram is whole"
    );
    assert_eq!(app.terminate().code(), Some(0), "SIGTERM is a clean exit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeat_counts_a_server_stream_and_every_reply() {
    let (app, mut echo) = start().await;
    echo.repeat("r", 3, Code::Ok).await;
    echo.repeat("r", 3, Code::Ok).await;
    echo.repeat("r", 2, Code::Unavailable).await;
    echo.repeat("r", 0, Code::InvalidArgument).await;
    let scrape = settled(&app, &echo.counted);
    assert_eq!(echo.counted.received["Repeat"], 4.0);
    assert_eq!(echo.counted.sent["Repeat"], 8.0, "3 + 3 + 2 replies");
    echo.counted.assert_scraped(&scrape);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_counts_a_client_stream_and_every_request() {
    let (app, mut echo) = start().await;
    echo.collect(&["a", "b", "c", "d"], Code::Ok).await;
    echo.collect(&[], Code::Ok).await;
    echo.collect(&["x", "y"], Code::PermissionDenied).await;
    let scrape = settled(&app, &echo.counted);
    assert_eq!(echo.counted.received["Collect"], 7.0, "4 + 0 + 3 requests");
    assert_eq!(echo.counted.sent["Collect"], 2.0);
    echo.counted.assert_scraped(&scrape);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_counts_a_bidi_stream_and_every_message_both_ways() {
    let (app, mut echo) = start().await;
    echo.chat(&["one", "two", "three"], Code::Ok).await;
    echo.chat(&["a"], Code::Aborted).await;
    let scrape = settled(&app, &echo.counted);
    assert_eq!(echo.counted.received["Chat"], 5.0, "3 + 2 requests");
    assert_eq!(echo.counted.sent["Chat"], 4.0, "3 + 1 echoes");
    echo.counted.assert_scraped(&scrape);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_the_server_exceeds_counts_deadline_exceeded() {
    let (app, mut echo) = start().await;
    echo.say("first", Code::Ok).await;
    let asked = Instant::now();
    echo.say_late(Duration::from_secs(3), Duration::from_millis(200))
        .await;
    let waited = asked.elapsed();
    assert!(
        waited < Duration::from_secs(2),
        "answered at the deadline: {waited:?}"
    );
    let scrape = settled(&app, &echo.counted);
    echo.counted.assert_scraped(&scrape);
    // Timed to the deadline, not to the 3 s the handler would have slept.
    let sum = scrape.value("grpc_server_handling_seconds_sum", &labels("Say"));
    assert!((0.2..1.5).contains(&sum), "handling time {sum} s");
}

// Started − handled is what is in flight: 1 while a chat is open, 0 once it ended; and an
// open stream does not keep the process from exiting on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_chat_is_in_flight_and_sigterm_still_exits_0() {
    let (app, mut echo) = start().await;
    let in_flight = |scrape: &Scrape| {
        let mut handled = 0.0;
        for (labels, value) in scrape.samples(HANDLED) {
            if labels.iter().any(|l| l.0 == "grpc_method" && l.1 == "Chat") {
                handled += value;
            }
        }
        scrape.value(PER_METHOD[0], &labels("Chat")) - handled
    };
    let mut chat = echo.open_chat().await;
    assert_eq!(chat.say("ping").await, "ping");
    let scrape = poll("the chat to start", SETTLE, || {
        let scrape = app.scrape();
        match in_flight(&scrape) {
            1.0 => Ok(scrape),
            other => Err(format!("{other} in flight:\n{}", scrape.text)),
        }
    });
    let handled: f64 = scrape.samples(HANDLED).iter().map(|(_, v)| v).sum();
    assert_eq!(handled, 0.0, "nothing ended yet");
    assert_eq!(chat.close().await, Code::Ok);
    echo.counted.add("Chat", Code::Ok, 1, 1);
    let scrape = settled(&app, &echo.counted);
    assert_eq!(in_flight(&scrape), 0.0);
    echo.counted.assert_scraped(&scrape);

    let mut open = echo.open_chat().await;
    assert_eq!(open.say("still here").await, "still here");
    let stopping = Instant::now();
    assert_eq!(app.terminate().code(), Some(0), "SIGTERM with a chat open");
    assert!(stopping.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_once_is_a_promtool_clean_scrape_of_every_family() {
    let (app, mut echo) = start().await;
    echo.say("s", Code::Ok).await;
    echo.repeat("r", 2, Code::Ok).await;
    echo.collect(&["c"], Code::Ok).await;
    echo.chat(&["b"], Code::Ok).await;
    let scrape = settled(&app, &echo.counted);
    promtool_check_metrics(&scrape.text);
    for (family, kind) in [
        ("grpc_server_started_total", "counter"),
        ("grpc_server_handled_total", "counter"),
        ("grpc_server_handling_seconds", "histogram"),
        ("grpc_server_msg_received_total", "counter"),
        ("grpc_server_msg_sent_total", "counter"),
    ] {
        assert!(
            scrape.text.contains(&format!("\n# TYPE {family} {kind}\n")),
            "{family} {kind}:\n{}",
            scrape.text
        );
    }
    let build = [
        ("service", "grpc-app"),
        ("version", env!("CARGO_PKG_VERSION")),
        ("revision", option_env!("GIT_REVISION").unwrap_or("")),
    ];
    assert_eq!(scrape.get("build_info", &build), Some(1.0), "build_info!()");
    assert!(
        scrape.get("process_open_fds", &[]).is_some(),
        "process families"
    );
    echo.counted.assert_scraped(&scrape);
    // Under the layer, a tracked method names the RPC's type and records nothing of its own.
    for family in ["http_requests_total", "http_request_duration_seconds_count"] {
        assert_eq!(scrape.samples(family), [], "{family}");
    }
}

#[test]
fn a_bad_bind_addr_or_metrics_addr_is_one_line_and_exit_code_2() {
    for variable in GRPC.addr_variables() {
        routes::assert_bad_addr_exits_2(GRPC, variable);
    }
    // An address in use: the same, naming it.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    for (variable, other) in [(BIND_ADDR, METRICS_ADDR), (METRICS_ADDR, BIND_ADDR)] {
        let mut command = GRPC.command();
        command.env(variable, &taken).env(other, "127.0.0.1:0");
        let child = Process::spawn("grpc-app", &mut command);
        assert_eq!(child.wait(SETTLE).code(), Some(2), "{variable} in use");
        let stderr = child.stderr();
        assert_eq!(stderr.len(), 1, "one line: {stderr:?}");
        assert!(
            stderr[0].contains(variable) && stderr[0].contains(&taken),
            "{stderr:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_exits_0() {
    let (app, mut echo) = start().await;
    echo.say("bye", Code::Ok).await;
    assert_eq!(app.signal(Signal::SIGINT).code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_0() {
    let (app, mut echo) = start().await;
    echo.say("bye", Code::Ok).await;
    assert_eq!(app.signal(Signal::SIGTERM).code(), Some(0));
}
