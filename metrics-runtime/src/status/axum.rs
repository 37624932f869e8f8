//! The axum rules (the `http` 1 types it answers with): the status of its responses,
//! status codes, tuples, redirects and extractor rejections.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{Response, StatusCode};
use axum::response::Redirect;

use super::ResponseStatus;

impl ResponseStatus for StatusCode {
    fn status(&self) -> u16 {
        self.as_u16()
    }
}

impl<B> ResponseStatus for Response<B> {
    fn status(&self) -> u16 {
        Response::status(self).as_u16()
    }
}

/// `(StatusCode, headers, body)`: `headers` a `HeaderMap`, an array of pairs, ...
impl<H, T> ResponseStatus for (StatusCode, H, T) {
    fn status(&self) -> u16 {
        self.0.as_u16()
    }
}

// `(StatusCode, body)`, for any body. Not with actix-web's rules in the same build:
// its `(body, StatusCode)` impl would overlap this one at `(StatusCode, StatusCode)`
// of the two `http` versions, which Rust's coherence rules forbid; there, the bodies
// axum users write are listed instead.
#[cfg(not(feature = "actix"))]
impl<T> ResponseStatus for (StatusCode, T) {
    fn status(&self) -> u16 {
        self.0.as_u16()
    }
}

#[cfg(feature = "actix")]
macro_rules! status_with_body {
    ($([$($generics:tt)*] $body:ty),* $(,)?) => {$(
        impl<$($generics)*> ResponseStatus for (StatusCode, $body) {
            fn status(&self) -> u16 {
                self.0.as_u16()
            }
        }
    )*};
}

#[cfg(feature = "actix")]
status_with_body! {
    [] (),
    [] String,
    [] &'static str,
    [] std::borrow::Cow<'static, str>,
    [] Vec<u8>,
    [] axum::body::Bytes,
    [] axum::body::Body,
    [] axum::http::HeaderMap,
    [] Redirect,
    [U] axum::Json<U>,
    [U] axum::response::Html<U>,
    [B] Response<B>,
}

impl ResponseStatus for Redirect {
    fn status(&self) -> u16 {
        self.status_code().as_u16()
    }
}

// What axum answers when these extractors reject a request (400, 415, 422, ...).
macro_rules! rejection_status {
    ($($rejection:ty),*) => {$(
        impl ResponseStatus for $rejection {
            fn status(&self) -> u16 {
                <$rejection>::status(self).as_u16()
            }
        }
    )*};
}

rejection_status!(JsonRejection, PathRejection, QueryRejection);

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::{IntoResponse, Redirect};

    use crate::status::probe;

    struct Plain;

    fn opaque() -> impl IntoResponse {
        (StatusCode::ACCEPTED, "queued")
    }

    // One line per rule of this file, alone and inside a `Result`.
    #[test]
    fn axum_values() {
        let cases = [
            (probe(&StatusCode::NO_CONTENT).__metrics_status(), 204),
            (
                probe(&StatusCode::IM_A_TEAPOT.into_response()).__metrics_status(),
                418,
            ),
            (
                probe(&(StatusCode::CREATED, HeaderMap::new(), "x")).__metrics_status(),
                201,
            ),
            (
                probe(&(StatusCode::CREATED, [(header::LOCATION, "/x")], "x")).__metrics_status(),
                201,
            ),
            (
                probe(&(StatusCode::CREATED, String::new())).__metrics_status(),
                201,
            ),
            (
                probe(&(StatusCode::CONFLICT, axum::Json(1))).__metrics_status(),
                409,
            ),
            (probe(&Redirect::to("/")).__metrics_status(), 303),
            (probe(&Redirect::permanent("/")).__metrics_status(), 308),
            // a syntax error, then valid JSON of the wrong type
            (probe(&rejection_of(b"]")).__metrics_status(), 400),
            (probe(&rejection_of(b"\"text\"")).__metrics_status(), 422),
            (
                probe(&Ok::<_, StatusCode>(axum::Json(1))).__metrics_status(),
                200,
            ),
            (
                probe(&Err::<axum::Json<u8>, _>(StatusCode::FORBIDDEN)).__metrics_status(),
                403,
            ),
            (
                probe(&Err::<axum::Json<u8>, _>(rejection_of(b"]"))).__metrics_status(),
                400,
            ),
            (
                probe(&Ok::<_, Plain>((StatusCode::CREATED, axum::Json(1)))).__metrics_status(),
                201,
            ),
            (probe(&Err::<StatusCode, _>(Plain)).__metrics_status(), 500),
            (probe(&axum::Json(1)).__metrics_status(), 200),
            (probe(&opaque()).__metrics_status(), 200),
        ];
        for (i, (got, want)) in cases.into_iter().enumerate() {
            assert_eq!(got, want, "case {i}");
        }
    }

    fn rejection_of(body: &[u8]) -> axum::extract::rejection::JsonRejection {
        axum::Json::<u8>::from_bytes(body).map(|_| ()).unwrap_err()
    }
}
