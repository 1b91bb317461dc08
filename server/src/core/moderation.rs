//! Members and moderation: bans (with reason and actor), timeouts, kicks, nicknames, leaving a
//! space, user profiles (username, display name, avatar, status text) and self-service account
//! removal, and space settings. Bans are per space and hold in every dialect: a banned user is
//! no member (the core's permission checks see nothing), cannot rejoin, and dialects refuse
//! them at login where they have one space (OriginChats).

use super::audit::{AuditTarget, categories};
use super::events::{Event, Topic};
use super::ids::{SpaceId, UserId, now_ms};
use super::messages::UserRef;
use super::operations::Core;
use super::permissions::Permissions;
use super::spaces::{Member, Space};
use super::users::{self, Status, User};
use super::{CoreError, CoreResult};
use std::sync::Arc;

/// A ban of a user from a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    pub space_id: SpaceId,
    pub user_id: UserId,
    pub reason: Option<String>,
    pub banned_by: Option<UserId>,
    pub banned_at: i64,
}

/// A member's nickname and timeout, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberProfile {
    pub nickname: Option<String>,
    pub timeout_until: Option<i64>,
    pub timeout_reason: Option<String>,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserProfile {
    pub username: Option<String>,
    pub display_name: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    /// (status, text)
    pub status: Option<(Status, String)>,
}

/// Changes to a space; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SpaceUpdate {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub icon_url: Option<Option<String>>,
    pub banner_url: Option<Option<String>>,
}

/// Longest ban or timeout reason.
pub const MAX_REASON_CHARS: usize = 512;
/// Longest nickname.
pub const MAX_NICKNAME_CHARS: usize = 32;
/// Longest status text.
pub const MAX_STATUS_TEXT_CHARS: usize = 100;

