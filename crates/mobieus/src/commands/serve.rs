//! `mobieus serve`: the API and docs over HTTP, and the delivery worker (unless
//! `--no-worker`), until SIGINT or SIGTERM.

use super::worker;
use crate::Result;
use crate::cli::ServeArgs;
use crate::error::CliError;
use mobieus_core::url_guard::UrlGuard;
use mobieus_store::Store;
use tokio::net::TcpListener;

pub async fn run(store: Store, args: ServeArgs) -> Result {
    let listener = bind(&args).await?;
    let guard = worker::guard(&args.webhooks);
    serve(store, listener, &args, guard).await
}

pub(super) async fn bind(args: &ServeArgs) -> Result<TcpListener> {
    TcpListener::bind(args.listen)
        .await
        .map_err(|e| CliError::Io(format!("cannot listen on {}: {e}", args.listen)))
}

pub(super) async fn serve(
    store: Store,
    listener: TcpListener,
    args: &ServeArgs,
    guard: UrlGuard,
) -> Result {
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Io(e.to_string()))?;
    let stop = worker::shutdown_signal();
    let delivery = if args.no_worker {
        tracing::info!("delivery worker off (--no-worker): run `mobieus worker` beside this");
        None
    } else {
        let w = worker::build(&store, &guard, &args.webhooks, &args.worker)?;
        let stop = stop.clone();
        Some(tokio::spawn(
            async move { w.run(worker::stopped(stop)).await },
        ))
    };
    tracing::info!(%addr, "serving the forum at http://<tenant>.localhost:{0}/ and the API at http://<tenant>.localhost:{0}/api/v1", addr.port());
    let app = mobieus_web::router(mobieus_web::AppState::new(store, guard));
    // The peer's address reaches the handlers (the login throttle counts by it).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(worker::stopped(stop))
        .await
        .map_err(|e| CliError::Io(format!("server failed: {e}")));
    if let Some(delivery) = delivery {
        // The worker saw the same signal; it finishes the attempts in flight.
        let _ = delivery.await;
    }
    served
}
