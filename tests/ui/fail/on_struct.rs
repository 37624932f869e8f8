use track_metrics::track_metrics;

#[track_metrics]
struct Handler {
    calls: u32,
}

fn main() {
    // Still defined: no "cannot find struct" error below the macro's.
    let handler = Handler { calls: 0 };
    let _ = handler.calls;
}
