//! The gRPC families (feature `tonic`) as the registry gathers them: one collector that
//! reads every gRPC series (`storage::RpcCounts`, summed over its shards) and builds the
//! five families' protos as the prometheus crate built them from its own vectors before:
//! a series' started, received and sent counters and its histogram from its first RPC
//! on (at 0 until counted), each code's handled counter from the first RPC that ended
//! with it.

use std::borrow::Cow;
use std::sync::Arc;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{MetricFamily, MetricType};

use super::{Template, counter, family, histogram, seconds};
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
            started.push(counter(self.series.pairs(values()), reading.started));
            received.push(counter(self.series.pairs(values()), reading.received));
            sent.push(counter(self.series.pairs(values()), reading.sent));
            for (code, &count) in reading.handled.iter().enumerate() {
                if count > 0 {
                    let code = Cow::Borrowed(CODE_NAMES[code]);
                    handled.push(counter(self.handled.pairs(values().chain([code])), count));
                }
            }
            handling.push(histogram(
                self.series.pairs(values()),
                &families.bounds,
                &buckets,
                reading.count,
                seconds(reading.sum_nanos),
            ));
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
