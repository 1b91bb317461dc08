//! The embedded SQLite store.
//!
//! - WAL journal; `synchronous=FULL` by default, so a commit is on disk before it returns
//!   (`NORMAL` is available but only survives process crashes, not power loss).
//! - Reads go through a small connection pool (WAL readers never block the writer).
//! - All writes go through one writer task that owns one connection and does group commit: it
//!   takes every queued write (up to `group_commit_max`), runs them in one `BEGIN IMMEDIATE`
//!   transaction, commits once (one fsync), then runs the commit hooks in order and answers the
//!   callers. If a statement of the batch fails, the batch is rolled back and its writes are
//!   retried one transaction each, so one bad write cannot fail its neighbours.
//! - Other processes (`chorus user add` while the server runs) write through SQLite's own
//!   locking, waiting up to `busy_timeout`.

mod members;
mod messages;
mod polls;
mod rooms;
mod threads;
// files
mod attachments;
mod user_state;
mod webhooks;

use super::{BoxFut, CommitHook, Store, StoreError, StoreResult, Ticket};
use crate::core::ids::{MessageId, RoleId, RoomId, SpaceId, UserId};
use crate::core::messages::{
    DeleteMode, Message, MessageRecord, ReactionAction, ReactionGroup, UserRef,
};
use crate::core::permissions::{Override, OverrideTarget, Permissions, Role};
use crate::core::rooms::{Room, RoomKind, RoomMember};
use crate::core::spaces::Member;
use crate::core::users::{User, UserKind};
use futures_util::future::BoxFuture;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, Row};
use std::any::Any;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// fsync the WAL at every commit: nothing acknowledged is lost, even on power loss.
    Full,
    /// fsync only at checkpoints: survives a process crash, may lose the last commits on power
    /// loss.
    Normal,
}

#[derive(Debug, Clone)]
pub struct SqliteSettings {
    pub durability: Durability,
    pub group_commit_max: usize,
    pub busy_timeout: Duration,
    pub read_connections: u32,
}

impl Default for SqliteSettings {
    fn default() -> Self {
        Self {
            durability: Durability::Full,
            group_commit_max: 1024,
            busy_timeout: Duration::from_secs(10),
            read_connections: 4,
        }
    }
}

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        backend(e)
    }
}

enum Op {
    CreateUser(User, Option<String>),
    SetPassword(UserId, String),
    EnsureIpUser(String),
    InsertToken(String, UserId, Option<i64>),
    AddMember(SpaceId, UserId, Vec<RoleId>),
    InsertMessage(MessageRecord),
    ToggleReaction(MessageId, UserId, String),
    /// A write defined elsewhere (see [`SqliteStore::write`]).
    Custom(CustomWrite),
}

/// A write closure run inside the writer's transaction. `Fn`, not `FnOnce`: a failed batch is
/// retried one write at a time.
type CustomWrite = Arc<
    dyn for<'c> Fn(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<Box<dyn Any + Send>>>
        + Send
        + Sync,
>;

enum Done {
    User(User),
    Unit,
    Message(Message),
    Reaction((ReactionAction, Message)),
    /// A message of a batched insert, stored under this seq; becomes `Message` after the commit
    /// (moving the record instead of copying it).
    Stored(i64),
    Any(Box<dyn Any + Send>),
}

type DoneHook = Box<dyn FnOnce(&Done) + Send>;

struct Job {
    op: Op,
    hook: Option<DoneHook>,
    reply: oneshot::Sender<StoreResult<Done>>,
}

// Nearly every message is a Job; Close is sent once, so its padding costs nothing.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Job(Job),
    Close(oneshot::Sender<()>),
}

pub struct SqliteStore {
    pool: SqlitePool,
    writer: mpsc::Sender<Msg>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, runs migrations, starts the writer.
    pub async fn open(path: &Path, settings: SqliteSettings) -> StoreResult<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(backend)?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match settings.durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            })
            .foreign_keys(true)
            .busy_timeout(settings.busy_timeout);
        let mut writer_conn = SqliteConnection::connect_with(&opts).await?;
        MIGRATOR
            .run(&mut writer_conn)
            .await
            .map_err(|e| backend(format!("migration failed: {e}")))?;
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.read_connections.max(1))
            // Open every read connection up front and keep it: reads keep working even when the
            // process has no file descriptors left for new ones.
            .min_connections(settings.read_connections.max(1))
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts.clone())
            .await?;
        let (tx, rx) = mpsc::channel(8192);
        tokio::spawn(writer_loop(
            writer_conn,
            rx,
            settings.group_commit_max.max(1),
        ));
        Ok(Self { pool, writer: tx })
    }

    /// The read-only connection pool (WAL readers never block the writer).
    pub fn read_pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Runs `f` inside the single writer's transaction (group-committed with other writes) and
    /// returns its result once durable; `hook` runs right after the commit, in commit order.
    /// `f` may run twice when its batch is retried, so its effect must not depend on that.
    pub async fn write<T, F>(&self, f: F, hook: Option<CommitHook<T>>) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + Sync
            + 'static,
    {
        let f = Arc::new(f);
        let op = Op::Custom(Arc::new(move |conn: &mut SqliteConnection| {
            let f = f.clone();
            Box::pin(async move { f(conn).await.map(|v| Box::new(v) as Box<dyn Any + Send>) })
                as BoxFuture<'_, _>
        }));
        let hook = hook.map(|h| {
            Box::new(move |d: &Done| {
                if let Done::Any(v) = d
                    && let Some(t) = v.downcast_ref::<T>()
                {
                    h(t)
                }
            }) as DoneHook
        });
        match self.submit(op, hook).await? {
            Done::Any(v) => v
                .downcast::<T>()
                .map(|b| *b)
                .map_err(|_| backend("unexpected write result")),
            _ => Err(backend("unexpected write result")),
        }
    }

    async fn submit(&self, op: Op, hook: Option<DoneHook>) -> StoreResult<Done> {
        self.enqueue(op, hook).await?.await
    }

    /// Queues a write (in order with the caller's earlier writes); the returned future resolves
    /// once it is durable.
    async fn enqueue(
        &self,
        op: Op,
        hook: Option<DoneHook>,
    ) -> StoreResult<impl Future<Output = StoreResult<Done>> + Send + 'static> {
        let (reply, rx) = oneshot::channel();
        self.writer
            .send(Msg::Job(Job { op, hook, reply }))
            .await
            .map_err(|_| StoreError::Closed)?;
        Ok(async move { rx.await.map_err(|_| StoreError::Closed)? })
    }
}

