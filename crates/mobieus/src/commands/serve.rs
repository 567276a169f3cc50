//! `mobieus serve`: the API and docs over HTTP until SIGINT or SIGTERM.

use crate::Result;
use crate::cli::ServeArgs;
use crate::error::CliError;
use mobieus_store::Store;
use tokio::net::TcpListener;

pub async fn run(store: Store, args: ServeArgs) -> Result {
    let listener = bind(&args).await?;
    serve(store, listener).await
}

pub(super) async fn bind(args: &ServeArgs) -> Result<TcpListener> {
    TcpListener::bind(args.listen)
        .await
        .map_err(|e| CliError::Io(format!("cannot listen on {}: {e}", args.listen)))
}

pub(super) async fn serve(store: Store, listener: TcpListener) -> Result {
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Io(e.to_string()))?;
    tracing::info!(%addr, "serving the API at http://<tenant>.localhost:{}/api/v1", addr.port());
    let app = mobieus_web::router(mobieus_web::AppState::new(store));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| CliError::Io(format!("server failed: {e}")))
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
