//! The environment variables, each read once: `PROMETHEUS_ENABLED` and `METRICS_TOKEN`.

use std::sync::atomic::{AtomicU8, Ordering};

use once_cell::sync::OnceCell;

/// The environment variable that turns metrics off.
pub const ENV_ENABLED: &str = "PROMETHEUS_ENABLED";

const UNKNOWN: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Whether metrics are recorded and served, from `PROMETHEUS_ENABLED`, read once.
///
/// `false`, `0`, `no` and `off` (any case, surrounding spaces ignored) disable metrics;
/// unset, `true`, `1`, `yes` and `on` enable them. Any other value logs one warning
/// naming the variable and the value, and keeps metrics enabled.
///
/// When disabled, a tracked call costs one relaxed atomic load more than the bare
/// function, nothing is registered and `/metrics` answers `404`.
///
/// ```
/// if track_metrics::enabled() {
///     println!("metrics are served on /metrics");
/// }
/// ```
#[inline]
pub fn enabled() -> bool {
    match STATE.load(Ordering::Relaxed) {
        ON => true,
        OFF => false,
        _ => enabled_slow(),
    }
}

#[cold]
#[inline(never)]
fn enabled_slow() -> bool {
    static READ: OnceCell<bool> = OnceCell::new();
    let on = *READ.get_or_init(|| {
        let raw = std::env::var_os(ENV_ENABLED);
        let value = raw.as_ref().map(|v| v.to_string_lossy());
        match parse(value.as_deref()) {
            Some(on) => on,
            None => {
                log::warn!(
                    "{ENV_ENABLED}={:?} is not a boolean (expected true/false, 1/0, yes/no, on/off); metrics stay enabled",
                    value.as_deref().unwrap_or_default()
                );
                true
            }
        }
    });
    STATE.store(if on { ON } else { OFF }, Ordering::Relaxed);
    on
}

// `None` for a value that is neither a yes nor a no.
fn parse(value: Option<&str>) -> Option<bool> {
    let Some(value) = value else {
        return Some(true);
    };
    let value = value.trim().to_ascii_lowercase();
    match value.as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The environment variable holding the bearer token `/metrics` requires, if set.
pub const ENV_TOKEN: &str = "METRICS_TOKEN";

// Whether a scrape with this `Authorization` header may read the metrics: always when
// `METRICS_TOKEN` is unset or empty, else only with `Bearer <token>`. Built with the
// `/metrics` endpoints, its only callers.
#[cfg(any(feature = "actix", feature = "axum", feature = "exporter"))]
pub(crate) fn scrape_allowed(authorization: Option<&[u8]>) -> bool {
    static TOKEN: OnceCell<Option<String>> = OnceCell::new();
    let token = TOKEN.get_or_init(|| match std::env::var(ENV_TOKEN) {
        Ok(token) if !token.is_empty() => Some(token),
        _ => None,
    });
    token
        .as_deref()
        .is_none_or(|token| authorized(authorization, token))
}

// `Bearer <token>`, the token compared in constant time.
#[cfg(any(feature = "actix", feature = "axum", feature = "exporter"))]
fn authorized(authorization: Option<&[u8]>, token: &str) -> bool {
    use subtle::ConstantTimeEq;

    let Some(given) = authorization.and_then(|value| value.strip_prefix(b"Bearer ")) else {
        return false;
    };
    bool::from(given.ct_eq(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(parse(None), Some(true));
        for on in ["true", "1", "yes", "on", "TRUE", " On "] {
            assert_eq!(parse(Some(on)), Some(true), "{on}");
        }
        for off in ["false", "0", "no", "off", "False", "OFF", "No"] {
            assert_eq!(parse(Some(off)), Some(false), "{off}");
        }
        for bad in ["", "maybe", "2", "enabled"] {
            assert_eq!(parse(Some(bad)), None, "{bad}");
        }
    }

    #[cfg(any(feature = "actix", feature = "axum", feature = "exporter"))]
    #[test]
    fn bearer_tokens() {
        let value = |s: &'static str| s.as_bytes();
        assert!(authorized(Some(value("Bearer s3cret")), "s3cret"));
        assert!(!authorized(Some(value("Bearer s3cre")), "s3cret"));
        assert!(!authorized(Some(value("Bearer s3cret!")), "s3cret"));
        assert!(!authorized(Some(value("Basic s3cret")), "s3cret"));
        assert!(!authorized(Some(value("s3cret")), "s3cret"));
        assert!(!authorized(None, "s3cret"));
    }
}
