//! Reading an OriginChats `config.json` (§4.3): `originchats.config_json` (or `chorus serve
//! --originchats-config <path>`) names the file, and every key with a Chorus meaning is mapped
//! onto the configuration (over `chorus.toml`, under `CHORUS__*` variables). Keys without one
//! are logged at start, never fatal.

use serde_json::Value;
use std::sync::OnceLock;

/// What the mapping had to say (logged once logging is up).
static NOTES: OnceLock<Vec<String>> = OnceLock::new();

pub fn notes() -> &'static [String] {
    NOTES.get().map(Vec::as_slice).unwrap_or(&[])
}

/// Keys the reference reads but Chorus has no setting for (yet), or ignores like the reference.
const KNOWN_UNMAPPED: &[&str] = &[
    "attachments.uploads_per_minute",
    "attachments.compression.webp_quality",
    "modlog.enabled",
    "modlog.retention",
    "service.name",
    "service.version",
    "DB.channels",
    "DB.users.file",
];

fn set(t: &mut toml::Table, section: &str, key: &str, v: toml::Value) {
    let s = t
        .entry(section.to_owned())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(s) = s {
        s.insert(key.to_owned(), v);
    }
}

fn to_toml(v: &Value) -> Option<toml::Value> {
    Some(match v {
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(a) => toml::Value::Array(a.iter().filter_map(to_toml).collect()),
        _ => return None,
    })
}

