//! The values of `prometheus::proto`'s metrics, read the same way whichever of its two
//! models a program compiles.
//!
//! The prometheus crate has two models behind `prometheus::proto`, picked by its
//! `protobuf` feature: plain structs whose values are read with `get_value()`, and
//! rust-protobuf's generated messages, read with `value()` through `MessageField`s, and
//! with no accessor for an untyped metric at all. The feature is on in a program when
//! any crate of its graph asks for it: a user's own `prometheus = "0.14"` does (it is a
//! default feature), so this crate cannot choose the model and cannot `cfg` on it (a
//! dependency's features are not visible to its dependents). What it reads is read
//! here, through method resolution: an inherent method wins over a trait method of the
//! same name, so each trait below supplies the name one model lacks, written with the
//! name that model has. In each model one of the pair goes unused, hence the
//! `allow(dead_code)`.
//!
//! Only the encoders' reads need this: the setters and every other accessor this crate
//! uses exist in both models.

use prometheus::proto::{Counter, Gauge, Metric, MetricFamily, MetricType, Untyped};

// The plain model's name, for the generated model (where it is `value()`).
#[allow(dead_code)]
trait PlainValue {
    fn get_value(&self) -> f64;
}

// The generated model's name, for the plain model (where it is `get_value()`).
#[allow(dead_code)]
trait GeneratedValue {
    fn value(&self) -> f64;
}

macro_rules! both_names {
    ($($ty:ty),*) => {$(
        impl PlainValue for $ty {
            fn get_value(&self) -> f64 {
                self.value()
            }
        }
        impl GeneratedValue for $ty {
            // The plain model's `Untyped` is deprecated (it is the protobuf format's).
            #[allow(deprecated)]
            fn value(&self) -> f64 {
                self.get_value()
            }
        }
    )*};
}

both_names!(Counter, Gauge, Untyped);

/// A counter metric's value.
#[inline]
pub(crate) fn counter(metric: &Metric) -> f64 {
    // Plain: `&Counter`; generated: `&MessageField<Counter>`, which derefs to it.
    metric.get_counter().value()
}

/// A gauge metric's value.
#[inline]
pub(crate) fn gauge(metric: &Metric) -> f64 {
    metric.get_gauge().value()
}

/// Whether the encoders can write `family`: every family but an untyped one in the
/// generated model, which has no accessor for an untyped metric's value (only a public
/// field the plain model keeps private). Such a family (only a collector of the user's
/// own makes one; the prometheus crate's own text encoder panics on any untyped family)
/// is left out, with one warning per process.
pub(crate) fn readable(family: &MetricFamily) -> bool {
    if family.get_field_type() != MetricType::UNTYPED
        || family.get_metric().iter().all(|m| untyped(m).is_some())
    {
        return true;
    }
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        log::warn!(
            "track-metrics: the untyped family {:?} is left out of /metrics: its values cannot be read \
             when the prometheus crate's `protobuf` feature is on",
            family.name()
        )
    });
    false
}

/// An untyped metric's value: `None` in the generated model (see [`readable`]).
pub(crate) fn untyped(metric: &Metric) -> Option<f64> {
    #[allow(deprecated)]
    metric.get_untyped().untyped_value()
}

// The generated model's missing accessor: nothing to read.
#[allow(dead_code)]
trait NoUntyped {
    fn get_untyped(&self) -> Unreadable;
}

impl NoUntyped for Metric {
    fn get_untyped(&self) -> Unreadable {
        Unreadable
    }
}

#[allow(dead_code)]
struct Unreadable;

trait UntypedValue {
    fn untyped_value(&self) -> Option<f64>;
}

impl UntypedValue for Untyped {
    fn untyped_value(&self) -> Option<f64> {
        Some(self.value())
    }
}

impl UntypedValue for Unreadable {
    fn untyped_value(&self) -> Option<f64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use prometheus::core::Collector;
    use prometheus::{Counter, Gauge, Opts};

    #[test]
    fn values_in_this_build_s_model() {
        let counter = Counter::with_opts(Opts::new("model_c_total", "c")).unwrap();
        counter.inc_by(3.5);
        let gauge = Gauge::with_opts(Opts::new("model_g", "g")).unwrap();
        gauge.set(-2.25);
        let c = &counter.collect()[0];
        let g = &gauge.collect()[0];
        assert_eq!(super::counter(&c.get_metric()[0]), 3.5);
        assert_eq!(super::gauge(&g.get_metric()[0]), -2.25);
    }
}
