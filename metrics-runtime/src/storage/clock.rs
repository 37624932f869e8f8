//! The clock every series reads: the time-stamp counter through quanta.

use once_cell::sync::OnceCell;

// The process' clock, shared by every series. `quanta::Clock::new` calibrates the
// counter once per process (quanta keeps the calibration); `raw` reads it unscaled.
#[inline]
pub(super) fn clock() -> &'static quanta::Clock {
    match CLOCK.get() {
        Some(clock) => clock,
        None => first_clock(),
    }
}

static CLOCK: OnceCell<quanta::Clock> = OnceCell::new();

#[cold]
fn first_clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}
