//! Wiring: store → hub → core → dialects → listeners, and the shutdown sequence.

use crate::config::Config;
use crate::core::Core;
use crate::dialects::{self, reactions::Reactions};
use crate::hub::Hub;
use crate::net::{self, AppState, listener, proxy::TrustedProxies};
use crate::store::Store;
use crate::store::sqlite::{SqliteSettings, SqliteStore};
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Opens the configured store (running migrations).
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<SqliteStore>> {
    let path = config.database_path();
    let store = SqliteStore::open(
        &path,
        SqliteSettings {
            durability: config.storage.durability,
            group_commit_max: config.storage.group_commit_max,
            ..SqliteSettings::default()
        },
    )
    .await
    .with_context(|| format!("opening the database {}", path.display()))?;
    Ok(Arc::new(store))
}

/// A core over the configured store, with a running hub dispatcher. Also returns the SQLite
/// store itself, for dialect-specific tables (`SqliteStore::write`).
pub async fn open_core(config: &Config) -> anyhow::Result<(Arc<Core>, Arc<SqliteStore>)> {
    let sqlite = open_store(config).await?;
    let store: Arc<dyn Store> = sqlite.clone();
    let (hub, dispatcher) = Hub::new(dialects::renderers());
    tokio::spawn(dispatcher);
    let core = Arc::new(Core::new(store, hub));
    core.load_thread_links().await?;
    Ok((core, sqlite))
}

/// Runs the server until `shutdown` is cancelled, then shuts down cleanly: stop accepting,
/// let in-flight operations finish, close every socket with 1001, drain and close the store.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let nofile = listener::raise_nofile_limit();
    let cap = listener::connection_cap(
        config.server.max_connections,
        nofile,
        config.server.fd_reserve,
    );
    let permits = Arc::new(Semaphore::new(cap));

    let (core, sqlite) = open_core(&config).await?;
    // attachments and emoji under the data directory, swept in the background
    let rotur_tiers = (config.originchats.auth_mode == "rotur").then(|| {
        crate::core::attachments::RoturTiers::new(
            &config.originchats.rotur_url,
            Duration::from_millis(config.originchats.rotur_timeout_ms),
        )
    });
    core.configure_files(crate::core::attachments::Files::new(
        config.files.clone(),
        &config.storage.data_dir,
        rotur_tiers,
    ));
    let sweeper = core.spawn_attachment_sweeper(shutdown.clone());
    let room = core
        .room_by_name(&config.reactions.room)
        .await
        .with_context(|| format!("reactions.room: no room named {:?}", config.reactions.room))?;
    let reactions = Arc::new(Reactions::new(
        core.clone(),
        room.id,
        config.reactions.rate_limit_messages,
        Duration::from_secs(config.reactions.rate_limit_window_secs),
    ));
    // originchats
    for note in crate::dialects::originchats::config_json::notes() {
        tracing::warn!("{note}");
    }
    let mut oc_config = config.originchats.clone();
    if oc_config.plugins_dir.is_empty() {
        // bots: plugin configuration files default to <data_dir>/plugins
        oc_config.plugins_dir = config
            .storage
            .data_dir
            .join("plugins")
            .display()
            .to_string();
    }
    let originchats = Arc::new(crate::dialects::originchats::OriginChats::new(
        core.clone(),
        oc_config,
    )?);
    crate::dialects::originchats::http::set_store(sqlite.clone());
    originchats.start_bots(); // bots
    // messaging dialect
    let messaging = Arc::new(
        dialects::messaging::Messaging::new(core.clone(), sqlite.clone(), config.messaging.clone())
            .await?,
    );
    // Plexichat
    let plexichat = Arc::new(crate::dialects::plexichat::Plexichat::new(
        core.clone(),
        config.plexichat.clone(),
        sqlite.clone(),
    ));
    plexichat.start_notifications();
    let tracker = TaskTracker::new();
    let config = Arc::new(config);
    let state = AppState {
        config: config.clone(),
        reactions,
        originchats,
        messaging,
        trusted: Arc::new(TrustedProxies::new(&config.server.trusted_proxies)),
        shutdown: shutdown.clone(),
        tracker: tracker.clone(),
        plexichat,
    };

    // TLS for every listener when a certificate is configured
    let tls = if config.server.tls_cert.is_empty() {
        None
    } else {
        Some(net::tls::load(
            std::path::Path::new(&config.server.tls_cert),
            std::path::Path::new(&config.server.tls_key),
        )?)
    };
    let mut servers = tokio::task::JoinSet::new();
    let main = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("binding {}", config.server.listen))?;
    let addr = main.local_addr()?;
    // OriginChats' local server assets and public base URL
    crate::dialects::originchats::files_http::configure(&config, addr);
    servers.spawn(net::serve_maybe_tls(
        main,
        permits.clone(),
        net::router(state.clone()),
        shutdown.clone(),
        tls.clone(),
    ));
    let mut extra_addrs = Vec::new();
    for extra in &config.server.extra_listeners {
        let router = net::single_dialect_router(state.clone(), &extra.protocol)
            .with_context(|| format!("no dialect named {:?}", extra.protocol))?;
        let l = tokio::net::TcpListener::bind(extra.listen)
            .await
            .with_context(|| format!("binding {}", extra.listen))?;
        extra_addrs.push(format!("{}={}", extra.protocol, l.local_addr()?));
        servers.spawn(net::serve_maybe_tls(
            l,
            permits.clone(),
            router,
            shutdown.clone(),
            tls.clone(),
        ));
    }
    tracing::info!(
        listen = %addr,
        extra = ?extra_addrs,
        data_dir = %config.storage.data_dir.display(),
        durability = ?config.storage.durability,
        max_connections = cap,
        tls = tls.is_some(),
        "chorus listening"
    );

    shutdown.cancelled().await;
    tracing::info!("shutting down: no new connections; closing sockets with 1001");
    tracker.close();
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!(
            remaining = tracker.len(),
            "connections still open after the grace period"
        );
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while servers.join_next().await.is_some() {}
    })
    .await;
    let _ = sweeper.await;
    core.store().close().await?;
    tracing::info!("store closed; bye");
    Ok(())
}

/// Cancels `token` on SIGINT or SIGTERM.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot install the SIGTERM handler");
                    let _ = tokio::signal::ctrl_c().await;
                    token.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
            _ = term.recv() => tracing::info!("SIGTERM received"),
        }
        token.cancel();
    });
}
