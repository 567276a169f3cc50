//! `mobieus tenant create|list|export|import`.

use super::print_json;
use crate::Result;
use crate::cli::TenantCmd;
use crate::error::CliError;
use mobieus_core::transfer;
use mobieus_domain::tenant::{HostName, TenantSlug};
use mobieus_store::{Store, Tenant};
use serde_json::json;
use std::path::Path;

fn tenant_json(t: &Tenant) -> serde_json::Value {
    json!({ "slug": t.slug, "hosts": t.hosts, "created_at": t.created_at })
}

pub async fn run(store: &Store, cmd: TenantCmd) -> Result {
    match cmd {
        TenantCmd::Create { slug, hosts, json } => {
            let slug = TenantSlug::parse(&slug).map_err(CliError::usage)?;
            let hosts = hosts
                .iter()
                .map(|h| HostName::parse(h))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(CliError::usage)?;
            if let Some(h) = hosts.iter().find(|h| h.localhost_slug().is_some()) {
                return Err(CliError::usage(format!(
                    "host {h} is reserved: <slug>.localhost always names the tenant <slug>"
                )));
            }
            let tenant = mobieus_core::tenants::create(store, &slug, &hosts).await?;
            if json {
                return print_json(&tenant_json(&tenant));
            }
            println!(
                "created tenant {slug}, served at {slug}.localhost{}",
                hosts.iter().map(|h| format!(", {h}")).collect::<String>()
            );
            Ok(())
        }
        TenantCmd::List { json } => {
            let tenants = store.tenants().await?;
            if json {
                return print_json(&tenants.iter().map(tenant_json).collect::<Vec<_>>());
            }
            for t in &tenants {
                let hosts: Vec<&str> = t.hosts.iter().map(HostName::as_str).collect();
                println!(
                    "{}\t{}.localhost{}{}",
                    t.slug,
                    t.slug,
                    if hosts.is_empty() { "" } else { " " },
                    hosts.join(" ")
                );
            }
            Ok(())
        }
        TenantCmd::Export { tenant, out } => export(store, &tenant, &out).await,
        TenantCmd::Import { file } => import(store, &file).await,
    }
}

/// Writes to `FILE.partial` (mode 0600) and renames it when complete, so a file at
/// `out` is always a whole export.
async fn export(store: &Store, slug: &str, out: &Path) -> Result {
    let slug = TenantSlug::parse(slug).map_err(CliError::usage)?;
    if out.exists() {
        return Err(CliError::usage(format!(
            "{} exists: export to a new file",
            out.display()
        )));
    }
    let partial = out.with_extension("partial");
    let io = |e: std::io::Error| CliError::Io(format!("cannot write {}: {e}", partial.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&partial).map_err(io)?;
    let mut writer = std::io::BufWriter::new(file);
    let counts = match transfer::export(store, &slug, &mut writer).await {
        Ok(counts) => counts,
        Err(e) => {
            drop(writer);
            let _ = std::fs::remove_file(&partial);
            return Err(transfer_error(e));
        }
    };
    drop(writer);
    std::fs::rename(&partial, out).map_err(io)?;
    println!(
        "exported tenant {slug} to {}: {} rows ({})",
        out.display(),
        counts.values().sum::<u64>(),
        summary(&counts)
    );
    Ok(())
}

async fn import(store: &Store, file: &Path) -> Result {
    let path = file.to_path_buf();
    let open = move || -> std::io::Result<Box<dyn std::io::BufRead>> {
        Ok(Box::new(std::io::BufReader::new(std::fs::File::open(
            &path,
        )?)))
    };
    let (header, counts) = transfer::import(store, open).await.map_err(|e| match e {
        transfer::TransferError::Io(e) => {
            CliError::Io(format!("cannot read {}: {e}", file.display()))
        }
        other => transfer_error(other),
    })?;
    println!(
        "imported tenant {} from {}: {} rows ({})",
        header.slug,
        file.display(),
        counts.values().sum::<u64>(),
        summary(&counts)
    );
    Ok(())
}

fn transfer_error(e: transfer::TransferError) -> CliError {
    match e {
        transfer::TransferError::Format(m) => CliError::usage(m),
        transfer::TransferError::Io(m) => CliError::Io(m),
        transfer::TransferError::Core(e) => e.into(),
    }
}

/// `users 3, threads 1, …` for the tables with rows.
fn summary(counts: &transfer::Counts) -> String {
    counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(t, n)| format!("{t} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
