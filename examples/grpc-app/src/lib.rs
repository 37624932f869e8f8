//! The `demo.Echo` service of the example (`proto/demo.proto`): its messages, its
//! generated server and client (`echo_server`, `echo_client`), and [`EchoService`], the
//! implementation `main.rs` serves, every method tracked.
//!
//! A library as well as a program so that tests and other examples can call it with the
//! generated client.

use std::pin::Pin;
use std::time::Duration;

use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use track_metrics::{Objective, track_metrics};

include!(concat!(env!("OUT_DIR"), "/demo.Echo.rs"));

/// A request of every method.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoRequest {
    /// The text to echo.
    #[prost(string, tag = "1")]
    pub text: String,
    /// The gRPC status to answer with (0: OK).
    #[prost(int32, tag = "2")]
    pub code: i32,
    /// Replies of `Repeat`.
    #[prost(uint32, tag = "3")]
    pub count: u32,
    /// Milliseconds to wait before answering (each reply, for streams).
    #[prost(uint32, tag = "4")]
    pub delay_ms: u32,
}

/// A reply of every method.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoReply {
    /// The echoed text.
    #[prost(string, tag = "1")]
    pub text: String,
}

/// 99.9 % of `Say` RPCs end without a server fault; 99 % of them within 250 ms.
pub const ECHO: Objective = Objective::new("echo")
    .success_rate(0.999)
    .latency(Duration::from_millis(250), 0.99);

/// The stream of replies of `Repeat` and `Chat`.
pub type ReplyStream = Pin<Box<dyn Stream<Item = Result<EchoReply, Status>> + Send>>;

/// The service: echoes, and answers the status a request asks for.
#[derive(Clone, Copy, Debug, Default)]
pub struct EchoService;

#[tonic::async_trait]
impl echo_server::Echo for EchoService {
    #[track_metrics(objective = ECHO)]
    async fn say(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        let request = request.into_inner();
        pause(request.delay_ms).await;
        status(request.code)?;
        Ok(Response::new(EchoReply { text: request.text }))
    }

    type RepeatStream = ReplyStream;

    #[track_metrics]
    async fn repeat(&self, request: Request<EchoRequest>) -> Result<Response<ReplyStream>, Status> {
        let request = request.into_inner();
        let text = request.text;
        let replies = tokio_stream::iter(0..request.count).then(move |_| {
            let text = text.clone();
            async move {
                pause(request.delay_ms).await;
                Ok(EchoReply { text })
            }
        });
        let end = tokio_stream::iter(status(request.code).err().map(Err));
        Ok(Response::new(Box::pin(replies.chain(end))))
    }

    #[track_metrics]
    async fn collect(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<EchoReply>, Status> {
        let mut requests = request.into_inner();
        let mut texts = Vec::new();
        while let Some(request) = requests.next().await {
            let request = request?;
            pause(request.delay_ms).await;
            status(request.code)?;
            texts.push(request.text);
        }
        Ok(Response::new(EchoReply {
            text: texts.join(" "),
        }))
    }

    type ChatStream = ReplyStream;

    #[track_metrics]
    async fn chat(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<ReplyStream>, Status> {
        let mut requests = request.into_inner();
        let (replies, stream) = tokio::sync::mpsc::channel(16);
        // Each request answered as it arrives; the first error ends the call with its
        // status. The task ends with the call: a send fails once the client is gone.
        tokio::spawn(async move {
            while let Some(request) = requests.next().await {
                let reply = match request {
                    Ok(request) => {
                        pause(request.delay_ms).await;
                        status(request.code).map(|()| EchoReply { text: request.text })
                    }
                    Err(status) => Err(status),
                };
                let end = reply.is_err();
                if replies.send(reply).await.is_err() || end {
                    break;
                }
            }
        });
        let replies = tokio_stream::wrappers::ReceiverStream::new(stream);
        Ok(Response::new(Box::pin(replies)))
    }
}

/// `Err` with the status `code` names, `Ok` for 0.
fn status(code: i32) -> Result<(), Status> {
    match tonic::Code::from(code) {
        tonic::Code::Ok => Ok(()),
        code => Err(Status::new(code, "requested")),
    }
}

async fn pause(millis: u32) {
    if millis > 0 {
        tokio::time::sleep(Duration::from_millis(millis.into())).await;
    }
}
