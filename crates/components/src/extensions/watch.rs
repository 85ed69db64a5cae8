//! Re-reading a credentials file when it changes (token rotation without restart). Polling,
//! as the Collector's `reload_interval`: it also sees Kubernetes secret updates, which swap
//! a symlink rather than write the file.

use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often credential files are checked.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// Calls `on_change` with the new content each time the file at `path` reads differently
/// from `initial`, until `stop`. An unreadable file keeps the previous content (logged).
pub fn watch(
    who: String,
    path: PathBuf,
    initial: Vec<u8>,
    stop: CancellationToken,
    on_change: impl Fn(&[u8]) -> Result<(), String> + Send + 'static,
) {
    tokio::spawn(async move {
        let mut last = initial;
        let mut failing = false;
        let mut tick = tokio::time::interval(POLL_EVERY);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            match tokio::fs::read(&path).await {
                Ok(content) if content != last => match on_change(&content) {
                    Ok(()) => {
                        tracing::info!(extension = %who, file = %path.display(), "Credentials file reloaded.");
                        last = content;
                        failing = false;
                    }
                    Err(e) if !failing => {
                        tracing::warn!(extension = %who, file = %path.display(), error = %e,
                            "Credentials file changed but is not usable; keeping the previous credentials.");
                        failing = true;
                    }
                    Err(_) => {}
                },
                Ok(_) => failing = false,
                Err(e) if !failing => {
                    tracing::warn!(extension = %who, file = %path.display(), error = %e,
                        "Cannot read credentials file; keeping the previous credentials.");
                    failing = true;
                }
                Err(_) => {}
            }
        }
    });
}

/// Compares secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
