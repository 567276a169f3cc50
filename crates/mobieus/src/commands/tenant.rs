//! `mobieus tenant create|list`.

use super::print_json;
use crate::Result;
use crate::cli::TenantCmd;
use crate::error::CliError;
use mobieus_domain::tenant::{HostName, TenantSlug};
use mobieus_store::{Store, Tenant};
use serde_json::json;

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
    }
}
