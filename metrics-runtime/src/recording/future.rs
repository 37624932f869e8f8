//! The response future both middlewares return: the inner service's, with the request
//! current while it is polled, recording the request in exactly one place: its
//! completion, or its drop (through the [`Served`] it holds). What differs between the
//! frameworks (how a response tells its status and route, what is done while the
//! request waits) is a [`Hooks`] and [`OnResponse`] implementation of each adapter.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::Served;

/// What a framework's middleware does at each point of its response future's life; the
/// future calls them only while the request is still to be recorded
/// ([`Served::is_recording`]). What it does with a ready response is [`OnResponse`].
pub(crate) trait Hooks {
    /// A poll returned `Pending`: the request waits.
    #[inline]
    fn pending(&mut self, _served: &mut Served) {}

    /// A panic unwinds through a poll; the request is then recorded as `500`.
    #[inline]
    fn unwind(&mut self, _served: &mut Served) {}

    /// The future is dropped before the response was ready; the request is then
    /// recorded as `499`.
    #[inline]
    fn dropped(&mut self, _served: &mut Served) {}
}

/// What a middleware does when the inner future's output `O` is ready: records the
/// request with its status (and route).
pub(crate) trait OnResponse<O>: Hooks {
    /// Records the request answered with `out`.
    fn ready(&mut self, served: &mut Served, out: &O);
}

pin_project! {
    /// The inner service's future, and the request it serves with the framework's hooks
    /// (`None` when metrics are disabled, or another middleware counts the request).
    pub(crate) struct Recorded<F, H: Hooks> {
        #[pin]
        inner: F,
        state: Option<State<H>>,
    }
}

struct State<H: Hooks> {
    // Recorded on drop if not before: `499`.
    served: Served,
    hooks: H,
}

impl<F, H: Hooks> Recorded<F, H> {
    /// Only forwards to `inner`.
    #[inline]
    pub(crate) fn forward(inner: F) -> Recorded<F, H> {
        Recorded { inner, state: None }
    }

    /// Serves `served` with `inner`, calling `hooks` on the way.
    #[inline]
    pub(crate) fn serving(inner: F, served: Served, hooks: H) -> Recorded<F, H> {
        Recorded {
            inner,
            state: Some(State { served, hooks }),
        }
    }
}

impl<F: Future, H: OnResponse<F::Output>> Future for Recorded<F, H> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let inner = this.inner;
        let Some(State { served, hooks }) = this.state else {
            return inner.poll(cx);
        };
        // A panic in the service unwinds through this poll (and the connection's task):
        // it counts 500.
        let poll = served.poll(|served| hooks.unwind(served), || inner.poll(cx));
        if served.is_recording() {
            match &poll {
                Poll::Ready(out) => hooks.ready(served, out),
                Poll::Pending => hooks.pending(served),
            }
        }
        poll
    }
}

impl<H: Hooks> Drop for State<H> {
    fn drop(&mut self) {
        if self.served.is_recording() {
            self.hooks.dropped(&mut self.served);
        }
    }
}
