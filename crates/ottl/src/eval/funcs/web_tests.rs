//! URL cases from upstream's func_url_test.go and the README; UserAgent cases from the
//! README (the parts this small parser covers).

use crate::eval::funcs::testlog::{err, get, map_len, ok};
use crate::eval::value::Value;

#[test]
fn url_simple() {
    let v = ok(r#"URL("http://www.example.com")"#);
    assert_eq!(get(&v, "url.original"), Some(Value::str("http://www.example.com")));
    assert_eq!(get(&v, "url.scheme"), Some(Value::str("http")));
    assert_eq!(get(&v, "url.domain"), Some(Value::str("www.example.com")));
    assert_eq!(get(&v, "url.path"), Some(Value::str("")));
    assert_eq!(map_len(&v), 4);
}

#[test]
fn url_all_parts() {
    let v = ok(r#"URL("http://myusername:mypassword@www.example.com:80/foo.gif?key1=val1&key2=val2#fragment")"#);
    assert_eq!(get(&v, "url.path"), Some(Value::str("/foo.gif")));
    assert_eq!(get(&v, "url.fragment"), Some(Value::str("fragment")));
    assert_eq!(get(&v, "url.extension"), Some(Value::str("gif")));
    assert_eq!(get(&v, "url.password"), Some(Value::str("mypassword")));
    assert_eq!(get(&v, "url.scheme"), Some(Value::str("http")));
    assert_eq!(get(&v, "url.port"), Some(Value::Int(80)));
    assert_eq!(get(&v, "url.user_info"), Some(Value::str("myusername:mypassword")));
    assert_eq!(get(&v, "url.domain"), Some(Value::str("www.example.com")));
    assert_eq!(get(&v, "url.query"), Some(Value::str("key1=val1&key2=val2")));
    assert_eq!(get(&v, "url.username"), Some(Value::str("myusername")));
    assert_eq!(map_len(&v), 11);
}

#[test]
fn url_edges() {
    let v = ok(r#"URL("https://[::1]:8443/a%20b/file.tar.gz")"#);
    assert_eq!(get(&v, "url.domain"), Some(Value::str("::1")));
    assert_eq!(get(&v, "url.port"), Some(Value::Int(8443)));
    assert_eq!(get(&v, "url.path"), Some(Value::str("/a b/file.tar.gz")));
    assert_eq!(get(&v, "url.extension"), Some(Value::str("gz")));
    let v = ok(r#"URL("/relative/path?x=1")"#);
    assert_eq!(get(&v, "url.scheme"), Some(Value::str("")));
    assert_eq!(get(&v, "url.path"), Some(Value::str("/relative/path")));
    assert_eq!(get(&v, "url.query"), Some(Value::str("x=1")));
    let v = ok(r#"URL("ftp://user@host/")"#);
    assert_eq!(get(&v, "url.user_info"), Some(Value::str("user")));
    assert_eq!(get(&v, "url.username"), Some(Value::str("user")));
    assert_eq!(get(&v, "url.password"), None);
    assert_eq!(err(r#"URL("")"#), "url cannot be empty");
    assert!(err(r#"URL("http://host:port/")"#).contains("invalid port"));
    assert!(err(r#"URL("://x")"#).contains("missing protocol scheme"));
    assert!(err(r#"URL("http://h/%zz")"#).contains("invalid URL escape"));
    assert_eq!(err("URL(1)"), "expected string but got int64");
}

#[test]
fn user_agent_readme_examples() {
    let v = ok(r#"UserAgent("curl/7.81.0")"#);
    assert_eq!(get(&v, "user_agent.name"), Some(Value::str("curl")));
    assert_eq!(get(&v, "user_agent.version"), Some(Value::str("7.81.0")));
    assert_eq!(get(&v, "user_agent.original"), Some(Value::str("curl/7.81.0")));
    assert_eq!(get(&v, "os.name"), Some(Value::str("Other")));
    assert_eq!(map_len(&v), 4);

    let v = ok(r#"UserAgent("Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0")"#);
    assert_eq!(get(&v, "user_agent.name"), Some(Value::str("Firefox")));
    assert_eq!(get(&v, "user_agent.version"), Some(Value::str("126.0")));
    assert_eq!(get(&v, "os.name"), Some(Value::str("Linux")));
    assert_eq!(get(&v, "os.version"), None);

    let v = ok(
        r#"UserAgent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36 Edg/91.0.864.59")"#,
    );
    assert_eq!(get(&v, "user_agent.name"), Some(Value::str("Edge")));
    assert_eq!(get(&v, "user_agent.version"), Some(Value::str("91.0.864")));
    assert_eq!(get(&v, "os.name"), Some(Value::str("Windows")));
    assert_eq!(get(&v, "os.version"), Some(Value::str("10")));
}

#[test]
fn user_agent_other_families() {
    let v = ok(
        r#"UserAgent("Mozilla/5.0 (iPhone; CPU iPhone OS 14_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.0.1 Mobile/15E148 Safari/604.1")"#,
    );
    assert_eq!(get(&v, "user_agent.name"), Some(Value::str("Mobile Safari")));
    assert_eq!(get(&v, "user_agent.version"), Some(Value::str("14.0.1")));
    assert_eq!(get(&v, "os.name"), Some(Value::str("iOS")));
    assert_eq!(get(&v, "os.version"), Some(Value::str("14.2")));
    let v = ok(
        r#"UserAgent("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Mobile Safari/537.36")"#,
    );
    assert_eq!(get(&v, "user_agent.name"), Some(Value::str("Chrome Mobile")));
    assert_eq!(get(&v, "os.name"), Some(Value::str("Android")));
    assert_eq!(get(&v, "os.version"), Some(Value::str("10")));
    let v = ok(r#"UserAgent("something odd")"#);
    assert_eq!(get(&v, "user_agent.name"), Some(Value::str("Other")));
    assert_eq!(get(&v, "user_agent.version"), Some(Value::str("")));
    assert_eq!(err("UserAgent(1)"), "expected string but got int64");
}
