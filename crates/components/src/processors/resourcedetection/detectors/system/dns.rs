//! A small DNS stub resolver for the `system` detector's `cname` and `lookup` hostname
//! sources and the DNS steps of `dns`: what Go's `net.LookupCNAME` and `net.LookupAddr`
//! do with the pure-Go resolver the Collector uses on Linux: the servers, search list and
//! `ndots` of `/etc/resolv.conf`, one UDP query at a time, A then AAAA for a canonical
//! name, PTR for a reverse lookup. No TCP retry, no EDNS: enough for one host name at start.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_PTR: u16 = 12;
const TYPE_AAAA: u16 = 28;

/// Servers and search rules from `resolv.conf`.
#[derive(Clone, Debug)]
pub struct Resolver {
    /// Name servers, tried in order.
    pub servers: Vec<SocketAddr>,
    /// Search domains for names with fewer than `ndots` dots.
    pub search: Vec<String>,
    /// `options ndots:n` (default 1).
    pub ndots: usize,
    /// Per-query wait.
    pub timeout: Duration,
}

impl Resolver {
    /// From the text of `/etc/resolv.conf`; `127.0.0.1` when it names no server (as Go).
    pub fn from_resolv_conf(text: &str) -> Self {
        let mut r = Resolver { servers: Vec::new(), search: Vec::new(), ndots: 1, timeout: Duration::from_secs(1) };
        for line in text.lines() {
            let mut f = line.split_whitespace();
            match f.next() {
                Some("nameserver") => {
                    if let Some(ip) = f.next().and_then(|s| s.parse::<IpAddr>().ok()) {
                        r.servers.push(SocketAddr::new(ip, 53));
                    }
                }
                Some("search") => r.search = f.map(|d| d.trim_end_matches('.').to_string()).collect(),
                Some("domain") => {
                    r.search = f.next().map(|d| vec![d.trim_end_matches('.').to_string()]).unwrap_or_default()
                }
                Some("options") => {
                    for o in f {
                        if let Some(n) = o.strip_prefix("ndots:").and_then(|n| n.parse().ok()) {
                            r.ndots = n;
                        }
                    }
                }
                _ => {}
            }
        }
        if r.servers.is_empty() {
            r.servers.push(SocketAddr::from(([127, 0, 0, 1], 53)));
        }
        r
    }

    /// The fully qualified names to try for `host`, in Go's order.
    fn candidates(&self, host: &str) -> Vec<String> {
        if host.ends_with('.') {
            return vec![host.to_string()];
        }
        let searched = self.search.iter().map(|d| format!("{host}.{d}."));
        if host.matches('.').count() >= self.ndots {
            std::iter::once(format!("{host}.")).chain(searched).collect()
        } else {
            searched.chain(std::iter::once(format!("{host}."))).collect()
        }
    }

    /// The canonical name of `host` (the end of its CNAME chain), without the final dot.
    pub async fn canonical_name(&self, host: &str) -> Result<String, String> {
        for name in self.candidates(host) {
            for qtype in [TYPE_A, TYPE_AAAA] {
                match self.query(&name, qtype).await {
                    Ok(records) if records.iter().any(|r| r.rtype == qtype) => {
                        let mut canonical = name.clone();
                        for r in &records {
                            if r.rtype == TYPE_CNAME && r.name.eq_ignore_ascii_case(&canonical) {
                                if let Some(target) = &r.target {
                                    canonical.clone_from(target);
                                }
                            }
                        }
                        return Ok(canonical.trim_end_matches('.').to_string());
                    }
                    Ok(_) => {}
                    // The servers do not answer: asking for other names will not help.
                    Err(e) => return Err(e),
                }
            }
        }
        Err(format!("no such host {host}"))
    }

    /// The first name of `ip`'s PTR record, without the final dot.
    pub async fn reverse(&self, ip: IpAddr) -> Result<String, String> {
        let records = self.query(&arpa(ip), TYPE_PTR).await?;
        records
            .into_iter()
            .find(|r| r.rtype == TYPE_PTR)
            .and_then(|r| r.target)
            .map(|t| t.trim_end_matches('.').to_string())
            .ok_or_else(|| format!("no PTR record for {ip}"))
    }

    async fn query(&self, name: &str, qtype: u16) -> Result<Vec<Record>, String> {
        let id =
            (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(7)
                & 0xffff) as u16;
        let packet = encode_query(id, name, qtype)?;
        let mut last = String::from("no name server");
        for server in &self.servers {
            let bind: SocketAddr = if server.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
            let attempt = async {
                // Connected, so a closed port fails at once instead of at the timeout.
                let sock = tokio::net::UdpSocket::bind(bind).await.map_err(|e| e.to_string())?;
                sock.connect(server).await.map_err(|e| e.to_string())?;
                sock.send(&packet).await.map_err(|e| e.to_string())?;
                let mut buf = vec![0u8; 4096];
                loop {
                    let n = sock.recv(&mut buf).await.map_err(|e| e.to_string())?;
                    if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) == id {
                        return decode_answers(&buf[..n]);
                    }
                }
            };
            match tokio::time::timeout(self.timeout, attempt).await {
                Ok(Ok(records)) => return Ok(records),
                Ok(Err(e)) => last = format!("{server}: {e}"),
                Err(_) => last = format!("{server}: no answer for {name}"),
            }
        }
        Err(last)
    }
}

/// The reverse-lookup name of `ip`.
fn arpa(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::new();
            for byte in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            s + "ip6.arpa."
        }
    }
}

/// One answer record: its owner name, type, and for CNAME/PTR the name it points to.
#[derive(Debug)]
struct Record {
    name: String,
    rtype: u16,
    target: Option<String>,
}

