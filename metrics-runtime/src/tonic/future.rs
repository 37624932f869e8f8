//! The response future: hands the RPC to the body once the answer's head is ready.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use http_body::Body;
use pin_project_lite::pin_project;

use super::GrpcMetricsBody;
use super::rpc::{Rpc, Unwinding};

pin_project! {
    /// The response future of [`GrpcMetricsService`](super::GrpcMetricsService): the
    /// inner service's; an RPC dropped with it counts as `Canceled` (`Internal` in a
    /// panic's unwinding), one whose service fails as `Unknown`.
    pub struct GrpcMetricsFuture<F> {
        #[pin]
        inner: F,
        rpc: Option<Rpc>,
    }
}

impl<F> GrpcMetricsFuture<F> {
    pub(super) fn new(inner: F, rpc: Option<Rpc>) -> GrpcMetricsFuture<F> {
        GrpcMetricsFuture { inner, rpc }
    }
}

impl<F, B, E> Future for GrpcMetricsFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
{
    type Output = Result<Response<GrpcMetricsBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = match this.rpc {
            // A tracked method that starts in this poll names the RPC's kind.
            Some(_) => {
                let unwinding = Unwinding(this.rpc);
                let (result, named) = crate::recording::rpc::polling(|| this.inner.poll(cx));
                if let (Some(named), Some(rpc)) = (named, unwinding.0.as_mut()) {
                    rpc.named(named);
                }
                result
            }
            // Not counted (not gRPC, metrics off): a tracked method in it counts on its own.
            None => this.inner.poll(cx),
        };
        let result = ready!(result);
        let mut rpc = this.rpc.take();
        Poll::Ready(match result {
            Ok(response) => {
                if let Some(rpc) = &mut rpc {
                    rpc.answered(response.headers());
                }
                // A trailers-only answer with an empty body (an error, `Unimplemented`)
                // ends here: recorded before the client can see it.
                if response.body().is_end_stream() && rpc.as_ref().is_some_and(Rpc::has_code) {
                    rpc = None;
                }
                Ok(response.map(|body| GrpcMetricsBody::new(body, rpc)))
            }
            Err(err) => {
                if let Some(rpc) = &mut rpc {
                    rpc.failed();
                }
                Err(err)
            }
        })
    }
}
