//! The text exposition of the registry.

use prometheus::{Encoder, TextEncoder};

/// The `Content-Type` of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The registry in the Prometheus text exposition format 0.0.4.
///
/// The first call counts as first use: the HTTP families are registered (when
/// metrics are enabled). On an encoding error the error is logged and the text
/// encoded so far is returned; [`try_render`] returns the error instead.
///
/// ```
/// #[metrics_runtime::track_metrics]
/// fn work() {}
///
/// work();
/// let text = metrics_runtime::render();
/// assert!(text.contains(r#"http_requests_total{handler="work",method="",route="",status="200"} 1"#));
/// ```
pub fn render() -> String {
    try_render().unwrap_or_else(|err| {
        log::error!("metrics-runtime: cannot encode metrics: {err}");
        String::new()
    })
}

/// Like [`render`], but an encoding error is returned.
pub fn try_render() -> Result<String, prometheus::Error> {
    let families = crate::registry().gather();
    let mut buffer = Vec::with_capacity(16 * 1024);
    TextEncoder::new().encode(&families, &mut buffer)?;
    String::from_utf8(buffer).map_err(|err| prometheus::Error::Msg(err.to_string()))
}
