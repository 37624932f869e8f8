//! go-grpc-prometheus as the reference for `GrpcMetricsLayer` (contract section 14): the
//! same traffic, from a real tonic client, to `tests/go/grpc-reference` (examples/grpc-app's
//! `demo.Echo` on grpc-go behind go-grpc-prometheus' server interceptors, with
//! `EnableHandlingTimeHistogram()` and `Register`) and to the built `grpc-app`; then each
//! test compares one thing of the two scrapes' `grpc_*` families.
//!
//! Both servers are started once per test binary, sent the traffic, scraped once every RPC
//! is recorded, and stopped; the tests share the answers and the scrapes.
//!
//! Zero-valued series: Go's `Register` creates every method's series up front at 0 (all 17
//! codes of `grpc_server_handled_total`), the layer creates a series with its first RPC. So
//! values are compared on the series that are not 0 on either side, and every series of
//! ours must be one Go has (the same labels, `grpc_type` included), whatever its value.
//!
//! Unknown methods: Go's interceptors never see them (nothing counted), the layer counts
//! them under `grpc_service=""`, `grpc_method=""`, `grpc_type="unary"`: left out of the
//! comparisons and asserted on their own.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use grpc_app::EchoRequest;
use grpc_app::echo_client::EchoClient;
use metrics_tests::app::{BIND_ADDR, Example, METRICS_ADDR};
use metrics_tests::http::try_get;
use metrics_tests::process::Process;
use metrics_tests::scrape::{Sample, Scrape, label};
use metrics_tests::servers::free_port;
use metrics_tests::wait;
use tonic::Code;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;

const START: Duration = Duration::from_secs(30);
const RECORDED: Duration = Duration::from_secs(10);

/// The families of contract section 14, as their `# TYPE` lines name them.
const FAMILIES: [&str; 5] = [
    "grpc_server_started_total",
    "grpc_server_handled_total",
    "grpc_server_msg_received_total",
    "grpc_server_msg_sent_total",
    "grpc_server_handling_seconds",
];

/// Methods neither server has: answered `Unimplemented` by both, counted by us alone.
const UNKNOWN: [&str; 2] = ["/demo.Echo/Nope", "/no.Such/Method"];

/// One RPC of the traffic: the method, its type, the requests sent, and what the client
/// must get back (the texts of the replies, then the status). Both servers read every
/// request and count every reply: received = `requests.len()`, sent = `replies.len()`.
struct Rpc {
    method: &'static str,
    grpc_type: &'static str,
    requests: Vec<EchoRequest>,
    replies: Vec<&'static str>,
    code: Code,
}

fn request(text: &str, code: Code, count: u32) -> EchoRequest {
    EchoRequest {
        text: text.to_owned(),
        code: code as i32,
        count,
        delay_ms: 0,
    }
}

fn rpc(
    method: &'static str,
    grpc_type: &'static str,
    requests: Vec<EchoRequest>,
    replies: Vec<&'static str>,
    code: Code,
) -> Rpc {
    Rpc {
        method,
        grpc_type,
        requests,
        replies,
        code,
    }
}

/// The traffic both servers get, in this order.
fn traffic() -> Vec<Rpc> {
    let ok = |text| request(text, Code::Ok, 0);
    vec![
        rpc("Say", "unary", vec![ok("a")], vec!["a"], Code::Ok),
        rpc("Say", "unary", vec![ok("b")], vec!["b"], Code::Ok),
        rpc(
            "Say",
            "unary",
            vec![request("c", Code::NotFound, 0)],
            vec![],
            Code::NotFound,
        ),
        rpc(
            "Say",
            "unary",
            vec![request("d", Code::InvalidArgument, 0)],
            vec![],
            Code::InvalidArgument,
        ),
        rpc(
            "Repeat",
            "server_stream",
            vec![request("r", Code::Ok, 3)],
            vec!["r", "r", "r"],
            Code::Ok,
        ),
        rpc(
            "Repeat",
            "server_stream",
            vec![request("s", Code::Internal, 2)],
            vec!["s", "s"],
            Code::Internal,
        ),
        rpc(
            "Collect",
            "client_stream",
            vec![ok("x"), ok("y"), ok("z")],
            vec!["x y z"],
            Code::Ok,
        ),
        // The failing request last: both servers read every request the client sent.
        rpc(
            "Collect",
            "client_stream",
            vec![ok("x"), request("y", Code::Aborted, 0)],
            vec![],
            Code::Aborted,
        ),
        rpc(
            "Chat",
            "bidi_stream",
            vec![ok("p"), ok("q")],
            vec!["p", "q"],
            Code::Ok,
        ),
        rpc(
            "Chat",
            "bidi_stream",
            vec![ok("p"), request("q", Code::Unavailable, 0)],
            vec!["p"],
            Code::Unavailable,
        ),
    ]
}

