//! The error accumulator: every stage reports into it, so that the user sees every
//! problem at once (after serde's `Ctxt`).

/// Errors collected so far, combined into one `syn::Error` (each keeps its own span).
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Keeps `err` with the others; none is dropped, so a user fixes them all in one go.
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    /// `Err` with every collected error, if there was any.
    pub(crate) fn finish(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}
