//! The `demo.Echo` service's server and client code, from the Rust description below
//! (`proto/demo.proto` says the same in protobuf): tonic-build's `manual` generator,
//! prost's codec, no protoc.

use tonic_build::manual::{Builder, Method, Service};

fn method(name: &str, route: &str) -> tonic_build::manual::MethodBuilder {
    Method::builder()
        .name(name)
        .route_name(route)
        .input_type("crate::EchoRequest")
        .output_type("crate::EchoReply")
        .codec_path("tonic_prost::ProstCodec")
}

fn main() {
    let echo = Service::builder()
        .name("Echo")
        .package("demo")
        .method(method("say", "Say").build())
        .method(method("repeat", "Repeat").server_streaming().build())
        .method(method("collect", "Collect").client_streaming().build())
        .method(
            method("chat", "Chat")
                .client_streaming()
                .server_streaming()
                .build(),
        )
        .build();
    Builder::new().compile(&[echo]);
}
