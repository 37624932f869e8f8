//! Items used by the code `#[track_metrics]` generates. Not part of the public API:
//! they may change in any release.
//!
//! Generated code names these: a `static` [`CallSite`] per function, whose
//! `start(responds::<RET>().__metrics_responds())` gives an `Option<Guard>` (with
//! [`AnyResponse`] / [`NotResponse`] standing in for an `impl Trait` in `RET`); [`call`]
//! around a body that needs a closure; and `probe(&out).__metrics_finish(guard)`, which
//! records the call with the status of `out` (the levels [`probe`] returns are in the
//! `status` module).

pub use crate::recording::site::{CallSite, Guard, ObjectiveSite, call};
pub use crate::registry::build_info;
pub use crate::responds::{AnyResponse, NotResponse, responds};
pub use crate::status::probe;
