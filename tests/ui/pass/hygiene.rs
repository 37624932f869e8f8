//! Generated code neither sees nor disturbs the user's names, and triggers no lint
//! the user denies.
#![deny(warnings, unused_qualifications, unused_results, unreachable_pub)]
#![deny(
    let_underscore_drop,
    unused_lifetimes,
    single_use_lifetimes,
    trivial_casts
)]
#![allow(dead_code)]

use ::track_metrics::track_metrics;

// User items shadowing the names generated code could reach for (the default
// `crate` path is `::track_metrics`, absolute, so `mod track_metrics` is no trap).
#[derive(Debug, PartialEq)]
enum Option<T> {
    Some(T),
    None,
}
use self::Option::{None, Some};

type Result<T> = ::core::result::Result<T, Error>;

#[derive(Debug, PartialEq)]
struct Error;

struct CallSite;
struct Guard;
fn call() {}
fn status_of() {}
mod core {}
mod std {}
mod track_metrics {}
mod __private {}

#[track_metrics]
fn user_option(flag: bool) -> Option<u8> {
    if flag { Some(1) } else { None }
}

#[track_metrics]
fn user_result(flag: bool) -> Result<u8> {
    if flag { Ok(2) } else { Err(Error) }
}

#[track_metrics]
fn user_locals() -> u32 {
    let __metrics_out = 1;
    let __metrics_guard = 2;
    let __metrics_fake_return = 3;
    static __METRICS_CALL_SITE: u32 = 4;
    __metrics_out + __metrics_guard + __metrics_fake_return + __METRICS_CALL_SITE
}

#[track_metrics]
async fn async_user_locals(__metrics_out: u32) -> u32 {
    let __metrics_guard = __metrics_out + 1;
    __metrics_guard * 2
}

#[track_metrics]
fn parameter_names(__metrics_guard: u32, __metrics_out: u32) -> u32 {
    __metrics_guard * __metrics_out
}

// Bodies that never return normally: what the wrapper does after them is
// unreachable, and no `unreachable_code` warning comes of it.
#[track_metrics]
fn always_panics() -> u8 {
    panic!("never returns")
}

#[track_metrics]
async fn always_panics_async() -> Result<u8> {
    panic!("never returns")
}

// `return`s become breaks out of a labelled block: no lint about the label, and a
// label of the user's with the same name is another label.
#[track_metrics]
fn early(flag: bool) -> Option<u8> {
    if flag {
        return None;
    }
    Some(1)
}

#[track_metrics]
fn user_label(flag: bool) -> u8 {
    '__metrics_body: {
        if flag {
            break '__metrics_body;
        }
        return 2;
    }
    1
}

fn main() {
    assert_eq!(user_option(true), Some(1));
    assert_eq!(user_option(false), None);
    assert_eq!(user_result(true), Ok(2));
    assert_eq!(user_result(false), Err(Error));
    assert_eq!(user_locals(), 10);
    assert_eq!(
        ::actix_web::rt::System::new().block_on(async_user_locals(4)),
        10
    );
    assert_eq!(parameter_names(6, 7), 42);
    assert_eq!(early(true), None);
    assert_eq!(user_label(true), 1);
    assert_eq!(user_label(false), 2);
    let text = ::track_metrics::render();
    assert!(
        text.contains(
            r#"http_requests_total{handler="user_locals",method="",route="",status="200"} 1"#
        ),
        "{text}"
    );
}