async fn writer_loop(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Msg>, max: usize) {
    let mut closing: Option<oneshot::Sender<()>> = None;
    while closing.is_none() {
        let Some(first) = rx.recv().await else { break };
        let mut batch = Vec::new();
        match first {
            Msg::Job(j) => batch.push(j),
            Msg::Close(done) => closing = Some(done),
        }
        while closing.is_none() && batch.len() < max {
            match rx.try_recv() {
                Ok(Msg::Job(j)) => batch.push(j),
                Ok(Msg::Close(done)) => closing = Some(done),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            run_batch(&mut conn, batch).await;
        }
    }
    rx.close();
    // Writes queued after the close request are refused (their reply channel drops → Closed).
    while let Ok(m) = rx.try_recv() {
        drop(m);
    }
    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
    {
        tracing::warn!(error = %e, "final WAL checkpoint failed");
    }
    if let Err(e) = conn.close().await {
        tracing::warn!(error = %e, "closing the writer connection failed");
    }
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

async fn run_batch(conn: &mut SqliteConnection, batch: Vec<Job>) {
    let size = batch.len();
    let (ops, waiters): (Vec<Op>, Vec<Waiter>) = batch
        .into_iter()
        .map(|j| {
            (
                j.op,
                Waiter {
                    hook: j.hook,
                    reply: j.reply,
                },
            )
        })
        .unzip();
    let outcome = apply_all(conn, &ops).await;
    match outcome {
        Ok(results) => {
            tracing::trace!(size, "group commit");
            for ((op, w), result) in ops.into_iter().zip(waiters).zip(results) {
                let result = match (result, op) {
                    (Ok(Done::Stored(seq)), Op::InsertMessage(rec)) => {
                        Ok(Done::Message(message_from_owned(rec, seq)))
                    }
                    (r, _) => r,
                };
                w.finish(result);
            }
        }
        Err(e) if size > 1 => {
            tracing::warn!(error = %e, size, "batch failed; retrying its writes one by one");
            for (op, w) in ops.iter().zip(waiters) {
                let r = run_single(conn, op).await;
                w.finish(r);
            }
        }
        Err(e) => {
            for w in waiters {
                w.finish(Err(backend(&e)));
            }
        }
    }
}

/// Runs `ops` in one transaction; a backend error anywhere rolls all of them back.
async fn apply_all(
    conn: &mut SqliteConnection,
    ops: &[Op],
) -> Result<Vec<StoreResult<Done>>, StoreError> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let mut results = Vec::with_capacity(ops.len());
    let mut i = 0;
    while i < ops.len() {
        // A run of message inserts goes in as a few multi-row statements instead of one
        // statement (and one round trip to the SQLite worker thread) per message.
        let run = ops[i..]
            .iter()
            .take_while(|op| matches!(op, Op::InsertMessage(_)))
            .count();
        if run > 0 {
            let recs: Vec<&MessageRecord> = ops[i..i + run]
                .iter()
                .filter_map(|op| match op {
                    Op::InsertMessage(rec) => Some(rec),
                    _ => None,
                })
                .collect();
            match insert_messages(conn, &recs).await {
                Ok(seqs) => results.extend(seqs.into_iter().map(|seq| Ok(Done::Stored(seq)))),
                Err(e) => {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                    return Err(backend(e));
                }
            }
            i += run;
            continue;
        }
        let r = match &ops[i] {
            Op::Custom(write) => apply_custom(conn, write).await,
            op => apply(conn, op).await,
        };
        if let Err(StoreError::Backend(e)) = r {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            return Err(StoreError::Backend(e));
        }
        results.push(r);
        i += 1;
    }
    if let Err(e) = sqlx::query("COMMIT").execute(&mut *conn).await {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        return Err(e.into());
    }
    Ok(results)
}

/// Rows per multi-row message INSERT: at 9 bound values a row this stays far below SQLite's
/// variable limit. Shorter runs are split into power-of-two chunks, so at most a handful of distinct
/// statements end up in the prepared-statement cache.
const INSERT_CHUNK: usize = 64;

fn message_insert_sql(rows: usize) -> &'static str {
    static CACHE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = CACHE.get_or_init(|| {
        (0..=INSERT_CHUNK.trailing_zeros())
            .map(|k| {
                let n = 1usize << k;
                let mut sql = String::from(
                    "INSERT INTO messages (id, room_id, author_id, author_name, content, created_at, reply_to, forwarded_from, extra) VALUES ",
                );
                // Anonymous `?` parameters: with `?NNN`, binding looks each name up in a list
                // (sqlite3_bind_parameter_name), quadratic in the row count.
                for r in 0..n {
                    if r > 0 {
                        sql.push(',');
                    }
                    sql.push_str("(?,?,?,?,?,?,?,?,?)");
                }
                sql.push_str(" RETURNING seq, id");
                sql
            })
            .collect()
    });
    debug_assert!(rows.is_power_of_two() && rows <= INSERT_CHUNK);
    &all[rows.trailing_zeros() as usize]
}

