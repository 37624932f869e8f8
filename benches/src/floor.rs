use std::future::Future;
use std::hint::black_box;

use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};

/// For `App::wrap_fn`: what every actix middleware that labels requests by route does
/// (actix-web-prom too): forward, then ask actix which pattern the response took.
pub fn actix_route_labelling<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    let res = srv.call(req);
    async move {
        let res = res.await?;
        black_box(res.request().match_pattern());
        Ok(res)
    }
}

/// For `Router::layer`: a layer that only passes the request on (axum still makes a
/// boxed, cloned route service of it, as of any layer).
pub fn axum_pass_through() -> tower::util::MapRequestLayer<
    impl Fn(axum::extract::Request) -> axum::extract::Request + Clone + Send + Sync + 'static,
> {
    tower::util::MapRequestLayer::new(|req: axum::extract::Request| req)
}
