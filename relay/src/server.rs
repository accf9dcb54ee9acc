//! [`Server`]: binds, accepts, terminates TLS and owns every task of the relay.

use std::{io, net::SocketAddr, sync::Arc, time::Duration};

use selfos_proto::handshake::{Audience, AudienceError};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::Semaphore,
    task::JoinHandle,
    time::timeout,
};
use tokio_rustls::TlsAcceptor;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::{debug, info, warn};

use crate::{
    config::{InvalidConfig, RelayConfig},
    http::{self, App},
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
        let listener = TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| SpawnError::Bind {
                addr: cfg.listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| SpawnError::Bind {
            addr: cfg.listen,
            source,
        })?;
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
            app,
            accept: Some(accept),
        })
    }

    /// The address the relay listens on (with the actual port when the config said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
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

async fn accept_loop(listener: TcpListener, tls: Option<TlsAcceptor>, app: App) {
    let slots = Arc::new(Semaphore::new(app.hub.cfg.max_connections));
    let router = http::router(app.clone());
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
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            app.hub.metrics.reject(Rejection::MaxConnections);
            debug!(%remote, "connection limit reached, refusing");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (tls, router, task_app) = (tls.clone(), router.clone(), app.clone());
        app.tracker.spawn(async move {
            let app = task_app;
            match tls {
                None => http::serve(stream, remote, permit, router, &app).await,
                Some(acceptor) => {
                    if let Some(stream) = tls_handshake(&acceptor, stream, remote, &app).await {
                        http::serve(stream, remote, permit, router, &app).await;
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