/// Maps `json` onto the configuration table `t`; returns notes on keys it could not map.
pub fn apply(t: &mut toml::Table, json: &Value) -> Vec<String> {
    let mut notes = Vec::new();
    let Some(root) = json.as_object() else {
        notes.push("config.json is not a JSON object; ignored".into());
        return notes;
    };
    let mut oc = |key: &str, v: &Value, what: &str, notes: &mut Vec<String>| match to_toml(v) {
        Some(v) => set(t, "originchats", key, v),
        None => notes.push(format!("config.json {what}: unexpected value {v}")),
    };
    // `[files]` keys (`[files.compression]` when `compressed`), set after the loop.
    let mut files: Vec<(bool, String, &Value)> = Vec::new();
    let mut rate_limiting_seen = false;
    let mut listen: Option<std::net::SocketAddr> = None;
    let mut leftover: Vec<String> = Vec::new();
    for (k, v) in root {
        match (k.as_str(), v) {
            ("server", Value::Object(s)) => {
                for (sk, sv) in s {
                    match sk.as_str() {
                        "name" => oc("server_name", sv, "server.name", &mut notes),
                        "icon" => oc("server_icon", sv, "server.icon", &mut notes),
                        "banner" => oc("server_banner", sv, "server.banner", &mut notes),
                        "url" => oc("server_url", sv, "server.url", &mut notes),
                        "owner" => match sv.get("name") {
                            Some(n) => oc("owner_name", n, "server.owner.name", &mut notes),
                            None => leftover.push("server.owner".into()),
                        },
                        other => leftover.push(format!("server.{other}")),
                    }
                }
            }
            ("limits", Value::Object(l)) => {
                for (lk, lv) in l {
                    match lk.as_str() {
                        "post_content" | "search_results" => {
                            oc(lk, lv, &format!("limits.{lk}"), &mut notes)
                        }
                        other => leftover.push(format!("limits.{other}")),
                    }
                }
            }
            ("rate_limiting", Value::Object(r)) => {
                rate_limiting_seen = true;
                // A section without `enabled` is off, as in the reference.
                let enabled = r.get("enabled").cloned().unwrap_or(Value::Bool(false));
                oc(
                    "rate_limit_enabled",
                    &enabled,
                    "rate_limiting.enabled",
                    &mut notes,
                );
                for (rk, rv) in r {
                    match rk.as_str() {
                        "enabled" => {}
                        "messages_per_minute" | "burst_limit" | "cooldown_seconds" => {
                            oc(rk, rv, &format!("rate_limiting.{rk}"), &mut notes)
                        }
                        other => leftover.push(format!("rate_limiting.{other}")),
                    }
                }
            }
            ("attachments", Value::Object(a)) => {
                for (ak, av) in a {
                    match (ak.as_str(), av) {
                        (
                            "enabled"
                            | "max_size"
                            | "permanent_expiration_days"
                            | "permanent_tiers"
                            | "allowed_types"
                            | "subscription_cache_ttl"
                            | "max_attachments_per_user"
                            | "free_tier_max_expiration_days",
                            _,
                        ) => files.push((false, ak.clone(), av)),
                        ("compression", Value::Object(c)) => {
                            for (ck, cv) in c {
                                match ck.as_str() {
                                    "enabled" | "max_width" | "max_height" | "jpeg_quality"
                                    | "png_compression" => files.push((true, ck.clone(), cv)),
                                    other => {
                                        leftover.push(format!("attachments.compression.{other}"))
                                    }
                                }
                            }
                        }
                        (other, _) => leftover.push(format!("attachments.{other}")),
                    }
                }
            }
            ("uploads", Value::Object(u)) => {
                for (uk, uv) in u {
                    match uk.as_str() {
                        "emoji_allowed_file_types" => files.push((false, uk.clone(), uv)),
                        other => leftover.push(format!("uploads.{other}")),
                    }
                }
            }
            ("auth_mode", _) => oc("auth_mode", v, "auth_mode", &mut notes),
            ("cracked", Value::Object(c)) => {
                for (ck, cv) in c {
                    match ck.as_str() {
                        "allow_registration" => oc(
                            "allow_registration",
                            cv,
                            "cracked.allow_registration",
                            &mut notes,
                        ),
                        other => leftover.push(format!("cracked.{other}")),
                    }
                }
            }
            ("websocket", Value::Object(w)) => {
                let host = w.get("host").and_then(Value::as_str).unwrap_or("127.0.0.1");
                let host = if host == "localhost" {
                    "127.0.0.1"
                } else {
                    host
                };
                let port = w.get("port").and_then(Value::as_u64).unwrap_or(5613);
                let addr = if host.contains(':') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                };
                match addr.parse::<std::net::SocketAddr>() {
                    Ok(a) => listen = Some(a),
                    Err(_) => notes.push(format!(
                        "config.json websocket.host {host:?} is not an IP address; server.listen unchanged"
                    )),
                }
                for wk in w.keys().filter(|k| *k != "host" && *k != "port") {
                    leftover.push(format!("websocket.{wk}"));
                }
            }
            ("DB", Value::Object(db)) => {
                for (dk, dv) in db {
                    match (dk.as_str(), dv) {
                        ("users", Value::Object(u)) => {
                            for (uk, uv) in u {
                                match (uk.as_str(), uv) {
                                    ("default", Value::Object(d)) => {
                                        for (rk, rv) in d {
                                            if rk == "roles" {
                                                oc(
                                                    "default_roles",
                                                    rv,
                                                    "DB.users.default.roles",
                                                    &mut notes,
                                                );
                                            } else {
                                                leftover.push(format!("DB.users.default.{rk}"));
                                            }
                                        }
                                    }
                                    (other, _) => leftover.push(format!("DB.users.{other}")),
                                }
                            }
                        }
                        (other, _) => leftover.push(format!("DB.{other}")),
                    }
                }
            }
            (other, Value::Object(o)) => {
                for sub in o.keys() {
                    leftover.push(format!("{other}.{sub}"));
                }
            }
            (other, _) => leftover.push(other.to_owned()),
        }
    }
    for (compressed, key, v) in files {
        let what = if compressed {
            format!("attachments.compression.{key}")
        } else if key == "emoji_allowed_file_types" {
            format!("uploads.{key}")
        } else {
            format!("attachments.{key}")
        };
        let Some(v) = to_toml(v) else {
            notes.push(format!("config.json {what}: unexpected value {v}"));
            continue;
        };
        if compressed {
            let section = t
                .entry("files".to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(section) = section {
                let sub = section
                    .entry("compression".to_owned())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let toml::Value::Table(sub) = sub {
                    sub.insert(key, v);
                }
            }
        } else {
            set(t, "files", &key, v);
        }
    }
    if let Some(a) = listen {
        set(t, "server", "listen", toml::Value::String(a.to_string()));
    }
    if !rate_limiting_seen {
        // The reference runs without a rate limiter when the section is missing.
        set(
            t,
            "originchats",
            "rate_limit_enabled",
            toml::Value::Boolean(false),
        );
    }
    for key in leftover {
        if KNOWN_UNMAPPED.contains(&key.as_str()) {
            notes.push(format!("config.json {key}: no Chorus setting; ignored"));
        } else {
            notes.push(format!("config.json {key}: unknown key; ignored"));
        }
    }
    notes
}

