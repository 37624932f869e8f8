//! Generated code names everything by absolute path: it works in a module without the
//! prelude.

#[no_implicit_prelude]
mod bare {
    #[::track_metrics::track_metrics]
    pub fn sync_value(x: u8) -> ::core::option::Option<u8> {
        ::core::option::Option::Some(x)
    }

    #[::track_metrics::track_metrics]
    pub async fn async_value(x: u8) -> ::core::result::Result<u8, ()> {
        ::core::result::Result::Ok(x)
    }
}

fn main() {
    assert_eq!(bare::sync_value(1), Some(1));
    assert_eq!(
        actix_web::rt::System::new().block_on(bare::async_value(2)),
        Ok(2)
    );
}
