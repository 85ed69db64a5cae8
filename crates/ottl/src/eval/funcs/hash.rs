//! Hashes and encodings: `SHA1`, `SHA256`, `SHA512`, `MD5`, `FNV`, `Murmur3Hash`,
//! `Murmur3Hash128`, `XXH3`, `XXH128`, `Hex`, `Base64Encode`, `Base64Decode`, `Decode`.
//! Digests are lower-case hex of the same bytes upstream's Go libraries produce (murmur3
//! halves little-endian as `twmb/murmur3` is used there, xxh3 big-endian as `zeebo/xxh3`).
//! [`string_hasher`] lends the string hashes to `replace_pattern` and friends.

use std::borrow::Cow;
use std::io::Cursor;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use switchyard_pdata::value::hex_id;

use super::{like, Args, ConverterBuilder};
use crate::check::CheckError;
use crate::eval::expr::{ConverterFn, Expr};
use crate::eval::value::Value;
use crate::eval::EvalError;

pub(super) fn converter(name: &str) -> Option<ConverterBuilder> {
    Some(match name {
        "SHA1" | "SHA256" | "SHA512" | "MD5" | "Murmur3Hash" | "Murmur3Hash128" | "XXH3" | "XXH128" => hash,
        "FNV" => fnv,
        "Hex" => hex,
        "Base64Encode" => base64_encode,
        "Base64Decode" => base64_decode,
        "Decode" => decode,
        _ => return None,
    })
}

/// The converter `name` as a string-to-string function, for the optional `function`
/// argument of the pattern editors (`replace_pattern(…, SHA256)`): upstream calls the named
/// converter on each replacement, and only these return a string from a string.
pub(crate) fn string_hasher(name: &str) -> Option<fn(&str) -> String> {
    Some(match name {
        "SHA1" => |s| digest::<Sha1>(s),
        "SHA256" => |s| digest::<Sha256>(s),
        "SHA512" => |s| digest::<Sha512>(s),
        "MD5" => |s| digest::<Md5>(s),
        "Murmur3Hash" => murmur3_32,
        "Murmur3Hash128" => murmur3_128,
        "XXH3" => |s| hex_id(&xxhash_rust::xxh3::xxh3_64(s.as_bytes()).to_be_bytes()),
        "XXH128" => |s| hex_id(&xxhash_rust::xxh3::xxh3_128(s.as_bytes()).to_be_bytes()),
        _ => return None,
    })
}

fn digest<D: Digest>(s: &str) -> String {
    hex_id(&D::digest(s.as_bytes()))
}

fn murmur3_32(s: &str) -> String {
    // Reading from an in-memory slice cannot fail.
    let h = murmur3::murmur3_32(&mut Cursor::new(s.as_bytes()), 0).unwrap_or_default();
    hex_id(&h.to_le_bytes())
}

/// Upstream writes the two 64-bit halves each little-endian, `h1` first; the crate returns
/// them as `h2 << 64 | h1`, whose little-endian bytes are exactly that.
fn murmur3_128(s: &str) -> String {
    let h = murmur3::murmur3_x64_128(&mut Cursor::new(s.as_bytes()), 0).unwrap_or_default();
    hex_id(&h.to_le_bytes())
}

fn owned(s: String) -> Value<'static> {
    Value::Str(Cow::Owned(s))
}

/// The string hashes: `StringGetter` target, hex digest.
fn hash(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let Some(f) = string_hasher(args.name()) else {
        return Err(args.error(0, format!("{} is not a hash function", args.name())));
    };
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        Ok(owned(f(like::string(&v)?)))
    }))
}

/// `FNV(value)`: FNV-1a 64 of the string as an int64; the empty string stays `""`.
fn fnv(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let s = like::string(&v)?;
        if s.is_empty() {
            return Ok(owned(String::new()));
        }
        let h = s.bytes().fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
        Ok(Value::Int(h as i64))
    }))
}

/// `Hex(value)`: the `ByteSliceLikeGetter` bytes (numbers big-endian) as lower-case hex.
fn hex(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        Ok(like::bytes_like(&v)?.map_or(Value::Nil, |b| owned(hex_id(&b))))
    }))
}

