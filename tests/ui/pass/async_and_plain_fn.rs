//! `async fn` and plain `fn` keep their values and are counted once per call.

use track_metrics::track_metrics;

#[track_metrics]
fn add(a: u32, b: u32) -> u32 {
    a + b
}

#[track_metrics]
fn no_return_type() {}

#[track_metrics]
async fn double(x: u32) -> u32 {
    x * 2
}

#[track_metrics]
async fn async_no_return_type() {}

// The signature is unchanged: same fn pointer type, same `Send` future.
fn assert_send<T: Send>(value: T) -> T {
    value
}

fn assert_counted(handler: &str, status: &str, count: u64) {
    let line = format!(
        r#"http_requests_total{{handler="{handler}",method="",route="",status="{status}"}} {count}"#
    );
    let text = track_metrics::render();
    assert!(
        text.lines().any(|l| l == line),
        "missing `{line}` in:\n{text}"
    );
}

fn main() {
    let add_ptr: fn(u32, u32) -> u32 = add;
    assert_eq!(add_ptr(2, 3), 5);
    assert_eq!(add(4, 5), 9);
    no_return_type();
    actix_web::rt::System::new().block_on(async {
        assert_eq!(assert_send(double(21)).await, 42);
        async_no_return_type().await;
        // A future dropped before its first poll counts nothing.
        drop(double(1));
    });
    assert_counted("add", "200", 2);
    assert_counted("no_return_type", "200", 1);
    assert_counted("double", "200", 1);
    assert_counted("async_no_return_type", "200", 1);
}
