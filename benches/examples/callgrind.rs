//! Calls one variant N times, for instruction counts under callgrind:
//! `callgrind <variant> <calls>`; see `benches/callgrind.sh`, which counts only inside
//! the measured loop, for two values of N, and divides the difference.

#[path = "../benches/common/auto.rs"]
mod auto;

use std::hint::black_box;

use metrics_benches::{
    bare, bare_async, cached, cached_async, naive, naive_async, ready, tracked, tracked_async,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_default();
    let calls: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let f: fn(u64) -> u64 = match variant.as_str() {
        "bare" => bare,
        "naive" => naive,
        "cached" => cached,
        "tracked" => tracked,
        // A tracked call outside any request in the OpenTelemetry naming (its families
        // are the Prometheus naming's: the same call path).
        "tracked-otel" => {
            metrics_benches::configure_otel_naming();
            tracked
        }
        "autometrics" => auto::autometrics_sync,
        "bare-async" => |x| ready(bare_async(x)),
        "naive-async" => |x| ready(naive_async(x)),
        "cached-async" => |x| ready(cached_async(x)),
        "tracked-async" => |x| ready(tracked_async(x)),
        "autometrics-async" => |x| ready(auto::autometrics_async(x)),
        // Every call inside a sampled OpenTelemetry span: each one writes its exemplar.
        #[cfg(feature = "opentelemetry")]
        "tracked-otel-sampled" => tracked,
        other => {
            eprintln!("callgrind: unknown variant {other:?}; usage: callgrind <variant> <calls>");
            std::process::exit(2);
        }
    };
    // One call first, so that first-use work (registration, clock calibration, which
    // runs for a set time and so for a varying number of instructions) happens outside
    // the loop that callgrind counts.
    black_box(f(black_box(0)));
    #[cfg(feature = "opentelemetry")]
    let _span = (variant == "tracked-otel-sampled").then(metrics_benches::sampled_span);
    measured_loop(f, calls);
}

// callgrind.sh counts the instructions executed inside this function only.
#[inline(never)]
fn measured_loop(f: fn(u64) -> u64, calls: u64) {
    for i in 0..calls {
        black_box(f(black_box(i)));
    }
}
