//! `#[track_metrics]` on axum handlers WITHOUT `RequestMetricsLayer` (CONTRACT §4, §9):
//! each handler is called through axum's real router (`tower::ServiceExt::oneshot`),
//! and the status it is counted with must be the status axum actually sent. The labels
//! are the attribute's arguments only: `method`/`route` as given, else empty (nothing
//! is read from the router).
//!
//! This workspace builds the runtime with both `actix` and `axum`: there,
//! `(StatusCode, T)` is recognised only for the bodies listed in
//! `metrics-runtime/src/status/axum.rs` (Rust's coherence rules forbid the blanket impl
//! beside actix-web's `(T, StatusCode)`); `an_unlisted_body_beside_a_status_counts_200`
//! pins what any other body counts.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, HeaderName, Request, Response, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use metrics_tests::scrape::Scrape;
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use track_metrics::{ResponseStatus, track_metrics};

#[derive(Serialize)]
struct Payload {
    ok: bool,
}

#[derive(Deserialize)]
struct NewThing {
    name: String,
}

/// An error of our own that answers 410 and reports it.
struct Gone;

impl IntoResponse for Gone {
    fn into_response(self) -> axum::response::Response {
        (StatusCode::GONE, "gone").into_response()
    }
}

impl ResponseStatus for Gone {
    fn status(&self) -> u16 {
        410
    }
}

/// An error that reports no status: counted 500, which is what it answers.
struct Plain;

impl IntoResponse for Plain {
    fn into_response(self) -> axum::response::Response {
        (StatusCode::INTERNAL_SERVER_ERROR, "plain").into_response()
    }
}

#[track_metrics(method = "GET", route = "/axs/status-code")]
async fn status_code() -> StatusCode {
    StatusCode::NO_CONTENT
}

#[track_metrics(method = "GET", route = "/axs/response")]
async fn http_response() -> Response<String> {
    let mut res = Response::new("partial".to_owned());
    *res.status_mut() = StatusCode::NON_AUTHORITATIVE_INFORMATION;
    res
}

#[track_metrics(method = "GET", route = "/axs/response-body")]
async fn http_response_body() -> axum::response::Response {
    Response::builder()
        .status(StatusCode::IM_A_TEAPOT)
        .body(Body::from("teapot"))
        .unwrap()
}

#[track_metrics(method = "GET", route = "/axs/tuple-string")]
async fn tuple_string() -> (StatusCode, String) {
    (StatusCode::CREATED, "created".to_owned())
}

#[track_metrics(method = "GET", route = "/axs/tuple-str")]
async fn tuple_str() -> (StatusCode, &'static str) {
    (StatusCode::ACCEPTED, "queued")
}

#[track_metrics(method = "GET", route = "/axs/tuple-json")]
async fn tuple_json() -> (StatusCode, Json<Payload>) {
    (StatusCode::CONFLICT, Json(Payload { ok: false }))
}

#[track_metrics(method = "GET", route = "/axs/tuple-html")]
async fn tuple_html() -> (StatusCode, Html<&'static str>) {
    (StatusCode::PARTIAL_CONTENT, Html("<p>part</p>"))
}

#[track_metrics(method = "GET", route = "/axs/tuple-unit")]
async fn tuple_unit() -> (StatusCode, ()) {
    (StatusCode::RESET_CONTENT, ())
}

#[track_metrics(method = "GET", route = "/axs/tuple-headers")]
async fn tuple_header_map() -> (StatusCode, HeaderMap, String) {
    let mut headers = HeaderMap::new();
    headers.insert(HeaderName::from_static("x-made"), "yes".parse().unwrap());
    (StatusCode::CREATED, headers, "made".to_owned())
}

