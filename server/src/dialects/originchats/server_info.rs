//! `server_info` (§2.8) and the `/info` HTTP document (§1.9).

use super::OriginChats;
use super::frames::with_listener;
use super::messages::send;
use super::session::Cx;
use crate::core::CoreResult;
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Value, json};
use std::collections::HashSet;

impl OriginChats {
    /// `{"cmd":"server_info","name","icon","banner"}` from the configuration, `""` defaults.
    pub async fn server_info(&self, cx: &mut Cx, r: proto::ServerInfo) -> Reply {
        // The stored settings (server_update), else the configuration.
        let frame = self.server_info_frame().await;
        send(cx, with_listener(frame, r.listener.as_deref()))
    }

    /// The `/info` document: the server and its live statistics.
    pub async fn info_json(&self, total_users: i64) -> CoreResult<Value> {
        let c = &self.cfg;
        let settings = self.server_settings();
        let authenticated = self.conns.authenticated();
        let online: HashSet<_> = authenticated.iter().map(|(_, u)| u.clone()).collect();
        let rooms = self.core.store().space_rooms(self.space.clone()).await?;
        let roles = self.roles().await?;
        // Missing values are "" (the reference's `.get(key, "")`); local files are their URLs.
        let asset = |name: &str, v: &str| super::files_http::asset_url(name, v).into_owned();
        Ok(json!({
            "server": {
                "name": settings.name,
                "icon": asset("icon", &settings.icon),
                "banner": asset("banner", &settings.banner),
                "owner": {"name": c.owner_name},
            },
            "stats": {
                "total_users": total_users,
                "connected_users": authenticated.len(),
                "online_users": online.len(),
                "total_channels": rooms.len(),
                "total_roles": roles.len(),
            },
        }))
    }
}
