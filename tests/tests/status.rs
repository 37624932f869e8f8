//! Every row of the status table (CONTRACT §4): each handler is called through
//! actix-web's real service stack, and the status it is counted with must be the
//! status actix-web actually sent.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use actix_web::{App, HttpResponse, Responder, ResponseError, get, web};
use metrics_tests::scrape::Scrape;
use serde::Serialize;
use track_metrics::{ResponseStatus, track_metrics};

#[derive(Debug)]
struct Teapot;

impl std::fmt::Display for Teapot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("I'm a teapot")
    }
}

impl ResponseError for Teapot {
    fn status_code(&self) -> StatusCode {
        StatusCode::IM_A_TEAPOT
    }
}

/// A responder of our own, which tells its status through `ResponseStatus`.
struct Accepted(&'static str);

impl Responder for Accepted {
    type Body = actix_web::body::BoxBody;
    fn respond_to(self, _: &actix_web::HttpRequest) -> HttpResponse {
        HttpResponse::Accepted().body(self.0)
    }
}

impl ResponseStatus for Accepted {
    fn status(&self) -> u16 {
        202
    }
}

/// An error of our own that is not a `ResponseError` but reports its status.
#[derive(Debug)]
struct Gone;

impl std::fmt::Display for Gone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("gone")
    }
}

impl ResponseStatus for Gone {
    fn status(&self) -> u16 {
        410
    }
}

impl From<Gone> for actix_web::Error {
    fn from(_: Gone) -> actix_web::Error {
        actix_web::error::ErrorGone("gone")
    }
}

#[derive(Serialize)]
struct Payload {
    ok: bool,
}

#[track_metrics]
#[get("/http-response")]
async fn http_response() -> HttpResponse {
    HttpResponse::NonAuthoritativeInformation().finish()
}

#[track_metrics]
#[get("/tuple")]
async fn tuple() -> (String, StatusCode) {
    ("created".to_owned(), StatusCode::CREATED)
}

#[track_metrics]
#[get("/ok-response")]
async fn ok_response() -> Result<HttpResponse, Teapot> {
    Ok(HttpResponse::NoContent().finish())
}

#[track_metrics]
#[get("/ok-text")]
async fn ok_text() -> Result<&'static str, Teapot> {
    Ok("fine")
}

#[track_metrics]
#[get("/ok-impl")]
async fn ok_impl() -> Result<impl Responder, Teapot> {
    Ok(HttpResponse::PartialContent().finish())
}

#[track_metrics]
#[get("/err-actix")]
async fn err_actix() -> Result<String, actix_web::Error> {
    Err(actix_web::error::ErrorForbidden("no"))
}

#[track_metrics]
#[get("/err-response-error")]
async fn err_response_error() -> Result<String, Teapot> {
    Err(Teapot)
}

#[track_metrics]
#[get("/err-question-mark")]
async fn err_question_mark() -> Result<String, actix_web::Error> {
    let n: u32 = "not a number"
        .parse()
        .map_err(actix_web::error::ErrorUnprocessableEntity)?;
    Ok(n.to_string())
}

#[track_metrics]
#[get("/err-response-status")]
async fn err_response_status() -> Result<String, Gone> {
    Err(Gone)
}

#[track_metrics]
#[get("/own-responder")]
async fn own_responder() -> Accepted {
    Accepted("later")
}

#[track_metrics]
#[get("/string")]
async fn string() -> String {
    "s".to_owned()
}

#[track_metrics]
#[get("/str")]
async fn str_() -> &'static str {
    "s"
}

#[track_metrics]
#[get("/json")]
async fn json() -> web::Json<Payload> {
    web::Json(Payload { ok: true })
}

#[track_metrics]
#[get("/html")]
async fn html() -> web::Html {
    web::Html::new("<p>hi</p>")
}

// `()` is not an actix-web responder: it is checked on a plain function below.
#[track_metrics]
fn unit() {}

#[track_metrics]
#[get("/option-none")]
async fn option_none() -> Option<String> {
    None
}

#[track_metrics]
#[get("/option-some")]
async fn option_some() -> Option<HttpResponse> {
    Some(HttpResponse::Found().finish())
}

#[track_metrics]
#[get("/early-return")]
async fn early_return(q: web::Query<std::collections::HashMap<String, String>>) -> HttpResponse {
    if q.contains_key("stop") {
        return HttpResponse::BadRequest().finish();
    }
    HttpResponse::Ok().finish()
}

