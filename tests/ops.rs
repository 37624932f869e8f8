//! The ops stack against real Prometheus and Alertmanager (filled in by the ops work).