/// Inserts `recs` (in this order, so their `seq`s follow it) inside the open transaction.
async fn insert_messages(
    conn: &mut SqliteConnection,
    recs: &[&MessageRecord],
) -> Result<Vec<i64>, sqlx::Error> {
    let mut out = Vec::with_capacity(recs.len());
    let mut rest = recs;
    while !rest.is_empty() {
        let n = if rest.len() >= INSERT_CHUNK {
            INSERT_CHUNK
        } else {
            // the largest power of two that fits
            1usize << (usize::BITS - 1 - rest.len().leading_zeros())
        };
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        let mut q = sqlx::query(message_insert_sql(n));
        for rec in chunk {
            q = q
                .bind(rec.id.as_str())
                .bind(rec.room_id.as_str())
                .bind(rec.author.id.as_str())
                .bind(rec.author_name.as_deref())
                .bind(rec.content.as_str())
                .bind(rec.created_at)
                .bind(rec.reply_to.as_ref().map(|m| m.as_str()))
                .bind(rec.forwarded_from.as_ref().map(|m| m.as_str()))
                .bind(extra_json(rec.extra.as_ref()));
        }
        let rows = q.fetch_all(&mut *conn).await?;
        // SQLite does not promise an order for RETURNING rows: match them back by id.
        let mut seqs: Vec<Option<i64>> = vec![None; n];
        for (k, row) in rows.iter().enumerate() {
            let seq: i64 = row.try_get(0)?;
            let id: &str = row.try_get(1)?;
            let at = if chunk.get(k).is_some_and(|r| r.id.as_str() == id) {
                k
            } else {
                chunk
                    .iter()
                    .position(|r| r.id.as_str() == id)
                    .ok_or_else(|| sqlx::Error::Protocol(format!("unexpected id {id}")))?
            };
            seqs[at] = Some(seq);
        }
        for seq in seqs {
            out.push(seq.ok_or_else(|| sqlx::Error::Protocol("missing RETURNING row".into()))?);
        }
    }
    Ok(out)
}

fn message_from_owned(rec: MessageRecord, seq: i64) -> Message {
    Message {
        seq,
        id: rec.id,
        room_id: rec.room_id,
        author: rec.author,
        author_name: rec.author_name,
        content: rec.content,
        created_at: rec.created_at,
        edited_at: None,
        reply_to: rec.reply_to,
        forwarded_from: rec.forwarded_from,
        pinned: false,
        deleted: false,
        reactions: Vec::new(),
        extra: rec.extra.map(Arc::new),
    }
}

fn message_from_record(rec: &MessageRecord, seq: i64) -> Message {
    Message {
        seq,
        id: rec.id.clone(),
        room_id: rec.room_id.clone(),
        author: rec.author.clone(),
        author_name: rec.author_name.clone(),
        content: rec.content.clone(),
        created_at: rec.created_at,
        edited_at: None,
        reply_to: rec.reply_to.clone(),
        forwarded_from: rec.forwarded_from.clone(),
        pinned: false,
        deleted: false,
        reactions: Vec::new(),
        extra: rec.extra.clone().map(Arc::new),
    }
}

struct Waiter {
    hook: Option<DoneHook>,
    reply: oneshot::Sender<StoreResult<Done>>,
}

impl Waiter {
    fn finish(self, result: StoreResult<Done>) {
        if let (Ok(done), Some(hook)) = (&result, self.hook) {
            hook(done);
        }
        let _ = self.reply.send(result);
    }
}

async fn run_single(conn: &mut SqliteConnection, op: &Op) -> StoreResult<Done> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    match apply(conn, op).await {
        Ok(d) => match sqlx::query("COMMIT").execute(&mut *conn).await {
            Ok(_) => Ok(d),
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(e)
        }
    }
}

/// Runs a custom write inside a savepoint of the batch's transaction. A custom write may have
/// written rows before it answers a domain error (`NotFound`, `Conflict`); those are undone so the rest of the
/// batch commits without them.
async fn apply_custom(conn: &mut SqliteConnection, write: &CustomWrite) -> StoreResult<Done> {
    sqlx::query("SAVEPOINT custom_write")
        .execute(&mut *conn)
        .await?;
    let result = write(conn).await.map(Done::Any);
    match &result {
        // The caller rolls the whole batch back and retries its writes one by one.
        Err(StoreError::Backend(_)) => {}
        Ok(_) => {
            sqlx::query("RELEASE custom_write")
                .execute(&mut *conn)
                .await?;
        }
        Err(_) => {
            sqlx::query("ROLLBACK TO custom_write")
                .execute(&mut *conn)
                .await?;
            sqlx::query("RELEASE custom_write")
                .execute(&mut *conn)
                .await?;
        }
    }
    result
}