#[actix_web::test]
async fn every_row_of_the_status_table_counts_what_actix_sent() {
    let app = actix_test::init_service(
        App::new()
            .service(http_response)
            .service(tuple)
            .service(ok_response)
            .service(ok_text)
            .service(ok_impl)
            .service(err_actix)
            .service(err_response_error)
            .service(err_question_mark)
            .service(err_response_status)
            .service(own_responder)
            .service(string)
            .service(str_)
            .service(json)
            .service(html)
            .service(option_none)
            .service(option_some)
            .service(early_return),
    )
    .await;
    // (uri, handler label, route label, expected status)
    let cases = [
        ("/http-response", "http_response", "/http-response", 203),
        ("/tuple", "tuple", "/tuple", 201),
        ("/ok-response", "ok_response", "/ok-response", 204),
        ("/ok-text", "ok_text", "/ok-text", 200),
        ("/ok-impl", "ok_impl", "/ok-impl", 206),
        ("/err-actix", "err_actix", "/err-actix", 403),
        (
            "/err-response-error",
            "err_response_error",
            "/err-response-error",
            418,
        ),
        (
            "/err-question-mark",
            "err_question_mark",
            "/err-question-mark",
            422,
        ),
        (
            "/err-response-status",
            "err_response_status",
            "/err-response-status",
            410,
        ),
        ("/own-responder", "own_responder", "/own-responder", 202),
        ("/string", "string", "/string", 200),
        ("/str", "str_", "/str", 200),
        ("/json", "json", "/json", 200),
        ("/html", "html", "/html", 200),
        ("/option-none", "option_none", "/option-none", 404),
        ("/option-some", "option_some", "/option-some", 302),
        ("/early-return?stop=1", "early_return", "/early-return", 400),
        ("/early-return", "early_return", "/early-return", 200),
    ];
    for (uri, handler, route, expected) in cases {
        let before = Scrape::parse(&track_metrics::render());
        let resp =
            actix_test::call_service(&app, actix_test::TestRequest::get().uri(uri).to_request())
                .await;
        assert_eq!(
            resp.status().as_u16(),
            expected,
            "actix-web's answer to {uri}"
        );
        let after = Scrape::parse(&track_metrics::render());
        let labels = [
            ("handler", handler),
            ("method", "GET"),
            ("route", route),
            ("status", &expected.to_string()),
        ];
        assert_eq!(
            after.value("http_requests_total", &labels)
                - before.value("http_requests_total", &labels),
            1.0,
            "{uri} counted once with status {expected}:\n{}",
            after.text
        );
        let total = |scrape: &Scrape| -> f64 {
            let mine = format!("handler=\"{handler}\"");
            scrape
                .series("http_requests_total")
                .iter()
                .filter(|s| s.0.contains(&mine))
                .map(|s| s.1)
                .sum()
        };
        assert_eq!(
            total(&after) - total(&before),
            1.0,
            "{uri} counted exactly once"
        );
        let hist = [("handler", handler), ("method", "GET"), ("route", route)];
        assert_eq!(
            after.value("http_request_duration_seconds_count", &hist)
                - before.value("http_request_duration_seconds_count", &hist),
            1.0,
            "{uri} observed once"
        );
        assert_eq!(
            after.get("http_requests_in_flight", &hist),
            Some(0.0),
            "{uri} in flight"
        );
    }
}

#[track_metrics]
fn plain_err() -> Result<u8, String> {
    Err("not an HTTP error".to_owned())
}

#[track_metrics]
fn plain_ok() -> Result<u8, String> {
    Ok(1)
}

/// Reports a status outside 100..=599.
struct Weird;

impl ResponseStatus for Weird {
    fn status(&self) -> u16 {
        42
    }
}

#[track_metrics]
fn weird() -> Weird {
    Weird
}

#[test]
fn plain_functions_errors_and_out_of_range_statuses() {
    assert!(plain_err().is_err());
    assert_eq!(plain_ok(), Ok(1));
    let _ = weird();
    unit();
    let scrape = Scrape::parse(&track_metrics::render());
    assert_eq!(
        scrape.requests("plain_err", "", "", "500"),
        1.0,
        "{}",
        scrape.text
    );
    assert_eq!(scrape.requests("plain_ok", "", "", "200"), 1.0);
    assert_eq!(
        scrape.requests("weird", "", "", "500"),
        1.0,
        "a status outside 100..=599 counts as 500"
    );
    assert_eq!(scrape.requests("weird", "", "", "42"), 0.0);
    assert_eq!(
        scrape.requests("unit", "", "", "200"),
        1.0,
        "() counts as 200"
    );
    let labels = [
        ("handler", "plain_ok"),
        ("method", ""),
        ("route", ""),
        ("status", "200"),
    ];
    assert_eq!(
        scrape.get("http_requests_total", &labels),
        Some(1.0),
        "empty method and route labels"
    );
}

#[track_metrics]
fn many_statuses(status: u16) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap()).finish()
}

#[test]
fn more_distinct_statuses_than_cached_slots_still_count() {
    let statuses: Vec<u16> = (200..=215).chain(400..=410).collect();
    for _ in 0..3 {
        for &status in &statuses {
            let _ = many_statuses(status);
        }
    }
    let scrape = Scrape::parse(&track_metrics::render());
    for status in statuses {
        assert_eq!(
            scrape.requests("many_statuses", "", "", &status.to_string()),
            3.0,
            "status {status}"
        );
    }
}
