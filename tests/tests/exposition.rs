//! The HTTP families as `render()` exposes them from the series' own storage: valid for
//! `promtool check metrics` (lint included), histograms whole (`+Inf` equals `_count`,
//! buckets cumulative), statuses beyond the ones a series keeps inline counted, and a
//! series only ever in flight exposing its gauge and nothing else.

use std::sync::mpsc;

use metrics_tests::scrape::Scrape;
use metrics_tests::tool::promtool_check_metrics;
use track_metrics::{ResponseStatus, track_metrics};

struct Answer(u16);

impl ResponseStatus for Answer {
    fn status(&self) -> u16 {
        self.0
    }
}

#[track_metrics]
fn answers(status: u16) -> Answer {
    Answer(status)
}

#[track_metrics]
fn other() -> Answer {
    Answer(204)
}

#[track_metrics]
fn blocks(rx: mpsc::Receiver<()>) {
    let _ = rx.recv();
}

// More statuses than a series keeps inline (8), with a count of its own each.
const STATUSES: [u16; 12] = [200, 201, 204, 301, 302, 400, 401, 403, 404, 418, 500, 503];

#[test]
fn the_exposition_passes_promtool_and_every_histogram_is_whole() {
    for (i, &status) in STATUSES.iter().enumerate() {
        for _ in 0..=i {
            let _ = answers(status);
        }
    }
    let _ = other();
    let (tx, rx) = mpsc::channel();
    let (started_tx, started_rx) = mpsc::channel();
    let held = std::thread::spawn(move || {
        started_tx.send(()).unwrap();
        blocks(rx)
    });
    started_rx.recv().unwrap();
    // The call is in flight once `blocks` waits; `render` until the gauge shows it.
    let mut text = track_metrics::render();
    for _ in 0..1000 {
        if text.contains(r#"http_requests_in_flight{handler="blocks",method="",route=""} 1"#) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
        text = track_metrics::render();
    }
    promtool_check_metrics(&text);
    let scrape = Scrape::parse(&text);
    for (i, &status) in STATUSES.iter().enumerate() {
        assert_eq!(
            scrape.requests("answers", "", "", &status.to_string()),
            (i + 1) as f64,
            "{status}"
        );
    }
    assert_eq!(scrape.requests("other", "", "", "204"), 1.0);
    assert_eq!(scrape.observed("answers", "", "",), 78.0);
    assert_eq!(scrape.in_flight("answers", "", ""), 0.0);
    // Only in flight: its gauge, no histogram, no count.
    assert_eq!(scrape.in_flight("blocks", "", ""), 1.0, "{text}");
    assert!(!text.contains(r#"http_request_duration_seconds_count{handler="blocks""#));
    assert!(!text.contains(r#"http_requests_total{handler="blocks""#));
    let counts = scrape.samples("http_request_duration_seconds_count");
    assert!(counts.len() >= 2);
    for (labels, count) in counts {
        // This histogram's buckets, by bound (`+Inf` last).
        let mut buckets: Vec<(f64, f64)> = scrape
            .samples("http_request_duration_seconds_bucket")
            .iter()
            .filter_map(|(with_le, value)| {
                let (le, rest): (Vec<_>, Vec<_>) = with_le.iter().partition(|(k, _)| k == "le");
                let bound = le.first()?.1.parse::<f64>().ok()?;
                (rest.into_iter().eq(labels.iter())).then_some((bound, *value))
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(buckets.len(), 12, "{labels:?}: the default bounds and +Inf");
        assert!(
            buckets.windows(2).all(|w| w[0].1 <= w[1].1),
            "{labels:?}: {buckets:?}"
        );
        assert_eq!(
            buckets.last(),
            Some(&(f64::INFINITY, *count)),
            "{labels:?}: +Inf is the count"
        );
    }
    tx.send(()).unwrap();
    held.join().unwrap();
    let scrape = Scrape::parse(&track_metrics::render());
    assert_eq!(scrape.in_flight("blocks", "", ""), 0.0);
    assert_eq!(scrape.requests("blocks", "", "", "200"), 1.0);
}
