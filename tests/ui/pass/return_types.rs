//! `-> impl Responder`, `-> Result<impl Responder, E>`, concrete types, tuples with a
//! status code, `Option`, `impl Trait` on a plain `fn`, `-> ()` and no return type; each
//! counted with the status it answers with.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, Responder, ResponseError};
use track_metrics::{ResponseStatus, track_metrics};

#[derive(Debug)]
struct Teapot;

impl std::fmt::Display for Teapot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("teapot")
    }
}

impl ResponseError for Teapot {
    fn status_code(&self) -> StatusCode {
        StatusCode::IM_A_TEAPOT
    }
}

struct Accepted;

impl ResponseStatus for Accepted {
    fn status(&self) -> u16 {
        202
    }
}

#[track_metrics]
async fn impl_responder() -> impl Responder {
    HttpResponse::Created().finish()
}

#[track_metrics]
async fn impl_responder_text() -> impl Responder {
    "plain text"
}

#[track_metrics]
async fn result_impl_responder(fail: bool) -> Result<impl Responder, Teapot> {
    if fail {
        Err(Teapot)
    } else {
        Ok(HttpResponse::NoContent().finish())
    }
}

#[track_metrics]
async fn result_actix_error() -> Result<HttpResponse, actix_web::Error> {
    Err(actix_web::error::ErrorBadRequest("bad"))
}

#[track_metrics]
async fn tuple_status() -> (String, StatusCode) {
    ("gone".to_owned(), StatusCode::GONE)
}

#[track_metrics]
async fn option_value(found: bool) -> Option<String> {
    found.then(|| "found".to_owned())
}

#[track_metrics]
fn own_status() -> Accepted {
    Accepted
}

#[track_metrics]
fn concrete() -> Vec<u8> {
    vec![1, 2]
}

#[track_metrics]
fn plain_impl_trait() -> impl std::fmt::Display {
    42
}

#[track_metrics]
fn plain_result(ok: bool) -> Result<u8, std::num::ParseIntError> {
    if ok { Ok(1) } else { "x".parse::<u8>() }
}

#[allow(clippy::unused_unit)]
#[track_metrics]
fn explicit_unit() -> () {}

#[track_metrics]
fn implicit_unit() {}

#[track_metrics]
fn never_returns() -> ! {
    panic!("always")
}

fn assert_counted(handler: &str, status: &str) {
    let line = format!(
        r#"http_requests_total{{handler="{handler}",method="",route="",status="{status}"}} 1"#
    );
    let text = track_metrics::render();
    assert!(
        text.lines().any(|l| l == line),
        "missing `{line}` in:\n{text}"
    );
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        let _ = impl_responder().await;
        let _ = impl_responder_text().await;
        assert!(result_impl_responder(false).await.is_ok());
        assert!(result_impl_responder(true).await.is_err());
        assert!(result_actix_error().await.is_err());
        assert_eq!(tuple_status().await.1, StatusCode::GONE);
        assert_eq!(option_value(true).await.as_deref(), Some("found"));
        assert_eq!(option_value(false).await, None);
    });
    assert_eq!(own_status().status(), 202);
    assert_eq!(concrete(), [1, 2]);
    assert_eq!(plain_impl_trait().to_string(), "42");
    assert_eq!(plain_result(true), Ok(1));
    assert!(plain_result(false).is_err());
    explicit_unit();
    implicit_unit();
    std::panic::set_hook(Box::new(|_| {}));
    assert!(std::panic::catch_unwind(|| never_returns()).is_err());

    assert_counted("impl_responder", "201");
    assert_counted("impl_responder_text", "200");
    assert_counted("result_impl_responder", "204");
    assert_counted("result_impl_responder", "418");
    assert_counted("result_actix_error", "400");
    assert_counted("tuple_status", "410");
    assert_counted("option_value", "200");
    assert_counted("option_value", "404");
    assert_counted("own_status", "202");
    assert_counted("concrete", "200");
    assert_counted("never_returns", "500");
    assert_counted("plain_impl_trait", "200");
    assert_counted("plain_result", "200");
    assert_counted("plain_result", "500");
    assert_counted("explicit_unit", "200");
    assert_counted("implicit_unit", "200");
}
