//! WebSocket metrics over a real socket (filled in by the WebSocket work).
