//! Exposition: the families as Prometheus reads them. The HTTP families' collector
//! (every series turned into the three families' protos, [`collector`]) and the
//! encoders of a gathered registry ([`text`]). It knows the families, never the
//! process-wide registry: the registry layer above calls it.

pub(crate) mod collector;
pub(crate) mod text;

pub use text::CONTENT_TYPE;
