//! Messaging validation errors (§2.4): the detail of a 4003 has the shape of the check that
//! failed in the original — DRF serializer fields give field dicts, media items DRF's
//! per-item list, the handlers' own checks lists of strings.

use crate::messaging_support::{M, jwt, server};
use serde_json::json;

#[tokio::test]
async fn serializer_errors_are_field_dicts() {
    let server = server();
    let mut alice = M::connect(&server, &jwt(1, "alice")).await;
    M::connect(&server, &jwt(2, "bob")).await.close().await;
    let long = "x".repeat(65);
    let cases = [
        (
            "room.create",
            json!({"type": "GroupChat", "name": long, "participants": [2]}),
            json!({"name": ["Ensure this field has no more than 64 characters."]}),
        ),
        (
            "room.create",
            json!({"type": "Channel", "name": 5}),
            json!({"name": ["Not a valid string."]}),
        ),
        (
            "room.create",
            json!({"type": "GroupChat", "name": "g", "extra_fields": {"max_participants": -1}}),
            json!({"max_participants": ["Ensure this value is greater than or equal to 0."]}),
        ),
        (
            "room.create",
            json!({"type": "GroupChat", "name": "g", "extra_fields": {"group_locked": "yes"}}),
            json!({"group_locked": ["Must be a valid boolean."]}),
        ),
        (
            "room.create",
            json!({"type": "Channel", "name": "c", "extra_fields": {"avatar": "x".repeat(201)}}),
            json!({"avatar": ["Ensure this field has no more than 200 characters."]}),
        ),
        (
            "message.react",
            json!({"type": "add", "message_id": "6b1d1f6e-8a8e-4c39-9a55-0d4b2bbf7a10",
                "reaction_content": "y".repeat(129)}),
            json!({"reaction_content": ["Ensure this field has no more than 128 characters."]}),
        ),
        (
            "message.send",
            json!({"room_id": "6b1d1f6e-8a8e-4c39-9a55-0d4b2bbf7a10", "content": 1}),
            json!({"content": ["Not a valid string."]}),
        ),
        (
            "message.send",
            json!({"room_id": "6b1d1f6e-8a8e-4c39-9a55-0d4b2bbf7a10", "content": "hi",
                "extra_fields": {"parent_message_id": "nope"}}),
            json!({"parent_message_id": ["“nope” is not a valid UUID."]}),
        ),
        (
            "message.send",
            json!({"room_id": "6b1d1f6e-8a8e-4c39-9a55-0d4b2bbf7a10", "content": "hi",
                "extra_fields": {"media": [
                    {"media_url": "https://x/1.png", "media_type": "image"},
                    {"media_url": "https://x/2.png", "media_type": "gif"},
                    {"media_url": "https://x/3.png", "media_type": "image"}]}}),
            json!([{}, {"media_type": ["\"gif\" is not a valid choice."]}, {}]),
        ),
        (
            "message.send",
            json!({"room_id": "6b1d1f6e-8a8e-4c39-9a55-0d4b2bbf7a10", "content": "hi",
                "extra_fields": {"media": [{"media_type": "image"}]}}),
            json!([{"media_url": ["This field is required."]}]),
        ),
        (
            "message.modify",
            json!({"action": "update", "message_id": "6b1d1f6e-8a8e-4c39-9a55-0d4b2bbf7a10",
                "extra_fields": {"content": []}}),
            json!({"content": ["Not a valid string."]}),
        ),
        // The handlers' own checks stay lists of strings.
        (
            "message.react",
            json!({"type": "poke", "message_id": "6b1d1f6e-8a8e-4c39-9a55-0d4b2bbf7a10"}),
            json!(["invalid reaction type"]),
        ),
        (
            "message.send",
            json!({"room_id": "6b1d1f6e-8a8e-4c39-9a55-0d4b2bbf7a10", "content": "hi",
                "extra_fields": {"media": "x"}}),
            json!(["Media must be a list of media files"]),
        ),
        (
            "room.create",
            json!({"type": "GroupChat", "name": "g", "extra_fields": {"property": 3}}),
            json!(["Room property must be a python dictionary/javascript object"]),
        ),
    ];
    for (event, data, detail) in cases {
        alice.send(event, data.clone()).await;
        assert_eq!(alice.expect_error(4003).await, detail, "{event} {data}");
    }
    // Nothing was created on the way.
    alice.send("room.list", json!({})).await;
    assert_eq!(alice.expect("roomlist.dispatch").await, json!([]));
}
