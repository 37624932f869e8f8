//! A tracked tonic method and the RPC the gRPC layer serves.
//!
//! `#[track_metrics]` on a function whose one argument is a `…Request<_>` and whose value
//! is a `Result<_, _>` (a tonic service method, `#[tonic::async_trait]` or not) asks the
//! types which kind of RPC it is, at compile time ([`RpcKind`]: unary, client, server or
//! bidirectional streaming, or none when the types are not tonic's), and starts its call
//! with [`CallSite::start_rpc`](super::site::CallSite::start_rpc). While the gRPC layer
//! polls an RPC's response future it marks the thread ([`polling`]); the first such call
//! that starts then names the RPC's kind ([`name`]) and records nothing of its own. Any
//! other call, and one made without the layer, counts as any function does.
//!
//! The mark is one byte per thread, saved and restored around each poll: RPCs that
//! interleave on one thread each see their own, and a task spawned from a method runs
//! outside any RPC.

use std::marker::PhantomData;

/// A kind of RPC as the types tell it: `0` not a tonic method, else [`UNARY`] with the
/// [`CLIENT_STREAMS`] and [`SERVER_STREAMS`] bits.
pub(crate) type Kind = u8;

/// A unary RPC (and the bit every RPC kind has).
#[cfg(feature = "tonic")]
pub(crate) const UNARY: Kind = 1;
/// The client streams its messages (`tonic::Streaming<_>` in the request).
#[cfg(feature = "tonic")]
pub(crate) const CLIENT_STREAMS: Kind = 2;
/// The server streams its messages (a `Stream` in the response).
#[cfg(feature = "tonic")]
pub(crate) const SERVER_STREAMS: Kind = 4;

/// What the tracked method that named an RPC says of it: its kind, and the objective its
/// handler counts toward.
#[cfg(feature = "tonic")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Named {
    pub(crate) kind: Kind,
    pub(crate) objective: Option<&'static crate::config::Objective>,
}

/// The types of a tracked function's argument and value, asked which kind of RPC they
/// make: `(&&&&RpcKind::<REQ, RET>::new()).__metrics_rpc_kind()` with [`RpcKindOf`] in
/// scope; the deepest impl that applies decides (as the status rules do).
pub struct RpcKind<Req, Ret>(PhantomData<fn() -> (Req, Ret)>);

impl<Req, Ret> Clone for RpcKind<Req, Ret> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Req, Ret> Copy for RpcKind<Req, Ret> {}

impl<Req, Ret> Default for RpcKind<Req, Ret> {
    fn default() -> Self {
        RpcKind::new()
    }
}

impl<Req, Ret> RpcKind<Req, Ret> {
    /// The probe of these types.
    #[inline(always)]
    pub const fn new() -> RpcKind<Req, Ret> {
        RpcKind(PhantomData)
    }
}

/// The kind of RPC of [`RpcKind`]'s types (generated code calls it).
pub trait RpcKindOf {
    /// `0` when the types are not a tonic method's, else the kind's bits.
    fn __metrics_rpc_kind(self) -> Kind;
}

// Depth 0: not a tonic method.
impl<Req, Ret> RpcKindOf for RpcKind<Req, Ret> {
    #[inline(always)]
    fn __metrics_rpc_kind(self) -> Kind {
        0
    }
}

#[cfg(feature = "tonic")]
mod kinds {
    use futures_core::Stream;
    use tonic::{Request, Response, Status, Streaming};

    use super::{CLIENT_STREAMS, Kind, RpcKind, RpcKindOf, SERVER_STREAMS, UNARY};

    // Depth 4: both stream.
    impl<M, S: Stream> RpcKindOf for &&&&RpcKind<Request<Streaming<M>>, Result<Response<S>, Status>> {
        #[inline(always)]
        fn __metrics_rpc_kind(self) -> Kind {
            UNARY | CLIENT_STREAMS | SERVER_STREAMS
        }
    }

    // Depth 3: the client streams, one answer.
    impl<M, T> RpcKindOf for &&&RpcKind<Request<Streaming<M>>, Result<Response<T>, Status>> {
        #[inline(always)]
        fn __metrics_rpc_kind(self) -> Kind {
            UNARY | CLIENT_STREAMS
        }
    }

    // Depth 2: one request, the server streams.
    impl<Q, S: Stream> RpcKindOf for &&RpcKind<Request<Q>, Result<Response<S>, Status>> {
        #[inline(always)]
        fn __metrics_rpc_kind(self) -> Kind {
            UNARY | SERVER_STREAMS
        }
    }

    // Depth 1: unary.
    impl<Q, T> RpcKindOf for &RpcKind<Request<Q>, Result<Response<T>, Status>> {
        #[inline(always)]
        fn __metrics_rpc_kind(self) -> Kind {
            UNARY
        }
    }
}

