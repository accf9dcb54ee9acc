//! [`Server`]: binds, accepts, terminates TLS and owns every task of the relay.

use std::{io, net::SocketAddr, sync::Arc, time::Duration};

use selfos_proto::handshake::{Audience, AudienceError};
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
    time::timeout,
};
use tokio_rustls::TlsAcceptor;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::{debug, info, warn};

use crate::{
    admission::{Admission, Admit},
    config::{InvalidConfig, RelayConfig},
    http::{self, Admitted, App},
    hub::Hub,
    metrics::Rejection,
    store::{self, Store},
    tls::{self, TlsError},
};

/// Why [`Server::spawn`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// A setting is out of range.
    #[error(transparent)]
    Config(#[from] InvalidConfig),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The TLS certificate or key could not be loaded.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The audience derived from the listen address is not valid (set a public URL).
    #[error("no valid public URL: set one explicitly")]
    Audience(#[from] AudienceError),
    /// The blob store could not be opened.
    #[error("cannot open the store: {0}")]
    Store(String),
}

/// How a [`Server::shutdown`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Drained {
    /// Connections still open when the drain timeout ran out (they were then dropped).
    pub remaining: usize,
}

/// A running relay. Dropping it stops every task at once; [`Server::shutdown`] drains first.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    app: App,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Checks `cfg`, loads the TLS certificate if any, binds and starts accepting connections.
    pub async fn spawn(cfg: RelayConfig) -> Result<Self, SpawnError> {
        cfg.check()?;
        let tls = match (&cfg.tls_cert, &cfg.tls_key) {
            (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
            _ => None,
        };
        let (listener, local_addr) = bind(cfg.listen).await?;
        let metrics = match cfg.metrics_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        let audience = match &cfg.public_url {
            Some(url) => url.clone(),
            None => {
                let scheme = if cfg.tls() { "wss" } else { "ws" };
                if local_addr.ip().is_unspecified() {
                    warn!("no public URL set: challenges name {scheme}://{local_addr}");
                }
                format!("{scheme}://{local_addr}").parse::<Audience>()?
            }
        };
        let store = Store::open(&cfg.store)
            .await
            .map_err(|e| SpawnError::Store(e.to_string()))?;
        info!(%local_addr, %audience, tls = tls.is_some(), store = store.kind(), "relay listening");
        let app = App {
            hub: Arc::new(Hub::new(cfg, audience, Arc::new(store))),
            drain: CancellationToken::new(),
            stop: CancellationToken::new(),
            tracker: TaskTracker::new(),
        };
        let accept = tokio::spawn(accept_loop(listener, tls, app.clone()));
        let metrics_addr = metrics.as_ref().map(|(_, addr)| *addr);
        if let Some((listener, addr)) = metrics {
            info!(%addr, "metrics listening");
            let (router, stop) = (http::metrics_router(app.clone()), app.stop.clone());
            tokio::spawn(async move {
                let served = axum::serve(listener, router)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await;
                if let Err(e) = served {
                    warn!(error = %e, "metrics listener failed");
                }
            });
        }
        // The store's sweep and gauges end with the drain, or at once when the server is dropped.
        let (hub, drain, stop) = (app.hub.clone(), app.drain.clone(), app.stop.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = store::background(hub, drain) => {}
                () = stop.cancelled() => {}
            }
        });
        Ok(Self {
            local_addr,
            metrics_addr,
            app,
            accept: Some(accept),
        })
    }

    /// The address the relay listens on (with the actual port when the config said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address `/metrics` is served on when [`RelayConfig::metrics_listen`] is set (with the
    /// actual port when it said 0).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The audience every challenge names.
    pub fn audience(&self) -> &Audience {
        &self.app.hub.audience
    }

    /// Stops accepting, sends every connection `Error{ShuttingDown}` and the going-away close
    /// (4000), waits up to the drain timeout for them to close, then stops every task.
    pub async fn shutdown(mut self) -> Drained {
        if let Some(accept) = self.accept.take() {
            accept.abort();
            let _ = accept.await;
        }
        let app = &self.app;
        info!(
            connections = app.tracker.len(),
            "draining: stopped accepting, closing connections"
        );
        app.drain.cancel();
        app.tracker.close();
        let drained = timeout(app.hub.cfg.drain_timeout, app.tracker.wait()).await;
        let remaining = app.tracker.len();
        if drained.is_err() {
            warn!(
                remaining,
                "drain timeout: dropping the remaining connections"
            );
        }
        app.stop.cancel();
        info!("relay stopped");
        Drained { remaining }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        self.app.stop.cancel();
    }
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), SpawnError> {
    let bind_error = |source| SpawnError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    Ok((listener, local))
}

async fn accept_loop(listener: TcpListener, tls: Option<TlsAcceptor>, app: App) {
    let admission = Admission::new(&app.hub.cfg);
    let (router, refused_router) = (http::router(app.clone()), http::refused_router());
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (admitted, router) = match admission.admit(remote.ip()) {
            Admit::In(ticket, handshake) => (Admitted::In(ticket, handshake), router.clone()),
            Admit::Refused(refused) => {
                app.hub.metrics.reject(refused.why);
                debug!(%remote, reason = refused.why.label(), "connection refused");
                (Admitted::Refused(refused), refused_router.clone())
            }
            Admit::Dropped(why) => {
                app.hub.metrics.reject(why);
                debug!(%remote, reason = why.label(), "connection dropped");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (tls, task_app) = (tls.clone(), app.clone());
        app.tracker.spawn(async move {
            let app = task_app;
            match tls {
                None => http::serve(stream, remote, admitted, router, &app).await,
                Some(acceptor) => {
                    if let Some(stream) = tls_handshake(&acceptor, stream, remote, &app).await {
                        http::serve(stream, remote, admitted, router, &app).await;
                    }
                }
            }
        });
    }
}

async fn tls_handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
    remote: SocketAddr,
    app: &App,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let handshake = timeout(app.hub.cfg.handshake_timeout, acceptor.accept(stream));
    let result = tokio::select! {
        result = handshake => result,
        () = app.stop.cancelled() => return None,
        () = app.drain.cancelled() => return None,
    };
    match result {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(e)) => {
            app.hub.metrics.reject(Rejection::TlsHandshake);
            debug!(%remote, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            app.hub.metrics.reject(Rejection::HandshakeTimeout);
            debug!(%remote, "TLS handshake timed out");
            None
        }
    }
}
