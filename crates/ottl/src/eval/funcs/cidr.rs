//! IP networks as Go's `net.ParseCIDR` and `IPNet.Contains` see them, for `IsInCIDR`: an
//! IPv4 address written as IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is the IPv4 address.

use std::net::IpAddr;

use crate::eval::EvalError;

/// An address as 4 bytes (IPv4, also when IPv4-mapped) or 16 (IPv6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ip {
    V4([u8; 4]),
    V6([u8; 16]),
}

impl Ip {
    fn octets(&self) -> &[u8] {
        match self {
            Ip::V4(o) => o,
            Ip::V6(o) => o,
        }
    }
}

/// Go's `net.ParseIP` (dotted IPv4 or IPv6 text), or `None`.
pub(crate) fn parse_ip(s: &str) -> Option<Ip> {
    match s.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(Ip::V4(v4.octets())),
        IpAddr::V6(v6) => Some(match v6.to_ipv4_mapped() {
            Some(v4) => Ip::V4(v4.octets()),
            None => Ip::V6(v6.octets()),
        }),
    }
}

/// A network: its address and prefix length.
#[derive(Debug, Clone)]
pub(crate) struct Cidr {
    net: Ip,
    bits: u32,
}

impl Cidr {
    /// Parses `addr/bits`, with Go's error text.
    pub(crate) fn parse(s: &str) -> Result<Cidr, EvalError> {
        let bad = || EvalError::new(format!("invalid CIDR address: {s}"));
        let (addr, bits) = s.split_once('/').ok_or_else(bad)?;
        if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) || (bits.len() > 1 && bits.starts_with('0')) {
            return Err(bad());
        }
        let bits: u32 = bits.parse().map_err(|_| bad())?;
        // An IPv4-mapped network keeps its IPv6 prefix length in Go; count it from the
        // start of the mapped part.
        let mapped_v6 = addr.contains(':');
        let net = parse_ip(addr).ok_or_else(bad)?;
        let (net, bits) = match net {
            Ip::V4(o) if mapped_v6 => {
                if !(96..=128).contains(&bits) {
                    return Err(bad());
                }
                (Ip::V4(o), bits - 96)
            }
            other => (other, bits),
        };
        if bits as usize > net.octets().len() * 8 {
            return Err(bad());
        }
        Ok(Cidr { net, bits })
    }

    /// Whether `ip` is in the network (an IPv4 address is never in an IPv6 network).
    pub(crate) fn contains(&self, ip: &Ip) -> bool {
        let (a, b) = (self.net.octets(), ip.octets());
        if a.len() != b.len() {
            return false;
        }
        let full = (self.bits / 8) as usize;
        if a[..full] != b[..full] {
            return false;
        }
        let rest = self.bits % 8;
        rest == 0 || {
            let mask = 0xffu8 << (8 - rest);
            a[full] & mask == b[full] & mask
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_as_go() {
        let net = Cidr::parse("10.0.0.0/8").unwrap_or_else(|e| panic!("{e}"));
        assert!(parse_ip("10.255.0.1").is_some_and(|ip| net.contains(&ip)));
        assert!(!parse_ip("11.0.0.1").is_some_and(|ip| net.contains(&ip)));
        let odd = Cidr::parse("192.168.4.0/22").unwrap_or_else(|e| panic!("{e}"));
        assert!(parse_ip("192.168.7.255").is_some_and(|ip| odd.contains(&ip)));
        assert!(!parse_ip("192.168.8.0").is_some_and(|ip| odd.contains(&ip)));
        let all = Cidr::parse("0.0.0.0/0").unwrap_or_else(|e| panic!("{e}"));
        assert!(parse_ip("1.2.3.4").is_some_and(|ip| all.contains(&ip)));
        let v6 = Cidr::parse("2001:db8::/32").unwrap_or_else(|e| panic!("{e}"));
        assert!(!parse_ip("10.0.0.1").is_some_and(|ip| v6.contains(&ip)));
        for bad in ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/x", "nope/8", "10.0.0.0/08"] {
            assert_eq!(
                Cidr::parse(bad).err().map(|e| e.message().to_string()),
                Some(format!("invalid CIDR address: {bad}"))
            );
        }
    }
}