/// Whether a request of this `content-type` is a gRPC one (`application/grpc…`): the
/// gRPC layer counts only those, the axum layer all others, so that a server with both
/// on one port counts each request once.
#[cfg(any(feature = "axum", feature = "tonic"))]
pub(crate) fn is_grpc(content_type: Option<&[u8]>) -> bool {
    content_type.is_some_and(|value| value.starts_with(b"application/grpc"))
}

#[cfg(feature = "tonic")]
pub(crate) use imp::{name, polling};

#[cfg(feature = "tonic")]
mod imp {
    use std::cell::Cell;

    use super::{Kind, Named};

    /// How a thread stands to the RPCs the gRPC layer serves.
    #[derive(Clone, Copy)]
    enum Mark {
        /// It polls none.
        Idle,
        /// It polls an RPC's response future that no tracked call named yet.
        Waiting,
        /// A tracked method named the RPC it polls.
        Named(Named),
    }

    thread_local! {
        static CURRENT: Cell<Mark> = const { Cell::new(Mark::Idle) };
    }

    /// Runs `poll` (the inner future of an RPC) with the thread marked, and returns what
    /// a tracked method that started meanwhile named, if one did. The mark before is
    /// restored, also when `poll` panics.
    #[inline]
    pub(crate) fn polling<R>(poll: impl FnOnce() -> R) -> (R, Option<Named>) {
        struct Restore(Mark);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.set(self.0);
            }
        }
        let _restore = Restore(CURRENT.replace(Mark::Waiting));
        let out = poll();
        let named = match CURRENT.get() {
            Mark::Named(named) => Some(named),
            Mark::Idle | Mark::Waiting => None,
        };
        (out, named)
    }

    /// A tracked method of `kind` (and of the objective its handler counts toward)
    /// starts: it names the RPC polled on this thread if there is one that no call named
    /// yet (and then records nothing of its own).
    #[inline]
    pub(crate) fn name(kind: Kind, objective: Option<&'static crate::config::Objective>) -> bool {
        let named = kind != 0 && matches!(CURRENT.get(), Mark::Waiting);
        if named {
            CURRENT.set(Mark::Named(Named { kind, objective }));
        }
        named
    }
}

/// Without the gRPC layer nothing is ever polled as an RPC.
#[cfg(not(feature = "tonic"))]
#[inline]
pub(crate) fn name(_kind: Kind, _objective: Option<&'static crate::config::Objective>) -> bool {
    false
}

#[cfg(all(test, feature = "tonic"))]
mod tests {
    use std::pin::Pin;

    use futures_core::Stream;
    use tonic::{Request, Response, Status, Streaming};

    use super::*;

    type Replies = Pin<Box<dyn Stream<Item = Result<u8, Status>> + Send>>;

    macro_rules! kind {
        ($req:ty, $ret:ty) => {
            (&&&&RpcKind::<$req, $ret>::new()).__metrics_rpc_kind()
        };
    }

    #[test]
    fn the_types_tell_the_kind() {
        assert_eq!(kind!(Request<u8>, Result<Response<u8>, Status>), UNARY);
        assert_eq!(
            kind!(Request<Streaming<u8>>, Result<Response<u8>, Status>),
            UNARY | CLIENT_STREAMS
        );
        assert_eq!(
            kind!(Request<u8>, Result<Response<Replies>, Status>),
            UNARY | SERVER_STREAMS
        );
        assert_eq!(
            kind!(Request<Streaming<u8>>, Result<Response<Replies>, Status>),
            UNARY | CLIENT_STREAMS | SERVER_STREAMS
        );
    }

    #[test]
    fn look_alikes_are_no_rpc() {
        struct Request<T>(T);
        assert_eq!(kind!(Request<u8>, Result<Response<u8>, Status>), 0);
        assert_eq!(kind!(tonic::Request<u8>, Result<Response<u8>, String>), 0);
        assert_eq!(kind!(tonic::Request<u8>, Option<Response<u8>>), 0);
    }

    #[test]
    fn the_first_call_of_a_polled_rpc_names_it() {
        static GOAL: crate::config::Objective =
            crate::config::Objective::new("goal").success_rate(0.99);
        assert!(!name(UNARY, None), "no RPC polled");
        let ((), named) = polling(|| {
            assert!(!name(0, None), "not a tonic method");
            assert!(name(UNARY | SERVER_STREAMS, Some(&GOAL)));
            assert!(!name(UNARY, None), "named already");
            // An RPC polled inside (another server in the same task) has its own.
            let ((), inner) = polling(|| assert!(name(UNARY, None)));
            assert_eq!(inner.map(|named| named.kind), Some(UNARY));
        });
        let named = named.unwrap();
        assert_eq!(named.kind, UNARY | SERVER_STREAMS);
        assert!(std::ptr::eq(named.objective.unwrap(), &GOAL));
        let ((), none) = polling(|| ());
        assert_eq!(none, None);
        assert!(!name(UNARY, None), "restored");
    }
}