/// Applies one write inside the open transaction. Domain errors (`NotFound`, `Conflict`) are
/// detected before anything is written.
async fn apply(conn: &mut SqliteConnection, op: &Op) -> StoreResult<Done> {
    match op {
        Op::CreateUser(user, hash) => {
            let taken = sqlx::query("SELECT 1 FROM users WHERE username = ?1 OR id = ?2")
                .bind(&user.username)
                .bind(user.id.as_str())
                .fetch_optional(&mut *conn)
                .await?;
            if taken.is_some() {
                return Err(StoreError::Conflict(format!(
                    "username '{}' is taken",
                    user.username
                )));
            }
            insert_user(conn, user).await?;
            if let Some(hash) = hash {
                sqlx::query(
                    "INSERT INTO credentials (user_id, password_hash, updated_at) VALUES (?1, ?2, ?3)",
                )
                .bind(user.id.as_str())
                .bind(hash)
                .bind(user.created_at)
                .execute(&mut *conn)
                .await?;
            }
            Ok(Done::User(user.clone()))
        }
        Op::SetPassword(id, hash) => {
            let r = sqlx::query(
                "INSERT INTO credentials (user_id, password_hash, updated_at)
                 SELECT id, ?2, ?3 FROM users WHERE id = ?1
                 ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash,
                                                    updated_at = excluded.updated_at",
            )
            .bind(id.as_str())
            .bind(hash)
            .bind(crate::core::ids::now_ms())
            .execute(&mut *conn)
            .await?;
            if r.rows_affected() == 0 {
                return Err(StoreError::NotFound("user"));
            }
            Ok(Done::Unit)
        }
        Op::EnsureIpUser(ip) => {
            let id = User::ip_user_id(ip);
            if let Some(u) = fetch_user(&mut *conn, "id", id.as_str()).await? {
                return Ok(Done::User(u));
            }
            let user = User {
                id,
                username: ip.clone(),
                display_name: None,
                kind: UserKind::Ip,
                avatar_url: None,
                created_at: crate::core::ids::now_ms(),
            };
            insert_user(conn, &user).await?;
            Ok(Done::User(user))
        }
        Op::InsertToken(digest, user, expires) => {
            let r = sqlx::query(
                "INSERT INTO tokens (digest, user_id, created_at, expires_at)
                 SELECT ?1, id, ?3, ?4 FROM users WHERE id = ?2",
            )
            .bind(digest)
            .bind(user.as_str())
            .bind(crate::core::ids::now_ms())
            .bind(expires)
            .execute(&mut *conn)
            .await?;
            if r.rows_affected() == 0 {
                return Err(StoreError::NotFound("user"));
            }
            Ok(Done::Unit)
        }
        Op::AddMember(space, user, roles) => {
            sqlx::query(
                "INSERT OR IGNORE INTO members (space_id, user_id, joined_at) VALUES (?1, ?2, ?3)",
            )
            .bind(space.as_str())
            .bind(user.as_str())
            .bind(crate::core::ids::now_ms())
            .execute(&mut *conn)
            .await?;
            for (ord, role) in roles.iter().enumerate() {
                sqlx::query(
                    "INSERT OR IGNORE INTO member_roles (space_id, user_id, role_id, ord)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .bind(space.as_str())
                .bind(user.as_str())
                .bind(role.as_str())
                .bind(ord as i64)
                .execute(&mut *conn)
                .await?;
            }
            Ok(Done::Unit)
        }
        Op::InsertMessage(rec) => {
            let seq = insert_messages(conn, &[rec]).await?[0];
            Ok(Done::Message(message_from_record(rec, seq)))
        }
        Op::Custom(write) => write(conn).await.map(Done::Any),
        Op::ToggleReaction(message, user, emoji) => {
            let exists = sqlx::query("SELECT 1 FROM messages WHERE id = ?1 AND deleted = 0")
                .bind(message.as_str())
                .fetch_optional(&mut *conn)
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound("message"));
            }
            let removed = sqlx::query(
                "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3",
            )
            .bind(message.as_str())
            .bind(emoji)
            .bind(user.as_str())
            .execute(&mut *conn)
            .await?
            .rows_affected();
            let action = if removed > 0 {
                ReactionAction::Removed
            } else {
                sqlx::query(
                    "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                )
                .bind(message.as_str())
                .bind(emoji)
                .bind(user.as_str())
                .bind(crate::core::ids::now_ms())
                .execute(&mut *conn)
                .await?;
                ReactionAction::Added
            };
            let msg = load_messages(conn, Selector::One(message))
                .await?
                .pop()
                .ok_or(StoreError::NotFound("message"))?;
            Ok(Done::Reaction((action, msg)))
        }
    }
}

async fn insert_user(conn: &mut SqliteConnection, user: &User) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, username, display_name, kind, avatar_url, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(user.id.as_str())
    .bind(&user.username)
    .bind(user.display_name.as_deref())
    .bind(user.kind.as_str())
    .bind(user.avatar_url.as_deref())
    .bind(user.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn user_from_row(row: &SqliteRow) -> StoreResult<User> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        kind: UserKind::parse(row.try_get::<&str, _>("kind")?),
        avatar_url: row.try_get("avatar_url")?,
        created_at: row.try_get("created_at")?,
    })
}

async fn fetch_user(
    conn: &mut SqliteConnection,
    column: &'static str,
    value: &str,
) -> StoreResult<Option<User>> {
    let sql = match column {
        "id" => {
            "SELECT id, username, display_name, kind, avatar_url, created_at FROM users WHERE id = ?1"
        }
        _ => {
            "SELECT id, username, display_name, kind, avatar_url, created_at FROM users WHERE username = ?1"
        }
    };
    let row = sqlx::query(sql).bind(value).fetch_optional(conn).await?;
    row.as_ref().map(user_from_row).transpose()
}

