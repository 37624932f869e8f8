// Handlers naming objectives: a const in scope, a path to one in a module, and two
// handlers sharing one objective.
use std::time::Duration;
use track_metrics::{Objective, track_metrics};

const CHECKOUT: Objective = Objective::new("checkout")
    .success_rate(0.999)
    .latency(Duration::from_millis(250), 0.99);

mod objectives {
    pub const SEARCH: track_metrics::Objective =
        track_metrics::Objective::new("search").latency(std::time::Duration::from_secs(1), 0.95);
}

#[track_metrics(objective = CHECKOUT, name = "create_order")]
async fn create_order(id: u32) -> Result<u32, std::io::Error> {
    Ok(id)
}

#[track_metrics(objective = CHECKOUT)]
fn pay(amount: u64) -> u64 {
    amount
}

#[track_metrics(route = "/search", objective = objectives::SEARCH)]
fn search(q: &str) -> usize {
    q.len()
}

fn main() {
    let _ = create_order(1);
    assert_eq!(pay(3), 3);
    assert_eq!(search("abc"), 3);
}
