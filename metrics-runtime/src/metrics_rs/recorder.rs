//! The facade's `Recorder`: each key's series found once (a read lock and a hash of the
//! key's own hash after that), its handles the series' values themselves.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use foldhash::fast::FixedState;
use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata,
    SharedString, Unit,
};

use super::names;
use crate::families::{FacadeCell, FacadeKind};
use crate::registry::facade;
use crate::storage::{FacadeCounter, FacadeGauge, FacadeHistogram};

/// The recorder `install` sets: the series of each key it was asked for, `None` for a
/// dropped one.
#[derive(Default)]
pub(super) struct Recorder {
    counters: Handles,
    gauges: Handles,
    histograms: Handles,
}

#[derive(Default)]
struct Handles(RwLock<HashMap<Key, Option<FacadeCell>, FixedState>>);

impl Handles {
    fn get(&self, kind: FacadeKind, key: &Key) -> Option<FacadeCell> {
        let known = self.0.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(cell) = known.get(key) {
            return cell.clone();
        }
        drop(known);
        let labels = key
            .labels()
            .map(|label| (names::label(label.key()), label.value().to_owned()))
            .collect();
        let name = key.name();
        let made = facade::series(kind, &names::family(kind, name), name, labels);
        let mut known = self.0.write().unwrap_or_else(PoisonError::into_inner);
        known.entry(key.clone()).or_insert(made).clone()
    }
}

impl Recorder {
    fn describe(kind: FacadeKind, key: &KeyName, unit: Option<Unit>, help: &str) {
        let unit = unit.and_then(names::unit);
        facade::describe(&names::family(kind, key.as_str()), unit, help);
    }
}

impl metrics::Recorder for Recorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        Recorder::describe(FacadeKind::Counter, &key, unit, &description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        Recorder::describe(FacadeKind::Gauge, &key, unit, &description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        Recorder::describe(FacadeKind::Histogram, &key, unit, &description);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        match self.counters.get(FacadeKind::Counter, key) {
            Some(FacadeCell::Counter(counter)) => Counter::from_arc(counter),
            _ => Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        match self.gauges.get(FacadeKind::Gauge, key) {
            Some(FacadeCell::Gauge(gauge)) => Gauge::from_arc(gauge),
            _ => Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        match self.histograms.get(FacadeKind::Histogram, key) {
            Some(FacadeCell::Histogram(histogram)) => Histogram::from_arc(histogram),
            _ => Histogram::noop(),
        }
    }
}

impl CounterFn for FacadeCounter {
    fn increment(&self, value: u64) {
        FacadeCounter::increment(self, value);
    }

    fn absolute(&self, value: u64) {
        FacadeCounter::absolute(self, value);
    }
}

impl GaugeFn for FacadeGauge {
    fn increment(&self, value: f64) {
        self.add(value);
    }

    fn decrement(&self, value: f64) {
        self.add(-value);
    }

    fn set(&self, value: f64) {
        FacadeGauge::set(self, value);
    }
}

impl HistogramFn for FacadeHistogram {
    fn record(&self, value: f64) {
        FacadeHistogram::record(self, value, 1);
    }

    fn record_many(&self, value: f64, count: usize) {
        FacadeHistogram::record(self, value, count as u64);
    }
}
