//! The `Service` the layer makes.

use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use super::rpc::Rpc;
use super::{GrpcMetricsBody, GrpcMetricsFuture, GrpcRequestBody};

/// The service of [`GrpcMetricsLayer`](super::GrpcMetricsLayer): starts an RPC for
/// every gRPC request (`content-type: application/grpc…`) and hands it to the response
/// future; its inner service gets the request with its body wrapped to count the
/// client's messages. Any other request passes through uncounted.
#[derive(Clone, Debug)]
pub struct GrpcMetricsService<S> {
    pub(super) inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for GrpcMetricsService<S>
where
    S: Service<Request<GrpcRequestBody<ReqBody>>, Response = Response<ResBody>>,
    ResBody: Body,
{
    type Response = Response<GrpcMetricsBody<ResBody>>;
    type Error = S::Error;
    type Future = GrpcMetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (rpc, receiving) = Rpc::start(&request).unzip();
        let request = request.map(|body| GrpcRequestBody::new(body, receiving));
        GrpcMetricsFuture::new(self.inner.call(request), rpc)
    }
}
