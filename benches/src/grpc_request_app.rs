use std::hint::black_box;
use std::pin::Pin;

use bytes::{BufMut, Bytes, BytesMut};
use grpc_app::echo_server::{Echo, EchoServer};
use grpc_app::{EchoReply, EchoRequest};
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use prost::Message;
use tokio_stream::{Stream, StreamExt};
use tonic::body::Body;
use tonic::service::{RecoverErrorLayer, Routes};
use tonic::{Status, Streaming};
use tower::util::BoxCloneService;
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};

/// The service's name and the two methods measured.
pub const SERVICE: &str = "demo.Echo";
/// The unary method: one request, one reply.
pub const UNARY: &str = "Say";
/// The server-streaming method: one request, `count` replies.
pub const STREAM: &str = "Repeat";

/// Replies of the long stream.
pub const LONG: u32 = 100;

/// One kind of RPC: the method, the replies asked for, how they are framed.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Its name in the tables and for `callgrind_grpc`.
    pub name: &'static str,
    /// The method called.
    pub method: &'static str,
    /// The replies asked for (`Repeat`).
    pub count: u32,
    /// How the replies are framed.
    pub frames: Frames,
}

/// Every shape measured: the unary RPC, then the short and the long stream of each
/// framing.
pub const SHAPES: [Shape; 5] = [
    Shape {
        name: "unary",
        method: UNARY,
        count: 0,
        frames: Frames::Packed,
    },
    Shape {
        name: "stream-1-packed",
        method: STREAM,
        count: 1,
        frames: Frames::Packed,
    },
    Shape {
        name: "stream-100-packed",
        method: STREAM,
        count: LONG,
        frames: Frames::Packed,
    },
    Shape {
        name: "stream-1-frames",
        method: STREAM,
        count: 1,
        frames: Frames::EachOwn,
    },
    Shape {
        name: "stream-100-frames",
        method: STREAM,
        count: LONG,
        frames: Frames::EachOwn,
    },
];

/// How the streaming method hands its replies to tonic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frames {
    /// Every reply ready at once (`tokio_stream::iter`): tonic's encoder packs the ready
    /// messages into one data frame (up to 32 KiB).
    Packed,
    /// Each reply after a `yield_now`, as a reply produced by other work would come:
    /// one data frame per message.
    EachOwn,
}

/// `demo.Echo` without `#[track_metrics]` (the example's `EchoService` tracks every
/// method, which would count in the bare variant too): `Say` echoes, `Repeat` answers
/// `count` echoes; the client-streaming methods are not measured.
#[derive(Clone, Copy, Debug)]
pub struct BenchEcho {
    frames: Frames,
}

type ReplyStream = Pin<Box<dyn Stream<Item = Result<EchoReply, Status>> + Send>>;

#[tonic::async_trait]
impl Echo for BenchEcho {
    async fn say(
        &self,
        request: tonic::Request<EchoRequest>,
    ) -> Result<tonic::Response<EchoReply>, Status> {
        Ok(tonic::Response::new(EchoReply {
            text: request.into_inner().text,
        }))
    }

    type RepeatStream = ReplyStream;

    async fn repeat(
        &self,
        request: tonic::Request<EchoRequest>,
    ) -> Result<tonic::Response<ReplyStream>, Status> {
        let EchoRequest { text, count, .. } = request.into_inner();
        let frames = self.frames;
        let replies = tokio_stream::iter(0..count).then(move |_| {
            let text = text.clone();
            async move {
                if frames == Frames::EachOwn {
                    tokio::task::yield_now().await;
                }
                Ok(EchoReply { text })
            }
        });
        Ok(tonic::Response::new(Box::pin(replies)))
    }

    async fn collect(
        &self,
        _: tonic::Request<Streaming<EchoRequest>>,
    ) -> Result<tonic::Response<EchoReply>, Status> {
        Err(Status::unimplemented("not measured"))
    }

    type ChatStream = ReplyStream;

    async fn chat(
        &self,
        _: tonic::Request<Streaming<EchoRequest>>,
    ) -> Result<tonic::Response<ReplyStream>, Status> {
        Err(Status::unimplemented("not measured"))
    }
}

/// A server's service for one connection, as tonic hands it to hyper: boxed and cloned.
pub type Stack = BoxCloneService<Request<Body>, Response<Body>, BoxError>;

