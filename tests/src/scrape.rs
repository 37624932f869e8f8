//! One scrape of `/metrics` (or of `render()`), parsed into series.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One sample: its labels, sorted by name, and its value.
pub type Sample = (Vec<(String, String)>, f64);

/// What an exposition says of a family besides its samples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Described {
    /// Its `# TYPE`: `counter`, `gauge`, `histogram`, `summary` or `untyped`.
    pub kind: String,
    /// Its `# HELP` text.
    pub help: String,
    /// The names of its labels, as the parser read them from its samples.
    pub labels: Vec<String>,
}

/// One scrape, indexed by series: `name{label="value",...}` (labels sorted) → value.
#[derive(Debug, Default)]
pub struct Scrape {
    samples: HashMap<String, f64>,
    // The same samples, by family name, with their labels (sorted).
    families: HashMap<String, Vec<Sample>>,
    // Each family's type, help and label names, by the name of its `# TYPE` line.
    described: HashMap<String, Described>,
    /// The raw text.
    pub text: String,
}

impl Scrape {
    /// `GET {base}/metrics` (no `Accept`: the text format), which must answer 200, parsed.
    pub fn fetch(base: &str) -> Scrape {
        let answer = crate::http::get(&format!("{base}/metrics"), &[]);
        assert_eq!(answer.status, 200, "{base}/metrics: {}", answer.body);
        Scrape::parse(&answer.body)
    }

    /// Parses the text exposition format; histograms become `_bucket` (with `le`),
    /// `_sum` and `_count` series as on the wire.
    pub fn parse(text: &str) -> Scrape {
        use openmetrics_parser::{MetricNumber, PrometheusValue};
        let parsed = openmetrics_parser::prometheus::parse_prometheus(text)
            .unwrap_or_else(|err| panic!("an invalid exposition ({err:?}):\n{text}"));
        let mut scrape = Scrape {
            text: text.to_owned(),
            ..Scrape::default()
        };
        for (name, family) in parsed.families {
            scrape.described.insert(
                name.clone(),
                Described {
                    kind: family.family_type.to_string(),
                    help: family.help.clone(),
                    labels: family.get_label_names().to_vec(),
                },
            );
            for sample in family.iter_samples() {
                let labelset = sample.get_labelset().expect("labels match their names");
                let mut labels: Vec<(String, String)> = labelset
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                labels.sort();
                match &sample.value {
                    PrometheusValue::Counter(counter) => {
                        scrape.insert(&name, &labels, counter.value.as_f64());
                    }
                    PrometheusValue::Gauge(v) | PrometheusValue::Unknown(v) => {
                        scrape.insert(&name, &labels, v.as_f64());
                    }
                    PrometheusValue::Histogram(h) => {
                        let sum = h.sum.as_ref().map_or(0.0, MetricNumber::as_f64);
                        scrape.insert(&format!("{name}_sum"), &labels, sum);
                        let count = h.count.unwrap_or_default() as f64;
                        scrape.insert(&format!("{name}_count"), &labels, count);
                        for bucket in &h.buckets {
                            let mut labels = labels.clone();
                            labels.push(("le".to_owned(), format_le(bucket.upper_bound)));
                            labels.sort();
                            scrape.insert(
                                &format!("{name}_bucket"),
                                &labels,
                                bucket.count.as_f64(),
                            );
                        }
                    }
                    PrometheusValue::Summary(_) => {}
                }
            }
        }
        scrape
    }

    fn insert(&mut self, name: &str, labels: &[(String, String)], value: f64) {
        self.samples.insert(key(name, labels), value);
        self.families
            .entry(name.to_owned())
            .or_default()
            .push((labels.to_vec(), value));
    }

    /// The families of this scrape, by the names of their `# TYPE` lines (a histogram's
    /// without `_bucket`, `_sum` or `_count`).
    pub fn family_names(&self) -> BTreeSet<&str> {
        self.described.keys().map(String::as_str).collect()
    }

    /// The type, help and label names of a family, by the name of its `# TYPE` line.
    pub fn described(&self, family: &str) -> Option<&Described> {
        self.described.get(family)
    }

