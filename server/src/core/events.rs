//! Core events: what happened, published on topics after the write is durable.

use super::ids::{RoomId, SpaceId, UserId};
use super::messages::{Message, ReactionAction, UserRef};
use super::rooms::Room;
use std::sync::Arc;

/// Who receives an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    Room(RoomId),
    User(UserId),
    Space(SpaceId),
}

#[derive(Debug, Clone)]
pub enum Event {
    MessageCreated {
        message: Arc<Message>,
    },
    ReactionToggled {
        action: ReactionAction,
        emoji: String,
        user: UserRef,
        /// The message with its reactions after the change.
        message: Arc<Message>,
    },
    MessageEdited {
        message: Arc<Message>,
    },
    /// The message as it was before the delete.
    MessageDeleted {
        message: Arc<Message>,
    },
    MessagePinned {
        message: Arc<Message>,
        pinned: bool,
        by: UserRef,
    },
    /// Space rooms go to the space's topic; private rooms to each member's user topic.
    RoomCreated {
        room: Arc<Room>,
    },
    RoomUpdated {
        room: Arc<Room>,
    },
    RoomDeleted {
        room: Arc<Room>,
    },
    /// Published to the room and to every added or removed user.
    RoomMembersChanged {
        room: Arc<Room>,
        added: Vec<UserId>,
        removed: Vec<UserId>,
    },
    // ---- messaging dialect
    /// A frame the messaging adapter rendered itself (with data only it has), for its
    /// subscribers of `topic`; other renderers ignore it.
    MessagingFrame {
        topic: Topic,
        text: Arc<str>,
    },
    // ---- end messaging dialect
    // ---- Plexichat ----
    /// A user started (or stopped) typing in a room; not stored. Topic: the room.
    Typing {
        room_id: RoomId,
        user: UserRef,
        started: bool,
        /// The connection that typed, when it answers its own client itself: the hub gives it
        /// no copy.
        from_conn: Option<crate::hub::ConnId>,
    },
    /// A user joined (or created) a space; Plexichat sends GUILD_CREATE. Topic: the user.
    SpaceJoined {
        user: UserId,
        space: Arc<super::spaces::Space>,
        rooms: Vec<Room>,
        member_count: i64,
    },
    /// A space role was created, changed or deleted (Plexichat GUILD_ROLE_*). Topic: the space.
    RoleChanged {
        space_id: SpaceId,
        role: super::permissions::Role,
        created: bool,
        deleted: bool,
    },
    /// A user's presence changed (Plexichat PRESENCE_UPDATE). Published to each of the user's
    /// spaces with `publish_to`; its own topic is the user.
    PresenceChanged {
        user: UserId,
        status: &'static str,
        custom_status: Option<String>,
        custom_emoji: Option<String>,
    },
    /// A user joined a space (Plexichat GUILD_MEMBER_ADD). Topic: the space.
    MemberJoined {
        space_id: SpaceId,
        user: UserRef,
        joined_at: i64,
    },
    // ---- bots (polls) ----
    /// Someone voted in a poll; `state` is the poll with every vote after it. Topic: the room.
    PollVoted {
        state: Arc<super::polls::PollState>,
        voter: UserRef,
        /// The option ids as the voter sent them.
        option_ids: Vec<String>,
    },
    /// A poll ended (explicitly or by expiry). Topic: the room.
    PollEnded {
        state: Arc<super::polls::PollState>,
    },
    // ---- members and moderation
    /// A member's roles (the member-roles-changed event), nickname or timeout changed
    /// (Plexichat GUILD_MEMBER_UPDATE). Topic: the space.
    MemberUpdated {
        space_id: SpaceId,
        user: UserRef,
        member: super::spaces::Member,
    },
    /// A member left, was kicked, banned or removed their account (GUILD_MEMBER_REMOVE).
    /// Topic: the space.
    MemberRemoved {
        space_id: SpaceId,
        user: UserRef,
    },
    /// A user was banned (`banned`) or unbanned (GUILD_BAN_ADD / _REMOVE). Topic: the space.
    BanChanged {
        space_id: SpaceId,
        user: UserRef,
        reason: Option<String>,
        banned: bool,
    },
    /// A management or moderation action was taken: every audit log entry as it is written,
    /// and self-service leaves (`user_leave`), which are not logged. Dialects render nothing;
    /// OriginChats plugins hear it. Topic: the space.
    ActionTaken {
        entry: Arc<super::audit::AuditEntry>,
    },
    /// A space's settings changed (GUILD_UPDATE). Topic: the space.
    SpaceUpdated {
        space: Arc<super::spaces::Space>,
    },
    /// A space was deleted (GUILD_DELETE). Topic: the space.
    SpaceDeleted {
        space_id: SpaceId,
    },
    /// A user's username, display name, avatar or status changed. Topic: the user.
    UserChanged {
        user: super::users::User,
    },
    // ---- threads and voice ----
    /// A thread was opened. Topic: its parent room (whose followers also hear the thread).
    ThreadCreated {
        thread: Arc<super::threads::Thread>,
    },
    /// A thread was renamed, locked, archived or unarchived. Topic: its parent room.
    ThreadUpdated {
        thread: Arc<super::threads::Thread>,
    },
    /// A thread was deleted (as it was). Topic: its parent room.
    ThreadDeleted {
        thread: Arc<super::threads::Thread>,
    },
    /// A user joined a thread (`thread` lists them). Topic: its parent room.
    ThreadJoined {
        thread: Arc<super::threads::Thread>,
        user: UserRef,
    },
    /// A user left a thread. Topic: its parent room.
    ThreadLeft {
        thread: Arc<super::threads::Thread>,
        user: UserRef,
    },
    /// A voice participant joined, changed its flags or left. Topic: the voice room (the one
    /// left, when leaving).
    VoiceChanged {
        room_id: RoomId,
        participant: super::voice::VoiceParticipant,
        change: super::voice::VoiceChange,
    },
    // ---- read state, bulk changes, dialect-built dispatches ----
    /// A user read `room` up to `message_id` (None: everything). Topic: the room.
    ReadStateChanged {
        user: UserRef,
        room_id: RoomId,
        message_id: Option<super::ids::MessageId>,
    },
    /// Several messages of one room were deleted at once. Published right before the
    /// `MessageDeleted` of each of them (dialects without a bulk form render those). Topic: the
    /// room.
    MessagesBulkDeleted {
        room_id: RoomId,
        space_id: Option<SpaceId>,
        messages: Vec<Arc<Message>>,
    },
    /// Every reaction of a message was removed. Topic: the message's room.
    ReactionsCleared {
        message: Arc<Message>,
        space_id: Option<SpaceId>,
    },
    /// A Plexichat dispatch the dialect built itself (USER_UPDATE, RELATIONSHIP_*,
    /// NOTIFICATION_*); other renderers ignore it.
    PlexichatDispatch {
        topic: Topic,
        t: &'static str,
        d: Arc<str>,
    },
}

