//! `unsafe fn`, `extern "C" fn`, pattern arguments and `mut` bindings keep working.

use track_metrics::track_metrics;

#[track_metrics]
unsafe fn read(ptr: *const u8) -> u8 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { *ptr }
}

#[track_metrics]
extern "C" fn c_abi(x: i32) -> i32 {
    x + 1
}

#[track_metrics]
fn patterns((a, b): (u8, u8), [c, d]: [u8; 2], mut acc: Vec<u8>) -> Vec<u8> {
    acc.extend([a, b, c, d]);
    acc
}

#[track_metrics]
async fn async_patterns(Wrapper(inner): Wrapper, mut count: u8) -> u8 {
    count += inner;
    count
}

struct Wrapper(u8);

#[track_metrics]
fn closure_param(f: impl Fn(u8) -> u8) -> u8 {
    f(2)
}

#[track_metrics]
fn dyn_return() -> Box<dyn Fn(u8) -> u8> {
    Box::new(|x| x * 3)
}

fn main() {
    let value = 9u8;
    // SAFETY: `&value` is valid.
    assert_eq!(unsafe { read(&value) }, 9);
    assert_eq!(c_abi(1), 2);
    assert_eq!(patterns((1, 2), [3, 4], vec![0]), [0, 1, 2, 3, 4]);
    assert_eq!(
        actix_web::rt::System::new().block_on(async_patterns(Wrapper(2), 3)),
        5
    );
    assert_eq!(closure_param(|x| x + 1), 3);
    assert_eq!(dyn_return()(2), 6);
}
