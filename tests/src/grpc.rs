//! grpc-app's `demo.Echo` called as a client calls it (the generated `EchoClient` over a
//! real socket), every answer checked, and what the calls must count in the gRPC families
//! (contract section 14): started, handled by code, timed, messages received and sent.

use std::collections::BTreeMap;
use std::time::Duration;

use grpc_app::echo_client::EchoClient;
use grpc_app::{EchoReply, EchoRequest};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Code, Request, Status, Streaming};

use crate::scrape::Scrape;

/// The service's `grpc_service`.
pub const SERVICE: &str = "demo.Echo";

/// Its methods (`grpc_method`) with their `grpc_type`: exact, every method is tracked.
pub const METHODS: [(&str, &str); 4] = [
    ("Say", "unary"),
    ("Repeat", "server_stream"),
    ("Collect", "client_stream"),
    ("Chat", "bidi_stream"),
];

/// The gRPC families with a series per method (the histogram by its `_count`).
pub const PER_METHOD: [&str; 4] = [
    "grpc_server_started_total",
    "grpc_server_handling_seconds_count",
    "grpc_server_msg_received_total",
    "grpc_server_msg_sent_total",
];

/// `grpc_server_handled_total`.
pub const HANDLED: &str = "grpc_server_handled_total";

/// The codes alerts.yml counts as the server's fault.
pub const SERVER_FAULTS: [Code; 6] = [
    Code::Unknown,
    Code::DeadlineExceeded,
    Code::Unimplemented,
    Code::Internal,
    Code::Unavailable,
    Code::DataLoss,
];

/// Go's name of a code, as `grpc_code` writes it.
pub fn go_name(code: Code) -> String {
    match code {
        Code::Ok => "OK".to_owned(),
        Code::Cancelled => "Canceled".to_owned(),
        other => format!("{other:?}"),
    }
}

/// The `grpc_type` of a method of [`METHODS`].
pub fn grpc_type(method: &str) -> &'static str {
    METHODS
        .iter()
        .find(|(name, _)| *name == method)
        .map(|(_, kind)| *kind)
        .unwrap_or_else(|| panic!("{method} is no method of {SERVICE}"))
}

/// The series of one family: labels sorted by name → value.
pub type Series = BTreeMap<Vec<(String, String)>, f64>;

/// What calls must count, per method.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counted {
    /// RPCs ended, by `(method, Go's code name)`.
    pub handled: BTreeMap<(String, String), f64>,
    /// Messages the server received, by method.
    pub received: BTreeMap<String, f64>,
    /// Messages the server sent, by method.
    pub sent: BTreeMap<String, f64>,
}

impl Counted {
    /// One more RPC of `method` ended with `code`, with these messages.
    pub fn add(&mut self, method: &str, code: Code, received: usize, sent: usize) {
        *self
            .handled
            .entry((method.to_owned(), go_name(code)))
            .or_default() += 1.0;
        *self.received.entry(method.to_owned()).or_default() += received as f64;
        *self.sent.entry(method.to_owned()).or_default() += sent as f64;
    }

    /// How many RPCs ended.
    pub fn rpcs(&self) -> f64 {
        self.handled.values().sum()
    }

