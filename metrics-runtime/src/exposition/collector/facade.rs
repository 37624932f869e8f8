//! A family of the `metrics` facade (feature `metrics-rs`) as the registry gathers it:
//! one collector per family, registered when the family is made (so the registry checks
//! its name against every other), that reads its series and builds the family's proto
//! as the prometheus crate builds its own: label pairs sorted by name, a histogram's
//! buckets cumulative. HELP is what `describe_*` says now, so a description that comes
//! after the first use shows in the next scrape (until then, the name it was recorded
//! as).

use std::borrow::Cow;
use std::sync::Arc;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{MetricFamily, MetricType};

use super::{Template, counter, family, gauge, histogram};
use crate::families::{FacadeCell, FacadeFamily, FacadeKind};

/// Registered in the registry for one facade family.
pub(crate) struct FacadeCollector {
    family: Arc<FacadeFamily>,
    template: Template,
}

impl FacadeCollector {
    pub(crate) fn new(family: Arc<FacadeFamily>) -> FacadeCollector {
        FacadeCollector {
            template: Template::new(&family.desc),
            family,
        }
    }
}

impl Collector for FacadeCollector {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.family.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let facade = &*self.family;
        let mut metrics = Vec::new();
        let mut buckets = Vec::with_capacity(facade.bounds.len() + 1);
        facade.each(|values, cell| {
            let pairs = self
                .template
                .pairs(values.iter().map(|value| Cow::Borrowed(value.as_str())));
            metrics.push(match cell {
                FacadeCell::Counter(value) => counter(pairs, value.get()),
                FacadeCell::Gauge(value) => gauge(pairs, value.get()),
                FacadeCell::Histogram(value) => {
                    let (count, sum) = value.read(&mut buckets);
                    histogram(pairs, value.bounds(), &buckets, count, sum)
                }
            });
        });
        if metrics.is_empty() {
            return Vec::new();
        }
        let kind = match facade.kind {
            FacadeKind::Counter => MetricType::COUNTER,
            FacadeKind::Gauge => MetricType::GAUGE,
            FacadeKind::Histogram => MetricType::HISTOGRAM,
        };
        let mut gathered = family(&facade.desc, kind, metrics);
        gathered.set_help(facade.help());
        vec![gathered]
    }
}
