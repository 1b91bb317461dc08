//! What messaging clients see of rooms and messages another dialect changes through the core:
//! a real store, hub, renderers and dialect, with a messaging connection as the hub sees it,
//! and core calls standing in for the other dialect.

use super::Messaging;
use super::render::shared;
use super::sessions::Conn;
use crate::config::MessagingConfig;
use crate::core::Core;
use crate::core::events::Topic;
use crate::core::ids::MessageId;
use crate::core::messages::{NewMessage, UserRef};
use crate::core::rooms::{NewRoom, RoomKind, RoomRole};
use crate::hub::{Frame, Hub, Kick, Subscriber};
use crate::store::sqlite::{SqliteSettings, SqliteStore};
use chorus_protocol::messaging::ServerFrame;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

async fn next(rx: &mut mpsc::Receiver<Frame>) -> Value {
    let f = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a frame in time")
        .expect("open");
    // Every frame is a valid server frame of the spec.
    ServerFrame::decode(f.text.as_str()).unwrap_or_else(|e| panic!("{e}: {}", f.text));
    serde_json::from_str(f.text.as_str()).unwrap()
}

#[tokio::test]
async fn rooms_and_messages_of_other_dialects_reach_messaging_clients_in_full() {
    let dir = std::env::temp_dir().join(format!(
        "chorus-messaging-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let store = Arc::new(
        SqliteStore::open(&dir.join("chorus.db"), SqliteSettings::default())
            .await
            .unwrap(),
    );
    let (hub, dispatcher) = Hub::new(crate::dialects::renderers());
    tokio::spawn(dispatcher);
    let core = Arc::new(Core::new(store.clone(), hub.clone()));
    let dialect = Arc::new(
        Messaging::new(core.clone(), store, MessagingConfig::default())
            .await
            .unwrap(),
    );
    shared().install(&dialect);
    let alice = core.create_account("alice", "pw", None).await.unwrap();
    let bob = core.create_account("bob", "pw", None).await.unwrap();
    // Bob is connected through messaging.
    let (tx, mut rx) = mpsc::channel(64);
    let conn = Conn::new(
        hub.next_conn_id(),
        Subscriber {
            dialect: crate::dialects::MESSAGING,
            tx,
            kick: Arc::new(Kick::default()),
        },
    );
    dialect.registry.connect(&bob.id, conn, Vec::new());

    // Alice, on another dialect, makes a group with bob.
    let room = core
        .create_room(
            &alice,
            NewRoom {
                space_id: None,
                kind: RoomKind::Group,
                name: "elsewhere".into(),
                topic: None,
                parent_id: None,
                position: None,
                is_public: false,
                max_members: None,
                members: vec![(bob.id.clone(), RoomRole::Member)],
                extra: None,
            },
        )
        .await
        .unwrap();
    let f = next(&mut rx).await;
    assert_eq!(f["eventType"], "roomcreate.dispatch");
    assert_eq!(f["data"]["name"], "elsewhere");

    // A message and a reply: the reply carries its parent in full.
    let say = |content: &str, reply_to: Option<MessageId>| NewMessage {
        room_id: room.id.clone(),
        author: UserRef {
            id: alice.id.clone(),
            username: "alice".into(),
        },
        author_name: None,
        content: content.into(),
        reply_to,
        forwarded_from: None,
        extra: None,
    };
    let first = core.send_message(say("first", None)).await.unwrap();
    assert_eq!(next(&mut rx).await["data"]["content"], "first");
    core.send_message(say("second", Some(first.id.clone())))
        .await
        .unwrap();
    let f = next(&mut rx).await;
    assert_eq!(f["eventType"], "message.dispatch");
    assert_eq!(f["data"]["parent_message"]["content"], "first");
    assert_eq!(f["data"]["parent_message"]["id"], first.id.0.as_str());

    // A reaction shows the reaction's own time, not the message's.
    tokio::time::sleep(Duration::from_millis(5)).await;
    core.set_reaction(&alice, &first.id, "👍", true)
        .await
        .unwrap();
    let f = next(&mut rx).await;
    assert_eq!(f["eventType"], "reaction.dispatch");
    assert_eq!(f["data"]["type"], "add");
    let reaction = &f["data"]["message"]["reactions"][0];
    assert_eq!(reaction["reaction_content"], "👍");
    assert_ne!(reaction["created_at"], f["data"]["message"]["created_at"]);

    // A rename is announced live.
    let mut renamed = (*room).clone();
    renamed.name = "renamed".into();
    core.update_room(&alice, renamed).await.unwrap();
    let f = next(&mut rx).await;
    assert_eq!(f["eventType"], "roomupdate.dispatch");
    assert_eq!(f["data"]["name"], "renamed");

    // A delete is announced, and nobody stays subscribed to the room.
    let topic = Topic::Room(room.id.clone());
    assert_eq!(hub.subscriber_count(&topic), 1);
    core.delete_room(&alice, &room.id).await.unwrap();
    let f = next(&mut rx).await;
    assert_eq!(f["eventType"], "roomdelete.dispatch");
    assert_eq!(f["data"]["room_id"], room.id.0.as_str());
    dialect.settle().await;
    assert_eq!(hub.subscriber_count(&topic), 0);
    let _ = std::fs::remove_dir_all(dir);
}
