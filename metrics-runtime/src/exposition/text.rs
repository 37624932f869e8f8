//! The Prometheus text exposition format 0.0.4.

use prometheus::proto::MetricFamily;
use prometheus::{Encoder, TextEncoder};

/// The `Content-Type` of [`render`](crate::render)'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `families` (as a registry gathers them) in the text format.
pub(crate) fn encode(families: &[MetricFamily]) -> Result<String, prometheus::Error> {
    let mut buffer = Vec::with_capacity(16 * 1024);
    TextEncoder::new().encode(families, &mut buffer)?;
    String::from_utf8(buffer).map_err(|err| prometheus::Error::Msg(err.to_string()))
}
