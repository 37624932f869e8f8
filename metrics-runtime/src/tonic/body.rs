//! The body wrapper: sees the trailers or the end of the response, and records the RPC
//! then (or when dropped before).

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::rpc::{Rpc, Unwinding};

pin_project! {
    /// The response body of [`GrpcMetricsService`](super::GrpcMetricsService): the
    /// inner body, every frame unchanged, its messages counted in
    /// `grpc_server_msg_sent_total` as they pass; the RPC is recorded when the trailers pass,
    /// when the body ends, or when it is dropped before (`Canceled`).
    pub struct GrpcMetricsBody<B> {
        #[pin]
        inner: B,
        rpc: Option<Rpc>,
    }
}

impl<B> GrpcMetricsBody<B> {
    pub(super) fn new(inner: B, rpc: Option<Rpc>) -> GrpcMetricsBody<B> {
        GrpcMetricsBody { inner, rpc }
    }
}

/// An empty body that records nothing: what a layer around [`GrpcMetricsLayer`](super::GrpcMetricsLayer)
/// answers with on its own (tower-http's `TimeoutLayer` builds its timeout response so, and
/// requires it). The RPC whose future that layer dropped is recorded by the drop.
impl<B: Default> Default for GrpcMetricsBody<B> {
    fn default() -> GrpcMetricsBody<B> {
        GrpcMetricsBody::new(B::default(), None)
    }
}

impl<B: Body> Body for GrpcMetricsBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = {
            let _unwinding = Unwinding(this.rpc);
            this.inner.poll_frame(cx)
        };
        let frame = ready!(frame);
        if let Some(rpc) = this.rpc {
            let done = match &frame {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        rpc.sent(data);
                    }
                    match frame.trailers_ref() {
                        Some(trailers) => {
                            rpc.trailers(trailers);
                            true
                        }
                        None => false,
                    }
                }
                // The end, or an error that ends the stream.
                Some(Err(_)) | None => {
                    rpc.ended();
                    true
                }
            };
            if done {
                // Recorded here, once: the RPC's drop.
                *this.rpc = None;
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