fn base64_engine(variant: &str) -> Option<&'static base64::engine::GeneralPurpose> {
    Some(match variant {
        "base64" => &STANDARD,
        "base64-raw" => &STANDARD_NO_PAD,
        "base64-url" => &URL_SAFE,
        "base64-raw-url" => &URL_SAFE_NO_PAD,
        _ => return None,
    })
}

/// `Base64Encode(value, variant?)`: `base64` (default), `base64-raw`, `base64-url`,
/// `base64-raw-url`. A literal variant is checked at load time.
fn base64_encode(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let variant = args.opt_expr(1)?;
    if let Some(Expr::Lit(Value::Str(v))) = &variant {
        if base64_engine(v).is_none() {
            return Err(args.error(1, format!("unsupported base64 variant: {v}")));
        }
    }
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let s = like::string(&v)?;
        let name = match &variant {
            None => Cow::Borrowed("base64"),
            Some(e) => {
                let v = e.eval(cx)?;
                Cow::Owned(like::string(&v)?.to_string())
            }
        };
        let engine =
            base64_engine(&name).ok_or_else(|| EvalError::new(format!("unsupported base64 variant: {name}")))?;
        Ok(owned(engine.encode(s.as_bytes())))
    }))
}

/// Go's wording for bad base64 (`illegal base64 data at input byte 4`).
fn base64_error(e: base64::DecodeError) -> EvalError {
    let at = match e {
        base64::DecodeError::InvalidByte(at, _) | base64::DecodeError::InvalidLastSymbol(at, _) => at,
        base64::DecodeError::InvalidLength(at) => at,
        base64::DecodeError::InvalidPadding => 0,
    };
    EvalError::new(format!("illegal base64 data at input byte {at}"))
}

/// `Base64Decode(value)` (deprecated upstream in favour of `Decode`): standard base64 to
/// a string.
fn base64_decode(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let bytes = STANDARD.decode(like::string(&v)?).map_err(base64_error)?;
        Ok(owned(String::from_utf8_lossy(&bytes).into_owned()))
    }))
}

/// What `Decode` turns bytes into a string with.
#[derive(Clone, Copy)]
enum Decoding {
    Base64(&'static base64::engine::GeneralPurpose),
    Utf8,
    Latin1,
    Ascii,
}

fn decoding(name: &str) -> Option<Decoding> {
    if let Some(e) = base64_engine(name) {
        return Some(Decoding::Base64(e));
    }
    Some(match name.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" | "nop" => Decoding::Utf8,
        "iso-8859-1" | "latin1" | "l1" | "iso_8859-1" => Decoding::Latin1,
        "ascii" | "us-ascii" => Decoding::Ascii,
        _ => return None,
    })
}

fn unsupported_encoding(name: &str) -> String {
    format!("unsupported encoding '{name}'")
}