/// What `Server::builder().layer(layer).add_service(EchoServer::new(..))` serves on a
/// connection, without the socket: the routes (`prepare`d, as `serve` does), the user's
/// layer around them, then tonic's own per-connection stack (`RecoverError`; the body
/// boxed into `tonic::body::Body`; the whole boxed and cloned per connection). Left
/// out, being private to tonic and the same for every variant: the `grpc-timeout`
/// reader, the connection-info extension, the tracing span. `layer`: `Identity` for
/// none (as `Server::builder()` starts), or a metrics layer.
pub fn stack<L, B>(layer: L, frames: Frames) -> Stack
where
    L: Layer<Routes>,
    L::Service: Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
    <L::Service as Service<Request<Body>>>::Future: Send + 'static,
    <L::Service as Service<Request<Body>>>::Error: Into<BoxError> + Send,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let routes = Routes::new(EchoServer::new(BenchEcho { frames })).prepare();
    let service = ServiceBuilder::new()
        .layer(RecoverErrorLayer::new())
        .layer(layer)
        .service(routes)
        .map_response(|response| response.map(Body::new));
    BoxCloneService::new(service)
}

/// A request to `/demo.Echo/{method}`: `text` and `count` (replies of `Repeat`) in one
/// length-prefixed protobuf message, `content-type: application/grpc`.
pub fn request(method: &str, count: u32) -> Request<Body> {
    let message = EchoRequest {
        text: "hello".into(),
        count,
        ..EchoRequest::default()
    };
    Request::post(format!("/{SERVICE}/{method}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Body::new(Full::new(frame(&message))))
        .expect("a valid request")
}

// A gRPC message on the wire: uncompressed flag, 4-byte big-endian length, protobuf.
fn frame(message: &impl Message) -> Bytes {
    let mut buf = BytesMut::with_capacity(5 + message.encoded_len());
    buf.put_u8(0);
    buf.put_u32(u32::try_from(message.encoded_len()).expect("a small message"));
    message.encode(&mut buf).expect("room for the message");
    buf.freeze()
}

/// One RPC through `stack` as hyper sends it (`oneshot` on a clone of the connection's
/// service), its response body polled frame by frame to its end, as hyper does to send
/// it: what the timed loops run.
pub async fn send(stack: &Stack, request: Request<Body>) {
    let response = stack.clone().oneshot(request).await.expect("a response");
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        black_box(frame.expect("a body frame"));
    }
}

/// [`send`], answering the replies decoded and the trailers' `grpc-status`: what the
/// checks outside the timed loops call.
pub async fn call(stack: &Stack, request: Request<Body>) -> (Vec<EchoReply>, Option<String>) {
    let response = stack.clone().oneshot(request).await.expect("a response");
    let status = |headers: &HeaderMap| {
        headers
            .get("grpc-status")
            .map(|value| value.to_str().expect("ascii").to_owned())
    };
    let head_status = status(response.headers());
    let collected = response.into_body().collect().await.expect("a body");
    let trailers_status = collected.trailers().and_then(status);
    let mut data = collected.to_bytes();
    let mut replies = Vec::new();
    while !data.is_empty() {
        let len = u32::from_be_bytes(data[1..5].try_into().expect("a length")) as usize;
        let message = data.slice(5..5 + len);
        replies.push(EchoReply::decode(message).expect("a reply"));
        data = data.slice(5 + len..);
    }
    (replies, trailers_status.or(head_status))
}

/// The name of the baseline, the last of [`VARIANTS`].
pub const BASELINE: &str = "tonic-prometheus-layer";

/// The variants, each a [`stack`] with: no layer (`bare`), ours (`layer`,
/// `GrpcMetricsLayer`), tonic_prometheus_layer's `MetricsLayer` ([`BASELINE`]).
pub const VARIANTS: [&str; 3] = ["bare", "layer", BASELINE];

/// The [`stack`] of the variant `name`; `None` for a name not in [`VARIANTS`].
pub fn variant(name: &str, frames: Frames) -> Option<Stack> {
    Some(match name {
        "bare" => stack(tower::layer::util::Identity::new(), frames),
        "layer" => stack(track_metrics::tonic::GrpcMetricsLayer::new(), frames),
        BASELINE => stack(tonic_prometheus_layer::MetricsLayer::new(), frames),
        _ => return None,
    })
}
