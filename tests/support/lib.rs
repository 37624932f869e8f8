//! Helpers shared by the behaviour and end-to-end tests.