/// Reads `path` and maps it onto `t`, keeping the notes for the log.
pub fn apply_file(t: &mut toml::Table, path: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let notes = apply(t, &json);
    let _ = NOTES.set(notes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// `config_builder.DEFAULT_CONFIG` of the reference, as `python setup.py` writes it.
    const DEFAULT_CONFIG: &str = r#"{
      "limits": {"post_content": 2000, "search_results": 30},
      "uploads": {"emoji_allowed_file_types": ["gif","jpg","jpeg","png"]},
      "attachments": {
        "enabled": true, "max_size": 104857600, "permanent_expiration_days": 365, "permanent_tiers": ["pro","max"],
        "allowed_types": ["image/*","video/*","audio/*","application/pdf"], "uploads_per_minute": 10,
        "subscription_cache_ttl": 300, "max_attachments_per_user": -1, "free_tier_max_expiration_days": 7,
        "compression": {"enabled": true, "max_width": 1920, "max_height": 1920, "jpeg_quality": 85, "webp_quality": 85, "png_compression": 6}
      },
      "rate_limiting": {"enabled": true, "messages_per_minute": 60, "burst_limit": 10, "cooldown_seconds": 30},
      "modlog": {"enabled": true, "retention": {"default": 90, "user_moderation": 365, "role_management": 365,
                 "channel_management": 180, "message_moderation": 90, "server_management": 180}},
      "DB": {"channels": "db/channels.json", "users": {"file": "db/users.json", "default": {"roles": ["user"]}}},
      "websocket": {"host": "127.0.0.1", "port": 5613},
      "service": {"name": "OriginChats", "version": "1.0.0"},
      "server": {"name": "My OriginChats Server", "owner": {"name": "Admin"}},
      "auth_mode": "rotur",
      "cracked": {"allow_registration": true}
    }"#;

    fn load(json: &str) -> (Config, Vec<String>) {
        let mut t = toml::Table::try_from(Config::default()).unwrap();
        let notes = apply(&mut t, &serde_json::from_str(json).unwrap());
        (t.try_into().unwrap(), notes)
    }

    #[test]
    fn the_reference_default_config_maps_onto_chorus() {
        let (c, notes) = load(DEFAULT_CONFIG);
        let oc = &c.originchats;
        assert_eq!(c.server.listen, "127.0.0.1:5613".parse().unwrap());
        assert_eq!(oc.server_name, "My OriginChats Server");
        assert_eq!(oc.owner_name, "Admin");
        assert_eq!((oc.post_content, oc.search_results), (2000, 30));
        assert!(oc.rate_limit_enabled);
        assert_eq!(
            (oc.messages_per_minute, oc.burst_limit, oc.cooldown_seconds),
            (60, 10, 30)
        );
        assert_eq!(oc.auth_mode, "rotur");
        assert!(oc.allow_registration);
        assert_eq!(oc.default_roles, ["user"]);
        assert_eq!(c.files, crate::core::attachments::FilesConfig::default());
        // Every other key is reported, none is fatal, nothing is unknown.
        assert!(
            notes
                .iter()
                .all(|n| n.ends_with("no Chorus setting; ignored")),
            "{notes:?}"
        );
        for key in [
            "attachments.uploads_per_minute",
            "attachments.compression.webp_quality",
            "modlog.retention",
            "service.version",
            "DB.channels",
        ] {
            assert!(notes.iter().any(|n| n.contains(key)), "{key}: {notes:?}");
        }
    }

    #[test]
    fn custom_values_missing_rate_limiting_and_unknown_keys() {
        let (c, notes) = load(
            r#"{"server": {"name": "Cats", "owner": {"name": "Tom"}, "icon": "https://x/i.png",
                "url": "wss://chat.example"},
               "limits": {"post_content": 500, "search_results": 10},
               "websocket": {"host": "0.0.0.0", "port": 8000},
               "auth_mode": "cracked-only", "cracked": {"allow_registration": false},
               "DB": {"users": {"default": {"roles": ["user", "member"]}}},
               "attachments": {"max_size": 1000, "allowed_types": ["image/*"],
                "max_attachments_per_user": 3, "compression": {"enabled": false, "jpeg_quality": 70}},
               "uploads": {"emoji_allowed_file_types": ["png"]},
               "shiny": 1, "server_extra": {"a": 1}}"#,
        );
        let oc = &c.originchats;
        assert_eq!(oc.server_name, "Cats");
        assert_eq!(oc.owner_name, "Tom");
        assert_eq!(oc.server_icon, "https://x/i.png");
        assert_eq!(oc.server_url, "wss://chat.example");
        assert_eq!(oc.post_content, 500);
        assert_eq!(c.server.listen, "0.0.0.0:8000".parse().unwrap());
        assert_eq!(oc.auth_mode, "cracked-only");
        assert!(!oc.allow_registration);
        assert!(
            !oc.rate_limit_enabled,
            "no rate_limiting section: off, as the reference"
        );
        assert_eq!(oc.default_roles, ["user", "member"]);
        let f = &c.files;
        assert_eq!((f.max_size, f.max_attachments_per_user), (1000, 3));
        assert_eq!(f.allowed_types, ["image/*"]);
        assert_eq!(f.emoji_allowed_file_types, ["png"]);
        assert!(!f.compression.enabled);
        assert_eq!(
            (f.compression.jpeg_quality, f.compression.max_width),
            (70, 1920)
        );
        assert!(
            notes.contains(&"config.json shiny: unknown key; ignored".to_owned()),
            "{notes:?}"
        );
        assert!(notes.contains(&"config.json server_extra.a: unknown key; ignored".to_owned()));
        let (_, notes) = load(r#"{"websocket": {"host": "chat.example", "port": 1}}"#);
        assert!(notes[0].contains("not an IP address"), "{notes:?}");
    }

    #[test]
    fn config_load_reads_the_file_named_by_the_key_and_env_stays_on_top() {
        let dir =
            std::env::temp_dir().join(format!("chorus-cfgjson-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(
            &path,
            r#"{"server": {"name": "From JSON"}, "limits": {"post_content": 99}}"#,
        )
        .unwrap();
        let c = Config::load(
            None,
            [
                (
                    "CHORUS__ORIGINCHATS__CONFIG_JSON".to_owned(),
                    path.display().to_string(),
                ),
                (
                    "CHORUS__ORIGINCHATS__POST_CONTENT".to_owned(),
                    "123".to_owned(),
                ),
            ],
        )
        .unwrap();
        assert_eq!(c.originchats.server_name, "From JSON");
        assert_eq!(c.originchats.post_content, 123);
        assert!(
            Config::load(
                None,
                [(
                    "CHORUS__ORIGINCHATS__CONFIG_JSON".to_owned(),
                    dir.join("nope.json").display().to_string()
                )]
            )
            .is_err()
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
