//! `resolver.dns`: the A and AAAA records of `hostname`, resolved at start and then every
//! `interval`, each address becoming `ip:port` (`[ip]:port` for IPv6).
//!
//! As the Collector (`resolver_dns.go`, Go's `LookupIPAddr`):
//! - A and AAAA are asked together; the union of what they return is the list. One of them
//!   failing while the other returns addresses still counts as a success (Go's default,
//!   non-strict behaviour), so an IPv4-only tier behind a server that fails AAAA still works.
//! - A failed resolution (timeout, SERVFAIL, NXDOMAIN) and an empty answer (the name exists
//!   but has no address) are both failures: counted in `otelcol_loadbalancer_num_resolutions`
//!   with `success="false"`, logged, and the last list stays. A DNS outage, or a moment where
//!   the record set is empty, never empties the ring.
//! - The whole resolution is bounded by `timeout`.
//!
//! Unlike a system resolver, nothing is cached between resolutions (cache size 0, TTLs capped
//! at 0): a member removed from DNS leaves the ring within one `interval`, whatever the TTL.
//!
//! Name servers are the system's (`/etc/resolv.conf`, with its search list and options, and
//! `/etc/hosts` first, as Go). The environment variable [`DNS_SERVER_ENV`]
//! (`SWITCHYARD_DNS_SERVER=ip:port`) replaces them with that one server, asked over UDP then
//! TCP, without search list or hosts file: how tests point the exporter at a DNS server on a
//! free loopback port.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::TokioResolver;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::{backends, Publisher, Resolver};
use crate::exporters::loadbalancing::config::DnsResolverConfig;

/// Overrides the system's name servers with one `ip:port` (UDP and TCP).
pub const DNS_SERVER_ENV: &str = "SWITCHYARD_DNS_SERVER";

/// Resolves `hostname` every `interval`.
pub struct DnsResolver {
    hostname: String,
    port: String,
    interval: Duration,
    timeout: Duration,
    dns: TokioResolver,
}

impl DnsResolver {
    /// A resolver for `resolver.dns`, on the system's name servers unless
    /// [`DNS_SERVER_ENV`] names one.
    pub fn new(cfg: &DnsResolverConfig) -> Result<DnsResolver, String> {
        let server = match std::env::var(DNS_SERVER_ENV) {
            Ok(s) if !s.trim().is_empty() => Some(
                s.trim()
                    .parse::<SocketAddr>()
                    .map_err(|e| format!("{DNS_SERVER_ENV}=\"{s}\": expected ip:port ({e})"))?,
            ),
            _ => None,
        };
        Ok(DnsResolver {
            hostname: cfg.hostname.trim().to_string(),
            port: cfg.port.0.trim().to_string(),
            interval: cfg.interval,
            timeout: cfg.timeout,
            dns: build_resolver(server, cfg.timeout)?,
        })
    }

    /// One resolution: the sorted `ip:port` list, or why there is none.
    async fn resolve(&self) -> Result<Vec<String>, String> {
        let ips = match self.hostname.parse::<IpAddr>() {
            // Go returns an IP literal as it is, without asking DNS.
            Ok(ip) => vec![ip],
            Err(_) => match tokio::time::timeout(self.timeout, self.lookup()).await {
                Ok(r) => r?,
                Err(_) => return Err(format!("resolving {} timed out after {:?}", self.hostname, self.timeout)),
            },
        };
        Ok(ips.into_iter().map(|ip| endpoint(ip, &self.port)).collect())
    }

    /// A and AAAA at once; their union, or an error when it is empty.
    async fn lookup(&self) -> Result<Vec<IpAddr>, String> {
        let host = self.hostname.as_str();
        let (v4, v6) = tokio::join!(self.dns.ipv4_lookup(host), self.dns.ipv6_lookup(host));
        let mut ips = Vec::new();
        let mut first_err = None;
        for found in [v4, v6] {
            match found {
                Ok(l) => ips.extend(l.answers().iter().filter_map(|r| r.data.ip_addr())),
                Err(e) => {
                    first_err.get_or_insert_with(|| e.to_string());
                }
            }
        }
        if ips.is_empty() {
            return Err(first_err.unwrap_or_else(|| format!("no address for {host}")));
        }
        Ok(ips)
    }
}

/// `ip:port`, with IPv6 addresses in brackets.
fn endpoint(ip: IpAddr, port: &str) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// hickory's resolver on `server` or the system's configuration, without a cache.
fn build_resolver(server: Option<SocketAddr>, timeout: Duration) -> Result<TokioResolver, String> {
    let (config, mut opts) = match server {
        Some(addr) => {
            let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
            ns.connections.iter_mut().for_each(|c| c.port = addr.port());
            let mut opts = ResolverOpts::default();
            opts.use_hosts_file = ResolveHosts::Never;
            (ResolverConfig::from_name_servers(vec![ns]), opts)
        }
        None => system_config(),
    };
    opts.cache_size = 0;
    opts.positive_max_ttl = Some(Duration::ZERO);
    opts.negative_max_ttl = Some(Duration::ZERO);
    // One query never outlives the whole resolution's budget.
    opts.timeout = opts.timeout.min(timeout);
    let mut builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
    *builder.options_mut() = opts;
    builder.build().map_err(|e| format!("DNS resolver: {e}"))
}

/// `/etc/resolv.conf` as hickory reads it; when it cannot be read or names no server, Go's
/// defaults (`127.0.0.1` and `::1` on port 53).
fn system_config() -> (ResolverConfig, ResolverOpts) {
    match hickory_resolver::system_conf::read_system_conf() {
        Ok((config, mut opts)) => {
            // Go reads /etc/hosts before DNS.
            opts.use_hosts_file = ResolveHosts::Always;
            (config, opts)
        }
        Err(e) => {
            tracing::warn!(error = %e, "Cannot read the system's DNS configuration; asking 127.0.0.1 and ::1.");
            let servers = [IpAddr::from([127, 0, 0, 1]), IpAddr::from(std::net::Ipv6Addr::LOCALHOST)]
                .into_iter()
                .map(NameServerConfig::udp_and_tcp)
                .collect();
            let mut opts = ResolverOpts::default();
            opts.use_hosts_file = ResolveHosts::Always;
            (ResolverConfig::from_name_servers(servers), opts)
        }
    }
}

impl Resolver for DnsResolver {
    fn name(&self) -> &'static str {
        "dns"
    }

    fn run(self: Arc<Self>, out: Publisher, stop: CancellationToken) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let mut tick = tokio::time::interval(self.interval);
            // A slow resolution delays the next one instead of causing a burst.
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.cancelled() => return,
                }
                let result = tokio::select! {
                    r = self.resolve() => r,
                    _ = stop.cancelled() => return,
                };
                match result {
                    Ok(list) => out.publish(backends(list)),
                    Err(e) => out.failed("dns", &format!("{}: {e}", self.hostname)),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_bracket_ipv6() {
        assert_eq!(endpoint("10.0.0.1".parse().unwrap(), "4317"), "10.0.0.1:4317");
        assert_eq!(endpoint("fd00::1".parse().unwrap(), "4317"), "[fd00::1]:4317");
    }

    #[tokio::test]
    async fn an_ip_literal_resolves_to_itself() {
        let cfg = DnsResolverConfig { hostname: "127.0.0.9".into(), ..Default::default() };
        let r = DnsResolver::new(&cfg).unwrap();
        assert_eq!(r.resolve().await.unwrap(), vec!["127.0.0.9:4317".to_string()]);
    }
}
