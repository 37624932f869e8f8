//! The response future, which records the request when it completes or is dropped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::Response;
use pin_project_lite::pin_project;

use crate::recording::{Hooks, OnResponse, Recorded, Served};
use crate::storage::Series;

pin_project! {
    /// The response future of [`RequestMetricsService`](super::RequestMetricsService):
    /// the inner service's, with the request current while it is polled; records the
    /// request when it completes or is dropped.
    pub struct RequestMetricsFuture<F> {
        #[pin]
        inner: Recorded<F, Answered>,
    }
}

/// What the layer does with a ready response.
pub(super) struct Answered {
    // The series it started in flight in (`registry::expected`).
    pub(super) expected: Option<&'static Series>,
}

impl<F> RequestMetricsFuture<F> {
    pub(super) fn forward(inner: F) -> RequestMetricsFuture<F> {
        RequestMetricsFuture {
            inner: Recorded::forward(inner),
        }
    }

    pub(super) fn recorded(
        inner: F,
        served: Served,
        expected: Option<&'static Series>,
    ) -> RequestMetricsFuture<F> {
        RequestMetricsFuture {
            inner: Recorded::serving(inner, served, Answered { expected }),
        }
    }
}

impl Hooks for Answered {}

impl<B, E> OnResponse<Result<Response<B>, E>> for Answered {
    #[inline]
    fn ready(&mut self, served: &mut Served, out: &Result<Response<B>, E>) {
        // A service's error is no response: the server answers it with a failure.
        let status = out.as_ref().map_or(500, |res| res.status().as_u16());
        // Answered by another handler than expected: expected there next time.
        if let Some(counted) = served.finish(status, None)
            && !self
                .expected
                .is_some_and(|expected| std::ptr::eq(expected, counted))
        {
            crate::registry::answered(counted);
        }
    }
}

impl<F, B, E> Future for RequestMetricsFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}
