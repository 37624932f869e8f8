//! A live stack (servers started once for every test of a binary), shared by the tests
//! that check it, and stopped by the binary's `main` when they are done: a `static` is
//! never dropped, so such a binary has its own `main` (libtest-mimic, `harness = false`).

use std::any::Any;
use std::sync::{Arc, OnceLock};

use libtest_mimic::Trial;

/// What a live test binary starts once.
pub trait Stack: Send + Sync + 'static {
    /// Starts everything (and drives what the tests check); a panic fails every test that
    /// needs the stack.
    fn start() -> Self;

    /// Prints the last lines each server wrote, for a run with a failed test.
    fn print_tails(&self);
}

/// The stack, started by the first test that needs it, shared by the others, and stopped
/// when the last handle is dropped (by `main`, after every test ran).
pub struct Shared<S>(Arc<OnceLock<Result<S, String>>>);

impl<S> Default for Shared<S> {
    fn default() -> Self {
        Shared(Arc::default())
    }
}

impl<S: Stack> Shared<S> {
    /// A test that runs `check` on the stack.
    pub fn trial(&self, name: &str, check: fn(&S)) -> Trial {
        let shared = Shared(Arc::clone(&self.0));
        Trial::test(name, move || {
            check(shared.get()?);
            Ok(())
        })
    }

    /// Stops the stack (if it was started), after printing what the servers wrote if a
    /// test failed.
    pub fn stop(self, failed: bool) {
        let stack = Arc::try_unwrap(self.0)
            .unwrap_or_else(|_| panic!("a test still holds the live stack"))
            .into_inner();
        if failed && let Some(Ok(stack)) = &stack {
            stack.print_tails();
        }
    }

    // Starts it once; a start that failed fails every test that needs it.
    fn get(&self) -> Result<&S, String> {
        self.0
            .get_or_init(|| std::panic::catch_unwind(S::start).map_err(panic_message))
            .as_ref()
            .map_err(|err| format!("the live stack did not start: {err}"))
    }
}

// The message a panic was raised with.
fn panic_message(payload: Box<dyn Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic".to_owned())
}
