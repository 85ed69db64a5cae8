//! The DNS half of the `system` detector's `cname`, `lookup` and `dns` hostname sources, on
//! hickory-resolver: what Go's pure resolver (the Collector's on Linux) does for
//! `net.LookupCNAME`, `net.LookupHost` and `net.LookupAddr` once the hosts file has had
//! its say. The hosts file itself is read by the detector (from its root), so the resolver
//! never reads `/etc/hosts`: tests stay hermetic and the order stays Go's (files, then DNS).

use std::net::IpAddr;

use hickory_resolver::config::{ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;

/// Go's name servers when `resolv.conf` names none (`defaultNS`).
const DEFAULT_SERVERS: &str = "nameserver 127.0.0.1\nnameserver ::1\n";

/// A resolver with the servers, search list and options of one `resolv.conf`. Behind an
/// `Arc`: hickory's resolver is a few hundred bytes and the detector enum holds one.
#[derive(Clone)]
pub struct Resolver {
    inner: std::sync::Arc<TokioResolver>,
}

impl Resolver {
    /// From the text of `resolv.conf`; `127.0.0.1` and `::1` when it names no server, as Go.
    pub fn from_resolv_conf(text: &str) -> Result<Self, String> {
        let (config, opts) = parse(text)?;
        Self::build(config, opts)
    }

    /// As [`Resolver::from_resolv_conf`], every server asked on `port` instead of 53 (a test
    /// server on a free port: `resolv.conf` has no way to say it).
    #[cfg(test)]
    pub fn from_resolv_conf_on_port(text: &str, port: u16) -> Result<Self, String> {
        let (mut config, opts) = parse(text)?;
        let servers = config
            .name_servers()
            .iter()
            .cloned()
            .map(|mut s| {
                s.connections.iter_mut().for_each(|c| c.port = port);
                s
            })
            .collect();
        config = ResolverConfig::from_parts(config.domain().cloned(), config.search().to_vec(), servers);
        Self::build(config, opts)
    }

    fn build(config: ResolverConfig, mut opts: ResolverOpts) -> Result<Self, String> {
        // The detector reads the hosts file first itself.
        opts.use_hosts_file = ResolveHosts::Never;
        let mut builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        *builder.options_mut() = opts;
        let inner = builder.build().map_err(|e| format!("DNS resolver: {e}"))?;
        Ok(Resolver { inner: std::sync::Arc::new(inner) })
    }

    /// The canonical name of `host` (`net.LookupCNAME`): the owner of the address records at
    /// the end of its CNAME chain, over the search list, A before AAAA; no final dot.
    pub async fn canonical_name(&self, host: &str) -> Result<String, String> {
        let found = self.inner.lookup_ip(host).await.map_err(|e| e.to_string())?;
        found
            .as_lookup()
            .answers()
            .iter()
            .find(|r| matches!(r.record_type(), RecordType::A | RecordType::AAAA))
            .map(|r| trim_dot(r.name.to_string()))
            .ok_or_else(|| format!("no such host {host}"))
    }

    /// The addresses of `host` (`net.LookupHost` after the hosts file): IPv4, then IPv6.
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let (v4, v6) = tokio::join!(self.inner.ipv4_lookup(host), self.inner.ipv6_lookup(host));
        let mut out = Vec::new();
        let mut last = None;
        for found in [v4, v6] {
            match found {
                Ok(l) => out.extend(l.answers().iter().filter_map(|r| r.data.ip_addr())),
                Err(e) => last = Some(e.to_string()),
            }
        }
        match (out.is_empty(), last) {
            (true, Some(e)) => Err(e),
            (true, None) => Err(format!("no such host {host}")),
            (false, _) => Ok(out),
        }
    }

    /// The first name of `ip`'s PTR records (`net.LookupAddr` after the hosts file); no final dot.
    pub async fn reverse(&self, ip: IpAddr) -> Result<String, String> {
        let found = self.inner.reverse_lookup(ip).await.map_err(|e| e.to_string())?;
        found
            .answers()
            .iter()
            .find_map(|r| match &r.data {
                RData::PTR(name) => Some(trim_dot(name.0.to_string())),
                _ => None,
            })
            .ok_or_else(|| format!("no PTR record for {ip}"))
    }
}

/// hickory's own `resolv.conf` reading; when that finds no usable server, Go's defaults.
fn parse(text: &str) -> Result<(ResolverConfig, ResolverOpts), String> {
    use hickory_resolver::system_conf::parse_resolv_conf;
    parse_resolv_conf(text)
        .or_else(|_| parse_resolv_conf(format!("{text}\n{DEFAULT_SERVERS}")))
        .map_err(|e| format!("resolv.conf: {e}"))
}

fn trim_dot(mut name: String) -> String {
    if name.len() > 1 && name.ends_with('.') {
        name.pop();
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_without_a_server_uses_go_defaults() {
        let ips = |text: &str| -> Vec<IpAddr> {
            parse(text).expect("parses").0.name_servers().iter().map(|s| s.ip).collect()
        };
        assert_eq!(ips(""), vec![IpAddr::from([127, 0, 0, 1]), "::1".parse().expect("ip")]);
        assert_eq!(ips("search corp.example\n"), vec![IpAddr::from([127, 0, 0, 1]), "::1".parse().expect("ip")]);
        assert_eq!(ips("nameserver 10.0.0.2\n"), vec![IpAddr::from([10, 0, 0, 2])]);
        let (config, opts) = parse("search a.example b.example.\noptions ndots:2 timeout:1\n").expect("parses");
        let search: Vec<String> = config.search().iter().map(|n| n.to_string()).collect();
        assert_eq!(search, vec!["a.example", "b.example."]);
        assert_eq!((opts.ndots, opts.timeout), (2, std::time::Duration::from_secs(1)));
    }
}
