use track_metrics::track_metrics;

#[track_metrics("get_user")]
fn get_user() -> u32 {
    1
}

fn main() {
    let _ = get_user();
}
