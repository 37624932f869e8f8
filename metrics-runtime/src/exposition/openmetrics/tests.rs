//! The OpenMetrics encoder against the spec's shapes, and against the text format for
//! the same families (the same sample lines).

use prometheus::core::Collector;
use prometheus::{
    Counter, Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry,
    TextEncoder,
};

use super::encode;
use crate::exposition::Units;
use crate::exposition::exemplars::Exemplars;

fn gathered(collectors: Vec<Box<dyn Collector>>) -> Vec<prometheus::proto::MetricFamily> {
    let registry = Registry::new();
    for collector in collectors {
        registry.register(collector).unwrap();
    }
    registry.gather()
}

// The sample lines of an exposition (not the comments).
fn samples(text: &str) -> Vec<&str> {
    text.lines().filter(|line| !line.starts_with('#')).collect()
}

#[test]
fn a_counter_is_named_without_total_and_ends_with_eof() {
    let requests = IntCounterVec::new(
        Opts::new(
            "http_requests_total",
            "Requests \"answered\",\nby code \\ path.",
        ),
        &["code"],
    )
    .unwrap();
    requests.with_label_values(&["200"]).inc_by(3);
    requests.with_label_values(&["a\"b\\c\nd"]).inc();
    let text = encode(
        &gathered(vec![Box::new(requests)]),
        &Exemplars::default(),
        &Units::default(),
    )
    .unwrap();
    assert_eq!(
        text,
        "# HELP http_requests Requests \\\"answered\\\",\\nby code \\\\ path.\n\
         # TYPE http_requests counter\n\
         http_requests_total{code=\"200\"} 3\n\
         http_requests_total{code=\"a\\\"b\\\\c\\nd\"} 1\n\
         # EOF\n"
    );
}

#[test]
fn a_counter_without_total_keeps_its_name_as_unknown() {
    let jobs = Counter::new("jobs_done", "Jobs done.").unwrap();
    jobs.inc_by(2.5);
    let text = encode(
        &gathered(vec![Box::new(jobs)]),
        &Exemplars::default(),
        &Units::default(),
    )
    .unwrap();
    assert_eq!(
        text,
        "# HELP jobs_done Jobs done.\n# TYPE jobs_done unknown\njobs_done 2.5\n# EOF\n"
    );
}

#[test]
fn gauges_histograms_and_special_values() {
    let temperature = Gauge::new("temperature_celsius", "Temperature.").unwrap();
    temperature.set(f64::NEG_INFINITY);
    let latency = Histogram::with_opts(
        HistogramOpts::new("latency_seconds", "Latency.").buckets(vec![0.005, 1.0, 2.5]),
    )
    .unwrap();
    for value in [0.0, 0.5, 0.75, 3.0] {
        latency.observe(value);
    }
    let text = encode(
        &gathered(vec![Box::new(temperature), Box::new(latency)]),
        &Exemplars::default(),
        &Units::default(),
    )
    .unwrap();
    assert_eq!(
        text,
        "# HELP latency_seconds Latency.\n\
         # TYPE latency_seconds histogram\n\
         latency_seconds_bucket{le=\"0.005\"} 1\n\
         latency_seconds_bucket{le=\"1\"} 3\n\
         latency_seconds_bucket{le=\"2.5\"} 3\n\
         latency_seconds_bucket{le=\"+Inf\"} 4\n\
         latency_seconds_sum 4.25\n\
         latency_seconds_count 4\n\
         # HELP temperature_celsius Temperature.\n\
         # TYPE temperature_celsius gauge\n\
         temperature_celsius -Inf\n\
         # EOF\n"
    );
}

#[test]
fn timestamps_are_in_seconds() {
    let mut families = gathered(vec![Box::new(Gauge::new("g", "G.").unwrap())]);
    families[0].mut_metric()[0].set_timestamp_ms(1_700_000_000_123);
    let text = encode(&families, &Exemplars::default(), &Units::default()).unwrap();
    assert!(text.contains("\ng 0 1700000000.123\n"), "{text}");
}

#[test]
fn an_empty_registry_is_just_eof() {
    assert_eq!(
        encode(&[], &Exemplars::default(), &Units::default()).unwrap(),
        "# EOF\n"
    );
}

