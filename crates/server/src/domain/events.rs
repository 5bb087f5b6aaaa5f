//! The workspace events outgoing integrations listen to, and the sink the domain raises them
//! through. The domain owns both; the outgoing engine implements the sink, so the dependency
//! runs from `outgoing` to `domain` and never back.
//!
//! Adding an event means: a variant here, its payload arm in the engine (the match there is
//! exhaustive), and the place in the domain that raises it.

use async_trait::async_trait;
use store::{Delivery, Doc, Store, StoreResult};

/// Something that happened in the workspace, with the documents integrations are told about.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A message was posted (or edited, with `edited`).
    SendMessage { room: &'a Doc, message: &'a Doc, edited: bool },
    /// A message carrying a file was posted by `user`.
    FileUploaded { room: &'a Doc, message: &'a Doc, user: &'a Doc },
    /// A room was created by `owner`.
    RoomCreated { room: &'a Doc, owner: &'a Doc },
    /// `user` archived a room.
    RoomArchived { room: &'a Doc, user: &'a Doc },
    /// `user` joined (or was added to) a room.
    RoomJoined { room: &'a Doc, user: &'a Doc },
    /// `user` left a room.
    RoomLeft { room: &'a Doc, user: &'a Doc },
    /// A user was created.
    UserCreated { user: &'a Doc },
}

impl Event<'_> {
    /// The name integrations are configured with (`event` of an outgoing integration).
    pub fn name(&self) -> &'static str {
        match self {
            Event::SendMessage { .. } => "sendMessage",
            Event::FileUploaded { .. } => "fileUploaded",
            Event::RoomCreated { .. } => "roomCreated",
            Event::RoomArchived { .. } => "roomArchived",
            Event::RoomJoined { .. } => "roomJoined",
            Event::RoomLeft { .. } => "roomLeft",
            Event::UserCreated { .. } => "userCreated",
        }
    }

    /// The room the event happened in, if any.
    pub fn room(&self) -> Option<&Doc> {
        match *self {
            Event::SendMessage { room, .. }
            | Event::FileUploaded { room, .. }
            | Event::RoomCreated { room, .. }
            | Event::RoomArchived { room, .. }
            | Event::RoomJoined { room, .. }
            | Event::RoomLeft { room, .. } => Some(room),
            Event::UserCreated { .. } => None,
        }
    }
}

/// Where the domain raises events: the outgoing engine.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// The deliveries an event causes, to be committed with the change that raised it.
    async fn deliveries(&self, store: &dyn Store, event: Event<'_>) -> StoreResult<Vec<Delivery>>;
    /// Deliveries were committed and wait for their first attempt.
    fn committed(&self, deliveries: &[Delivery]);
}
