//! A request label's value seen before allocates nothing (issue 33): through axum's real
//! router, counting the allocations of this thread, a request whose `x-tenant` value the
//! label kept before allocates exactly as many times as one whose value can never be kept
//! (`_other` without looking anything up), while a value new to the label allocates more
//! (the value kept, its set, its series): the count would see an allocation.
//!
//! A test binary of its own: the allocator counts for the whole process (stats_alloc's),
//! and the label is the process's configuration.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tower::ServiceExt;
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::{Config, RequestLabel, track_metrics};

// The system allocator, counting (stats_alloc): the process's allocations, which here
// are this thread's (a current-thread runtime, and the only test of the binary).
#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

#[track_metrics]
async fn alloc_item() -> &'static str {
    "item"
}

#[test]
fn a_value_seen_before_allocates_nothing() {
    // A table that still fills (`max_values`), the path with the most to do.
    track_metrics::configure(
        Config::new().label(RequestLabel::header("tenant", "x-tenant").max_values(10)),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let app = Router::new()
        .route("/alloc/items/{id}", get(alloc_item))
        .layer(RequestMetricsLayer::new());
    // The allocations of `n` requests, each with `x-tenant: tenant(i)`.
    let count = |n: u64, tenant: &dyn Fn(u64) -> String| -> u64 {
        rt.block_on(async {
            let mut total = 0;
            for i in 0..n {
                let request = Request::get(format!("/alloc/items/{}", i % 10))
                    .header("x-tenant", tenant(i))
                    .body(Body::empty())
                    .unwrap();
                let region = Region::new(GLOBAL);
                let response = app.clone().oneshot(request).await.unwrap();
                let change = region.change();
                total += (change.allocations + change.reallocations) as u64;
                assert_eq!(response.status(), 200);
            }
            total
        })
    };
    // First use, and the values kept: everything a request makes once.
    count(20, &|_| "acme".to_owned());
    count(20, &|_| "ac me".to_owned());
    let seen = count(200, &|_| "acme".to_owned());
    let never_kept = count(200, &|_| "ac me".to_owned());
    assert_eq!(
        seen, never_kept,
        "a kept value seen before allocates as much as a value never looked up"
    );
    // Five values new to the label: each allocates when it is first kept.
    let new = count(5, &|i| format!("new{i}"));
    let baseline = count(5, &|_| "ac me".to_owned());
    assert!(
        new > baseline,
        "new values allocate ({new} against {baseline}): the count sees allocations"
    );
    let text = track_metrics::render();
    assert!(text.contains(r#"tenant="acme""#), "{text}");
    assert!(text.contains(r#"tenant="_other""#), "{text}");
}
