use track_metrics::track_metrics;

#[track_metrics(handler = "get_user")]
fn get_user() -> u32 {
    1
}

fn main() {
    // Still defined: no "cannot find function" error below the macro's.
    let _ = get_user();
}
