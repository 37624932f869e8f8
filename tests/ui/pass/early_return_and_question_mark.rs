//! `return` and `?` in the body leave the tracked body, not the whole function, so the
//! outcome is still counted; `?` converts errors with `From` as before.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use metrics_runtime::track_metrics;

#[derive(Debug, PartialEq)]
enum ApiError {
    NotFound,
    BadInput(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadInput(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<std::num::ParseIntError> for ApiError {
    fn from(err: std::num::ParseIntError) -> Self {
        ApiError::BadInput(err.to_string())
    }
}

#[track_metrics]
async fn lookup(raw: &str) -> Result<HttpResponse, ApiError> {
    let id: u32 = raw.parse()?;
    if id > 100 {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().body(id.to_string()))
}

#[track_metrics]
fn parse_sync(raw: &str) -> Result<u32, ApiError> {
    let id: u32 = raw.parse()?;
    if id == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(id)
}

#[track_metrics]
fn first_char(text: &str) -> Option<char> {
    let c = text.chars().next()?;
    if c == ' ' {
        return None;
    }
    Some(c)
}

#[track_metrics]
fn early_unit(flag: bool, out: &mut Vec<u8>) {
    if flag {
        return;
    }
    out.push(1);
}

#[track_metrics]
fn io_result(fail: bool) -> std::io::Result<u8> {
    if fail {
        Err(std::io::Error::other("boom"))?;
    }
    Ok(7)
}

fn assert_counted(handler: &str, status: &str, count: u64) {
    let line = format!(
        r#"http_requests_total{{handler="{handler}",method="",route="",status="{status}"}} {count}"#
    );
    let text = metrics_runtime::render();
    assert!(
        text.lines().any(|l| l == line),
        "missing `{line}` in:\n{text}"
    );
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        assert!(lookup("5").await.is_ok());
        assert_eq!(lookup("500").await.unwrap_err(), ApiError::NotFound);
        assert!(matches!(lookup("x").await, Err(ApiError::BadInput(_))));
        assert!(matches!(lookup("y").await, Err(ApiError::BadInput(_))));
    });
    assert_eq!(parse_sync("3"), Ok(3));
    assert_eq!(parse_sync("0"), Err(ApiError::NotFound));
    assert!(parse_sync("z").is_err());
    assert_eq!(first_char("ab"), Some('a'));
    assert_eq!(first_char(""), None);
    assert_eq!(first_char(" b"), None);
    let mut out = Vec::new();
    early_unit(true, &mut out);
    early_unit(false, &mut out);
    assert_eq!(out, [1]);
    assert_eq!(io_result(false).unwrap(), 7);
    assert!(io_result(true).is_err());

    assert_counted("lookup", "200", 1);
    assert_counted("lookup", "404", 1);
    assert_counted("lookup", "400", 2);
    assert_counted("parse_sync", "200", 1);
    assert_counted("parse_sync", "404", 1);
    assert_counted("parse_sync", "400", 1);
    assert_counted("first_char", "200", 1);
    assert_counted("first_char", "404", 2);
    assert_counted("early_unit", "200", 2);
    assert_counted("io_result", "200", 1);
    assert_counted("io_result", "500", 1);
}
