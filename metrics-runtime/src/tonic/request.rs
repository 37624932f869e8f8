//! The request body wrapper: counts the messages the client sends as the service reads
//! them.

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::frames::Messages;
use super::rpc::Receiving;

pin_project! {
    /// The request body [`GrpcMetricsService`](super::GrpcMetricsService) hands its
    /// inner service: the client's, every frame unchanged, its messages counted in
    /// `grpc_server_msg_received_total` as they are read.
    pub struct GrpcRequestBody<B> {
        #[pin]
        inner: B,
        counter: Option<(Messages, u64, Receiving)>,
    }
}

impl<B> GrpcRequestBody<B> {
    pub(super) fn new(inner: B, receiving: Option<Receiving>) -> GrpcRequestBody<B> {
        GrpcRequestBody {
            inner,
            counter: receiving.map(|receiving| (Messages::default(), 0, receiving)),
        }
    }
}

impl<B: Body> Body for GrpcRequestBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = this.inner.poll_frame(cx);
        if let (Poll::Ready(Some(Ok(frame))), Some((messages, total, receiving))) =
            (&frame, this.counter)
            && let Some(data) = frame.data_ref()
        {
            let added = messages.count(data);
            *total += added;
            receiving.add(added, *total);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
