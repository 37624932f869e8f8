//! The tonic rule: a tracked tonic method's `Err(Status)` counts with the HTTP
//! equivalent of its gRPC code (google.rpc's mapping, `google/rpc/code.proto`), when no
//! gRPC layer counts the RPC; its `Ok` counts as `200` (depth 3 of the probe).

use tonic::Code;

use super::ResponseStatus;

impl ResponseStatus for tonic::Status {
    fn status(&self) -> u16 {
        http_status(self.code())
    }
}

/// The HTTP status google.rpc gives a gRPC code.
pub(crate) fn http_status(code: Code) -> u16 {
    match code {
        Code::Ok => 200,
        Code::Cancelled => 499,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => 400,
        Code::Unauthenticated => 401,
        Code::PermissionDenied => 403,
        Code::NotFound => 404,
        Code::AlreadyExists | Code::Aborted => 409,
        Code::ResourceExhausted => 429,
        Code::Unimplemented => 501,
        Code::Unavailable => 503,
        Code::DeadlineExceeded => 504,
        Code::Unknown | Code::Internal | Code::DataLoss => 500,
    }
}

#[cfg(test)]
mod tests {
    use tonic::{Code, Response, Status};

    #[test]
    fn a_method_counts_its_codes_http_equivalent() {
        let ok: Result<Response<u8>, Status> = Ok(Response::new(1));
        assert_eq!(status!(&ok), 200);
        for (code, http) in [
            (Code::Cancelled, 499),
            (Code::Unknown, 500),
            (Code::InvalidArgument, 400),
            (Code::DeadlineExceeded, 504),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::PermissionDenied, 403),
            (Code::ResourceExhausted, 429),
            (Code::FailedPrecondition, 400),
            (Code::Aborted, 409),
            (Code::OutOfRange, 400),
            (Code::Unimplemented, 501),
            (Code::Internal, 500),
            (Code::Unavailable, 503),
            (Code::DataLoss, 500),
            (Code::Unauthenticated, 401),
        ] {
            let err: Result<Response<u8>, Status> = Err(Status::new(code, "x"));
            assert_eq!(status!(&err), http, "{code:?}");
        }
    }
}