    /// Every series the gRPC families must hold, by family, labels sorted by name.
    pub fn series(&self) -> BTreeMap<&'static str, Series> {
        let labels = |method: &str, code: Option<&str>| {
            let mut labels = vec![
                ("grpc_method".to_owned(), method.to_owned()),
                ("grpc_service".to_owned(), SERVICE.to_owned()),
                ("grpc_type".to_owned(), grpc_type(method).to_owned()),
            ];
            if let Some(code) = code {
                labels.insert(0, ("grpc_code".to_owned(), code.to_owned()));
            }
            labels
        };
        let mut out: BTreeMap<&str, Series> = BTreeMap::new();
        for ((method, code), n) in &self.handled {
            *out.entry(HANDLED)
                .or_default()
                .entry(labels(method, Some(code)))
                .or_default() += n;
            for family in &PER_METHOD[..2] {
                *out.entry(family)
                    .or_default()
                    .entry(labels(method, None))
                    .or_default() += n;
            }
        }
        for (family, counts) in [(PER_METHOD[2], &self.received), (PER_METHOD[3], &self.sent)] {
            for (method, n) in counts {
                out.entry(family)
                    .or_default()
                    .insert(labels(method, None), *n);
            }
        }
        out
    }

    /// Compares every series of the gRPC families in `scrape` with [`Counted::series`]
    /// (none missing, none more, the same values), and fails listing every difference.
    pub fn assert_scraped(&self, scrape: &Scrape) {
        let want = self.series();
        let mut wrong = Vec::new();
        for family in PER_METHOD.iter().chain([&HANDLED]) {
            let got: Series = scrape.samples(family).iter().cloned().collect();
            let want = want.get(family).cloned().unwrap_or_default();
            if got != want {
                wrong.push(format!("{family}:\n  want {want:?}\n  got  {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}

/// A request of every method.
pub fn request(text: &str, code: Code, count: u32, delay_ms: u32) -> EchoRequest {
    EchoRequest {
        text: text.to_owned(),
        code: code as i32,
        count,
        delay_ms,
    }
}

/// A client of grpc-app, and what its calls must count.
pub struct Echo {
    client: EchoClient<Channel>,
    /// What the calls so far must count.
    pub counted: Counted,
}

impl Echo {
    /// Connects to grpc-app's `127.0.0.1:PORT`.
    pub async fn connect(addr: &str) -> Echo {
        let client = EchoClient::connect(format!("http://{addr}"))
            .await
            .unwrap_or_else(|err| panic!("connect to grpc-app on {addr}: {err}"));
        Echo {
            client,
            counted: Counted::default(),
        }
    }

    /// `Say`, answered `code` (with the text echoed when OK).
    pub async fn say(&mut self, text: &str, code: Code) {
        let answer = self.client.say(request(text, code, 0, 0)).await;
        assert_eq!(end(&answer), code, "Say {text}: {answer:?}");
        if let Ok(reply) = answer {
            assert_eq!(reply.into_inner().text, text);
        }
        self.counted
            .add("Say", code, 1, usize::from(code == Code::Ok));
    }

    /// `n` calls of `Say` that each take `delay`, all at once.
    pub async fn say_slow(&mut self, n: usize, delay: Duration) {
        let delay_ms = u32::try_from(delay.as_millis()).expect("a short delay");
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..n {
            let mut client = self.client.clone();
            calls.spawn(async move { client.say(request("slow", Code::Ok, 0, delay_ms)).await });
        }
        while let Some(answer) = calls.join_next().await {
            let answer = answer.expect("the call's task");
            assert_eq!(end(&answer), Code::Ok, "slow Say: {answer:?}");
            self.counted.add("Say", Code::Ok, 1, 1);
        }
    }

    /// `Say` asking for `delay`, with a deadline (`grpc-timeout`) of `timeout` before it:
    /// the server drops the call at its deadline. (tonic's server answers its own timeout
    /// `Cancelled`, a client's deadline is `DeadlineExceeded`: either way no reply.)
    pub async fn say_late(&mut self, delay: Duration, timeout: Duration) {
        let delay_ms = u32::try_from(delay.as_millis()).expect("a short delay");
        let mut late = Request::new(request("late", Code::Ok, 0, delay_ms));
        late.set_timeout(timeout);
        let answer = self.client.say(late).await;
        assert!(
            [Code::Cancelled, Code::DeadlineExceeded].contains(&end(&answer)),
            "{answer:?}"
        );
        self.counted.add("Say", Code::DeadlineExceeded, 1, 0);
    }

    /// `Repeat`: `count` replies, then `code`.
    pub async fn repeat(&mut self, text: &str, count: u32, code: Code) {
        let answer = self.client.repeat(request(text, code, count, 0)).await;
        let (replies, ended) = match answer {
            Ok(stream) => read_all(stream.into_inner()).await,
            Err(status) => (Vec::new(), status.code()),
        };
        assert_eq!(ended, code, "Repeat {text} x{count}");
        assert_eq!(replies, vec![text.to_owned(); count as usize]);
        self.counted.add("Repeat", code, 1, replies.len());
    }

    /// `Collect` of `texts`, then, unless `code` is OK, one request asking for it.
    pub async fn collect(&mut self, texts: &[&str], code: Code) {
        let mut requests: Vec<EchoRequest> = texts
            .iter()
            .map(|text| request(text, Code::Ok, 0, 0))
            .collect();
        if code != Code::Ok {
            requests.push(request("end", code, 0, 0));
        }
        let sent = requests.len();
        let answer = self.client.collect(tokio_stream::iter(requests)).await;
        assert_eq!(end(&answer), code, "Collect {texts:?}: {answer:?}");
        if let Ok(reply) = answer {
            assert_eq!(reply.into_inner().text, texts.join(" "));
        }
        self.counted
            .add("Collect", code, sent, usize::from(code == Code::Ok));
    }

    /// `Chat`: each of `texts` sent once its predecessor's echo is back, then, unless
    /// `code` is OK, one request asking for it; the call ends with `code`.
    pub async fn chat(&mut self, texts: &[&str], code: Code) {
        let mut chat = self.open_chat().await;
        for text in texts {
            assert_eq!(chat.say(text).await, *text);
        }
        let ended = if code == Code::Ok {
            chat.close().await
        } else {
            chat.fail(code).await
        };
        assert_eq!(ended, code, "Chat {texts:?}");
        let received = texts.len() + usize::from(code != Code::Ok);
        self.counted.add("Chat", code, received, texts.len());
    }

    /// A `Chat` left open, for the caller to drive. It counts nothing here: the caller
    /// adds what it did.
    pub async fn open_chat(&mut self) -> OpenChat {
        let (requests, outgoing) = mpsc::channel(4);
        let replies = self
            .client
            .chat(ReceiverStream::new(outgoing))
            .await
            .expect("Chat starts")
            .into_inner();
        OpenChat { requests, replies }
    }
}

/// A `Chat` in progress.
pub struct OpenChat {
    requests: mpsc::Sender<EchoRequest>,
    replies: Streaming<EchoReply>,
}

impl OpenChat {
    /// Sends `text`, returns its echo.
    pub async fn say(&mut self, text: &str) -> String {
        self.requests
            .send(request(text, Code::Ok, 0, 0))
            .await
            .expect("send");
        let reply = self.replies.message().await.expect("an echo");
        reply.expect("an echo, not the end").text
    }

    /// Ends the requests; returns the code the call ended with.
    pub async fn close(self) -> Code {
        drop(self.requests);
        read_all(self.replies).await.1
    }

    /// Sends a request asking for `code`; returns the code the call ended with.
    pub async fn fail(self, code: Code) -> Code {
        self.requests
            .send(request("end", code, 0, 0))
            .await
            .expect("send");
        let ended = read_all(self.replies).await;
        assert!(ended.0.is_empty(), "no echo after a failure: {ended:?}");
        ended.1
    }
}

// The code an answer ended with.
fn end<T>(answer: &Result<T, Status>) -> Code {
    answer.as_ref().map_or_else(Status::code, |_| Code::Ok)
}

// Every reply of a stream and the code it ended with.
async fn read_all(mut stream: Streaming<EchoReply>) -> (Vec<String>, Code) {
    let mut replies = Vec::new();
    loop {
        match stream.message().await {
            Ok(Some(reply)) => replies.push(reply.text),
            Ok(None) => return (replies, Code::Ok),
            Err(status) => return (replies, status.code()),
        }
    }
}
