//! Every argument, in any order; trailing comma allowed.

use track_metrics::track_metrics;

#[track_metrics(name = "Billing::charge", method = "POST", route = "/charge")]
fn charge(amount: u64) -> u64 {
    amount
}

#[track_metrics(
    route = "/r/{id}",
    crate = "::track_metrics",
    name = "reordered",
    method = "GET,HEAD"
)]
async fn reordered() -> u8 {
    1
}

#[track_metrics(name = "only_name")]
fn named() {}

#[track_metrics(method = "DELETE")]
fn only_method() {}

#[track_metrics(route = "/only/route")]
fn only_route() {}

#[track_metrics()]
fn empty_parens() {}

#[track_metrics(name = "v2.api-handler_x")]
fn dotted() {}

fn assert_counted(handler: &str, method: &str, route: &str) {
    let line = format!(
        r#"http_requests_total{{handler="{handler}",method="{method}",route="{route}",status="200"}} 1"#
    );
    let text = track_metrics::render();
    assert!(
        text.lines().any(|l| l == line),
        "missing `{line}` in:\n{text}"
    );
}

fn main() {
    assert_eq!(charge(3), 3);
    assert_eq!(actix_web::rt::System::new().block_on(reordered()), 1);
    named();
    only_method();
    only_route();
    empty_parens();
    dotted();
    assert_counted("Billing::charge", "POST", "/charge");
    assert_counted("reordered", "GET,HEAD", "/r/{id}");
    assert_counted("only_name", "", "");
    assert_counted("only_method", "DELETE", "");
    assert_counted("only_route", "", "/only/route");
    assert_counted("empty_parens", "", "");
    assert_counted("v2.api-handler_x", "", "");
}
