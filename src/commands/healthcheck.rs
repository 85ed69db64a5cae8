//! `switchyard healthcheck`: one HTTP GET to the health_check extension, exit 0 on 200.
//! Minimal images (scratch, distroless) have no curl or wget, so a container HEALTHCHECK,
//! a systemd watchdog script or an exec probe calls the binary itself. Plain HTTP/1.1 over
//! a tokio TCP stream: the extension listens on loopback or the pod network, and a client
//! library would add weight to every image for one request.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cli::HealthcheckArgs;

/// The parts of an `http://` URL the request needs.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    /// Host as written (brackets of an IPv6 literal kept, for the Host header).
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Result<Target> {
    let Some(rest) = url.strip_prefix("http://") else {
        if url.starts_with("https://") {
            bail!("{url}: https is not supported; health_check serves plain HTTP unless its `tls` is set, so point the check at a plain-HTTP health endpoint");
        }
        bail!("{url}: expected http://host:port/path");
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        bail!("{url}: no host");
    }
    // `[::1]:13133`, `host:13133`, `host` (port 80).
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, p.parse::<u16>().with_context(|| format!("{url}: bad port {p:?}"))?),
        _ => (authority, 80),
    };
    Ok(Target { host: host.to_string(), port, path: path.to_string() })
}

/// The status code of an HTTP/1.x response's first line.
fn status_of(head: &str) -> Option<u16> {
    let line = head.lines().next()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

async fn get(target: &Target) -> Result<(u16, String)> {
    let connect_host = target.host.trim_start_matches('[').trim_end_matches(']');
    let mut stream = TcpStream::connect((connect_host, target.port))
        .await
        .with_context(|| format!("cannot connect to {}:{}", target.host, target.port))?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: switchyard-healthcheck\r\nConnection: close\r\n\r\n",
        target.path, target.host, target.port
    );
    stream.write_all(request.as_bytes()).await.context("cannot send the request")?;
    let mut response = Vec::new();
    // The status body is a small JSON document; cap what is read so a wrong port that
    // streams forever cannot hold the check.
    stream.take(64 * 1024).read_to_end(&mut response).await.context("cannot read the response")?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = status_of(&text).with_context(|| format!("not an HTTP response: {:?}", first_line(&text)))?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.trim().to_string()).unwrap_or_default();
    Ok((status, body))
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Exit 0 when the endpoint answers 200; 1 with the reason on stderr otherwise.
pub async fn healthcheck(args: &HealthcheckArgs) -> Result<ExitCode> {
    let target = parse_url(&args.url)?;
    let timeout = humantime::parse_duration(&args.timeout).context("--timeout")?;
    match tokio::time::timeout(timeout, get(&target)).await {
        Err(_) => bail!("{}: no answer within {}", args.url, humantime::format_duration(timeout)),
        Ok(Err(e)) => Err(e.context(format!("{}: unhealthy", args.url))),
        Ok(Ok((200, _))) => {
            eprintln!("{}: healthy (HTTP 200)", args.url);
            Ok(ExitCode::SUCCESS)
        }
        Ok(Ok((status, body))) => {
            eprintln!("{}: unhealthy (HTTP {status}) {body}", args.url);
            Ok(ExitCode::from(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_host_port_and_path() {
        let t = parse_url("http://127.0.0.1:13133/").unwrap();
        assert_eq!(t, Target { host: "127.0.0.1".into(), port: 13133, path: "/".into() });
        let t = parse_url("http://gateway:13133/health/status").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("gateway", 13133, "/health/status"));
        let t = parse_url("http://[::1]:13133").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("[::1]", 13133, "/"));
        assert_eq!(parse_url("http://localhost").unwrap().port, 80);
    }

    #[test]
    fn unsupported_urls_say_why() {
        assert!(parse_url("https://127.0.0.1:13133/").unwrap_err().to_string().contains("https is not supported"));
        assert!(parse_url("127.0.0.1:13133").unwrap_err().to_string().contains("expected http://"));
        assert!(parse_url("http://host:port/").unwrap_err().to_string().contains("bad port"));
    }

    #[test]
    fn status_lines_are_read() {
        assert_eq!(status_of("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"), Some(200));
        assert_eq!(status_of("HTTP/1.1 503 Service Unavailable\r\n\r\n"), Some(503));
        assert_eq!(status_of("SSH-2.0-OpenSSH_9.2\r\n"), None);
        assert_eq!(status_of(""), None);
    }
}