fn encode_query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, String> {
    let mut p = Vec::with_capacity(64);
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; one question
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("invalid DNS name {name:?}"));
        }
        p.push(label.len() as u8);
        p.extend_from_slice(label.as_bytes());
    }
    p.push(0);
    p.extend_from_slice(&qtype.to_be_bytes());
    p.extend_from_slice(&1u16.to_be_bytes()); // IN
    Ok(p)
}

fn u16_at(p: &[u8], i: usize) -> Result<u16, String> {
    p.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]])).ok_or_else(|| "truncated DNS answer".to_string())
}

/// Reads the (possibly compressed) name at `i`; returns it with a final dot and the
/// offset after it in place.
fn read_name(p: &[u8], mut i: usize) -> Result<(String, usize), String> {
    let mut name = String::new();
    let mut end = None;
    for _ in 0..128 {
        let len = *p.get(i).ok_or("truncated DNS name")? as usize;
        if len == 0 {
            return Ok((if name.is_empty() { ".".to_string() } else { name }, end.unwrap_or(i + 1)));
        }
        if len & 0xc0 == 0xc0 {
            let ptr = (u16_at(p, i)? & 0x3fff) as usize;
            end.get_or_insert(i + 2);
            i = ptr;
            continue;
        }
        let label = p.get(i + 1..i + 1 + len).ok_or("truncated DNS label")?;
        name.push_str(&String::from_utf8_lossy(label));
        name.push('.');
        i += 1 + len;
    }
    Err("DNS name loop".to_string())
}

fn decode_answers(p: &[u8]) -> Result<Vec<Record>, String> {
    let flags = u16_at(p, 2)?;
    match flags & 0xf {
        0 => {}
        // No such name: no records, so the next candidate is tried.
        3 => return Ok(Vec::new()),
        rcode => return Err(format!("DNS error code {rcode}")),
    }
    let (qd, an) = (u16_at(p, 4)?, u16_at(p, 6)?);
    let mut i = 12;
    for _ in 0..qd {
        i = read_name(p, i)?.1 + 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        let (name, next) = read_name(p, i)?;
        let rtype = u16_at(p, next)?;
        let len = u16_at(p, next + 8)? as usize;
        let data = next + 10;
        if data + len > p.len() {
            return Err("truncated DNS record".to_string());
        }
        let target = match rtype {
            TYPE_CNAME | TYPE_PTR => Some(read_name(p, data)?.0),
            _ => None,
        };
        out.push(Record { name, rtype, target });
        i = data + len;
    }
    Ok(out)
}

#[cfg(test)]
pub mod standin {
    //! A DNS server stand-in on 127.0.0.1 answering from a fixed table (RFC 1035 wire
    //! format: the query's header and question echoed, answers with uncompressed names).

    use std::net::SocketAddr;

    use super::*;

    /// (owner, type, data): data is a name for CNAME/PTR, 4 bytes for A.
    pub type Table = Vec<(&'static str, u16, Vec<u8>)>;

    fn name_bytes(name: &str) -> Vec<u8> {
        let mut v = Vec::new();
        for l in name.trim_end_matches('.').split('.') {
            v.push(l.len() as u8);
            v.extend_from_slice(l.as_bytes());
        }
        v.push(0);
        v
    }

    /// Serves `table`; returns its address.
    pub async fn serve(table: Table) -> SocketAddr {
        let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let addr = sock.local_addr().expect("addr");
        tokio::spawn(async move {
            let mut buf = vec![0u8; 1500];
            while let Ok((n, from)) = sock.recv_from(&mut buf).await {
                let q = &buf[..n];
                let Ok((qname, end)) = read_name(q, 12) else { continue };
                let Ok(qtype) = u16_at(q, end) else { continue };
                // Follow a CNAME for address queries, as a recursive server does.
                let mut answers: Vec<(String, u16, Vec<u8>)> = Vec::new();
                let mut owner = qname.clone();
                for _ in 0..4 {
                    let hit = table
                        .iter()
                        .find(|(o, t, _)| o.eq_ignore_ascii_case(&owner) && (*t == qtype || *t == TYPE_CNAME));
                    let Some((o, t, data)) = hit else { break };
                    answers.push((o.to_string(), *t, data.clone()));
                    if *t != TYPE_CNAME || qtype == TYPE_CNAME {
                        break;
                    }
                    owner = String::from_utf8_lossy(data).into_owned();
                }
                let known = table.iter().any(|(o, _, _)| o.eq_ignore_ascii_case(&qname));
                let mut r = q[..end + 4].to_vec();
                r[2] = 0x81;
                r[3] = if known || !answers.is_empty() { 0x80 } else { 0x83 };
                r[6..8].copy_from_slice(&(answers.len() as u16).to_be_bytes());
                for (o, t, data) in answers {
                    r.extend(name_bytes(&o));
                    r.extend_from_slice(&t.to_be_bytes());
                    r.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
                    let rdata = if t == TYPE_A { data } else { name_bytes(&String::from_utf8_lossy(&data)) };
                    r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
                    r.extend(rdata);
                }
                let _ = sock.send_to(&r, from).await;
            }
        });
        addr
    }

    /// A CNAME entry.
    pub fn cname(owner: &'static str, target: &str) -> (&'static str, u16, Vec<u8>) {
        (owner, TYPE_CNAME, target.as_bytes().to_vec())
    }

    /// A PTR entry.
    pub fn ptr(owner: &'static str, target: &str) -> (&'static str, u16, Vec<u8>) {
        (owner, TYPE_PTR, target.as_bytes().to_vec())
    }

    /// An A entry.
    pub fn a(owner: &'static str, ip: [u8; 4]) -> (&'static str, u16, Vec<u8>) {
        (owner, TYPE_A, ip.to_vec())
    }
}