/// What a server answered: each RPC's reply texts and status, then each unknown method's
/// status.
#[derive(Debug, PartialEq)]
struct Answers {
    rpcs: Vec<(Vec<String>, Code)>,
    unknown: Vec<Code>,
}

/// One server's run: what it answered and its scrape once everything was recorded.
struct Run {
    answers: Answers,
    scrape: Scrape,
}

/// The Go reference and `grpc-app`, each sent the traffic.
struct Runs {
    go: Run,
    ours: Run,
}

fn runs() -> &'static Runs {
    static RUNS: OnceLock<Runs> = OnceLock::new();
    RUNS.get_or_init(|| {
        let binary =
            metrics_tests::go::build("grpc-reference", env!("CARGO_TARGET_TMPDIR").as_ref());
        let known = traffic().len();
        let go = run("grpc-reference", &mut Command::new(binary), known);
        let ours = run(
            "grpc-app",
            &mut Example::Grpc.command(),
            known + UNKNOWN.len(),
        );
        eprintln!(
            "go-grpc-prometheus (non-zero series, no buckets):\n{}\ngrpc-app:\n{}",
            grpc_lines(&go.scrape),
            grpc_lines(&ours.scrape)
        );
        Runs { go, ours }
    })
}

// Starts `command` with gRPC and `/metrics` on free loopback ports (`BIND_ADDR`,
// `METRICS_ADDR`), sends the traffic, scrapes once `ended` RPCs are handled and timed, and
// stops it (dropped: killed).
fn run(name: &str, command: &mut Command, ended: usize) -> Run {
    let (grpc, metrics) = (free_port(), free_port());
    command
        .env(BIND_ADDR, format!("127.0.0.1:{grpc}"))
        .env(METRICS_ADDR, format!("127.0.0.1:{metrics}"));
    let process = Process::spawn(name, command);
    let base = format!("http://127.0.0.1:{metrics}");
    process.wait_ready(START, || {
        try_get(&format!("{base}/metrics"), &[]).map(|r| r.status) == Some(200)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answers = runtime.block_on(send(format!("http://127.0.0.1:{grpc}")));
    // Recorded when the RPC ends, which the client may see first: wait (bounded) until
    // every RPC is started, handled and timed, then compare whatever was recorded.
    let ended = ended as f64;
    let scrape = wait::settle(RECORDED, || {
        let scrape = Scrape::fetch(&base);
        // Started too: a scrape reads the families one after the other, and an RPC that
        // starts as it ends (an unknown method's) may be seen handled and not yet started.
        let done = total(&scrape, "grpc_server_started_total") == ended
            && total(&scrape, "grpc_server_handled_total") == ended
            && total(&scrape, "grpc_server_handling_seconds_count") == ended;
        if done {
            Ok(scrape)
        } else {
            Err(Box::new(scrape))
        }
    })
    .unwrap_or_else(|scrape| *scrape);
    process.assert_running();
    Run { answers, scrape }
}

// Sends the traffic, then a call to each unknown method, over one connection.
async fn send(url: String) -> Answers {
    let channel = connect(&url).await;
    let mut client = EchoClient::new(channel.clone());
    let mut rpcs = Vec::new();
    for rpc in traffic() {
        rpcs.push(call(&mut client, &rpc).await);
    }
    let mut unknown = Vec::new();
    for path in UNKNOWN {
        unknown.push(call_unknown(channel.clone(), path).await);
    }
    Answers { rpcs, unknown }
}

// Connects, retrying (bounded) until the server accepts.
async fn connect(url: &str) -> Channel {
    let endpoint = Channel::from_shared(url.to_owned()).unwrap();
    for _ in 0..100 {
        if let Ok(channel) = endpoint.connect().await {
            return channel;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cannot connect to {url}")
}

// One RPC: the texts of the replies the client got, and the status it ended with.
async fn call(client: &mut EchoClient<Channel>, rpc: &Rpc) -> (Vec<String>, Code) {
    let requests = rpc.requests.clone();
    let first = requests[0].clone();
    let stream = tokio_stream::iter(requests);
    let mut texts = Vec::new();
    let end = match rpc.grpc_type {
        "unary" => client
            .say(first)
            .await
            .map(|reply| texts.push(reply.into_inner().text)),
        "client_stream" => client
            .collect(stream)
            .await
            .map(|reply| texts.push(reply.into_inner().text)),
        "server_stream" | "bidi_stream" => {
            let replies = if rpc.grpc_type == "server_stream" {
                client.repeat(first).await
            } else {
                client.chat(stream).await
            };
            match replies {
                Ok(replies) => {
                    let mut replies = replies.into_inner();
                    loop {
                        match replies.message().await {
                            Ok(Some(reply)) => texts.push(reply.text),
                            Ok(None) => break Ok(()),
                            Err(status) => break Err(status),
                        }
                    }
                }
                Err(status) => Err(status),
            }
        }
        other => panic!("no method of type {other}"),
    };
    (texts, end.err().map_or(Code::Ok, |status| status.code()))
}

// A unary call of `path` with an empty message.
async fn call_unknown(channel: Channel, path: &str) -> Code {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let path = PathAndQuery::try_from(path.to_owned()).unwrap();
    match grpc.unary(tonic::Request::new(()), path, codec).await {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// The sum of a family's samples.
fn total(scrape: &Scrape, name: &str) -> f64 {
    scrape.samples(name).iter().map(|(_, value)| value).sum()
}

/// The `grpc_*` sample lines of a scrape whose value is not 0, buckets left out.
fn grpc_lines(scrape: &Scrape) -> String {
    scrape
        .text
        .lines()
        .filter(|line| line.starts_with("grpc_") && !line.ends_with(" 0"))
        .filter(|line| !line.starts_with("grpc_server_handling_seconds_bucket"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A code as Go's `codes.Code.String()` writes it (tonic's `Debug` writes `Ok`, `Cancelled`).
fn go_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

/// A sample's labels as `k="v",…` (sorted by name).
fn labels(sample: &Sample) -> String {
    labels_of(&sample.0)
}

/// Whether a sample is one of a known method (not the layer's `""` series).
fn known(sample: &Sample) -> bool {
    !label(&sample.0, "grpc_service").is_empty()
}

/// The series of `name` (a histogram's `_count` or `_bucket` included) of known methods
/// that are not 0: labels → value.
fn nonzero(scrape: &Scrape, name: &str) -> BTreeMap<String, f64> {
    scrape
        .samples(name)
        .iter()
        .filter(|sample| known(sample) && sample.1 != 0.0)
        .map(|sample| (labels(sample), sample.1))
        .collect()
}

/// What the traffic must add to `family` (a counter, or the histogram's `_count`): labels →
/// value, from the table of [`traffic`] alone.
fn expected(family: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for rpc in traffic() {
        let mut labels = vec![
            ("grpc_method", rpc.method.to_owned()),
            ("grpc_service", "demo.Echo".to_owned()),
            ("grpc_type", rpc.grpc_type.to_owned()),
        ];
        let add = match family {
            "grpc_server_started_total" | "grpc_server_handling_seconds_count" => 1,
            "grpc_server_handled_total" => {
                labels.push(("grpc_code", go_name(rpc.code).to_owned()));
                1
            }
            "grpc_server_msg_received_total" => rpc.requests.len(),
            "grpc_server_msg_sent_total" => rpc.replies.len(),
            other => panic!("no expectation for {other}"),
        };
        if add == 0 {
            continue;
        }
        labels.sort();
        let labels: Vec<_> = labels.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        *out.entry(labels_of(&labels)).or_insert(0.0) += add as f64;
    }
    out
}

/// The values of every non-zero series of `name` in both scrapes, Go's first.
fn compare(name: &str) {
    let runs = runs();
    assert_eq!(
        nonzero(&runs.ours.scrape, name),
        nonzero(&runs.go.scrape, name),
        "{name}: ours (left) vs go-grpc-prometheus (right)"
    );
}

#[test]
fn both_answer_the_traffic_alike() {
    let runs = runs();
    let want = Answers {
        rpcs: traffic()
            .iter()
            .map(|rpc| {
                let texts = rpc.replies.iter().map(|text| (*text).to_owned()).collect();
                (texts, rpc.code)
            })
            .collect(),
        unknown: vec![Code::Unimplemented; UNKNOWN.len()],
    };
    assert_eq!(runs.go.answers, want, "grpc-reference");
    assert_eq!(runs.ours.answers, want, "grpc-app");
}

// The reference on its own: exactly what the traffic adds, and the zero series of
// `Register` for the four methods with their types, nothing else.
#[test]
fn go_counts_the_traffic_exactly() {
    let go = &runs().go.scrape;
    for family in [
        "grpc_server_started_total",
        "grpc_server_handled_total",
        "grpc_server_msg_received_total",
        "grpc_server_msg_sent_total",
        "grpc_server_handling_seconds_count",
    ] {
        assert_eq!(nonzero(go, family), expected(family), "{family}");
        let methods: BTreeSet<(String, String)> = go
            .samples(family)
            .iter()
            .map(|(labels, _)| {
                let (method, kind) = (label(labels, "grpc_method"), label(labels, "grpc_type"));
                (method.to_owned(), kind.to_owned())
            })
            .collect();
        let registered = [
            ("Chat", "bidi_stream"),
            ("Collect", "client_stream"),
            ("Repeat", "server_stream"),
            ("Say", "unary"),
        ]
        .map(|(m, t)| (m.to_owned(), t.to_owned()));
        assert_eq!(methods, BTreeSet::from(registered), "{family}");
    }
    // Every code of every method pre-registered: 4 × 17.
    assert_eq!(go.samples("grpc_server_handled_total").len(), 4 * 17);
    assert_eq!(
        go.samples("grpc_server_handling_seconds_count").len(),
        4,
        "one histogram per method"
    );
}

#[test]
fn same_families_types_and_help() {
    let runs = runs();
    let grpc = |scrape: &'static Scrape| -> BTreeSet<&'static str> {
        scrape
            .family_names()
            .into_iter()
            // The server families (`grpc_objective_info` is ours: objectives).
            .filter(|name| name.starts_with("grpc_server_"))
            .collect()
    };
    assert_eq!(grpc(&runs.go.scrape), BTreeSet::from(FAMILIES), "Go's");
    let mut differences = Vec::new();
    for family in FAMILIES {
        let go = runs.go.scrape.described(family).expect(family);
        match runs.ours.scrape.described(family) {
            None => differences.push(format!("{family}: not in ours")),
            Some(ours) if (&ours.kind, &ours.help) != (&go.kind, &go.help) => {
                differences.push(format!(
                    "{family}: ours {} {:?}, Go's {} {:?}",
                    ours.kind, ours.help, go.kind, go.help
                ));
            }
            Some(_) => {}
        }
    }
    for extra in grpc(&runs.ours.scrape).difference(&grpc(&runs.go.scrape)) {
        differences.push(format!("{extra}: ours only"));
    }
    assert!(differences.is_empty(), "{differences:#?}");
}

#[test]
fn same_label_names() {
    let runs = runs();
    let names = |scrape: &Scrape, name: &str| -> BTreeSet<Vec<String>> {
        scrape
            .samples(name)
            .iter()
            .map(|(labels, _)| labels.iter().map(|(k, _)| k.clone()).collect())
            .collect()
    };
    let mut differences = Vec::new();
    for family in FAMILIES {
        let series = if family == "grpc_server_handling_seconds" {
            ["_bucket", "_count", "_sum"]
                .map(|suffix| format!("{family}{suffix}"))
                .to_vec()
        } else {
            vec![family.to_owned()]
        };
        for name in series {
            let go = names(&runs.go.scrape, &name);
            assert_eq!(go.len(), 1, "{name}: one set of label names in Go's");
            let ours = names(&runs.ours.scrape, &name);
            if ours != go {
                differences.push(format!("{name}: ours {ours:?}, Go's {go:?}"));
            }
        }
    }
    assert!(differences.is_empty(), "{differences:#?}");
}

#[test]
fn same_started() {
    compare("grpc_server_started_total");
}

#[test]
fn same_handled() {
    compare("grpc_server_handled_total");
}

#[test]
fn same_msg_received() {
    compare("grpc_server_msg_received_total");
}

#[test]
fn same_msg_sent() {
    compare("grpc_server_msg_sent_total");
}

#[test]
fn same_handling_seconds_count() {
    compare("grpc_server_handling_seconds_count");
}

// Each method's histogram `le` bounds, on both sides: Go's default buckets (`prometheus.
// DefBuckets` and `+Inf`), ours section 4's. By service and method only: the other tests
// compare `grpc_type`.
#[test]
fn same_bucket_bounds() {
    let runs = runs();
    let bounds = |scrape: &Scrape| -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (labels, _) in scrape.samples("grpc_server_handling_seconds_bucket") {
            let (service, method) = (label(labels, "grpc_service"), label(labels, "grpc_method"));
            if service.is_empty() {
                continue;
            }
            out.entry(format!("{service}/{method}"))
                .or_default()
                .push(label(labels, "le").to_owned());
        }
        for les in out.values_mut() {
            les.sort_by(|a, b| le(a).total_cmp(&le(b)));
        }
        out
    };
    let go = bounds(&runs.go.scrape);
    let default: Vec<String> = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ]
    .map(str::to_owned)
    .to_vec();
    assert_eq!(go.len(), 4, "a histogram per method in Go's");
    for (series, les) in &go {
        assert_eq!(les, &default, "Go's {series}");
    }
    let ours = bounds(&runs.ours.scrape);
    assert!(!ours.is_empty(), "no histogram of a known method in ours");
    for (series, les) in &ours {
        assert_eq!(
            Some(les),
            go.get(series),
            "{series}: ours (left) vs Go's (None: Go has no such method)"
        );
    }
}

// Ours has no series of a known method that Go's `Register` does not create: the same
// label values, `grpc_type` included, whatever the value.
#[test]
fn every_series_of_ours_is_one_go_has() {
    let runs = runs();
    for family in FAMILIES {
        let name = if family == "grpc_server_handling_seconds" {
            "grpc_server_handling_seconds_count"
        } else {
            family
        };
        let set = |scrape: &Scrape| -> BTreeSet<String> {
            scrape
                .samples(name)
                .iter()
                .filter(|sample| known(sample))
                .map(labels)
                .collect()
        };
        let go = set(&runs.go.scrape);
        let extra: Vec<_> = set(&runs.ours.scrape).difference(&go).cloned().collect();
        assert!(extra.is_empty(), "{name}: ours only: {extra:?}");
    }
}

// The documented difference: both answer `Unimplemented`; Go counts nothing (its
// interceptors never run), the layer counts each under `""` names, as `unary`.
#[test]
fn unknown_methods_count_in_ours_alone_under_empty_names() {
    let runs = runs();
    for family in [
        "grpc_server_started_total",
        "grpc_server_handled_total",
        "grpc_server_handling_seconds_count",
    ] {
        let unnamed = |scrape: &Scrape| -> Vec<String> {
            scrape
                .samples(family)
                .iter()
                .filter(|sample| !known(sample))
                .map(|sample| format!("{{{}}} {}", labels(sample), sample.1))
                .collect()
        };
        assert_eq!(
            unnamed(&runs.go.scrape),
            Vec::<String>::new(),
            "Go's {family}"
        );
        let code = if family == "grpc_server_handled_total" {
            "grpc_code=\"Unimplemented\","
        } else {
            ""
        };
        assert_eq!(
            unnamed(&runs.ours.scrape),
            vec![format!(
                "{{{code}grpc_method=\"\",grpc_service=\"\",grpc_type=\"unary\"}} {}",
                UNKNOWN.len()
            )],
            "our {family}"
        );
    }
    for scrape in [&runs.go.scrape, &runs.ours.scrape] {
        for name in ["Nope", "no.Such", "Method"] {
            assert!(
                !scrape
                    .text
                    .lines()
                    .any(|line| line.starts_with("grpc_") && line.contains(name)),
                "{name} in:\n{}",
                scrape.text
            );
        }
    }
}

/// Labels as `k="v",…`, in their order.
fn labels_of(labels: &[(String, String)]) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// An `le` bound as a number.
fn le(text: &str) -> f64 {
    if text == "+Inf" {
        f64::INFINITY
    } else {
        text.parse().unwrap()
    }
}