#[test]
fn the_same_sample_lines_as_the_text_format() {
    // The HTTP families (with statuses, buckets and in flight) through their collector,
    // the process collector and a user's counter: every sample line as the text format
    // writes it, so that Prometheus stores the same series from either.
    let (http, registry) = crate::exposition::collector::scrapes::families(
        &crate::families::Builder::new(None, Default::default()),
        None,
    );
    let series = http.new_series(crate::storage::tests::labels("om_same_lines"));
    for status in [200, 500] {
        series.enter();
        series.record(status, series.now(), series);
    }
    series.enter();
    let jobs = prometheus::IntCounter::new("jobs_total", "Jobs done.").unwrap();
    jobs.inc();
    registry.register(Box::new(jobs)).unwrap();
    #[cfg(target_os = "linux")]
    {
        let process = prometheus::process_collector::ProcessCollector::for_self();
        registry.register(Box::new(process)).unwrap();
    }
    let families = registry.gather();
    let text = TextEncoder::new().encode_to_string(&families).unwrap();
    let openmetrics = encode(&families, &Exemplars::default(), &Units::default()).unwrap();
    assert!(openmetrics.contains("status=\"500\"}"), "{openmetrics}");
    assert_eq!(samples(&openmetrics), samples(&text));
    // One TYPE line a family, HELP before it, `# EOF` last and once.
    let types = openmetrics
        .lines()
        .filter(|l| l.starts_with("# TYPE "))
        .count();
    assert_eq!(types, families.len());
    assert_eq!(openmetrics.matches("# EOF").count(), 1);
    assert!(openmetrics.ends_with("\n# EOF\n"));
}

#[test]
fn a_bucket_carries_the_exemplar_of_its_last_sampled_trace() {
    use std::collections::HashMap;

    use crate::exposition::collector::scrapes::families;
    use crate::families::Builder;
    use crate::storage::HttpLabels;
    use crate::trace::Trace;

    let builder = Builder::new(None, HashMap::new());
    let (families, registry) = families(&builder, Some(&[0.1, 1.0]));
    let series = families.new_series(HttpLabels {
        handler: "unit_exemplar",
        method: "GET",
        route: "/e",
    });
    let trace = |id: &str| {
        Trace::from_traceparent(format!("00-{id}-00f067aa0ba902b7-01").as_bytes()).unwrap()
    };
    // Two fast calls with traces (the last one is kept), one slow without.
    let start = series.now();
    series.record_traced(200, start, series, trace(&"1".repeat(32)));
    series.record_traced(200, series.now(), series, trace(&"a".repeat(32)));
    series.record_nanos(500, 2_000_000_000, series);
    let text = encode(
        &registry.gather(),
        &Exemplars::of(families),
        &Units::default(),
    )
    .unwrap();
    let buckets: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("http_request_duration_seconds_bucket"))
        .collect();
    assert_eq!(buckets.len(), 3, "{text}");
    let (sample, exemplar) = buckets[0].split_once(" # ").unwrap();
    assert_eq!(
        sample,
        r#"http_request_duration_seconds_bucket{handler="unit_exemplar",method="GET",route="/e",le="0.1"} 2"#
    );
    let (labels, rest) = exemplar.split_once("} ").unwrap();
    assert_eq!(
        labels,
        format!(
            r#"{{trace_id="{}",span_id="00f067aa0ba902b7""#,
            "a".repeat(32)
        )
    );
    let [value, timestamp]: [f64; 2] = rest
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    assert!((0.0..0.1).contains(&value), "{value}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - 60.0..=now + 1.0).contains(&timestamp), "{timestamp}");
    // No exemplar where no sampled trace was observed.
    assert!(
        !buckets[1].contains('#') && !buckets[2].contains('#'),
        "{text}"
    );
    // The text format has none.
    assert!(
        !crate::exposition::text::encode(&registry.gather())
            .unwrap()
            .contains("trace_id")
    );
}

// A unit is written for a family whose name ends with it, as OpenMetrics requires
// (Prometheus refuses the scrape otherwise), and left out for one whose name does not.
#[test]
fn a_unit_is_written_where_the_name_ends_with_it() {
    let wait = Histogram::with_opts(HistogramOpts::new("wait_seconds", "Wait.").buckets(vec![1.0]))
        .unwrap();
    wait.observe(0.5);
    let sent = IntCounter::new("sent_bytes_total", "Sent.").unwrap();
    sent.inc_by(7);
    let depth = Gauge::new("depth", "Depth.").unwrap();
    depth.set(2.0);
    let units = Units::new(
        [
            ("wait_seconds", "seconds"),
            ("sent_bytes_total", "bytes"),
            ("depth", "bytes"),
        ]
        .map(|(name, unit)| (name.to_owned(), unit))
        .into(),
    );
    let families = gathered(vec![Box::new(wait), Box::new(sent), Box::new(depth)]);
    let text = encode(&families, &Exemplars::default(), &units).unwrap();
    assert!(text.contains("# TYPE wait_seconds histogram\n# UNIT wait_seconds seconds\n"));
    assert!(
        text.contains("# TYPE sent_bytes counter\n# UNIT sent_bytes bytes\nsent_bytes_total 7\n")
    );
    assert!(text.contains("# TYPE depth gauge\ndepth 2\n"));
    assert!(!text.contains("# UNIT depth"));
}
