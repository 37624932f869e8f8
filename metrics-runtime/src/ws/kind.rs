//! What is counted: the `kind` and `direction` of a message, and which stream items are
//! messages.
//!
//! The module is private to the crate, so [`Counted`], named in the bounds of
//! [`track`](super::track), is sealed: only the actix-ws streams' items implement it.

use actix_ws::{AggregatedMessage, Item, Message, ProtocolError};

pub(crate) use crate::families::ws::{Direction, Kind};

/// An item of a message stream [`track`](super::track) can count.
pub trait Counted {
    /// What kind of message it is; `None` for what is not counted (an error, the
    /// rest of a fragmented message).
    fn kind(&self) -> Option<Kind>;
}

impl Counted for Result<Message, ProtocolError> {
    #[inline]
    fn kind(&self) -> Option<Kind> {
        self.as_ref().ok().and_then(message_kind)
    }
}

impl Counted for Result<AggregatedMessage, ProtocolError> {
    #[inline]
    fn kind(&self) -> Option<Kind> {
        Some(match self.as_ref().ok()? {
            AggregatedMessage::Text(_) => Kind::Text,
            AggregatedMessage::Binary(_) => Kind::Binary,
            AggregatedMessage::Ping(_) => Kind::Ping,
            AggregatedMessage::Pong(_) => Kind::Pong,
            AggregatedMessage::Close(_) => Kind::Close,
        })
    }
}

// A fragmented message counts once, by its first frame.
pub(super) fn message_kind(msg: &Message) -> Option<Kind> {
    match msg {
        Message::Text(_) => Some(Kind::Text),
        Message::Binary(_) => Some(Kind::Binary),
        Message::Ping(_) => Some(Kind::Ping),
        Message::Pong(_) => Some(Kind::Pong),
        Message::Close(_) => Some(Kind::Close),
        Message::Continuation(item) => item_kind(item),
        Message::Nop => None,
    }
}

pub(super) fn item_kind(item: &Item) -> Option<Kind> {
    match item {
        Item::FirstText(_) => Some(Kind::Text),
        Item::FirstBinary(_) => Some(Kind::Binary),
        Item::Continue(_) | Item::Last(_) => None,
    }
}
