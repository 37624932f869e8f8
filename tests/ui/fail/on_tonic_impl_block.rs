//! Above `#[tonic::async_trait]`, on the service's impl block: the error says to put it on
//! each method.

use grpc_app::echo_server::Echo;
use grpc_app::{EchoReply, EchoRequest, ReplyStream};
use tonic::{Request, Response, Status, Streaming};
use track_metrics::track_metrics;

struct Service;

#[track_metrics]
#[tonic::async_trait]
impl Echo for Service {
    async fn say(&self, _: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        Err(Status::unimplemented("no"))
    }

    type RepeatStream = ReplyStream;

    async fn repeat(&self, _: Request<EchoRequest>) -> Result<Response<ReplyStream>, Status> {
        Err(Status::unimplemented("no"))
    }

    async fn collect(
        &self,
        _: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<EchoReply>, Status> {
        Err(Status::unimplemented("no"))
    }

    type ChatStream = ReplyStream;

    async fn chat(
        &self,
        _: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<ReplyStream>, Status> {
        Err(Status::unimplemented("no"))
    }
}

fn main() {}
