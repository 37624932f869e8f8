//! `return` and `?` in the body leave the tracked body, not the whole function, so the
//! outcome is still counted; `?` converts errors with `From` as before. (A body whose
//! only early exits are `return`s runs in place, its `return`s turned into breaks out
//! of a labelled block: `returns_only_*` below.)

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use track_metrics::track_metrics;

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

// With an `.await` the body runs in an inner `async` block; without (`lookup`), in a
// closure. Both catch `return` and `?`.
#[track_metrics]
async fn awaited(raw: &str) -> Result<u32, ApiError> {
    let id: u32 = std::future::ready(raw.parse::<u32>()).await?;
    if id == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(id)
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

// `return`s only: in a loop, a `match` arm, a nested block, with and without a value,
// coerced to the declared type.
#[track_metrics]
async fn returns_only_async(n: u32) -> Result<HttpResponse, ApiError> {
    let mut i = 0;
    loop {
        if i == n {
            return Err(ApiError::NotFound);
        }
        i += 1;
        if i > 3 {
            break;
        }
    }
    match n {
        0..=3 => unreachable!("returned or looped"),
        4 => return Err(ApiError::BadInput(format!("{n}"))),
        _ => {}
    }
    Ok(HttpResponse::Ok().finish())
}

#[track_metrics]
fn returns_only_sync(text: &str) -> Box<dyn std::error::Error> {
    {
        if text.is_empty() {
            return Box::new(ApiError::NotFound);
        }
    }
    text.into()
}

impl std::error::Error for ApiError {}

#[track_metrics]
fn returns_only_unit(flag: bool, out: &mut Vec<u8>) {
    for x in 0..3 {
        if flag && x == 1 {
            return;
        }
        out.push(x);
    }
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
    actix_web::rt::System::new().block_on(async {
        assert!(lookup("5").await.is_ok());
        assert_eq!(lookup("500").await.unwrap_err(), ApiError::NotFound);
        assert!(matches!(lookup("x").await, Err(ApiError::BadInput(_))));
        assert!(matches!(lookup("y").await, Err(ApiError::BadInput(_))));
        assert_eq!(awaited("8").await, Ok(8));
        assert_eq!(awaited("0").await, Err(ApiError::NotFound));
        assert!(matches!(awaited("q").await, Err(ApiError::BadInput(_))));
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
    actix_web::rt::System::new().block_on(async {
        assert_eq!(returns_only_async(2).await.unwrap_err(), ApiError::NotFound);
        assert!(matches!(returns_only_async(4).await, Err(ApiError::BadInput(_))));
        assert!(returns_only_async(9).await.is_ok());
    });
    assert_eq!(returns_only_sync("").to_string(), "NotFound");
    assert_eq!(returns_only_sync("x").to_string(), "x");
    let mut out = Vec::new();
    returns_only_unit(true, &mut out);
    returns_only_unit(false, &mut out);
    assert_eq!(out, [0, 0, 1, 2]);

    assert_counted("lookup", "200", 1);
    assert_counted("lookup", "404", 1);
    assert_counted("lookup", "400", 2);
    assert_counted("awaited", "200", 1);
    assert_counted("awaited", "404", 1);
    assert_counted("awaited", "400", 1);
    assert_counted("parse_sync", "200", 1);
    assert_counted("parse_sync", "404", 1);
    assert_counted("parse_sync", "400", 1);
    assert_counted("first_char", "200", 1);
    assert_counted("first_char", "404", 2);
    assert_counted("early_unit", "200", 2);
    assert_counted("io_result", "200", 1);
    assert_counted("io_result", "500", 1);
    assert_counted("returns_only_async", "404", 1);
    assert_counted("returns_only_async", "400", 1);
    assert_counted("returns_only_async", "200", 1);
    assert_counted("returns_only_sync", "200", 2);
    assert_counted("returns_only_unit", "200", 2);
}
