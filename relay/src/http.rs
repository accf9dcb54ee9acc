//! The HTTP side: the routes (`/v1/ws`, `/healthz`, `/metrics` unless it has a listener of its
//! own, and the dashboard's files at `/` when a web root is set), the routes of a refused
//! connection, and serving one accepted connection with hyper.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{
    Router,
    extract::{ConnectInfo, Extension, State, WebSocketUpgrade},
    http::{
        StatusCode, Uri,
        header::{CONTENT_TYPE, RETRY_AFTER},
    },
    response::{IntoResponse, Response},
    routing::get,
};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_service::Service as _;
use tracing::debug;

use crate::{
    admission::{HandshakeTicket, Refused, Ticket},
    connection,
    hub::Hub,
    metrics::Rejection,
    web,
};

/// How long a refused connection may take to send its one request.
const REFUSED_TIMEOUT: Duration = Duration::from_secs(2);

/// Seconds a refused client is asked to wait (`Retry-After`) before it tries again.
const RETRY_AFTER_SECS: &str = "30";

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

/// What an admitted connection holds, shared by its requests: its slot, held as long as the
/// connection lives (past the WebSocket upgrade too), and its handshake in flight, which the
/// WebSocket upgrade takes along until the `Join` is verified.
#[derive(Debug, Clone)]
struct Slot {
    _ticket: Arc<Ticket>,
    handshake: Arc<Mutex<Option<HandshakeTicket>>>,
}

/// How an accepted connection is served.
pub(crate) enum Admitted {
    /// Every route.
    In(Ticket, HandshakeTicket),
    /// `/healthz`, and the reason of the refusal for anything else; one request only.
    Refused(Refused),
}

/// The public routes.
pub(crate) fn router(app: App) -> Router {
    let router = Router::new()
        .route("/v1/ws", get(upgrade))
        .route("/healthz", get(healthz));
    let router = if app.hub.cfg.metrics_listen.is_none() {
        router.route("/metrics", get(metrics))
    } else {
        router
    };
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

/// The routes of the separate metrics listener.
pub(crate) fn metrics_router(app: App) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(app)
}

/// The routes of a refused connection: `/healthz` still answers (a full relay is a healthy
/// one), anything else gets the refusal's status.
pub(crate) fn refused_router() -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .fallback(refusal)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn refusal(Extension(why): Extension<Rejection>) -> Response {
    let (status, text) = match why {
        Rejection::AddressLimit => (
            StatusCode::TOO_MANY_REQUESTS,
            "too many connections from this address\n",
        ),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "the relay is full\n"),
    };
    (status, [(RETRY_AFTER, RETRY_AFTER_SECS)], text).into_response()
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
    let handshake = slot
        .handshake
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    ws.max_message_size(cfg.max_frame_len)
        .max_frame_size(cfg.max_frame_len)
        .read_buffer_size(cfg.read_buffer_len)
        .on_upgrade(move |socket| async move {
            let _held = (token, slot);
            tokio::select! {
                () = connection::run(socket, app.hub, app.drain, remote, handshake) => {}
                () = app.stop.cancelled() => {}
            }
        })
}

/// Serves HTTP/1.1 on one accepted (and, with TLS, decrypted) connection until it ends, is
/// upgraded to a WebSocket, or the server drains or stops.
pub(crate) async fn serve<IO>(
    io: IO,
    remote: SocketAddr,
    admitted: Admitted,
    router: Router,
    app: &App,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new());
    // What every request of the connection carries.
    let (slot, refused) = match admitted {
        Admitted::In(ticket, handshake) => {
            builder.header_read_timeout(app.hub.cfg.handshake_timeout);
            let slot = Slot {
                _ticket: Arc::new(ticket),
                handshake: Arc::new(Mutex::new(Some(handshake))),
            };
            (Some(slot), None)
        }
        Admitted::Refused(refused) => {
            builder
                .header_read_timeout(REFUSED_TIMEOUT.min(app.hub.cfg.handshake_timeout))
                .keep_alive(false);
            (None, Some(Arc::new(refused)))
        }
    };
    let service = service_fn(move |mut req: hyper::Request<Incoming>| {
        let extensions = req.extensions_mut();
        extensions.insert(ConnectInfo(remote));
        if let Some(slot) = &slot {
            extensions.insert(slot.clone());
        }
        if let Some(refused) = &refused {
            extensions.insert(refused.why);
        }
        // A `Router` is always ready, so `call` needs no `poll_ready` first.
        router.clone().call(req)
    });
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