#[track_metrics(method = "GET", route = "/axs/tuple-pairs")]
async fn tuple_pairs() -> (StatusCode, [(HeaderName, &'static str); 1], &'static str) {
    (StatusCode::CREATED, [(header::LOCATION, "/axs/x")], "made")
}

#[track_metrics(method = "GET", route = "/axs/redirect-to")]
async fn redirect_to() -> Redirect {
    Redirect::to("/elsewhere")
}

#[track_metrics(method = "GET", route = "/axs/redirect-temporary")]
async fn redirect_temporary() -> Redirect {
    Redirect::temporary("/elsewhere")
}

#[track_metrics(method = "GET", route = "/axs/redirect-permanent")]
async fn redirect_permanent() -> Redirect {
    Redirect::permanent("/elsewhere")
}

// `Result<T, E>` by the §4 table: `E: ResponseStatus` (a `StatusCode`, a type of ours)
// its status; a plain error 500.
#[track_metrics(method = "GET", route = "/axs/result-code/{fail}")]
async fn result_code(Path(fail): Path<u8>) -> Result<Json<Payload>, StatusCode> {
    if fail == 1 {
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(Json(Payload { ok: true }))
}

#[track_metrics(method = "GET", route = "/axs/result-own/{fail}")]
async fn result_own(Path(fail): Path<u8>) -> Result<(StatusCode, String), Gone> {
    if fail == 1 {
        return Err(Gone);
    }
    Ok((StatusCode::CREATED, "fine".to_owned()))
}

#[track_metrics(method = "GET", route = "/axs/result-plain/{fail}")]
async fn result_plain(Path(fail): Path<u8>) -> Result<String, Plain> {
    let n: u8 = if fail == 1 {
        "x".parse().map_err(|_| Plain)?
    } else {
        fail
    };
    Ok(n.to_string())
}

// The extractor's rejection taken as a value and answered from the handler (the way to
// have a tracked handler count axum's 400/415/422 without the layer).
#[track_metrics(method = "POST", route = "/axs/json")]
async fn json_or_rejection(
    body: Result<Json<NewThing>, JsonRejection>,
) -> Result<Json<Payload>, JsonRejection> {
    let Json(thing) = body?;
    Ok(Json(Payload {
        ok: !thing.name.is_empty(),
    }))
}

#[track_metrics(method = "GET", route = "/axs/json-200")]
async fn json_200() -> Json<Payload> {
    Json(Payload { ok: true })
}

#[track_metrics(method = "GET", route = "/axs/string")]
async fn string_200() -> String {
    "s".to_owned()
}

#[track_metrics(method = "GET", route = "/axs/opaque")]
async fn opaque() -> impl IntoResponse {
    (StatusCode::ACCEPTED, "queued")
}

#[track_metrics(method = "GET", route = "/axs/opaque-result/{fail}")]
async fn opaque_result(Path(fail): Path<u8>) -> Result<impl IntoResponse, StatusCode> {
    if fail == 1 {
        return Err(StatusCode::UNAUTHORIZED);
    }
    Ok(Redirect::permanent("/there"))
}

// No arguments: `method` and `route` are empty, whatever the router matched.
#[track_metrics]
async fn unlabelled() -> StatusCode {
    StatusCode::ACCEPTED
}

#[track_metrics(name = "axs::renamed")]
async fn renamed() -> (StatusCode, String) {
    (StatusCode::CREATED, String::new())
}

fn app() -> Router {
    Router::new()
        .route("/axs/status-code", get(status_code))
        .route("/axs/response", get(http_response))
        .route("/axs/response-body", get(http_response_body))
        .route("/axs/tuple-string", get(tuple_string))
        .route("/axs/tuple-str", get(tuple_str))
        .route("/axs/tuple-json", get(tuple_json))
        .route("/axs/tuple-html", get(tuple_html))
        .route("/axs/tuple-unit", get(tuple_unit))
        .route("/axs/tuple-headers", get(tuple_header_map))
        .route("/axs/tuple-pairs", get(tuple_pairs))
        .route("/axs/redirect-to", get(redirect_to))
        .route("/axs/redirect-temporary", get(redirect_temporary))
        .route("/axs/redirect-permanent", get(redirect_permanent))
        .route("/axs/result-code/{fail}", get(result_code))
        .route("/axs/result-own/{fail}", get(result_own))
        .route("/axs/result-plain/{fail}", get(result_plain))
        .route("/axs/json", post(json_or_rejection))
        .route("/axs/json-200", get(json_200))
        .route("/axs/string", get(string_200))
        .route("/axs/opaque", get(opaque))
        .route("/axs/opaque-result/{fail}", get(opaque_result))
        .route("/axs/unlabelled/{id}", get(unlabelled))
        .route("/axs/renamed", get(renamed))
}

fn json_post(body: &'static str, content_type: Option<&'static str>) -> Request<Body> {
    let mut req = Request::post("/axs/json");
    if let Some(content_type) = content_type {
        req = req.header(header::CONTENT_TYPE, content_type);
    }
    req.body(Body::from(body)).unwrap()
}

fn get_req(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn every_axum_status_rule_counts_what_axum_sent() {
    let app = app();
    const JSON: Option<&str> = Some("application/json");
    // (request, handler label, method label, route label, status axum sends)
    let cases: Vec<(Request<Body>, &str, &str, &str, u16)> = vec![
        (
            get_req("/axs/status-code"),
            "status_code",
            "GET",
            "/axs/status-code",
            204,
        ),
        (
            get_req("/axs/response"),
            "http_response",
            "GET",
            "/axs/response",
            203,
        ),
        (
            get_req("/axs/response-body"),
            "http_response_body",
            "GET",
            "/axs/response-body",
            418,
        ),
        (
            get_req("/axs/tuple-string"),
            "tuple_string",
            "GET",
            "/axs/tuple-string",
            201,
        ),
        (
            get_req("/axs/tuple-str"),
            "tuple_str",
            "GET",
            "/axs/tuple-str",
            202,
        ),
        (
            get_req("/axs/tuple-json"),
            "tuple_json",
            "GET",
            "/axs/tuple-json",
            409,
        ),
        (
            get_req("/axs/tuple-html"),
            "tuple_html",
            "GET",
            "/axs/tuple-html",
            206,
        ),
        (
            get_req("/axs/tuple-unit"),
            "tuple_unit",
            "GET",
            "/axs/tuple-unit",
            205,
        ),
        (
            get_req("/axs/tuple-headers"),
            "tuple_header_map",
            "GET",
            "/axs/tuple-headers",
            201,
        ),
        (
            get_req("/axs/tuple-pairs"),
            "tuple_pairs",
            "GET",
            "/axs/tuple-pairs",
            201,
        ),
        (
            get_req("/axs/redirect-to"),
            "redirect_to",
            "GET",
            "/axs/redirect-to",
            303,
        ),
        (
            get_req("/axs/redirect-temporary"),
            "redirect_temporary",
            "GET",
            "/axs/redirect-temporary",
            307,
        ),
        (
            get_req("/axs/redirect-permanent"),
            "redirect_permanent",
            "GET",
            "/axs/redirect-permanent",
            308,
        ),
        (
            get_req("/axs/result-code/0"),
            "result_code",
            "GET",
            "/axs/result-code/{fail}",
            200,
        ),
        (
            get_req("/axs/result-code/1"),
            "result_code",
            "GET",
            "/axs/result-code/{fail}",
            403,
        ),
        (
            get_req("/axs/result-own/0"),
            "result_own",
            "GET",
            "/axs/result-own/{fail}",
            201,
        ),
        (
            get_req("/axs/result-own/1"),
            "result_own",
            "GET",
            "/axs/result-own/{fail}",
            410,
        ),
        (
            get_req("/axs/result-plain/0"),
            "result_plain",
            "GET",
            "/axs/result-plain/{fail}",
            200,
        ),
        (
            get_req("/axs/result-plain/1"),
            "result_plain",
            "GET",
            "/axs/result-plain/{fail}",
            500,
        ),
        (
            json_post(r#"{"name":"a"}"#, JSON),
            "json_or_rejection",
            "POST",
            "/axs/json",
            200,
        ),
        // a syntax error, a missing field, no content type
        (
            json_post(r#"{"name":"#, JSON),
            "json_or_rejection",
            "POST",
            "/axs/json",
            400,
        ),
        (
            json_post(r#"{"nom":"a"}"#, JSON),
            "json_or_rejection",
            "POST",
            "/axs/json",
            422,
        ),
        (
            json_post(r#"{"name":"a"}"#, None),
            "json_or_rejection",
            "POST",
            "/axs/json",
            415,
        ),
        (
            get_req("/axs/json-200"),
            "json_200",
            "GET",
            "/axs/json-200",
            200,
        ),
        (
            get_req("/axs/string"),
            "string_200",
            "GET",
            "/axs/string",
            200,
        ),
        (get_req("/axs/opaque"), "opaque", "GET", "/axs/opaque", 202),
        (
            get_req("/axs/opaque-result/0"),
            "opaque_result",
            "GET",
            "/axs/opaque-result/{fail}",
            308,
        ),
        (
            get_req("/axs/opaque-result/1"),
            "opaque_result",
            "GET",
            "/axs/opaque-result/{fail}",
            401,
        ),
        (get_req("/axs/unlabelled/7"), "unlabelled", "", "", 202),
        (get_req("/axs/renamed"), "axs::renamed", "", "", 201),
    ];
    for (req, handler, method, route, expected) in cases {
        let uri = req.uri().to_string();
        let before = Scrape::parse(&track_metrics::render());
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status().as_u16(), expected, "axum's answer to {uri}");
        let after = Scrape::parse(&track_metrics::render());
        let status = expected.to_string();
        assert_eq!(
            after.requests(handler, method, route, &status)
                - before.requests(handler, method, route, &status),
            1.0,
            "{uri} counted once as {handler}|{method}|{route}|{status}:\n{}",
            after.text
        );
        assert_eq!(
            after.total_of(handler) - before.total_of(handler),
            1.0,
            "{uri} counted exactly once"
        );
        assert_eq!(
            after.observed(handler, method, route) - before.observed(handler, method, route),
            1.0,
            "{uri} observed once"
        );
        assert_eq!(
            after.get(
                "http_requests_in_flight",
                &[("handler", handler), ("method", method), ("route", route)]
            ),
            Some(0.0),
            "{uri} in flight"
        );
    }
    // Nothing came from the router: no series under the matched path of the handlers
    // given no `route`, nor any labelled by the request.
    let s = Scrape::parse(&track_metrics::render());
    assert!(!s.text.contains("/axs/unlabelled"), "{}", s.text);
    assert!(!s.text.contains(r#"route="/axs/renamed""#), "{}", s.text);
}

#[track_metrics(method = "GET", route = "/axs/unlisted")]
async fn unlisted_body() -> (StatusCode, &'static [u8]) {
    (StatusCode::IM_A_TEAPOT, b"short and stout")
}

/// The known limit of a build with both `actix` and `axum` (this workspace's): a
/// `(StatusCode, T)` whose `T` is not in status/axum.rs's list (here `&'static [u8]`)
/// is an opaque value to the probe and counts 200, whatever status axum sent. Without
/// the `actix` feature the blanket impl counts it right; the layer always does.
#[tokio::test]
async fn an_unlisted_body_beside_a_status_counts_200() {
    let app = Router::new().route("/axs/unlisted", get(unlisted_body));
    let res = app.oneshot(get_req("/axs/unlisted")).await.unwrap();
    assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    let s = Scrape::parse(&track_metrics::render());
    assert_eq!(
        s.requests("unlisted_body", "GET", "/axs/unlisted", "200"),
        1.0
    );
    assert_eq!(
        s.requests("unlisted_body", "GET", "/axs/unlisted", "418"),
        0.0
    );
}
