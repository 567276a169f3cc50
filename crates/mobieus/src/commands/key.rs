//! `mobieus key create|list|revoke`.

use super::{print_json, tenant_db};
use crate::Result;
use crate::cli::KeyCmd;
use crate::error::CliError;
use mobieus_core::keys::{self, KeyRequest};
use mobieus_domain::api_key::{KeyMode, RateLimit};
use mobieus_domain::scope::Scopes;
use mobieus_store::{ApiKeyRecord, Store};
use serde_json::json;

fn key_json(k: &ApiKeyRecord) -> serde_json::Value {
    json!({
        "id": k.id, "name": k.name, "prefix": k.prefix, "mode": k.mode, "scopes": k.scopes,
        "rate_limit": k.rate_limit, "created_at": k.created_at, "last_used_at": k.last_used_at,
        "revoked_at": k.revoked_at,
    })
}

pub async fn run(store: &Store, cmd: KeyCmd) -> Result {
    match cmd {
        KeyCmd::Create {
            tenant,
            name,
            scopes,
            test,
            rate_limit,
            json,
        } => {
            let scopes = Scopes::parse_list(&scopes).map_err(CliError::usage)?;
            let rate_limit = RateLimit::new(rate_limit).map_err(CliError::usage)?;
            let db = tenant_db(store, &tenant).await?;
            let mode = if test { KeyMode::Test } else { KeyMode::Live };
            let minted = keys::mint(
                &db,
                KeyRequest {
                    actor: "cli".to_owned(),
                    name,
                    scopes,
                    mode,
                    rate_limit,
                },
            )
            .await?;
            let r = &minted.record;
            if json {
                return print_json(&json!({
                    "id": r.id, "key": minted.secret.expose(), "prefix": r.prefix,
                    "scopes": r.scopes, "rate_limit": r.rate_limit,
                }));
            }
            println!("{}", minted.secret.expose());
            eprintln!(
                "created API key {} ({}) for {tenant} with scopes {} and {} requests/minute.\nStore it now: it is not kept and will not be shown again.",
                r.id,
                r.name,
                r.scopes.to_list(),
                r.rate_limit.per_minute()
            );
            Ok(())
        }
        KeyCmd::List { tenant, json } => {
            let db = tenant_db(store, &tenant).await?;
            let all = keys::list(&db).await?;
            if json {
                return print_json(&all.iter().map(key_json).collect::<Vec<_>>());
            }
            for k in &all {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let used = k
                    .last_used_at
                    .map_or_else(|| "never used".to_owned(), |t| format!("last used {t}"));
                println!(
                    "{}\t{}…\t{}\t{}\t{}/min\t{state}\t{used}",
                    k.id,
                    k.prefix,
                    k.name,
                    k.scopes.to_list(),
                    k.rate_limit.per_minute()
                );
            }
            Ok(())
        }
        KeyCmd::Revoke { tenant, id } => {
            let db = tenant_db(store, &tenant).await?;
            keys::revoke(&db, &id, "cli").await?;
            println!("revoked {id}");
            Ok(())
        }
    }
}
