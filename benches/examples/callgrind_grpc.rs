//! Sends N RPCs of one shape through tonic's server stack for one variant, for
//! instruction counts under callgrind: `callgrind_grpc <variant> <rpcs> <shape>`, a
//! variant of `grpc_request_app::VARIANTS` (`bare`, `layer`, `tonic-prometheus-layer`),
//! a shape of `SHAPES` (`unary`, `stream-1-packed`, `stream-100-packed`,
//! `stream-1-frames`, `stream-100-frames`); see `benches/callgrind.sh --grpc`, which
//! counts only inside the measured loop. The app is the one of `benches/grpc.rs`.

use metrics_benches::grpc_request_app::{SHAPES, Shape, Stack, VARIANTS, request, send, variant};
use tokio::runtime::Runtime;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_default();
    let rpcs: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let shape = args.next().unwrap_or_default();
    let shape = SHAPES.into_iter().find(|s| s.name == shape);
    let (Some(shape), Some(stack)) = (shape, shape.and_then(|shape| variant(&name, shape.frames)))
    else {
        let shapes: Vec<&str> = SHAPES.iter().map(|s| s.name).collect();
        eprintln!(
            "callgrind_grpc: usage: callgrind_grpc <variant> <rpcs> <shape>; variants {VARIANTS:?}, shapes {shapes:?}"
        );
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    // RPCs first, so that first-use work (registration, the method's first answer, the
    // clock) happens outside the loop callgrind counts.
    for _ in 0..100 {
        rt.block_on(send(&stack, request(shape.method, shape.count)));
    }
    measured_loop(&rt, &stack, shape, rpcs);
}

// callgrind.sh counts the instructions executed inside this function only.
#[inline(never)]
fn measured_loop(rt: &Runtime, stack: &Stack, shape: Shape, rpcs: u64) {
    for _ in 0..rpcs {
        rt.block_on(send(stack, request(shape.method, shape.count)));
    }
}
