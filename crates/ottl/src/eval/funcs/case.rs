//! Snake and camel case as upstream computes them (the `iancoleman/strcase` package):
//! byte-wise over ASCII letters and digits, so configs that rename keys get the same names
//! as in the Collector, including its quirks (`HTTPServer` → `Httpserver` in camel case,
//! non-ASCII characters dropped from camel case but kept in snake case).

/// `strcase.ToCamel`: words split at `_`, space, `-` and `.`, each capitalised, and a
/// letter after a digit capitalised too.
pub(crate) fn to_camel(s: &str) -> String {
    let s = s.trim();
    let mut out = String::with_capacity(s.len());
    let mut cap_next = true;
    let mut prev_cap = false;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let is_cap = b.is_ascii_uppercase();
        let is_low = b.is_ascii_lowercase();
        let mut v = b;
        if cap_next {
            v = v.to_ascii_uppercase();
        } else if i == 0 || (prev_cap && is_cap) {
            v = v.to_ascii_lowercase();
        }
        prev_cap = is_cap;
        if is_cap || is_low {
            out.push(char::from(v));
            cap_next = false;
        } else if v.is_ascii_digit() {
            out.push(char::from(v));
            cap_next = true;
        } else {
            cap_next = matches!(v, b'_' | b' ' | b'-' | b'.');
        }
    }
    out
}

/// `strcase.ToSnake`: lower case, `_` at every change between lower case, upper case and
/// digits (an acronym stays one word: `JSONData` → `json_data`), and `_` for space, `-`
/// and `.`.
pub(crate) fn to_snake(s: &str) -> String {
    let s = s.trim();
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len() + 2);
    for (i, &b) in bytes.iter().enumerate() {
        let is_cap = b.is_ascii_uppercase();
        let is_low = b.is_ascii_lowercase();
        let v = b.to_ascii_lowercase();
        if let Some(&next) = bytes.get(i + 1) {
            let is_num = v.is_ascii_digit();
            let next_cap = next.is_ascii_uppercase();
            let next_low = next.is_ascii_lowercase();
            let next_num = next.is_ascii_digit();
            if (is_cap && (next_low || next_num))
                || (is_low && (next_cap || next_num))
                || (is_num && (next_cap || next_low))
            {
                if is_cap && next_low && i > 0 && bytes[i - 1].is_ascii_uppercase() {
                    out.push(b'_');
                }
                out.push(v);
                if is_low || is_num || next_num {
                    out.push(b'_');
                }
                continue;
            }
        }
        if matches!(v, b' ' | b'_' | b'-' | b'.') {
            out.push(b'_');
        } else {
            out.push(v);
        }
    }
    // Only ASCII bytes were changed or inserted, so multi-byte characters are intact.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_as_strcase() {
        assert_eq!(to_camel("foo_bar"), "FooBar");
        assert_eq!(to_camel("test_string"), "TestString");
        assert_eq!(to_camel("some-name with.dots"), "SomeNameWithDots");
        assert_eq!(to_camel("HTTPServer"), "Httpserver");
        assert_eq!(to_camel("simple-string"), "SimpleString");
        assert_eq!(to_camel("SimpleString"), "SimpleString");
        assert_eq!(to_camel("number2case"), "Number2Case");
        assert_eq!(to_camel("  padded "), "Padded");
        assert_eq!(to_camel(""), "");
    }

    #[test]
    fn snake_case_as_strcase() {
        assert_eq!(to_snake("SomeName"), "some_name");
        assert_eq!(to_snake("someName"), "some_name");
        assert_eq!(to_snake("JSONData"), "json_data");
        assert_eq!(to_snake("simpleTest2"), "simple_test_2");
        assert_eq!(to_snake("some-name.with space"), "some_name_with_space");
        assert_eq!(to_snake("ÄpfelBaum"), "Äpfel_baum");
        assert_eq!(to_snake("CPUUtilizationMetric"), "cpu_utilization_metric");
        assert_eq!(to_snake("simpleString"), "simple_string");
    }
}
