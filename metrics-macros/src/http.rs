//! The HTTP methods: what `method = "..."` accepts and which actix-web route
//! attributes (`#[get]`, `#[post]`, ...) name one.

/// The HTTP methods in upper case, in the order error messages list them.
pub(crate) const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT",
];
