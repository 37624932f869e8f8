use track_metrics::Objective;

const CHECKOUT: Objective = Objective::new("Check-out").success_rate(0.999);

fn main() {
    let _ = CHECKOUT;
}
