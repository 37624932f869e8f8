use track_metrics::track_metrics;

#[track_metrics(route)]
fn with_flag() -> u32 {
    1
}

#[track_metrics(method("GET"))]
fn with_list() -> u32 {
    2
}

fn main() {
    let _ = with_flag() + with_list();
}