    /// Every series, as `name{label="value",...}` with the labels sorted by name.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.samples.keys().map(String::as_str)
    }

    /// The value of one series, `None` if absent.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples.get(&key(name, &labels)).copied()
    }

    /// `http_requests_total` for one label set, `0` if absent.
    pub fn requests(&self, handler: &str, method: &str, route: &str, status: &str) -> f64 {
        self.value(
            "http_requests_total",
            &[
                ("handler", handler),
                ("method", method),
                ("route", route),
                ("status", status),
            ],
        )
    }

    /// `http_request_duration_seconds_count` for one label set, `0` if absent.
    pub fn observed(&self, handler: &str, method: &str, route: &str) -> f64 {
        self.value(
            "http_request_duration_seconds_count",
            &[("handler", handler), ("method", method), ("route", route)],
        )
    }

    /// `http_requests_in_flight` for one label set, `0` if absent.
    pub fn in_flight(&self, handler: &str, method: &str, route: &str) -> f64 {
        self.value(
            "http_requests_in_flight",
            &[("handler", handler), ("method", method), ("route", route)],
        )
    }

    /// Every sample of a family (a histogram's `_count`, `_sum` and `_bucket` are
    /// families of their own here), as `(labels, value)`, labels sorted by name.
    pub fn samples(&self, name: &str) -> &[Sample] {
        self.families.get(name).map_or(&[], Vec::as_slice)
    }

    /// The value of one series, `0` if absent (a counter not yet created).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    /// Every series of a family, as `(labels, value)`.
    pub fn series(&self, name: &str) -> Vec<(String, f64)> {
        let prefix = format!("{name}{{");
        let mut out: Vec<(String, f64)> = self
            .samples
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix) || k.as_str() == name)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// `http_requests_total` summed over every series whose `route` starts with `prefix`:
    /// how many requests under it were counted, under any labels.
    pub fn total_under(&self, prefix: &str) -> f64 {
        self.samples("http_requests_total")
            .iter()
            .filter(|(labels, _)| label(labels, "route").starts_with(prefix))
            .map(|(_, v)| v)
            .sum()
    }

    /// `http_requests_total` summed over every series with this `handler`.
    pub fn total_of(&self, handler: &str) -> f64 {
        self.samples("http_requests_total")
            .iter()
            .filter(|(labels, _)| label(labels, "handler") == handler)
            .map(|(_, v)| v)
            .sum()
    }

    /// For every series whose route starts with `prefix`: the histogram observed exactly
    /// as many requests as were counted (nothing counted or timed twice), and nothing is
    /// left in flight.
    pub fn assert_counted_once(&self, prefix: &str) {
        let mut counted: BTreeMap<Vec<(String, String)>, f64> = BTreeMap::new();
        for (labels, value) in self.samples("http_requests_total") {
            if label(labels, "route").starts_with(prefix) {
                let key: Vec<_> = labels
                    .iter()
                    .filter(|(k, _)| k != "status")
                    .cloned()
                    .collect();
                *counted.entry(key).or_default() += value;
            }
        }
        assert!(!counted.is_empty(), "no series under {prefix}");
        for (labels, total) in &counted {
            let observed = self
                .samples("http_request_duration_seconds_count")
                .iter()
                .find(|(l, _)| l == labels)
                .map_or(0.0, |(_, v)| *v);
            assert_eq!(observed, *total, "{labels:?}: observed vs counted");
        }
        for (labels, value) in self.samples("http_requests_in_flight") {
            if label(labels, "route").starts_with(prefix) {
                assert_eq!(*value, 0.0, "{labels:?} still in flight");
            }
        }
    }
}

impl Scrape {
    /// The last scrape after a load of `sent` requests to `route`, all answered 200 by
    /// `handler`, with `scrapes` scrapes of `metrics` (a route the middleware counts)
    /// alongside: every request counted and timed once, under one series, nothing left in
    /// flight; every earlier scrape counted, this one in flight.
    pub fn assert_exact_after_load(
        &self,
        handler: &str,
        route: &str,
        sent: f64,
        metrics: &str,
        scrapes: u32,
    ) {
        assert_eq!(self.requests(handler, "GET", route, "200"), sent);
        assert_eq!(self.observed(handler, "GET", route), sent);
        assert_eq!(self.in_flight(handler, "GET", route), 0.0);
        assert_eq!(self.in_flight("", "GET", route), 0.0);
        assert!(scrapes > 10, "only {scrapes} scrapes ran alongside");
        assert_eq!(self.requests("", "GET", metrics, "200"), f64::from(scrapes));
        assert_eq!(self.in_flight("", "GET", metrics), 1.0);
        let statuses: Vec<_> = self
            .samples("http_requests_total")
            .iter()
            .filter(|(labels, _)| label(labels, "route") == route)
            .collect();
        assert_eq!(statuses.len(), 1, "one series, status 200: {statuses:?}");
    }

    /// The label sets of the HTTP `family` in this scrape, each as
    /// `handler|method|route|status` (`status` empty for the families without it).
    pub fn label_sets(&self, family: &str) -> BTreeSet<String> {
        self.samples(family)
            .iter()
            .map(|(labels, _)| {
                let [handler, method, route, status] =
                    ["handler", "method", "route", "status"].map(|name| label(labels, name));
                format!("{handler}|{method}|{route}|{status}")
            })
            .collect()
    }
}

/// The value of label `name` in a sample's labels, `""` when it has none.
pub fn label<'a>(labels: &'a [(String, String)], name: &str) -> &'a str {
    labels
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

// `le` as the text format writes it.
fn format_le(le: f64) -> String {
    if le.is_infinite() {
        "+Inf".to_owned()
    } else {
        le.to_string()
    }
}

// The index of one series: its name and its labels, sorted.
fn key(name: &str, labels: &[(String, String)]) -> String {
    let mut labels = labels.to_vec();
    labels.sort();
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// One exemplar of an OpenMetrics exposition: the bucket it is on and its trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exemplar {
    /// The bucket's `le`.
    pub le: String,
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
}

/// The exemplars on `handler`'s `http_request_duration_seconds` buckets in `om`, after
/// checking that `om` is a valid OpenMetrics exposition (the `openmetrics-parser` crate).
pub fn exemplars(om: &str, handler: &str) -> Vec<Exemplar> {
    openmetrics_parser::openmetrics::parse_openmetrics(om)
        .unwrap_or_else(|err| panic!("invalid OpenMetrics ({err:?}):\n{om}"));
    let prefix = format!("http_request_duration_seconds_bucket{{handler=\"{handler}\"");
    let quoted = |text: &str, name: &str| {
        let after = text.split(&format!("{name}=\"")).nth(1).expect(name);
        after.split('"').next().unwrap_or_default().to_owned()
    };
    om.lines()
        .filter(|line| line.starts_with(&prefix))
        .filter_map(|line| line.split_once(" # "))
        .map(|(sample, exemplar)| Exemplar {
            le: quoted(sample, "le"),
            trace_id: quoted(exemplar, "trace_id"),
            span_id: quoted(exemplar, "span_id"),
        })
        .collect()
}
