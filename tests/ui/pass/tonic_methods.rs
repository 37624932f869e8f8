//! Tracked tonic service methods of the four kinds (`#[tonic::async_trait]`), and an
//! `async fn` of a method's shape. Without the gRPC layer each counts as any function,
//! its status the HTTP equivalent of its gRPC code; functions that only look like
//! methods (a `Request` of another crate) count as usual.

use std::pin::Pin;

use grpc_app::echo_server::Echo;
use grpc_app::{EchoReply, EchoRequest};
use tokio_stream::Stream;
use tonic::{Code, Request, Response, Status, Streaming};
use track_metrics::track_metrics;

type Replies = Pin<Box<dyn Stream<Item = Result<EchoReply, Status>> + Send>>;

struct Service;

#[tonic::async_trait]
impl Echo for Service {
    #[track_metrics(name = "Service::say")]
    async fn say(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        match request.into_inner().code {
            0 => Ok(Response::new(EchoReply::default())),
            code => Err(Status::new(Code::from(code), "asked")),
        }
    }

    type RepeatStream = Replies;

    #[track_metrics(name = "Service::repeat")]
    async fn repeat(
        &self,
        _request: Request<EchoRequest>,
    ) -> Result<Response<Self::RepeatStream>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::empty())))
    }

    #[track_metrics(name = "Service::collect")]
    async fn collect(
        &self,
        _request: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<EchoReply>, Status> {
        Err(Status::unavailable("not now"))
    }

    type ChatStream = Replies;

    #[track_metrics(name = "Service::chat")]
    async fn chat(
        &self,
        _request: Request<Streaming<EchoRequest>>,
    ) -> std::result::Result<tonic::Response<Self::ChatStream>, tonic::Status> {
        Err(Status::permission_denied("no"))
    }
}

/// A method's shape outside a trait.
#[track_metrics]
async fn lookup(request: tonic::Request<u32>) -> Result<tonic::Response<u32>, tonic::Status> {
    match request.into_inner() {
        0 => Err(Status::unauthenticated("who")),
        id => Ok(Response::new(id)),
    }
}

mod other {
    /// Not tonic's.
    pub struct Request<T>(pub T);
}

/// Looks like a method, is not one: `Err` counts as 500 as for any `Result`.
#[track_metrics]
async fn look_alike(request: other::Request<u8>) -> Result<u8, String> {
    if request.0 == 0 { Err("zero".to_owned()) } else { Ok(request.0) }
}

fn counted(handler: &str, status: &str) -> Option<String> {
    let prefix = format!(
        r#"http_requests_total{{handler="{handler}",method="",route="",status="{status}"}} "#
    );
    track_metrics::render()
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let service = Service;
        let ok = EchoRequest::default();
        let missing = EchoRequest {
            code: Code::NotFound as i32,
            ..EchoRequest::default()
        };
        assert!(service.say(Request::new(ok.clone())).await.is_ok());
        assert!(service.say(Request::new(missing)).await.is_err());
        assert!(service.repeat(Request::new(ok)).await.is_ok());
        assert!(lookup(Request::new(7)).await.is_ok());
        assert!(lookup(Request::new(0)).await.is_err());
        assert!(look_alike(other::Request(0)).await.is_err());
    });
    assert_eq!(counted("Service::say", "200").as_deref(), Some("1"));
    assert_eq!(counted("Service::say", "404").as_deref(), Some("1"));
    assert_eq!(counted("Service::repeat", "200").as_deref(), Some("1"));
    assert_eq!(counted("lookup", "200").as_deref(), Some("1"));
    assert_eq!(counted("lookup", "401").as_deref(), Some("1"));
    assert_eq!(counted("look_alike", "500").as_deref(), Some("1"));
}