pub(crate) enum Selector<'a> {
    One(&'a MessageId),
    After(&'a RoomId, i64, u32),
    /// The newest `limit` messages with seq below the bound (None: the newest).
    Before(&'a RoomId, Option<i64>, u32),
}

const MESSAGE_COLUMNS: &str =
    "m.seq, m.id, m.room_id, m.author_id, u.username, m.author_name, m.content,
     m.created_at, m.edited_at, m.reply_to, m.forwarded_from, m.pinned, m.deleted, m.extra";

/// The stored form of a message's `extra`.
fn extra_json(extra: Option<&serde_json::Value>) -> String {
    extra.map_or_else(|| "{}".to_owned(), |v| v.to_string())
}

/// Loads messages (oldest first) with their reactions (each emoji's users in reaction order).
pub(crate) async fn load_messages(
    conn: &mut SqliteConnection,
    sel: Selector<'_>,
) -> StoreResult<Vec<Message>> {
    let (rows, room) = match sel {
        Selector::One(id) => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.author_id
                 WHERE m.id = ?1 AND m.deleted = 0"
            )))
            .bind(id.as_str())
            .fetch_all(&mut *conn)
            .await?;
            (rows, None)
        }
        Selector::After(room, after, limit) => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.author_id
                 WHERE m.room_id = ?1 AND m.seq > ?2 AND m.deleted = 0 ORDER BY m.seq LIMIT ?3"
            )))
            .bind(room.as_str())
            .bind(after)
            .bind(limit as i64)
            .fetch_all(&mut *conn)
            .await?;
            (rows, Some(room))
        }
        Selector::Before(room, before, limit) => {
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.author_id
                 WHERE m.room_id = ?1 AND m.seq < ?2 AND m.deleted = 0
                 ORDER BY m.seq DESC LIMIT ?3"
            )))
            .bind(room.as_str())
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit as i64)
            .fetch_all(&mut *conn)
            .await?;
            rows.reverse();
            (rows, Some(room))
        }
    };
    let reaction_rows = match (room, rows.first(), rows.last()) {
        (_, None, _) | (_, _, None) => Vec::new(),
        (None, Some(first), _) => {
            let id: &str = first.try_get("id")?;
            sqlx::query(
                "SELECT r.message_id, r.emoji, r.user_id, u.username FROM reactions r
                 JOIN users u ON u.id = r.user_id WHERE r.message_id = ?1 ORDER BY r.rowid",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
        }
        (Some(room), Some(first), Some(last)) => {
            let lo: i64 = first.try_get("seq")?;
            let hi: i64 = last.try_get("seq")?;
            sqlx::query(
                "SELECT r.message_id, r.emoji, r.user_id, u.username FROM reactions r
                 JOIN messages m ON m.id = r.message_id
                 JOIN users u ON u.id = r.user_id
                 WHERE m.room_id = ?1 AND m.seq >= ?2 AND m.seq <= ?3 ORDER BY r.rowid",
            )
            .bind(room.as_str())
            .bind(lo)
            .bind(hi)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    let mut index = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get("id")?;
        index.insert(id.clone(), out.len());
        out.push(Message {
            seq: row.try_get("seq")?,
            id: MessageId(id),
            room_id: RoomId(row.try_get("room_id")?),
            author: UserRef {
                id: UserId(row.try_get("author_id")?),
                username: row.try_get("username")?,
            },
            author_name: row.try_get("author_name")?,
            content: row.try_get("content")?,
            created_at: row.try_get("created_at")?,
            edited_at: row.try_get("edited_at")?,
            reply_to: row.try_get::<Option<String>, _>("reply_to")?.map(MessageId),
            forwarded_from: row
                .try_get::<Option<String>, _>("forwarded_from")?
                .map(MessageId),
            pinned: row.try_get::<i64, _>("pinned")? != 0,
            deleted: row.try_get::<i64, _>("deleted")? != 0,
            reactions: Vec::new(),
            extra: {
                let raw: &str = row.try_get("extra")?;
                match raw {
                    "{}" | "" => None,
                    raw => Some(Arc::new(serde_json::from_str(raw).map_err(backend)?)),
                }
            },
        });
    }
    for row in &reaction_rows {
        let mid: &str = row.try_get(0)?;
        let Some(&i) = index.get(mid) else { continue };
        let emoji: String = row.try_get(1)?;
        let user = UserRef {
            id: UserId(row.try_get(2)?),
            username: row.try_get(3)?,
        };
        let groups = &mut out[i].reactions;
        match groups.iter_mut().find(|g| g.emoji == emoji) {
            Some(g) => g.users.push(user),
            None => groups.push(ReactionGroup {
                emoji,
                users: vec![user],
            }),
        }
    }
    Ok(out)
}

fn perms_from_json(s: &str) -> Permissions {
    let names: Vec<String> = serde_json::from_str(s).unwrap_or_default();
    Permissions::from_names(names.iter().map(String::as_str))
}

pub(crate) fn room_from_row(row: &SqliteRow) -> StoreResult<Room> {
    let kind: String = row.try_get("kind")?;
    Ok(Room {
        id: RoomId(row.try_get("id")?),
        space_id: row.try_get::<Option<String>, _>("space_id")?.map(SpaceId),
        kind: RoomKind::parse(&kind).ok_or_else(|| backend(format!("bad room kind {kind}")))?,
        name: row.try_get("name")?,
        topic: row.try_get("topic")?,
        position: row.try_get("position")?,
        parent_id: row.try_get::<Option<String>, _>("parent_id")?.map(RoomId),
        creator_id: row.try_get::<Option<String>, _>("creator_id")?.map(UserId),
        is_public: row.try_get::<i64, _>("is_public")? != 0,
        locked: row.try_get::<i64, _>("locked")? != 0,
        archived: row.try_get::<i64, _>("archived")? != 0,
        max_members: row.try_get("max_members")?,
        slowmode_seconds: row.try_get("slowmode_seconds")?,
        created_at: row.try_get("created_at")?,
        extra: serde_json::from_str(row.try_get("extra")?).map_err(backend)?,
    })
}

pub(crate) const ROOM_COLUMNS: &str =
    "id, space_id, kind, name, topic, position, parent_id, creator_id, is_public,
     locked, archived, max_members, slowmode_seconds, created_at, extra";

impl Store for SqliteStore {
    fn create_user(&self, user: User, password_hash: Option<String>) -> BoxFut<'_, User> {
        Box::pin(async move {
            match self
                .submit(Op::CreateUser(user, password_hash), None)
                .await?
            {
                Done::User(u) => Ok(u),
                _ => Err(backend("unexpected write result")),
            }
        })
    }

    fn set_password(&self, user: UserId, password_hash: String) -> BoxFut<'_, ()> {
        Box::pin(async move {
            self.submit(Op::SetPassword(user, password_hash), None)
                .await
                .map(|_| ())
        })
    }

    fn ensure_ip_user(&self, ip: String) -> BoxFut<'_, User> {
        Box::pin(async move {
            let id = User::ip_user_id(&ip);
            let mut conn = self.pool.acquire().await?;
            if let Some(u) = fetch_user(&mut conn, "id", id.as_str()).await? {
                return Ok(u);
            }
            drop(conn);
            match self.submit(Op::EnsureIpUser(ip), None).await? {
                Done::User(u) => Ok(u),
                _ => Err(backend("unexpected write result")),
            }
        })
    }

    fn user(&self, id: UserId) -> BoxFut<'_, Option<User>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            fetch_user(&mut conn, "id", id.as_str()).await
        })
    }

    fn user_by_username(&self, username: String) -> BoxFut<'_, Option<User>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            fetch_user(&mut conn, "username", &username).await
        })
    }

    fn password_hash(&self, id: UserId) -> BoxFut<'_, Option<String>> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar("SELECT password_hash FROM credentials WHERE user_id = ?1")
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?,
            )
        })
    }

    fn insert_token(
        &self,
        digest: String,
        user: UserId,
        expires_at: Option<i64>,
    ) -> BoxFut<'_, ()> {
        Box::pin(async move {
            self.submit(Op::InsertToken(digest, user, expires_at), None)
                .await
                .map(|_| ())
        })
    }

    fn user_by_token(&self, digest: String, now: i64) -> BoxFut<'_, Option<User>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT u.id, u.username, u.display_name, u.kind, u.avatar_url, u.created_at
                 FROM tokens t JOIN users u ON u.id = t.user_id
                 WHERE t.digest = ?1 AND (t.expires_at IS NULL OR t.expires_at > ?2)",
            )
            .bind(digest)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(user_from_row).transpose()
        })
    }

    fn add_member(&self, space: SpaceId, user: UserId, roles: Vec<RoleId>) -> BoxFut<'_, ()> {
        Box::pin(async move {
            self.submit(Op::AddMember(space, user, roles), None)
                .await
                .map(|_| ())
        })
    }

    fn member(&self, space: SpaceId, user: UserId) -> BoxFut<'_, Option<Member>> {
        Box::pin(async move {
            let Some(row) = sqlx::query(
                "SELECT nickname, joined_at, timeout_until FROM members
                 WHERE space_id = ?1 AND user_id = ?2 AND banned = 0",
            )
            .bind(space.as_str())
            .bind(user.as_str())
            .fetch_optional(&self.pool)
            .await?
            else {
                return Ok(None);
            };
            let roles: Vec<String> = sqlx::query_scalar(
                "SELECT role_id FROM member_roles WHERE space_id = ?1 AND user_id = ?2 ORDER BY ord",
            )
            .bind(space.as_str())
            .bind(user.as_str())
            .fetch_all(&self.pool)
            .await?;
            Ok(Some(Member {
                nickname: row.try_get("nickname")?,
                joined_at: row.try_get("joined_at")?,
                timeout_until: row.try_get("timeout_until")?,
                roles: roles.into_iter().map(RoleId).collect(),
                space_id: space,
                user_id: user,
            }))
        })
    }

    fn roles(&self, space: SpaceId) -> BoxFut<'_, Vec<Role>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT id, name, permissions, position, color, hoist, mentionable, self_assignable,
                        is_default FROM roles WHERE space_id = ?1 ORDER BY position DESC",
            )
            .bind(space.as_str())
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(Role {
                        id: RoleId(r.try_get("id")?),
                        name: r.try_get("name")?,
                        permissions: perms_from_json(r.try_get("permissions")?),
                        position: r.try_get("position")?,
                        color: r.try_get("color")?,
                        hoist: r.try_get::<i64, _>("hoist")? != 0,
                        mentionable: r.try_get::<i64, _>("mentionable")? != 0,
                        self_assignable: r.try_get::<i64, _>("self_assignable")? != 0,
                        is_default: r.try_get::<i64, _>("is_default")? != 0,
                    })
                })
                .collect()
        })
    }

    fn space_owner(&self, space: SpaceId) -> BoxFut<'_, Option<UserId>> {
        Box::pin(async move {
            let owner: Option<Option<String>> =
                sqlx::query_scalar("SELECT owner_id FROM spaces WHERE id = ?1")
                    .bind(space.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(owner.flatten().map(UserId))
        })
    }

    fn room(&self, id: RoomId) -> BoxFut<'_, Option<Room>> {
        Box::pin(async move {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {ROOM_COLUMNS} FROM rooms WHERE id = ?1"
            )))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(room_from_row).transpose()
        })
    }

    fn room_by_name(&self, space: SpaceId, name: String) -> BoxFut<'_, Option<Room>> {
        Box::pin(async move {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {ROOM_COLUMNS} FROM rooms WHERE space_id = ?1 AND name = ?2 AND kind <> 'thread'"
            )))
            .bind(space.as_str())
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(room_from_row).transpose()
        })
    }

    fn overrides(&self, room: RoomId) -> BoxFut<'_, Vec<Override>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT target_kind, target_id, allow, deny FROM room_overrides WHERE room_id = ?1",
            )
            .bind(room.as_str())
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let kind: &str = r.try_get("target_kind")?;
                    let target: String = r.try_get("target_id")?;
                    Ok(Override {
                        target: if kind == "role" {
                            OverrideTarget::Role(RoleId(target))
                        } else {
                            OverrideTarget::Member(UserId(target))
                        },
                        allow: perms_from_json(r.try_get("allow")?),
                        deny: perms_from_json(r.try_get("deny")?),
                    })
                })
                .collect()
        })
    }

    fn insert_message(
        &self,
        rec: MessageRecord,
        hook: Option<CommitHook<Message>>,
    ) -> BoxFut<'_, Ticket<Message>> {
        Box::pin(async move {
            let hook = hook.map(|h| {
                Box::new(move |d: &Done| {
                    if let Done::Message(m) = d {
                        h(m)
                    }
                }) as DoneHook
            });
            let durable = self.enqueue(Op::InsertMessage(rec), hook).await?;
            Ok(Box::pin(async move {
                match durable.await? {
                    Done::Message(m) => Ok(m),
                    _ => Err(backend("unexpected write result")),
                }
            }) as Ticket<Message>)
        })
    }

    fn message(&self, id: MessageId) -> BoxFut<'_, Option<Message>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            Ok(load_messages(&mut conn, Selector::One(&id)).await?.pop())
        })
    }

    fn messages_after(&self, room: RoomId, after_seq: i64, limit: u32) -> BoxFut<'_, Vec<Message>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            load_messages(&mut conn, Selector::After(&room, after_seq, limit)).await
        })
    }

    fn toggle_reaction(
        &self,
        message: MessageId,
        user: UserId,
        emoji: String,
        hook: Option<CommitHook<(ReactionAction, Message)>>,
    ) -> BoxFut<'_, (ReactionAction, Message)> {
        Box::pin(async move {
            let hook = hook.map(|h| {
                Box::new(move |d: &Done| {
                    if let Done::Reaction(r) = d {
                        h(r)
                    }
                }) as DoneHook
            });
            match self
                .submit(Op::ToggleReaction(message, user, emoji), hook)
                .await?
            {
                Done::Reaction(r) => Ok(r),
                _ => Err(backend("unexpected write result")),
            }
        })
    }

    fn edit_message(
        &self,
        id: MessageId,
        content: String,
        edited_at: i64,
        hook: Option<CommitHook<Message>>,
    ) -> BoxFut<'_, Message> {
        Box::pin(messages::edit(self, id, content, edited_at, hook))
    }

    fn delete_message(
        &self,
        id: MessageId,
        mode: DeleteMode,
        hook: Option<CommitHook<Message>>,
    ) -> BoxFut<'_, Message> {
        Box::pin(messages::delete(self, id, mode, hook))
    }

    fn messages_before(
        &self,
        room: RoomId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> BoxFut<'_, Vec<Message>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            load_messages(&mut conn, Selector::Before(&room, before_seq, limit)).await
        })
    }

    fn set_reaction(
        &self,
        message: MessageId,
        user: UserId,
        emoji: String,
        present: bool,
        hook: Option<CommitHook<(Option<ReactionAction>, Message)>>,
    ) -> BoxFut<'_, (Option<ReactionAction>, Message)> {
        Box::pin(messages::set_reaction(
            self, message, user, emoji, present, hook,
        ))
    }

    fn set_pinned(
        &self,
        message: MessageId,
        pinned: bool,
        by: UserId,
        hook: Option<CommitHook<Message>>,
    ) -> BoxFut<'_, Message> {
        Box::pin(messages::set_pinned(self, message, pinned, by, hook))
    }

    fn create_room(
        &self,
        room: Room,
        members: Vec<RoomMember>,
        hook: Option<CommitHook<Room>>,
    ) -> BoxFut<'_, Room> {
        Box::pin(rooms::create(self, room, members, hook))
    }

    fn update_room(&self, room: Room, hook: Option<CommitHook<Room>>) -> BoxFut<'_, Room> {
        Box::pin(rooms::update(self, room, hook))
    }

    fn delete_room(&self, id: RoomId, hook: Option<CommitHook<Room>>) -> BoxFut<'_, Room> {
        Box::pin(rooms::delete(self, id, hook))
    }

    fn space_rooms(&self, space: SpaceId) -> BoxFut<'_, Vec<Room>> {
        Box::pin(rooms::space_rooms(self, space))
    }

    fn user_private_rooms(&self, user: UserId) -> BoxFut<'_, Vec<Room>> {
        Box::pin(rooms::user_private_rooms(self, user))
    }

    fn room_members(&self, room: RoomId) -> BoxFut<'_, Vec<RoomMember>> {
        Box::pin(rooms::members(self, room))
    }

    fn room_member(&self, room: RoomId, user: UserId) -> BoxFut<'_, Option<RoomMember>> {
        Box::pin(rooms::member(self, room, user))
    }

    fn put_room_member(
        &self,
        member: RoomMember,
        hook: Option<CommitHook<RoomMember>>,
    ) -> BoxFut<'_, RoomMember> {
        Box::pin(rooms::put_member(self, member, hook))
    }

    fn remove_room_member(
        &self,
        room: RoomId,
        user: UserId,
        hook: Option<CommitHook<bool>>,
    ) -> BoxFut<'_, bool> {
        Box::pin(rooms::remove_member(self, room, user, hook))
    }

    // polls (bots)
    fn create_poll(
        &self,
        rec: MessageRecord,
        poll: crate::core::polls::Poll,
        hook: Option<CommitHook<(Message, crate::core::polls::Poll)>>,
    ) -> BoxFut<'_, (Message, crate::core::polls::Poll)> {
        Box::pin(polls::create(self, rec, poll, hook))
    }

    fn poll(&self, id: String) -> BoxFut<'_, Option<crate::core::polls::PollState>> {
        Box::pin(polls::by_id(self, id))
    }

    fn poll_by_message(
        &self,
        message: MessageId,
    ) -> BoxFut<'_, Option<crate::core::polls::PollState>> {
        Box::pin(polls::by_message(self, message))
    }

    fn vote_poll(
        &self,
        poll: String,
        user: UserId,
        option_ids: Vec<String>,
        replace: bool,
        now: i64,
        hook: Option<CommitHook<crate::core::polls::PollState>>,
    ) -> BoxFut<'_, crate::core::polls::PollState> {
        Box::pin(polls::vote(
            self, poll, user, option_ids, replace, now, hook,
        ))
    }

    fn end_poll(
        &self,
        poll: String,
        at: i64,
        hook: Option<CommitHook<crate::core::polls::PollState>>,
    ) -> BoxFut<'_, crate::core::polls::PollState> {
        Box::pin(polls::end(self, poll, at, hook))
    }

    fn expired_polls(&self, now: i64, limit: u32) -> BoxFut<'_, Vec<String>> {
        Box::pin(polls::expired(self, now, limit))
    }

    fn threads(&self, parent: RoomId) -> BoxFut<'_, Vec<Room>> {
        Box::pin(threads::threads(self, parent))
    }

    fn thread_links(&self) -> BoxFut<'_, Vec<(RoomId, RoomId)>> {
        Box::pin(threads::thread_links(self))
    }

    fn room_member_refs(&self, room: RoomId) -> BoxFut<'_, Vec<UserRef>> {
        Box::pin(threads::member_refs(self, room))
    }

    fn count_messages_before(&self, room: RoomId, before: Option<i64>) -> BoxFut<'_, i64> {
        Box::pin(threads::count_before(self, room, before))
    }

    fn search_messages(
        &self,
        search: crate::core::lookups::MessageSearch,
    ) -> BoxFut<'_, Vec<Message>> {
        Box::pin(threads::search(self, search))
    }

    fn message_replies(&self, room: RoomId, id: MessageId, limit: u32) -> BoxFut<'_, Vec<Message>> {
        Box::pin(threads::replies(self, room, id, limit))
    }

    fn pinned_messages(&self, room: RoomId) -> BoxFut<'_, Vec<Message>> {
        Box::pin(threads::pinned(self, room))
    }

    fn set_room_kind(
        &self,
        room: RoomId,
        kind: RoomKind,
        hook: Option<CommitHook<Room>>,
    ) -> BoxFut<'_, Room> {
        Box::pin(threads::set_kind(self, room, kind, hook))
    }

    fn close(&self) -> BoxFut<'_, ()> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            if self.writer.send(Msg::Close(tx)).await.is_ok() {
                let _ = rx.await;
            }
            self.pool.close().await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(room: &str, author: &UserRef, n: usize) -> MessageRecord {
        MessageRecord {
            id: MessageId::generate(),
            room_id: RoomId(room.into()),
            author: author.clone(),
            author_name: None,
            content: format!("m{n}"),
            created_at: n as i64,
            reply_to: None,
            forwarded_from: None,
            extra: None,
        }
    }

    /// A store in a fresh temporary directory (removed by the test at its end).
    async fn temp_store() -> (SqliteStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "chorus-store-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let store = SqliteStore::open(&dir.join("chorus.db"), SqliteSettings::default())
            .await
            .unwrap();
        (store, dir)
    }

    /// Many queued messages share multi-row inserts: they keep queue order (seq and hooks), and
    /// one bad message (unknown room) fails alone.
    #[tokio::test]
    async fn batched_message_inserts_keep_order_and_isolate_failures() {
        let (store, dir) = temp_store().await;
        let user = store
            .create_user(
                User {
                    id: UserId::generate(),
                    username: "bob".into(),
                    display_name: None,
                    kind: UserKind::Local,
                    avatar_url: None,
                    created_at: 0,
                },
                None,
            )
            .await
            .unwrap();
        let author = UserRef {
            id: user.id.clone(),
            username: user.username.clone(),
        };
        let general = crate::core::ids::GENERAL_ROOM;
        let hooked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let total = 300;
        let bad = 137;
        let mut tickets = Vec::new();
        for n in 0..total {
            let room = if n == bad { "no-such-room" } else { general };
            let seen = hooked.clone();
            let hook: CommitHook<Message> =
                Box::new(move |m: &Message| seen.lock().unwrap().push(m.content.clone()));
            tickets.push(
                store
                    .insert_message(record(room, &author, n), Some(hook))
                    .await
                    .unwrap(),
            );
        }
        let mut last = 0;
        for (n, t) in tickets.into_iter().enumerate() {
            let r = t.await;
            if n == bad {
                assert!(r.is_err(), "message {n} must fail");
                continue;
            }
            let m = r.unwrap();
            assert_eq!(m.content, format!("m{n}"));
            assert!(m.seq > last, "seq follows queue order");
            last = m.seq;
        }
        let expected: Vec<String> = (0..total)
            .filter(|&n| n != bad)
            .map(|n| format!("m{n}"))
            .collect();
        assert_eq!(*hooked.lock().unwrap(), expected);
        let stored = store
            .messages_after(RoomId(general.into()), 0, 1000)
            .await
            .unwrap();
        let contents: Vec<String> = stored.into_iter().map(|m| m.content).collect();
        assert_eq!(contents, expected);
        store.close().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A custom write that writes and then answers a domain error leaves nothing behind, while
    /// the writes batched with it commit.
    #[tokio::test]
    async fn a_failed_custom_write_is_undone_and_its_batch_commits() {
        let (store, dir) = temp_store().await;
        let insert = |key: &'static str, fail: bool| {
            store.write(
                move |conn| {
                    Box::pin(async move {
                        sqlx::query("INSERT INTO kv_probe (k) VALUES (?1)")
                            .bind(key)
                            .execute(&mut *conn)
                            .await
                            .map_err(backend)?;
                        if fail {
                            return Err(StoreError::Conflict(format!("{key} refused")));
                        }
                        Ok(key)
                    })
                },
                None,
            )
        };
        store
            .write(
                |conn| {
                    Box::pin(async move {
                        sqlx::query("CREATE TABLE kv_probe (k TEXT PRIMARY KEY)")
                            .execute(&mut *conn)
                            .await
                            .map_err(backend)?;
                        Ok(())
                    })
                },
                None,
            )
            .await
            .unwrap();
        // Queued together, so the writer commits them in one transaction.
        let (before, failing, after) = tokio::join!(
            insert("before", false),
            insert("failing", true),
            insert("after", false)
        );
        assert_eq!(before.unwrap(), "before");
        assert!(
            matches!(failing, Err(StoreError::Conflict(_))),
            "{failing:?}"
        );
        assert_eq!(after.unwrap(), "after");
        let kept: Vec<String> = sqlx::query_scalar("SELECT k FROM kv_probe ORDER BY k")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        assert_eq!(kept, ["after", "before"]);
        store.close().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
}
