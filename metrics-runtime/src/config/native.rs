//! The native histograms' settings (feature `native-histograms`): their resolution and
//! the window of durations their buckets cover.

use std::time::Duration;

use super::{Config, Error};

/// The schema unless [`Config::native_schema`] sets another: 8 buckets per doubling,
/// a factor of about 1.09 from one boundary to the next.
pub(crate) const DEFAULT_SCHEMA: i8 = 3;

/// The zero bucket's bound unless [`Config::native_range`] sets another: 2^-20 s, about
/// 0.95 µs.
pub(crate) const DEFAULT_ZERO: f64 = 1.0 / 1_048_576.0;

/// The top of the window unless [`Config::native_range`] sets another: 2^10 s, about
/// 17 minutes.
pub(crate) const DEFAULT_TOP: f64 = 1024.0;

/// The most buckets one series may keep: 8 bytes each, per series and per thread that
/// records in it.
pub(crate) const MAX_BUCKETS: usize = 2048;

/// The native histograms' settings, checked: what the storage's window is made of.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NativeSettings {
    /// Buckets per doubling: `2^schema`.
    pub(crate) schema: i8,
    /// The zero bucket's upper bound, in seconds: a power of two.
    pub(crate) zero_threshold: f64,
    /// The window's top, in seconds: durations above count in the top bucket.
    pub(crate) top: f64,
}

impl Config {
    /// The resolution of the native histogram of `http_request_duration_seconds`
    /// (feature `native-histograms`): `2^schema` buckets per doubling of the duration,
    /// from -4 (a factor of 65 536 between boundaries) to 8 (a factor of about 1.0027).
    /// The default, 3, has 8 buckets per doubling, a factor of about 1.09: a quantile
    /// read from it is within about 4.5 % of the true one.
    ///
    /// ```
    /// let config = track_metrics::Config::new().native_schema(4);
    /// # let _ = config;
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "native-histograms")))]
    pub fn native_schema(mut self, schema: i8) -> Config {
        self.native_schema = Some(schema);
        self
    }

    /// The durations the native histogram's buckets cover (feature
    /// `native-histograms`): up to `zero` (rounded down to a power of two of seconds)
    /// in its zero bucket, above `top` in its top bucket. The default covers 2^-20 s
    /// (about 0.95 µs) to 2^10 s (about 17 minutes).
    ///
    /// Each series keeps every bucket of this window, 8 bytes each (240 at the default
    /// schema and window: 1 928 bytes with the zero bucket), and as much per thread
    /// that records in it, made with the series; a window of more than 2 048 buckets is
    /// refused.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let config = track_metrics::Config::new()
    ///     .native_range(Duration::from_micros(10), Duration::from_secs(60));
    /// # let _ = config;
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "native-histograms")))]
    pub fn native_range(mut self, zero: Duration, top: Duration) -> Config {
        self.native_range = Some((zero, top));
        self
    }

    // The checked settings of the native histograms.
    pub(crate) fn native_settings(&self) -> Result<NativeSettings, Error> {
        let schema = self.native_schema.unwrap_or(DEFAULT_SCHEMA);
        if !(-4..=8).contains(&schema) {
            return Err(Error::Invalid(format!(
                "the native histogram schema must be between -4 and 8, not {schema}"
            )));
        }
        let (zero_threshold, top) = match self.native_range {
            None => (DEFAULT_ZERO, DEFAULT_TOP),
            Some((zero, top)) => {
                if zero.is_zero() || top <= zero {
                    return Err(Error::Invalid(format!(
                        "the native histogram range must be above zero and increasing, not {zero:?} to {top:?}"
                    )));
                }
                // A power of two, so that the zero bucket ends on a bucket boundary.
                (zero.as_secs_f64().log2().floor().exp2(), top.as_secs_f64())
            }
        };
        let buckets = (top.log2() - zero_threshold.log2()) * f64::from(schema).exp2();
        if buckets.ceil() > MAX_BUCKETS as f64 {
            return Err(Error::Invalid(format!(
                "the native histogram range {zero_threshold} s to {top} s at schema {schema} needs {} buckets, more than {MAX_BUCKETS}",
                buckets.ceil()
            )));
        }
        Ok(NativeSettings {
            schema,
            zero_threshold,
            top,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        let default = Config::new().native_settings().unwrap();
        assert_eq!(
            default,
            NativeSettings {
                schema: 3,
                zero_threshold: (-20f64).exp2(),
                top: 1024.0
            }
        );
        let set = Config::new()
            .native_schema(0)
            .native_range(Duration::from_micros(10), Duration::from_secs(60))
            .native_settings()
            .unwrap();
        // 10 µs rounded down to 2^-17 s.
        assert_eq!(
            (set.schema, set.zero_threshold, set.top),
            (0, (-17f64).exp2(), 60.0)
        );
        for (config, error) in [
            (Config::new().native_schema(9), "between -4 and 8, not 9"),
            (
                Config::new().native_range(Duration::ZERO, Duration::from_secs(1)),
                "above zero and increasing",
            ),
            (
                Config::new().native_range(Duration::from_secs(2), Duration::from_secs(1)),
                "above zero and increasing",
            ),
            (
                Config::new()
                    .native_schema(8)
                    .native_range(Duration::from_nanos(1), Duration::from_secs(1000)),
                "more than 2048",
            ),
        ] {
            let message = config.native_settings().unwrap_err().to_string();
            assert!(message.contains(error), "{message}");
        }
    }
}
