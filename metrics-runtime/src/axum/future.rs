//! The response future, which records the request when it completes or is dropped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::Response;
use pin_project_lite::pin_project;

use crate::recording::Served;
use crate::series::Series;

pin_project! {
    /// The response future of [`RequestMetricsService`](super::RequestMetricsService):
    /// the inner service's, with the request current while it is polled; records the
    /// request when it completes or is dropped.
    pub struct RequestMetricsFuture<F> {
        #[pin]
        inner: F,
        // `None` when metrics are disabled (or another layer counts the request).
        state: Option<State>,
    }
}

struct State {
    // Dropped before it is recorded: `499`.
    served: Served,
    // The series it started in flight in (`Series::expected`).
    expected: Option<&'static Series>,
}

impl<F> RequestMetricsFuture<F> {
    pub(super) fn forward(inner: F) -> RequestMetricsFuture<F> {
        RequestMetricsFuture { inner, state: None }
    }

    pub(super) fn recorded(
        inner: F,
        served: Served,
        expected: Option<&'static Series>,
    ) -> RequestMetricsFuture<F> {
        RequestMetricsFuture {
            inner,
            state: Some(State { served, expected }),
        }
    }
}

impl<F, B, E> Future for RequestMetricsFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let inner = this.inner;
        let Some(state) = this.state else {
            return inner.poll(cx);
        };
        // A panic in a handler unwinds through this poll (and the connection's task):
        // it counts 500.
        let poll = state.served.poll(|_| {}, || inner.poll(cx));
        if let Poll::Ready(out) = &poll
            && state.served.is_recording()
        {
            // A service's error is no response: the server answers it with a failure.
            let status = out.as_ref().map_or(500, |res| res.status().as_u16());
            // Answered by another handler than expected: expected there next time.
            if let Some(counted) = state.served.finish(status, None)
                && !state
                    .expected
                    .is_some_and(|expected| std::ptr::eq(expected, counted))
            {
                counted.answered();
            }
        }
        poll
    }
}
