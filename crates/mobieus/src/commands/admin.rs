//! `mobieus admin create`.

use super::tenant_db;
use crate::Result;
use crate::cli::AdminCmd;
use crate::error::CliError;
use mobieus_core::accounts;
use mobieus_domain::account::Password;
use mobieus_domain::forum::Username;
use mobieus_store::Store;

pub async fn run(store: &Store, cmd: AdminCmd) -> Result {
    match cmd {
        AdminCmd::Create {
            tenant,
            username,
            password_stdin: _,
        } => {
            let username = Username::parse(&username).map_err(CliError::usage)?;
            let password = Password::parse(&read_password()?).map_err(CliError::usage)?;
            let db = tenant_db(store, &tenant).await?;
            let admin = accounts::create_admin(&db, &username, &password).await?;
            println!(
                "created admin {} (user {}) on tenant {tenant}; log in at http://{tenant}.localhost:8080/login",
                admin.value.username, admin.value.id.0
            );
            Ok(())
        }
    }
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| CliError::Io(format!("cannot read the password from standard input: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(CliError::usage(
            "no password on standard input: pipe it in, e.g. `printf '%s\\n' \"$PASSWORD\" | mobieus admin create …`",
        ));
    }
    Ok(password.to_owned())
}