impl Event {
    /// The topic `Hub::publish` delivers to (`Hub::publish_to` chooses another).
    pub fn topic(&self) -> Topic {
        match self {
            Event::MessageCreated { message }
            | Event::ReactionToggled { message, .. }
            | Event::MessageEdited { message }
            | Event::MessageDeleted { message }
            | Event::MessagePinned { message, .. } => Topic::Room(message.room_id.clone()),
            Event::RoomCreated { room }
            | Event::RoomUpdated { room }
            | Event::RoomDeleted { room } => match &room.space_id {
                Some(space) if !room.kind.is_private() => Topic::Space(space.clone()),
                _ => Topic::Room(room.id.clone()),
            },
            Event::RoomMembersChanged { room, .. } => Topic::Room(room.id.clone()),
            // messaging dialect
            Event::MessagingFrame { topic, .. } => topic.clone(),
            // Plexichat
            Event::Typing { room_id, .. } => Topic::Room(room_id.clone()),
            Event::SpaceJoined { user, .. } | Event::PresenceChanged { user, .. } => {
                Topic::User(user.clone())
            }
            Event::MemberJoined { space_id, .. } | Event::RoleChanged { space_id, .. } => {
                Topic::Space(space_id.clone())
            }
            // bots (polls)
            Event::PollVoted { state, .. } | Event::PollEnded { state } => {
                Topic::Room(state.poll.room_id.clone())
            }
            // members and moderation
            Event::MemberUpdated { space_id, .. }
            | Event::MemberRemoved { space_id, .. }
            | Event::BanChanged { space_id, .. }
            | Event::SpaceDeleted { space_id } => Topic::Space(space_id.clone()),
            Event::SpaceUpdated { space } => Topic::Space(space.id.clone()),
            Event::ActionTaken { entry } => Topic::Space(entry.space_id.clone()),
            Event::UserChanged { user } => Topic::User(user.id.clone()),
            Event::ThreadCreated { thread }
            | Event::ThreadUpdated { thread }
            | Event::ThreadDeleted { thread }
            | Event::ThreadJoined { thread, .. }
            | Event::ThreadLeft { thread, .. } => Topic::Room(thread.parent.id.clone()),
            Event::VoiceChanged { room_id, .. } => Topic::Room(room_id.clone()),
            Event::ReadStateChanged { room_id, .. }
            | Event::MessagesBulkDeleted { room_id, .. } => Topic::Room(room_id.clone()),
            Event::ReactionsCleared { message, .. } => Topic::Room(message.room_id.clone()),
            Event::PlexichatDispatch { topic, .. } => topic.clone(),
        }
    }

    /// For creation events, the store sequence number of the created item: a subscriber that
    /// already loaded history up to `seq` skips it.
    pub fn created_seq(&self) -> Option<i64> {
        match self {
            Event::MessageCreated { message } => Some(message.seq),
            _ => None,
        }
    }

    /// The one connection that must not receive this event.
    pub fn skipped_conn(&self) -> Option<crate::hub::ConnId> {
        match self {
            Event::Typing { from_conn, .. } => *from_conn,
            _ => None,
        }
    }
}
