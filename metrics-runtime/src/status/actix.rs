//! The actix-web rules: the status of its responses and errors, and depths 5 and 2 of
//! the probe (an error that implements `ResponseError`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use super::ResponseStatus;

impl<B> ResponseStatus for HttpResponse<B> {
    fn status(&self) -> u16 {
        HttpResponse::status(self).as_u16()
    }
}

impl<T> ResponseStatus for (T, StatusCode) {
    fn status(&self) -> u16 {
        self.1.as_u16()
    }
}

impl ResponseStatus for actix_web::Error {
    fn status(&self) -> u16 {
        self.as_response_error().status_code().as_u16()
    }
}

rule!(impl[V: ResponseStatus, E: ResponseError] (&&&&&) Result<V, E> => |value| match value {
    Ok(value) => value.status(),
    Err(err) => err.status_code().as_u16(),
});

rule!(impl[V, E: ResponseError] (&&) Result<V, E> => |value| {
    value.as_ref().map_or_else(|err| err.status_code().as_u16(), |_| 200)
});
