//! One module per top-level command.

mod admin;
mod demo;
mod demo_receiver;
mod forum;
mod key;
mod listen;
mod serve;
mod tenant;
mod worker;

use crate::Result;
use crate::cli::{Cli, Command};
use crate::error::CliError;
use mobieus_domain::tenant::TenantSlug;
use mobieus_store::{Store, StoreConfig, TenantDb};
use serde::Serialize;

pub async fn run(cli: Cli) -> Result {
    // A client of a server, anywhere: it opens no store.
    if let Command::Listen(args) = cli.command {
        return listen::run(args).await;
    }
    if let Command::Openapi { json } = cli.command {
        let doc = mobieus_web::openapi_document();
        let text = if json { doc.json } else { doc.yaml };
        return match std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()) {
            // A reader that stopped early (`| head`) wanted no more.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(CliError::Io(format!("cannot write the document: {e}")))
            }
            _ => Ok(()),
        };
    }
    // A server that may not start says so before it opens or creates anything.
    if let Command::Serve(args) | Command::Demo(args) = &cli.command {
        serve::front(args)?;
        serve::rate_limiter(args)?;
    }
    let database_url = match &cli.database_url {
        Some(url) => Some(url.postgres().map_err(CliError::usage)?.to_owned()),
        None => None,
    };
    let store = Store::open(&StoreConfig {
        data_dir: cli.data_dir.clone(),
        master_key: cli.master_key.clone(),
        database_url,
    })
    .await?;
    match cli.command {
        Command::Serve(args) => serve::run(store, args).await,
        Command::Worker(args) => worker::run(store, args).await,
        Command::Demo(args) => demo::run(store, &cli.data_dir, args).await,
        Command::Tenant(cmd) => tenant::run(&store, cmd).await,
        Command::Key(cmd) => key::run(&store, cmd).await,
        Command::Forum(args) => forum::run(&store, args).await,
        Command::Admin(cmd) => admin::run(&store, cmd).await,
        Command::Backup { out } => backup(&store, &out).await,
        Command::Listen(args) => listen::run(args).await,
        Command::Openapi { .. } => Ok(()),
    }
}

/// `mobieus backup --out DIR`.
async fn backup(store: &Store, out: &std::path::Path) -> Result {
    let occupied = std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_some());
    if occupied {
        return Err(CliError::usage(format!(
            "{} is not empty: back up into a new or empty directory",
            out.display()
        )));
    }
    let done = store.backup_to(out).await?;
    println!(
        "backed up the control database and {} tenant databases ({} bytes) to {}",
        done.tenants,
        done.bytes,
        out.display()
    );
    if done.master_key_copied {
        println!(
            "master.key is in the backup: keep the backup as secret as the data dir (the key opens the webhook secrets)"
        );
    } else {
        println!(
            "the master key comes from MOBIEUS_MASTER_KEY and is not in the backup: keep it with the backup, or the webhook secrets cannot be opened"
        );
    }
    Ok(())
}

/// The database of an existing tenant named on the command line.
async fn tenant_db(store: &Store, slug: &str) -> Result<TenantDb> {
    let slug = TenantSlug::parse(slug).map_err(CliError::usage)?;
    Ok(mobieus_core::tenants::open(store, &slug).await?)
}

/// Prints `value` as one line of JSON on stdout.
fn print_json(value: &impl Serialize) -> Result {
    let text = serde_json::to_string(value).map_err(|e| CliError::Io(e.to_string()))?;
    println!("{text}");
    Ok(())
}