impl Core {
    /// Refuses actions on the owner, and on members at or above the actor's highest role.
    async fn outranks_member(
        &self,
        actor: &UserId,
        space: &SpaceId,
        needed: Permissions,
        what: &'static str,
        target: &UserId,
    ) -> CoreResult<()> {
        let s = self.standing(actor, space).await?;
        if !s.perms.contains(needed) {
            return Err(CoreError::Forbidden(what));
        }
        if self.store().space_owner(space.clone()).await?.as_ref() == Some(target) {
            return Err(CoreError::Forbidden("owner"));
        }
        if s.owner {
            return Ok(());
        }
        let top = match self.standing(target, space).await {
            Ok(t) => t.top,
            // Not a member: nothing to outrank.
            Err(CoreError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        if actor != target && s.top <= top {
            return Err(CoreError::Forbidden("hierarchy"));
        }
        Ok(())
    }

    async fn known_user(&self, id: &UserId) -> CoreResult<User> {
        self.store()
            .user(id.clone())
            .await?
            .ok_or(CoreError::NotFound("user"))
    }

    // ------------------------------------------------------------ bans

    /// Bans `target` from `space` (`BAN_MEMBERS`, hierarchy, never the owner or oneself). A
    /// member is removed (`MemberRemoved`), then everyone hears `BanChanged`.
    pub async fn ban_user(
        &self,
        actor: &User,
        space: &SpaceId,
        target: &UserId,
        reason: Option<String>,
    ) -> CoreResult<Ban> {
        if let Some(r) = &reason
            && r.chars().count() > MAX_REASON_CHARS
        {
            return Err(CoreError::Invalid(format!(
                "reason must be at most {MAX_REASON_CHARS} characters"
            )));
        }
        if &actor.id == target {
            return Err(CoreError::Invalid("you cannot ban yourself".into()));
        }
        self.outranks_member(
            &actor.id,
            space,
            Permissions::BAN_MEMBERS,
            "ban_members",
            target,
        )
        .await?;
        let user = self.known_user(target).await?;
        let was_member = self
            .store()
            .member(space.clone(), target.clone())
            .await?
            .is_some();
        let who = UserRef {
            id: user.id.clone(),
            username: user.username.clone(),
        };
        let hub = self.hub().clone();
        let sp = space.clone();
        let ban = self
            .store()
            .ban(
                Ban {
                    space_id: space.clone(),
                    user_id: target.clone(),
                    reason,
                    banned_by: Some(actor.id.clone()),
                    banned_at: now_ms(),
                },
                Some(Box::new(move |b: &Ban| {
                    if was_member {
                        hub.publish(Event::MemberRemoved {
                            space_id: sp.clone(),
                            user: who.clone(),
                        });
                    }
                    hub.publish(Event::BanChanged {
                        space_id: sp.clone(),
                        user: who,
                        reason: b.reason.clone(),
                        banned: true,
                    });
                })),
            )
            .await?;
        self.invalidate_permissions();
        self.audit(
            space,
            Some(actor),
            "user_ban",
            categories::USERS,
            AuditTarget::user(&user),
            serde_json::json!({"reason": ban.reason}),
        )
        .await;
        Ok(ban)
    }

    /// Lifts a ban (`BAN_MEMBERS`). In the default space the user stays a member (every account
    /// is one); elsewhere they must join again. None when there was no ban.
    pub async fn unban_user(
        &self,
        actor: &User,
        space: &SpaceId,
        target: &UserId,
    ) -> CoreResult<Option<Ban>> {
        let s = self.standing(&actor.id, space).await?;
        if !s.perms.contains(Permissions::BAN_MEMBERS) {
            return Err(CoreError::Forbidden("ban_members"));
        }
        let user = self.known_user(target).await?;
        let who = UserRef {
            id: user.id.clone(),
            username: user.username.clone(),
        };
        let hub = self.hub().clone();
        let sp = space.clone();
        let lifted = self
            .store()
            .unban(
                space.clone(),
                target.clone(),
                space == self.default_space(),
                Some(Box::new(move |b: &Option<Ban>| {
                    if b.is_some() {
                        hub.publish(Event::BanChanged {
                            space_id: sp,
                            user: who,
                            reason: None,
                            banned: false,
                        });
                    }
                })),
            )
            .await?;
        self.invalidate_permissions();
        if lifted.is_some() {
            self.audit(
                space,
                Some(actor),
                "user_unban",
                categories::USERS,
                AuditTarget::user(&user),
                serde_json::json!({}),
            )
            .await;
        }
        Ok(lifted)
    }

    /// The ban of `user` in `space`, if any (no permission needed: login checks it).
    pub async fn ban_of(&self, space: &SpaceId, user: &UserId) -> CoreResult<Option<Ban>> {
        Ok(self.store().ban_of(space.clone(), user.clone()).await?)
    }

    /// The bans of a space (`BAN_MEMBERS`), oldest first.
    pub async fn bans(&self, actor: &User, space: &SpaceId) -> CoreResult<Vec<Ban>> {
        let s = self.standing(&actor.id, space).await?;
        if !s.perms.contains(Permissions::BAN_MEMBERS) {
            return Err(CoreError::Forbidden("ban_members"));
        }
        Ok(self.store().bans(space.clone()).await?)
    }

    // ------------------------------------------------------------ members

    async fn publish_member(
        &self,
        space: &SpaceId,
        user: &User,
    ) -> impl Fn(&Member) + Send + 'static + use<> {
        self.member_published(
            space,
            UserRef {
                id: user.id.clone(),
                username: user.username.clone(),
            },
        )
        .await
    }

    /// Times a member out until `until` (ms; None lifts it): they keep reading but may not send,
    /// react or speak (`KICK_MEMBERS`, hierarchy, never the owner).
    pub async fn timeout_member(
        &self,
        actor: &User,
        space: &SpaceId,
        target: &UserId,
        until: Option<i64>,
        reason: Option<String>,
    ) -> CoreResult<Member> {
        if let Some(r) = &reason
            && r.chars().count() > MAX_REASON_CHARS
        {
            return Err(CoreError::Invalid(format!(
                "reason must be at most {MAX_REASON_CHARS} characters"
            )));
        }
        self.outranks_member(
            &actor.id,
            space,
            Permissions::KICK_MEMBERS,
            "kick_members",
            target,
        )
        .await?;
        let user = self.known_user(target).await?;
        let member = self
            .store()
            .member(space.clone(), target.clone())
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        let publish = self.publish_member(space, &user).await;
        let until = until.filter(|t| *t > now_ms());
        let m = self
            .store()
            .set_member_profile(
                space.clone(),
                target.clone(),
                MemberProfile {
                    nickname: member.nickname,
                    timeout_until: until,
                    timeout_reason: until.and(reason.clone()),
                },
                Some(Box::new(move |m: &Member| publish(m))),
            )
            .await?;
        self.invalidate_permissions();
        self.audit(
            space,
            Some(actor),
            "user_timeout",
            categories::USERS,
            AuditTarget::user(&user),
            serde_json::json!({"until": until, "reason": reason}),
        )
        .await;
        Ok(m)
    }

    /// Sets or clears a member's nickname: one's own with `CHANGE_NICKNAME`, another's with
    /// `MANAGE_NICKNAMES` (hierarchy).
    pub async fn set_nickname(
        &self,
        actor: &User,
        space: &SpaceId,
        target: &UserId,
        nickname: Option<String>,
    ) -> CoreResult<Member> {
        let nickname = nickname
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        if let Some(n) = &nickname
            && n.chars().count() > MAX_NICKNAME_CHARS
        {
            return Err(CoreError::Invalid(format!(
                "nickname must be at most {MAX_NICKNAME_CHARS} characters"
            )));
        }
        if &actor.id == target {
            let s = self.standing(&actor.id, space).await?;
            if !s.perms.contains(Permissions::CHANGE_NICKNAME) {
                return Err(CoreError::Forbidden("change_nickname"));
            }
        } else {
            self.outranks_member(
                &actor.id,
                space,
                Permissions::MANAGE_NICKNAMES,
                "manage_nicknames",
                target,
            )
            .await?;
        }
        let user = self.known_user(target).await?;
        let member = self
            .store()
            .member(space.clone(), target.clone())
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        let reason = self
            .store()
            .timeout_reason(space.clone(), target.clone())
            .await?;
        let publish = self.publish_member(space, &user).await;
        let m = self
            .store()
            .set_member_profile(
                space.clone(),
                target.clone(),
                MemberProfile {
                    nickname,
                    timeout_until: member.timeout_until,
                    timeout_reason: reason,
                },
                Some(Box::new(move |m: &Member| publish(m))),
            )
            .await?;
        Ok(m)
    }

    /// Removes a member (`KICK_MEMBERS`, hierarchy, never the owner).
    pub async fn kick_member(
        &self,
        actor: &User,
        space: &SpaceId,
        target: &UserId,
    ) -> CoreResult<()> {
        if &actor.id == target {
            return Err(CoreError::Invalid("you cannot kick yourself".into()));
        }
        self.outranks_member(
            &actor.id,
            space,
            Permissions::KICK_MEMBERS,
            "kick_members",
            target,
        )
        .await?;
        let user = self.known_user(target).await?;
        self.remove_from_space(space, &user).await?;
        self.audit(
            space,
            Some(actor),
            "member_kick",
            categories::USERS,
            AuditTarget::user(&user),
            serde_json::json!({}),
        )
        .await;
        Ok(())
    }

    /// The user leaves a space they do not own.
    pub async fn leave_space(&self, user: &User, space: &SpaceId) -> CoreResult<()> {
        let s = self.standing(&user.id, space).await?;
        if s.owner {
            return Err(CoreError::Forbidden("owner"));
        }
        self.remove_from_space(space, user).await?;
        self.announce_leave(space, user);
        Ok(())
    }

    async fn remove_from_space(&self, space: &SpaceId, user: &User) -> CoreResult<()> {
        let hub = self.hub().clone();
        let sp = space.clone();
        let who = UserRef {
            id: user.id.clone(),
            username: user.username.clone(),
        };
        let removed = self
            .store()
            .remove_member(
                space.clone(),
                user.id.clone(),
                Some(Box::new(move |removed: &bool| {
                    if *removed {
                        hub.publish(Event::MemberRemoved {
                            space_id: sp,
                            user: who,
                        });
                    }
                })),
            )
            .await?;
        self.invalidate_permissions();
        if removed {
            Ok(())
        } else {
            Err(CoreError::NotFound("member"))
        }
    }

    /// Members of a space (any member may list them), by user id after `after`.
    pub async fn members(
        &self,
        actor: &User,
        space: &SpaceId,
        after: &str,
        limit: u32,
    ) -> CoreResult<Vec<(Member, User)>> {
        self.standing(&actor.id, space).await?;
        Ok(self
            .store()
            .space_members(space.clone(), after.to_owned(), limit)
            .await?)
    }

    // ------------------------------------------------------------ users

    pub(crate) async fn write_user(&self, user: &UserId, profile: UserProfile) -> CoreResult<User> {
        let hub = self.hub().clone();
        Ok(self
            .store()
            .update_user(
                user.clone(),
                profile,
                Some(Box::new(move |u: &User| {
                    hub.publish(Event::UserChanged { user: u.clone() })
                })),
            )
            .await?)
    }

    /// Renames another user or changes their display name (`MANAGE_MEMBERS` in `space`,
    /// hierarchy); `Conflict` when the username is taken.
    pub async fn update_user_by(
        &self,
        actor: &User,
        space: &SpaceId,
        target: &UserId,
        profile: UserProfile,
    ) -> CoreResult<User> {
        if let Some(name) = &profile.username {
            users::validate_username(name)?;
        }
        self.outranks_member(
            &actor.id,
            space,
            Permissions::MANAGE_MEMBERS,
            "manage_members",
            target,
        )
        .await?;
        let before = self.known_user(target).await?;
        let user = self.write_user(target, profile).await?;
        self.audit(
            space,
            Some(actor),
            "user_update",
            categories::USERS,
            AuditTarget::user(&before),
            serde_json::json!({"username": user.username, "nickname": user.display_name}),
        )
        .await;
        Ok(user)
    }

    /// A user's own profile: display name, avatar URL (no permission needed).
    pub async fn update_own_profile(&self, user: &User, profile: UserProfile) -> CoreResult<User> {
        if let Some(name) = &profile.username {
            users::validate_username(name)?;
        }
        self.write_user(&user.id, profile).await
    }

    /// Stores the status a user chose (and its text) and tells the spaces they are in
    /// (`invisible` shows as offline).
    pub async fn set_status(&self, user: &User, status: Status, text: String) -> CoreResult<()> {
        if text.chars().count() > MAX_STATUS_TEXT_CHARS {
            return Err(CoreError::Invalid(format!(
                "status text must be at most {MAX_STATUS_TEXT_CHARS} characters"
            )));
        }
        let shown = match status {
            Status::Invisible | Status::Offline => "offline",
            s => s.as_str(),
        };
        let custom = (!text.is_empty()).then(|| text.clone());
        self.write_user(
            &user.id,
            UserProfile {
                status: Some((status, text)),
                ..Default::default()
            },
        )
        .await?;
        for space in self.store().user_spaces(user.id.clone()).await? {
            self.hub().publish_to(
                Topic::Space(space),
                Event::PresenceChanged {
                    user: user.id.clone(),
                    status: shown,
                    custom_status: custom.clone(),
                    custom_emoji: None,
                },
            );
        }
        Ok(())
    }

    /// (status, text) the user chose; ("online", "") when never set.
    pub async fn chosen_status(&self, user: &UserId) -> CoreResult<(String, String)> {
        Ok(self
            .store()
            .user_status(user.clone())
            .await?
            .unwrap_or_else(|| ("online".into(), String::new())))
    }

    /// Self-service account removal: the user leaves every space and loses their credentials
    /// and tokens; the user record stays so the history keeps its author. A user banned from
    /// the default space keeps the account (it must not escape the ban). Returns whether the
    /// account was removed.
    pub async fn remove_account(&self, user: &User) -> CoreResult<bool> {
        if self.ban_of(self.default_space(), &user.id).await?.is_some() {
            return Ok(false);
        }
        let spaces = self.store().user_spaces(user.id.clone()).await?;
        let left = spaces.clone();
        let hub = self.hub().clone();
        let who = UserRef {
            id: user.id.clone(),
            username: user.username.clone(),
        };
        let removed = self
            .store()
            .delete_user(
                user.id.clone(),
                Some(Box::new(move |removed: &bool| {
                    if *removed {
                        for space in spaces {
                            hub.publish(Event::MemberRemoved {
                                space_id: space,
                                user: who.clone(),
                            });
                        }
                    }
                })),
            )
            .await?;
        self.invalidate_permissions();
        if removed {
            for space in &left {
                self.announce_leave(space, user);
            }
        }
        Ok(removed)
    }

    // ------------------------------------------------------------ spaces

    /// A space with its banner, and whether it was ever updated.
    pub async fn space_info(&self, space: &SpaceId) -> CoreResult<(Space, Option<String>, bool)> {
        self.store()
            .space(space.clone())
            .await?
            .ok_or(CoreError::NotFound("space"))
    }

    /// Changes a space's settings (`MANAGE_SPACE`); everyone in it hears `SpaceUpdated`.
    pub async fn update_space(
        &self,
        actor: &User,
        space: &SpaceId,
        update: SpaceUpdate,
    ) -> CoreResult<Space> {
        let s = self.standing(&actor.id, space).await?;
        if !s.perms.contains(Permissions::MANAGE_SPACE) {
            return Err(CoreError::Forbidden("manage_space"));
        }
        if let Some(n) = &update.name
            && (n.trim().is_empty() || n.chars().count() > 100)
        {
            return Err(CoreError::Invalid("name must be 1-100 characters".into()));
        }
        let hub = self.hub().clone();
        let banner = update.banner_url.clone();
        let out = self
            .store()
            .update_space(
                space.clone(),
                update,
                Some(Box::new(move |s: &Space| {
                    hub.publish(Event::SpaceUpdated {
                        space: Arc::new(s.clone()),
                    })
                })),
            )
            .await?;
        self.audit(
            space,
            Some(actor),
            "server_update",
            categories::SERVER,
            AuditTarget::None,
            serde_json::json!({"name": out.name, "icon": out.icon_url, "banner": banner.flatten()}),
        )
        .await;
        Ok(out)
    }

    /// Deletes a space: only its owner, never the default space.
    pub async fn delete_space(&self, actor: &User, space: &SpaceId) -> CoreResult<()> {
        let s = self.standing(&actor.id, space).await?;
        if !s.owner {
            return Err(CoreError::Forbidden("owner"));
        }
        if space == self.default_space() {
            return Err(CoreError::Invalid(
                "the default space cannot be deleted".into(),
            ));
        }
        let hub = self.hub().clone();
        let sp = space.clone();
        self.store()
            .delete_space(
                space.clone(),
                Some(Box::new(move |gone: &bool| {
                    if *gone {
                        hub.publish(Event::SpaceDeleted { space_id: sp });
                    }
                })),
            )
            .await?;
        self.invalidate_permissions();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::audit::AuditFilter;
    use crate::core::roles::{NewRole, Placement, RoleDetails};
    use crate::hub::Hub;
    use crate::store::sqlite::{SqliteSettings, SqliteStore};

    async fn core() -> (Core, tempfile_dir::Dir) {
        let dir = tempfile_dir::Dir::new();
        let store = SqliteStore::open(&dir.0.join("chorus.db"), SqliteSettings::default())
            .await
            .unwrap();
        let (hub, dispatcher) = Hub::new(Vec::new());
        tokio::spawn(dispatcher);
        (Core::new(Arc::new(store), hub), dir)
    }

    mod tempfile_dir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                Dir(std::env::temp_dir().join(format!(
                    "chorus-moderation-{}-{}",
                    std::process::id(),
                    uuid::Uuid::new_v4().simple()
                )))
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn role(name: &str, placement: Placement) -> NewRole {
        NewRole {
            name: name.into(),
            permissions: Permissions::NONE,
            color: None,
            hoist: false,
            mentionable: false,
            self_assignable: false,
            details: RoleDetails::default(),
            placement,
        }
    }

    /// Placement, reorder, the hierarchy, bans (with the member's roles kept for an unban in
    /// the default space) and the audit trail.
    #[tokio::test]
    async fn roles_hierarchy_bans_and_audit() {
        let (core, _dir) = core().await;
        let space = core.default_space().clone();
        let boss = core
            .create_account("boss", "pw", Some("owner"))
            .await
            .unwrap();
        let adm = core
            .create_account("adm", "pw", Some("admin"))
            .await
            .unwrap();
        let bob = core.create_account("bob", "pw", None).await.unwrap();
        let artist = core
            .create_role(&boss, &space, role("artist", Placement::AboveDefault))
            .await
            .unwrap();
        assert_eq!(artist.position, 1);
        let names: Vec<String> = core
            .space_roles(&space)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(
            names,
            ["owner", "admin", "moderator", "artist", "@everyone"]
        );
        let top = core
            .create_role(&boss, &space, role("top", Placement::Top))
            .await
            .unwrap();
        assert_eq!(top.position, 5);
        // bob may not manage roles; adm may not touch roles at or above admin.
        assert!(matches!(
            core.create_role(&bob, &space, role("x", Placement::Top))
                .await,
            Err(CoreError::Forbidden("manage_roles"))
        ));
        assert!(matches!(
            core.delete_role(&adm, &space, &top.id).await,
            Err(CoreError::Forbidden("hierarchy"))
        ));
        core.set_member_roles(&adm, &space, &bob.id, vec![artist.id.clone()])
            .await
            .unwrap();
        assert!(matches!(
            core.set_member_roles(&adm, &space, &bob.id, vec![top.id.clone()])
                .await,
            Err(CoreError::Forbidden("hierarchy"))
        ));
        // Reorder: artist above moderator.
        let all = core.space_roles(&space).await.unwrap();
        let id = |n: &str| all.iter().find(|r| r.name == n).unwrap().id.clone();
        let ranked = core
            .reorder_roles(
                &boss,
                &space,
                &[
                    id("top"),
                    id("owner"),
                    id("admin"),
                    id("artist"),
                    id("moderator"),
                ],
            )
            .await
            .unwrap();
        let names: Vec<&str> = ranked.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["top", "owner", "admin", "artist", "moderator", "@everyone"]
        );

        // A ban removes the member; the default space's unban gives it back with its roles.
        assert!(matches!(
            core.ban_user(&bob, &space, &adm.id, None).await,
            Err(CoreError::Forbidden("ban_members"))
        ));
        core.ban_user(&adm, &space, &bob.id, Some("spam".into()))
            .await
            .unwrap();
        assert!(
            core.store()
                .member(space.clone(), bob.id.clone())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            core.ban_of(&space, &bob.id)
                .await
                .unwrap()
                .unwrap()
                .reason
                .as_deref(),
            Some("spam")
        );
        assert!(
            core.unban_user(&adm, &space, &bob.id)
                .await
                .unwrap()
                .is_some()
        );
        let m = core
            .store()
            .member(space.clone(), bob.id.clone())
            .await
            .unwrap()
            .unwrap();
        assert!(m.roles.contains(&artist.id));
        assert!(
            core.unban_user(&adm, &space, &bob.id)
                .await
                .unwrap()
                .is_none()
        );

        let (entries, total) = core
            .audit_log(
                &boss,
                AuditFilter {
                    space_id: space.clone(),
                    category: Some("user_moderation".into()),
                    actor_id: None,
                    target_id: Some(bob.id.0.clone()),
                    action: None,
                    after: None,
                    limit: 10,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["user_unban", "user_ban", "user_roles_set"]);
        assert_eq!(total, 3);
        assert!(matches!(
            core.audit_counts(&bob, &space).await,
            Err(CoreError::Forbidden(_))
        ));
        core.store().close().await.unwrap();
    }
}
