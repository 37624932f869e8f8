//! Recording: what a tracked call and a served request do with the series they count
//! in. A call site and the guard of each call ([`site`]); which functions use which
//! handler name (`names`); the request a middleware
//! serves, as tracked calls see it ([`request`]); the RPC the gRPC layer serves, as a
//! tracked tonic method sees it ([`rpc`]); what both middlewares do with it
//! ([`Served`], [`method_label`], [`Excluded`]) and their one response future
//! ([`Recorded`]); how the axum and gRPC layers read a header ([`headers`]); what the
//! OpenTelemetry naming reads of a request as it arrives ([`otel`]).

#[cfg(any(feature = "actix", feature = "axum"))]
mod future;
#[cfg(any(feature = "axum", feature = "tonic"))]
pub(crate) mod headers;
mod names;
#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) mod otel;
pub(crate) mod request;
pub(crate) mod rpc;
#[cfg(any(feature = "actix", feature = "axum"))]
mod served;
pub(crate) mod site;

#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) use future::{Hooks, OnResponse, Recorded};
#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) use served::{Excluded, Served, method_label};
