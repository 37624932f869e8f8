use std::rc::Rc;

use super::fmt_spread;

/// One variant: runs `n` requests; the caller times it.
pub type Run = Rc<dyn Fn(u64)>;

// CPU ns per request of one batch.
fn time_batch(run: &Run, batch: u64) -> f64 {
    let start = cpu_time::ThreadTime::now();
    run(batch);
    start.elapsed().as_nanos() as f64 / batch as f64
}

/// `times[v][r]`: CPU ns per request of `runs[v]` in round `r`, each run a batch of its
/// own size. Each round times every run once, in an order that rotates from round to
/// round, so a slow phase of the machine hits all alike: compare them round by round.
pub fn interleave(runs: &[(Run, u64)], rounds: usize) -> Vec<Vec<f64>> {
    let n = runs.len();
    for (run, batch) in runs {
        run(*batch); // warm-up: first-use registration, caches
    }
    let mut times = vec![Vec::with_capacity(rounds); n];
    for round in 0..rounds {
        for k in 0..n {
            let v = (round + k) % n;
            times[v].push(time_batch(&runs[v].0, runs[v].1));
        }
    }
    times
}

/// Times every variant in turn, round after round (the order rotating), each round a
/// batch of requests in thread CPU time, and prints under `title` each variant's time
/// and added cost per request (variant − the first, round by round), then the ratio
/// of each of `ours` to the last variant (the baseline), as median (min .. max).
#[allow(clippy::print_stdout)] // the results table
pub fn report(
    title: &str,
    variants: &[(&'static str, Run)],
    ours: &[&str],
    rounds: usize,
    batch: u64,
) {
    let n = variants.len();
    let runs: Vec<(Run, u64)> = variants
        .iter()
        .map(|(_, run)| (Rc::clone(run), batch))
        .collect();
    let times = interleave(&runs, rounds);
    let added = |v: usize| -> Vec<f64> { (0..rounds).map(|r| times[v][r] - times[0][r]).collect() };
    println!(
        "\n## {title}: {rounds} rounds x {batch} requests, CPU ns per request, median (min .. max)"
    );
    println!("{:<22} {:>30} {:>30}", "variant", "time", "added (- bare)");
    for (v, (name, _)) in variants.iter().enumerate() {
        println!(
            "{name:<22} {:>30} {:>30}",
            fmt_spread(times[v].clone(), 1),
            fmt_spread(added(v), 1)
        );
    }
    let baseline = n - 1;
    for ours in ours {
        let v = variants
            .iter()
            .position(|(name, _)| name == ours)
            .expect("a variant");
        let ratio: Vec<f64> = added(v)
            .iter()
            .zip(added(baseline))
            .map(|(a, b)| a / b)
            .collect();
        println!(
            "ratio {ours}/{} (added) {}   goal <= 0.75",
            variants[baseline].0,
            fmt_spread(ratio, 3)
        );
    }
}
