use track_metrics::track_metrics;

#[track_metrics(objective = "checkout")]
fn checkout() -> u32 {
    1
}

#[track_metrics(objective)]
fn search() -> u32 {
    1
}

fn main() {
    let _ = (checkout(), search());
}
