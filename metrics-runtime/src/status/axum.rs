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

    struct Plain;

    fn opaque() -> impl IntoResponse {
        (StatusCode::ACCEPTED, "queued")
    }

    // One line per rule of this file, alone and inside a `Result`.
    #[test]
    fn axum_values() {
        let cases = [
            (status!(&StatusCode::NO_CONTENT), 204),
            (status!(&StatusCode::IM_A_TEAPOT.into_response()), 418),
            (status!(&(StatusCode::CREATED, HeaderMap::new(), "x")), 201),
            (
                status!(&(StatusCode::CREATED, [(header::LOCATION, "/x")], "x")),
                201,
            ),
            (status!(&(StatusCode::CREATED, String::new())), 201),
            (status!(&(StatusCode::CONFLICT, axum::Json(1))), 409),
            (status!(&Redirect::to("/")), 303),
            (status!(&Redirect::permanent("/")), 308),
            // a syntax error, then valid JSON of the wrong type
            (status!(&rejection_of(b"]")), 400),
            (status!(&rejection_of(b"\"text\"")), 422),
            (status!(&Ok::<_, StatusCode>(axum::Json(1))), 200),
            (
                status!(&Err::<axum::Json<u8>, _>(StatusCode::FORBIDDEN)),
                403,
            ),
            (status!(&Err::<axum::Json<u8>, _>(rejection_of(b"]"))), 400),
            (
                status!(&Ok::<_, Plain>((StatusCode::CREATED, axum::Json(1)))),
                201,
            ),
            (status!(&Err::<StatusCode, _>(Plain)), 500),
            (status!(&axum::Json(1)), 200),
            (status!(&opaque()), 200),
        ];
        for (i, (got, want)) in cases.into_iter().enumerate() {
            assert_eq!(got, want, "case {i}");
        }
    }

    fn rejection_of(body: &[u8]) -> axum::extract::rejection::JsonRejection {
        axum::Json::<u8>::from_bytes(body).map(|_| ()).unwrap_err()
    }
}
