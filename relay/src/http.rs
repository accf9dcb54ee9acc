//! The HTTP side: the routes (`/v1/ws`, `/healthz`, `/metrics`, and the dashboard's files at
//! `/` when a web root is set) and serving one accepted connection with hyper.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Router,
    extract::{ConnectInfo, Extension, State, WebSocketUpgrade},
    http::{Uri, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::get,
};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    sync::OwnedSemaphorePermit,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_service::Service as _;
use tracing::debug;

use crate::{connection, hub::Hub, web};

/// What the route handlers share.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) hub: Arc<Hub>,
    /// Cancelled when the server drains: connections close with "going away".
    pub(crate) drain: CancellationToken,
    /// Cancelled when the server stops for good: every task ends at once.
    pub(crate) stop: CancellationToken,
    /// Tracks every connection task, so shutdown can wait for them.
    pub(crate) tracker: TaskTracker,
}

/// One slot of the server's connection limit, held as long as the connection lives (past the
/// WebSocket upgrade too).
#[derive(Debug, Clone)]
struct Slot(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

pub(crate) fn router(app: App) -> Router {
    let router = Router::new()
        .route("/v1/ws", get(upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics));
    let router = match app.hub.cfg.web_root.clone() {
        Some(root) => {
            let csp = web::policy(&app.hub.audience);
            router.fallback(get(move |uri: Uri| async move {
                web::serve(&root, &uri, csp).await
            }))
        }
        None => router,
    };
    router.with_state(app)
}

async fn metrics(State(app): State<App>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        app.hub.metrics.render(),
    )
        .into_response()
}

async fn upgrade(
    State(app): State<App>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Extension(slot): Extension<Slot>,
    ws: WebSocketUpgrade,
) -> Response {
    let cfg = &app.hub.cfg;
    let token = app.tracker.token();
    ws.max_message_size(cfg.max_frame_len)
        .max_frame_size(cfg.max_frame_len)
        .read_buffer_size(cfg.read_buffer_len)
        .on_upgrade(move |socket| async move {
            let _held = (token, slot);
            tokio::select! {
                () = connection::run(socket, app.hub, app.drain, remote) => {}
                () = app.stop.cancelled() => {}
            }
        })
}

/// Serves HTTP/1.1 on one accepted (and, with TLS, decrypted) connection until it ends, is
/// upgraded to a WebSocket, or the server drains or stops.
pub(crate) async fn serve<IO>(
    io: IO,
    remote: SocketAddr,
    permit: OwnedSemaphorePermit,
    router: Router,
    app: &App,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let slot = Slot(Arc::new(permit));
    let service = service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        req.extensions_mut().insert(slot.clone());
        // A `Router` is always ready, so `call` needs no `poll_ready` first.
        router.clone().call(req)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(app.hub.cfg.handshake_timeout);
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::select! {
        served = conn => if let Err(e) = served {
            debug!(%remote, error = %e, "HTTP connection failed");
        },
        () = app.drain.cancelled() => {}
        () = app.stop.cancelled() => {}
    }
}
