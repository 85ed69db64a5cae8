//! The Prometheus scrape endpoint for self-metrics (`service.telemetry.metrics`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::MetricsRegistry;

/// The running metrics endpoint; aborted on drop.
pub struct MetricsServer {
    /// The bound address.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `addr` and serves `GET /metrics`.
pub async fn serve_metrics(
    addr: &str,
    registry: Arc<MetricsRegistry>,
    counter_suffix: bool,
) -> std::io::Result<MetricsServer> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let body = registry.render(counter_suffix);
            async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response() }
        }),
    );
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "Metrics endpoint stopped.");
        }
    });
    Ok(MetricsServer { addr: bound, task })
}
