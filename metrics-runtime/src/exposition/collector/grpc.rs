//! The gRPC families (feature `tonic`) as the registry gathers them: one collector that
//! reads every gRPC series (`storage::RpcCounts`, summed over its shards) and builds the
//! five families' protos as the prometheus crate built them from its own vectors before:
//! a series' started, received and sent counters and its histogram from its first RPC
//! on (at 0 until counted), each code's handled counter from the first RPC that ended
//! with it.

use std::borrow::Cow;
use std::sync::Arc;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Counter, Metric, MetricFamily, MetricType};

use super::{Template, family, histogram};
use crate::families::GrpcFamilies;
use crate::families::grpc::CODE_NAMES;

/// Registered in the registry in place of the prometheus crate's five vectors.
pub(crate) struct GrpcCollector {
    families: Arc<GrpcFamilies>,
    // The label pairs of the families with empty values: the handled counter's (with
    // `grpc_code`), and the others' (the same three labels).
    handled: Template,
    series: Template,
}

impl GrpcCollector {
    pub(crate) fn new(families: Arc<GrpcFamilies>) -> GrpcCollector {
        GrpcCollector {
            handled: Template::new(&families.handled),
            series: Template::new(&families.started),
            families,
        }
    }
}

impl Collector for GrpcCollector {
    fn desc(&self) -> Vec<&Desc> {
        let families = &*self.families;
        vec![
            &families.started,
            &families.handled,
            &families.handling,
            &families.received,
            &families.sent,
        ]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let families = &*self.families;
        let all = families.all();
        let mut started = Vec::with_capacity(all.len());
        let mut handled = Vec::new();
        let mut handling = Vec::with_capacity(all.len());
        let mut received = Vec::with_capacity(all.len());
        let mut sent = Vec::with_capacity(all.len());
        let mut buckets = Vec::with_capacity(families.bounds.len() + 1);
        for series in all {
            let labels = series.labels();
            let values = || labels.into_iter().map(Cow::Borrowed);
            let reading = series.read(&mut buckets);
            let counter = |value: u64| {
                let mut counter = Counter::default();
                counter.set_value(value as f64);
                let mut metric = Metric::from_label(self.series.pairs(values()));
                metric.set_counter(counter);
                metric
            };
            started.push(counter(reading.started));
            received.push(counter(reading.received));
            sent.push(counter(reading.sent));
            for (code, &count) in reading.handled.iter().enumerate() {
                if count > 0 {
                    let mut counter = Counter::default();
                    counter.set_value(count as f64);
                    let code = Cow::Borrowed(CODE_NAMES[code]);
                    let mut metric = Metric::from_label(self.handled.pairs(values().chain([code])));
                    metric.set_counter(counter);
                    handled.push(metric);
                }
            }
            let mut metric = Metric::from_label(self.series.pairs(values()));
            metric.set_histogram(histogram(
                &families.bounds,
                &buckets,
                reading.count,
                reading.sum_nanos,
            ));
            handling.push(metric);
        }
        vec![
            family(&families.started, MetricType::COUNTER, started),
            family(&families.handled, MetricType::COUNTER, handled),
            family(&families.handling, MetricType::HISTOGRAM, handling),
            family(&families.received, MetricType::COUNTER, received),
            family(&families.sent, MetricType::COUNTER, sent),
        ]
    }
}
