//! The `chorus` command line.

use crate::config::{Config, DEFAULT_TOML};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "chorus",
    version,
    about = "One chat server, four wire dialects"
)]
pub struct Cli {
    /// Configuration file (TOML). Without it, the built-in defaults apply; CHORUS__* variables
    /// override either.
    #[arg(short, long, global = true, env = "CHORUS_CONFIG")]
    pub config: Option<PathBuf>,
    /// An OriginChats `config.json` to read (sets `originchats.config_json`).
    #[arg(long, global = true)]
    pub originchats_config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve,
    /// Write a commented default configuration file.
    Init {
        /// Where to write it.
        #[arg(default_value = "chorus.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Manage accounts (safe while the server runs).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage session tokens (safe while the server runs).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a local account.
    Add {
        name: String,
        #[arg(long)]
        password: String,
        /// A role of the default space to give the user (besides @everyone).
        #[arg(long)]
        role: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue a session token for NAME and print it (usable by every dialect).
    Issue { name: String },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Init { path, force } = &cli.command {
        return init(path, *force);
    }
    let env = std::env::vars().chain(cli.originchats_config.as_ref().map(|p| {
        (
            "CHORUS__ORIGINCHATS__CONFIG_JSON".to_owned(),
            format!("{:?}", p.display().to_string()),
        )
    }));
    let config = match Config::load(cli.config.as_deref(), env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("chorus: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Debug builds poll the deep handler futures (generated dispatch → dialect → core)
        // with large frames; 512 KiB overflowed. Only touched pages cost memory.
        .thread_stack_size(4 * 1024 * 1024)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chorus: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Command::Serve => {
                let token = tokio_util::sync::CancellationToken::new();
                crate::app::cancel_on_signals(token.clone());
                crate::app::run(config, token).await
            }
            Command::User {
                command:
                    UserCommand::Add {
                        name,
                        password,
                        role,
                    },
            } => {
                let (core, _) = crate::app::open_core(&config).await?;
                let user = core
                    .create_account(&name, &password, role.as_deref())
                    .await?;
                core.store().close().await?;
                println!("created user {} ({})", user.username, user.id);
                Ok(())
            }
            Command::Token {
                command: TokenCommand::Issue { name },
            } => {
                let (core, _) = crate::app::open_core(&config).await?;
                let token = core.issue_token(&name).await?;
                core.store().close().await?;
                println!("{token}");
                Ok(())
            }
            Command::Init { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chorus: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init(path: &std::path::Path, force: bool) -> ExitCode {
    if path.exists() && !force {
        eprintln!(
            "chorus: {} exists (use --force to overwrite)",
            path.display()
        );
        return ExitCode::FAILURE;
    }
    match std::fs::write(path, DEFAULT_TOML) {
        Ok(()) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("chorus: cannot write {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
