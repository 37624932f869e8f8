use track_metrics::track_metrics;

#[track_metrics(name = "get user")]
fn get_user() -> u32 {
    1
}

fn main() {
    let _ = get_user();
}
