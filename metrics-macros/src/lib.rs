//! The `#[track_metrics]` attribute macro.
//!
//! Do not depend on this crate directly: depend on `track-metrics` and write
//! `use track_metrics::track_metrics;`. The documentation of the attribute lives
//! on its re-export, `track_metrics::track_metrics`.

#![forbid(unsafe_code)]

// One stage a file: `attr` reads the arguments into `Options`, `item` the function
// (with its checks), `route` its actix-web route attribute; `body` scans what the body
// can do, `shape` decides how to wrap it, `ty` handles the return type, `rpc` tells a tonic method's
// types; `expand` is the
// entry and the output. `errors` collects what goes wrong on the way, `http` lists the
// methods both `attr` and `route` know.
mod attr;
mod body;
mod errors;
mod expand;
mod http;
mod item;
mod route;
mod rpc;
mod shape;
mod ty;

use proc_macro::TokenStream;

/// Records Prometheus RED metrics for every call of the function it is put on.
///
/// This is the proc-macro entry point. Use it through its re-export,
/// `track_metrics::track_metrics`, which carries the full documentation: the
/// generated code calls into `track-metrics`.
#[proc_macro_attribute]
pub fn track_metrics(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::track_metrics(args.into(), item.into()).into()
}