/// `Decode(value, encoding)`: base64 variants and the common text encodings (UTF-8,
/// ISO-8859-1, ASCII) to a string. Other IANA encodings are refused (at load time when the
/// encoding is a literal).
fn decode(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let encoding = args.expr(1)?;
    if let Expr::Lit(Value::Str(name)) = &encoding {
        if decoding(name).is_none() {
            return Err(args.error(1, unsupported_encoding(name)));
        }
    }
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let input: &[u8] = match &v {
            Value::Str(s) => s.as_bytes(),
            Value::Bytes(b) => b,
            other => {
                return Err(EvalError::new(format!(
                    "unsupported type provided to Decode function: {}",
                    other.type_name()
                )))
            }
        };
        let e = encoding.eval(cx)?;
        let name = like::string(&e)?;
        let out = match decoding(name).ok_or_else(|| EvalError::new(unsupported_encoding(name)))? {
            Decoding::Base64(engine) => {
                let bytes = engine
                    .decode(input)
                    .map_err(|e| EvalError::new(format!("could not decode: {}", base64_error(e))))?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Decoding::Utf8 => String::from_utf8_lossy(input).into_owned(),
            Decoding::Latin1 => input.iter().map(|b| char::from(*b)).collect(),
            Decoding::Ascii => input.iter().map(|b| if b.is_ascii() { char::from(*b) } else { '\u{fffd}' }).collect(),
        };
        Ok(owned(out))
    }))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{compile_error, err, ok, run, s};
    use super::string_hasher;
    use crate::eval::value::Value;

    fn attr(attrs: &[switchyard_pdata::proto::common::v1::KeyValue], key: &str) -> Option<Value<'static>> {
        switchyard_pdata::attrs::get(attrs, key).map(|v| Value::from_any(v).into_owned())
    }

    fn hashed(name: &str, input: &str) -> String {
        string_hasher(name).map(|f| f(input)).unwrap_or_default()
    }

    #[test]
    fn replace_pattern_hashes_the_replacement() {
        let (result, attrs) = run(r#"replace_pattern(attributes["http.path"], "/", "@", SHA256)"#);
        assert_eq!(result, Ok(true));
        assert_eq!(
            attr(&attrs, "http.path"),
            Some(s("c3641f8544d7c02f3580b07c0f9887f0c6a27ff5ab1d4a3e29caf197cfc299aehealth"))
        );
        // Every occurrence of the matched text is replaced, as upstream's strings.ReplaceAll.
        let (_, attrs) = run(r#"replace_pattern(attributes["http.url"], "/", "@", MD5)"#);
        let h = hashed("MD5", "@");
        assert_eq!(attr(&attrs, "http.url"), Some(s(&format!("http:{h}{h}localhost{h}health"))));
        let (_, attrs) = run(r#"replace_pattern(attributes["http.path"], "/(h)", "$1", SHA1, "h=%s;")"#);
        assert_eq!(attr(&attrs, "http.path"), Some(s(&format!("h={};ealth", hashed("SHA1", "h")))));
        let (_, attrs) = run(r#"replace_pattern(attributes["http.path"], "nomatch", "x", SHA1)"#);
        assert_eq!(attr(&attrs, "http.path"), Some(s("/health")));
    }

    #[test]
    fn replace_all_patterns_hashes_keys_and_values() {
        let (_, attrs) = run(r#"replace_all_patterns(attributes, "value", "^get$", "x", XXH3)"#);
        assert_eq!(attr(&attrs, "http.method"), Some(s(&hashed("XXH3", "x"))));
        assert_eq!(attr(&attrs, "http.path"), Some(s("/health")));
        let (_, attrs) = run(r#"replace_all_patterns(attributes, "key", "^http\\.method$", "m", SHA1)"#);
        assert_eq!(attr(&attrs, &hashed("SHA1", "m")), Some(s("get")));
        assert_eq!(attr(&attrs, "http.method"), None);
        let (result, _) = run(r#"replace_all_patterns(attributes["http.path"], "key", "x", "y")"#);
        assert_eq!(result.map_err(|e| e.message().to_string()), Err("expected pcommon.Map but got string".into()));
    }

    #[test]
    fn replace_function_and_format_checked_at_load() {
        assert!(compile_error(r#"replace_pattern(attributes["a"], "x", "y", FNV)"#)
            .contains("FNV cannot be the replacement function"));
        assert!(compile_error(r#"replace_pattern(attributes["a"], "x", "y", SHA1, "%d")"#)
            .contains("replacementFormat must be format string containing a single %s"));
    }

    #[test]
    fn digests_match_upstream() {
        assert_eq!(ok(r#"SHA1("pass")"#), s("9d4e1e23bd5b727046a9e3b4b7db57bd8d6ee684"));
        assert_eq!(ok(r#"SHA256("pass")"#), s("d74ff0ee8da3b9806b18c877dbf29bbde50b5bd8e4dad7a3a725000feb82e8f1"));
        assert_eq!(
            ok(r#"SHA512("pass")"#),
            s("5b722b307fce6c944905d132691d5e4a2214b7fe92b738920eb3fce3a90420a19511c3010a0e7712b054daef5b57bad59ecbd93b3280f210578f547f4aed4d25")
        );
        assert_eq!(ok(r#"MD5("pass")"#), s("1a1dc91c907325c69271ddf0c944bc72"));
        assert_eq!(ok(r#"Murmur3Hash("Hello World")"#), s("ce837619"));
        assert_eq!(ok(r#"Murmur3Hash("")"#), s("00000000"));
        assert_eq!(ok(r#"Murmur3Hash128("Hello World")"#), s("dbc2a0c1ab26631a27b4c09fcf1fe683"));
        assert_eq!(ok(r#"Murmur3Hash128("")"#), s("00000000000000000000000000000000"));
        assert_eq!(ok(r#"XXH3("hello world")"#), s("d447b1ea40e6988b"));
        assert_eq!(ok(r#"XXH3("")"#), s("2d06800538d394c2"));
        assert_eq!(ok(r#"XXH128("hello world")"#), s("df8d09e93f874900a99b8775cc15b6c7"));
        assert_eq!(ok(r#"XXH128("")"#), s("99aa06d3014798d86001c324468d497f"));
        assert_eq!(err(r#"SHA256(attributes["int"])"#), "expected string but got int64");
        assert_eq!(err(r#"MD5(attributes["nope"])"#), "expected string but got nil");
        assert_eq!(
            string_hasher("SHA256").map(|f| f("@")).as_deref(),
            Some("c3641f8544d7c02f3580b07c0f9887f0c6a27ff5ab1d4a3e29caf197cfc299ae")
        );
        assert!(string_hasher("FNV").is_none());
    }

    #[test]
    fn fnv_is_fnv1a_64_as_int() {
        assert_eq!(ok(r#"FNV("pass")"#), Value::Int(266877920130663416));
        assert_eq!(ok(r#"FNV("")"#), s(""));
    }

    #[test]
    fn hex_of_bytes_like() {
        assert_eq!(ok(r#"Hex(1.0)"#), s("3ff0000000000000"));
        assert_eq!(ok(r#"Hex(12)"#), s("000000000000000c"));
        assert_eq!(ok(r#"Hex(true)"#), s("01"));
        assert_eq!(ok(r#"Hex("pass")"#), s("70617373"));
        assert_eq!(ok(r#"Hex(attributes["bytes"])"#), s("dead"));
        assert_eq!(ok(r#"Hex(attributes["nope"])"#), Value::Nil);
    }

    #[test]
    fn base64_variants() {
        assert_eq!(ok(r#"Base64Encode("test string")"#), s("dGVzdCBzdHJpbmc="));
        assert_eq!(ok(r#"Base64Encode("test string", "base64-raw")"#), s("dGVzdCBzdHJpbmc"));
        assert_eq!(ok(r#"Base64Encode("data?", "base64-url")"#), s("ZGF0YT8="));
        assert_eq!(ok(r#"Base64Encode("data?", "base64-raw-url")"#), s("ZGF0YT8"));
        assert!(compile_error(r#"Base64Encode("x", "base32")"#).contains("unsupported base64 variant: base32"));
        assert_eq!(ok(r#"Base64Decode("cGFzcw==")"#), s("pass"));
        assert!(err(r#"Base64Decode("cGF!cw==")"#).starts_with("illegal base64 data at input byte 3"));
    }

    #[test]
    fn decode_encodings() {
        assert_eq!(ok(r#"Decode("cGFzcw==", "base64")"#), s("pass"));
        assert_eq!(ok(r#"Decode("cGFzcw", "base64-raw")"#), s("pass"));
        assert_eq!(
            ok(r#"Decode("aHR0cHM6Ly93d3cuZ29vZ2xlLmNvbS9zZWFyY2g_cT1oZWxsbw==", "base64-url")"#),
            s("https://www.google.com/search?q=hello")
        );
        assert_eq!(ok(r#"Decode(0xe9, "latin1")"#), s("é"));
        assert_eq!(ok(r#"Decode("plain", "utf-8")"#), s("plain"));
        assert!(compile_error(r#"Decode("x", "invalid-encoding")"#).contains("unsupported encoding 'invalid-encoding'"));
        assert_eq!(err(r#"Decode(1, "base64")"#), "unsupported type provided to Decode function: int64");
    }
}
