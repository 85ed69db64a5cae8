//! The process's listening TCP sockets, kept open across a configuration reload.
//!
//! A reload stops the old receivers before it starts the new ones (a persistent queue or a
//! port can only have one owner at a time). Closing a port in between would make clients
//! see "connection refused" for that moment. Instead, once [`retain_across_reloads`] has
//! been called (the `run` command does), every socket bound through [`bind`] is also held
//! here: when the new component binds the same address, it gets a duplicate of the very same
//! socket. Connections that arrive while nobody accepts wait in the kernel's backlog and are
//! accepted by the new receiver. After the new graph has started, [`release_unclaimed`]
//! closes the sockets no component of the new configuration bound.
//!
//! Without [`retain_across_reloads`] (unit tests, `validate`) [`bind`] is a plain bind and a
//! stopped component frees its port at once.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use tokio::net::TcpListener;

#[derive(Default)]
struct Pool {
    enabled: bool,
    /// One duplicate of each held socket, and whether the current generation bound it.
    held: HashMap<SocketAddr, (std::net::TcpListener, bool)>,
}

fn pool() -> MutexGuard<'static, Pool> {
    static POOL: OnceLock<Mutex<Pool>> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(Pool::default())).lock().unwrap_or_else(PoisonError::into_inner)
}

/// From now on, sockets bound through [`bind`] are held for the next configuration.
pub fn retain_across_reloads() {
    pool().enabled = true;
}

/// Starts a new configuration generation: every held socket counts as unclaimed until a
/// component of the new graph binds its address again.
pub fn begin_generation() {
    for (_, claimed) in pool().held.values_mut() {
        *claimed = false;
    }
}

/// Closes the held sockets the current generation did not bind (ports the new
/// configuration no longer uses); returns their addresses.
pub fn release_unclaimed() -> Vec<SocketAddr> {
    let mut p = pool();
    let gone: Vec<SocketAddr> = p.held.iter().filter(|(_, (_, claimed))| !claimed).map(|(a, _)| *a).collect();
    for a in &gone {
        p.held.remove(a);
    }
    gone
}

/// Binds `endpoint` (`host:port`, resolved as [`TcpListener::bind`] does: the first address
/// that binds wins), or hands out the socket already held for that address. Port 0 always
/// binds a fresh socket. Must be called inside a Tokio runtime.
pub async fn bind(endpoint: &str) -> io::Result<TcpListener> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(endpoint).await?.collect();
    if !pool().enabled {
        return TcpListener::bind(&addrs[..]).await;
    }
    for addr in &addrs {
        let mut p = pool();
        if let Some((held, claimed)) = p.held.get_mut(addr) {
            let dup = held.try_clone()?;
            *claimed = true;
            drop(p);
            dup.set_nonblocking(true)?;
            return TcpListener::from_std(dup);
        }
    }
    let listener = TcpListener::bind(&addrs[..]).await?;
    let local = listener.local_addr()?;
    if addrs.iter().any(|a| a.port() == 0) {
        return Ok(listener);
    }
    let std = listener.into_std()?;
    let held = std.try_clone()?;
    pool().held.insert(local, (held, true));
    TcpListener::from_std(std)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One test drives the process-wide pool from start to end, so no other test in this
    /// binary sees it enabled half-way (the others bind port 0, which is never held).
    #[tokio::test]
    async fn a_socket_survives_its_owner_and_is_released_when_unclaimed() {
        let port = crate::testing::free_port();
        let endpoint = format!("127.0.0.1:{port}");
        super::retain_across_reloads();
        let first = super::bind(&endpoint).await.unwrap();
        drop(first); // the old receiver stops accepting

        // A client connecting between the two owners is not refused: it waits in the backlog.
        let mut client = tokio::net::TcpStream::connect(&endpoint).await.expect("not refused");
        client.write_all(b"ping").await.unwrap();

        super::begin_generation();
        let second = super::bind(&endpoint).await.expect("the same socket, not EADDRINUSE");
        let (mut conn, _) = tokio::time::timeout(Duration::from_secs(5), second.accept()).await.unwrap().unwrap();
        let mut buf = [0u8; 4];
        conn.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        assert!(super::release_unclaimed().is_empty(), "claimed by the new generation");

        super::begin_generation();
        drop(second);
        assert_eq!(super::release_unclaimed(), vec![endpoint.parse().unwrap()]);
        let refused = tokio::net::TcpStream::connect(&endpoint).await;
        assert!(refused.is_err(), "released: the port is closed");
        // And free: a plain bind succeeds.
        std::net::TcpListener::bind(&endpoint).expect("port free again");
    }
}
