//! Push cost: `track_metrics::push::Pusher::push()` of the scrape bench's registry (10 000
//! request-count series, their 500 histograms and 500 gauges) to a real Pushgateway on
//! loopback (Debian's `prometheus-pushgateway`, started by the bench), against `render()`
//! of the same registry.
//!
//! `cargo bench -p metrics-benches --bench push`: rounds alternating the two, each timed in
//! this process' CPU time (every thread: the push's own thread and runtime included; the
//! gateway's work is its own process') and in wall time (until the gateway answered: its
//! parsing and storing included). Prints median (min .. max) and the ratios push / render
//! per round. `BENCH_ROUNDS` sets the rounds (default 41). Before timing, one push is read
//! back from the gateway: every series there.

#![allow(clippy::print_stdout)] // the results table

use std::hint::black_box;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cpu_time::ProcessTime;
use metrics_benches::{HANDLERS, STATUSES, env_or, fmt_spread, populate_requests};
use track_metrics::push::Pusher;

/// The gateway, killed when dropped.
struct Gateway {
    child: Child,
    url: String,
}

impl Gateway {
    fn start() -> Gateway {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("prometheus-pushgateway")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus-pushgateway (Debian package prometheus-pushgateway) runs");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the gateway listens");
            std::thread::sleep(Duration::from_millis(50));
        }
        Gateway {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// The number of `http_requests_total` samples of job `bench` the gateway holds.
fn pushed_series(gateway: &Gateway) -> usize {
    let text = ureq::get(format!("{}/metrics", gateway.url))
        .call()
        .and_then(|mut answer| answer.body_mut().read_to_string())
        .expect("the gateway's /metrics");
    text.lines()
        .filter(|line| line.starts_with("http_requests_total{") && line.contains("job=\"bench\""))
        .count()
}

fn main() {
    populate_requests(1);
    let gateway = Gateway::start();
    let pusher = Pusher::new(&gateway.url, "bench");
    pusher.push().expect("the first push");
    assert_eq!(
        pushed_series(&gateway),
        HANDLERS * STATUSES.len(),
        "every series in the gateway"
    );
    let rounds = env_or("BENCH_ROUNDS", 41) as usize;
    let (mut cpu, mut wall) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for round in 0..rounds {
        for k in 0..2 {
            let v = (round + k) % 2;
            let (cpu_start, wall_start) = (ProcessTime::now(), Instant::now());
            if v == 0 {
                black_box(track_metrics::render());
            } else {
                pusher.push().expect("a push");
            }
            wall[v].push(wall_start.elapsed().as_secs_f64() * 1e3);
            cpu[v].push(cpu_start.elapsed().as_secs_f64() * 1e3);
        }
    }
    println!(
        "\n## push of 10 000 series to a Pushgateway on loopback against render(): {rounds} rounds, ms, median (min .. max)"
    );
    println!("{:<10} {:>30} {:>30}", "", "CPU (this process)", "wall");
    for (v, name) in ["render", "push"].iter().enumerate() {
        println!(
            "{name:<10} {:>30} {:>30}",
            fmt_spread(cpu[v].clone(), 2),
            fmt_spread(wall[v].clone(), 2)
        );
    }
    let ratio = |times: &[Vec<f64>; 2]| -> Vec<f64> {
        times[1]
            .iter()
            .zip(&times[0])
            .map(|(push, render)| push / render)
            .collect()
    };
    println!(
        "ratio push/render, CPU   {}   goal <= 1.5",
        fmt_spread(ratio(&cpu), 3)
    );
    println!("ratio push/render, wall  {}", fmt_spread(ratio(&wall), 3));
}
