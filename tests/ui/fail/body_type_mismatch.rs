// Type errors in the body are reported at the user's tokens, as in the original function.
use track_metrics::track_metrics;

#[derive(Debug)]
struct ApiError;

#[track_metrics]
fn sync_handler() -> u32 {
    "not a number"
}

#[track_metrics]
async fn async_handler(flag: bool) -> Result<u32, ApiError> {
    if flag {
        return Ok("nope");
    }
    let n: u32 = "1".parse()?;
    Ok(n)
}

#[track_metrics]
fn sync_early_return(flag: bool) -> Result<u32, ApiError> {
    if flag {
        return Ok("nope");
    }
    let n: u32 = "1".parse()?;
    Ok(n)
}

#[track_metrics]
async fn returns_only(flag: bool) -> Option<u32> {
    if flag {
        return Some("nope");
    }
    None
}

fn main() {
    let _ = sync_handler();
    let _ = async_handler(true);
    let _ = sync_early_return(true);
    let _ = returns_only(true);
}
