//! Items used by the code `#[track_metrics]` generates. Not part of the public API:
//! they may change in any release.
//!
//! Generated code names these: a `static` [`CallSite`] per function, whose
//! `start((&&responds::<RET>()).__metrics_responds(), module_path!(), FN)` gives an
//! `Option<Guard>` (`FN`: the function's name when `name = "…"` is given, else `""`; with
//! [`AnyResponse`] / [`NotResponse`] standing in for an `impl Trait` in `RET`); [`call`]
//! around a body that needs a closure; [`unreachable`] to name an `async` block's
//! output type; and `(&&&&&&Probe(&out)).__metrics_finish(guard)`, which records the
//! call with the status of `out` (the rules are in the `status` module). A tonic method's
//! call starts with `start_rpc((&&&&RpcKind::<REQ, RET>::new()).__metrics_rpc_kind(), ..)`
//! instead ([`RpcKindOf`] imported). The traits
//! [`IsResponse`] and [`Status`] are imported (`as _`) where these are called.

pub use crate::recording::rpc::{RpcKind, RpcKindOf};
pub use crate::recording::site::{CallSite, Guard, ObjectiveSite, call};
pub use crate::registry::build_info;
pub use crate::responds::{AnyResponse, IsResponse, NotResponse, responds};
pub use crate::status::{Probe, Status};

/// Never called: `if false { return unreachable::<RET>(); }` at the start of an `async`
/// block pins its output type to the function's return type, so that `?` and `return`
/// inside it infer and coerce as in the function itself.
#[inline(always)]
pub fn unreachable<R>() -> R {
    unreachable!("track_metrics: generated code that never runs")
}
