//! Prometheus relabeling (`relabel_configs`, `metric_relabel_configs`): every action of
//! Prometheus's model/relabel with its defaults (`source_labels` joined by `;`, regex
//! `(.*)` anchored at both ends, replacement `$1`, action `replace`).

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use regex::Regex;
use serde::Deserialize;
use switchyard_core::component::FieldError;

/// A label set, sorted by name.
pub type Labels = BTreeMap<String, String>;

const DEFAULT_REGEX: &str = "(.*)";
const DEFAULT_SEPARATOR: &str = ";";
const DEFAULT_REPLACEMENT: &str = "$1";

/// Where a rule list runs (only for messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelabelStage {
    /// `relabel_configs`: target labels before the scrape.
    Target,
    /// `metric_relabel_configs`: each sample's labels after the scrape.
    Metric,
}

/// One rule as written.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RelabelConfig {
    /// Labels whose values are joined into the value the regex sees.
    pub source_labels: Vec<String>,
    /// Joins the source values (default `;`).
    pub separator: Option<String>,
    /// Label written by `replace`, `hashmod`, `lowercase`, `uppercase`; compared by
    /// `keepequal`/`dropequal`.
    pub target_label: String,
    /// RE2 regular expression, anchored (default `(.*)`).
    pub regex: Option<String>,
    /// `hashmod` modulus.
    pub modulus: u64,
    /// Replacement with `$1`, `${1}`, `$name` references (default `$1`).
    pub replacement: Option<String>,
    /// The action (default `replace`).
    pub action: Option<String>,
}

/// The actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Set `target_label` to the expanded replacement when the regex matches.
    Replace,
    /// Drop unless the regex matches.
    Keep,
    /// Drop when the regex matches.
    Drop,
    /// Drop unless `target_label`'s value equals the joined source values.
    KeepEqual,
    /// Drop when `target_label`'s value equals the joined source values.
    DropEqual,
    /// `target_label` = md5(value) mod `modulus`.
    HashMod,
    /// Copy labels whose name matches into the expanded replacement name.
    LabelMap,
    /// Remove labels whose name matches.
    LabelDrop,
    /// Remove labels whose name does not match.
    LabelKeep,
    /// `target_label` = lower-cased value.
    Lowercase,
    /// `target_label` = upper-cased value.
    Uppercase,
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        Some(match s.to_ascii_lowercase().as_str() {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "keepequal" => Action::KeepEqual,
            "dropequal" => Action::DropEqual,
            "hashmod" => Action::HashMod,
            "labelmap" => Action::LabelMap,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            _ => return None,
        })
    }
}

impl RelabelConfig {
    fn action(&self) -> Result<Action, String> {
        match self.action.as_deref() {
            None => Ok(Action::Replace),
            Some("") => Err("relabel action cannot be empty".into()),
            Some(a) => Action::parse(a).ok_or_else(|| {
                format!(
                    "unknown relabel action \"{a}\" (replace, keep, drop, keepequal, dropequal, hashmod, labelmap, labeldrop, labelkeep, lowercase, uppercase)"
                )
            }),
        }
    }

    /// Prometheus's checks of one rule; `p` is its key path.
    pub fn validate(&self, p: &str, _stage: RelabelStage, e: &mut Vec<FieldError>) {
        let action = match self.action() {
            Ok(a) => a,
            Err(m) => {
                e.push(FieldError::new(format!("{p}::action"), m));
                return;
            }
        };
        if let Err(m) = compile(self.regex.as_deref().unwrap_or(DEFAULT_REGEX)) {
            e.push(FieldError::new(format!("{p}::regex"), m));
        }
        let name = self.action.as_deref().unwrap_or("replace").to_ascii_lowercase();
        if action == Action::HashMod && self.modulus == 0 {
            e.push(FieldError::new(
                format!("{p}::modulus"),
                "relabel configuration for hashmod requires non-zero modulus",
            ));
        }
        let needs_target = matches!(
            action,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        if needs_target && self.target_label.is_empty() {
            e.push(FieldError::new(
                format!("{p}::target_label"),
                format!("relabel configuration for {name} action requires 'target_label' value"),
            ));
        }
        let defaults = self.regex.as_deref().is_none_or(|r| r == DEFAULT_REGEX)
            && self.separator.as_deref().is_none_or(|s| s == DEFAULT_SEPARATOR)
            && self.replacement.as_deref().is_none_or(|r| r == DEFAULT_REPLACEMENT)
            && self.modulus == 0;
        if matches!(action, Action::KeepEqual | Action::DropEqual) && !defaults {
            e.push(FieldError::new(
                p.to_string(),
                format!("{name} action requires only 'source_labels' and `target_label`, and no other fields"),
            ));
        }
        if matches!(action, Action::LabelDrop | Action::LabelKeep)
            && (!self.source_labels.is_empty()
                || !self.target_label.is_empty()
                || self.modulus != 0
                || self.separator.as_deref().is_some_and(|s| s != DEFAULT_SEPARATOR)
                || self.replacement.as_deref().is_some_and(|r| r != DEFAULT_REPLACEMENT))
        {
            e.push(FieldError::new(p.to_string(), format!("{name} action requires only 'regex', and no other fields")));
        }
    }
}

fn compile(re: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?s:{re})$")).map_err(|err| format!("invalid regex \"{re}\": {err}"))
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    source_labels: Vec<String>,
    separator: String,
    target_label: String,
    regex: Regex,
    modulus: u64,
    replacement: String,
    action: Action,
}

impl Rule {
    /// Compiles a (validated) rule.
    pub fn new(c: &RelabelConfig) -> Result<Rule, String> {
        Ok(Rule {
            source_labels: c.source_labels.clone(),
            separator: c.separator.clone().unwrap_or_else(|| DEFAULT_SEPARATOR.into()),
            target_label: c.target_label.clone(),
            regex: compile(c.regex.as_deref().unwrap_or(DEFAULT_REGEX))?,
            modulus: c.modulus,
            replacement: c.replacement.clone().unwrap_or_else(|| DEFAULT_REPLACEMENT.into()),
            action: c.action()?,
        })
    }

    /// Compiles a list.
    pub fn compile_all(cs: &[RelabelConfig]) -> Result<Vec<Rule>, String> {
        cs.iter().map(Rule::new).collect()
    }

    /// Applies this rule; false = the label set is dropped.
    fn apply(&self, ls: &mut Labels) -> bool {
        let value = || {
            let vals: Vec<&str> =
                self.source_labels.iter().map(|n| ls.get(n).map(String::as_str).unwrap_or("")).collect();
            vals.join(&self.separator)
        };
        match self.action {
            Action::Drop => return !self.regex.is_match(&value()),
            Action::Keep => return self.regex.is_match(&value()),
            Action::DropEqual => {
                return ls.get(&self.target_label).map(String::as_str).unwrap_or("") != value();
            }
            Action::KeepEqual => {
                return ls.get(&self.target_label).map(String::as_str).unwrap_or("") == value();
            }
            Action::Replace => {
                let v = value();
                let Some(caps) = self.regex.captures(&v) else { return true };
                let mut target = String::new();
                caps.expand(&self.target_label, &mut target);
                if target.is_empty() {
                    return true;
                }
                let mut res = String::new();
                caps.expand(&self.replacement, &mut res);
                if res.is_empty() {
                    ls.remove(&target);
                } else {
                    ls.insert(target, res);
                }
            }
            Action::Lowercase => {
                let v = value().to_lowercase();
                set(ls, &self.target_label, v);
            }
            Action::Uppercase => {
                let v = value().to_uppercase();
                set(ls, &self.target_label, v);
            }
            Action::HashMod => {
                let sum = Md5::digest(value().as_bytes());
                let mut tail = [0u8; 8];
                tail.copy_from_slice(&sum[8..16]);
                let m = u64::from_be_bytes(tail) % self.modulus.max(1);
                ls.insert(self.target_label.clone(), m.to_string());
            }
            Action::LabelMap => {
                let add: Vec<(String, String)> = ls
                    .iter()
                    .filter(|(n, _)| self.regex.is_match(n))
                    .map(|(n, v)| (self.regex.replace_all(n, self.replacement.as_str()).into_owned(), v.clone()))
                    .collect();
                for (n, v) in add {
                    if !n.is_empty() {
                        ls.insert(n, v);
                    }
                }
            }
            Action::LabelDrop => ls.retain(|n, _| !self.regex.is_match(n)),
            Action::LabelKeep => ls.retain(|n, _| self.regex.is_match(n)),
        }
        true
    }
}

fn set(ls: &mut Labels, name: &str, v: String) {
    if v.is_empty() {
        ls.remove(name);
    } else {
        ls.insert(name.to_string(), v);
    }
}

/// Runs `rules` in order; false = dropped (the labels are then unspecified).
pub fn process(rules: &[Rule], ls: &mut Labels) -> bool {
    rules.iter().all(|r| r.apply(ls))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &[(&str, &str)], sources: &[&str]) -> Rule {
        let mut c =
            RelabelConfig { source_labels: sources.iter().map(|s| s.to_string()).collect(), ..Default::default() };
        for (k, v) in yaml {
            let v = v.to_string();
            match *k {
                "action" => c.action = Some(v),
                "regex" => c.regex = Some(v),
                "target_label" => c.target_label = v,
                "replacement" => c.replacement = Some(v),
                "separator" => c.separator = Some(v),
                "modulus" => c.modulus = v.parse().unwrap(),
                _ => panic!("{k}"),
            }
        }
        let mut errs = Vec::new();
        c.validate("r", RelabelStage::Target, &mut errs);
        assert!(errs.is_empty(), "{errs:?}");
        Rule::new(&c).unwrap()
    }

    fn labels(kv: &[(&str, &str)]) -> Labels {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn replace_with_groups_separator_and_anchoring() {
        let r = rule(
            &[("regex", "([^:]+)(?::\\d+)?;(\\d+)"), ("replacement", "$1:${2}"), ("target_label", "__address__")],
            &["__address__", "port"],
        );
        let mut ls = labels(&[("__address__", "10.0.0.1:80"), ("port", "9100")]);
        assert!(process(std::slice::from_ref(&r), &mut ls));
        assert_eq!(ls["__address__"], "10.0.0.1:9100");
        // Anchored: "b" does not match the whole of "abc".
        let r = rule(&[("regex", "b"), ("replacement", "x"), ("target_label", "t")], &["a"]);
        let mut ls = labels(&[("a", "abc")]);
        process(&[r], &mut ls);
        assert!(!ls.contains_key("t"));
        // Default: copy the joined value; an empty result removes the target.
        let r = rule(&[("target_label", "both")], &["a", "b"]);
        let mut ls = labels(&[("a", "1"), ("b", "2")]);
        process(std::slice::from_ref(&r), &mut ls);
        assert_eq!(ls["both"], "1;2");
        let r = rule(&[("target_label", "a"), ("regex", "(.*)"), ("replacement", "")], &["a"]);
        process(&[r], &mut ls);
        assert!(!ls.contains_key("a"));
        // Target label names may use the captures.
        let r = rule(&[("regex", "(.+)=(.+)"), ("target_label", "${1}"), ("replacement", "$2")], &["kv"]);
        let mut ls = labels(&[("kv", "team=db")]);
        process(&[r], &mut ls);
        assert_eq!(ls["team"], "db");
    }

    #[test]
    fn keep_drop_and_equal_variants() {
        let keep = rule(&[("action", "keep"), ("regex", "true")], &["scrape"]);
        assert!(process(std::slice::from_ref(&keep), &mut labels(&[("scrape", "true")])));
        assert!(!process(std::slice::from_ref(&keep), &mut labels(&[("scrape", "truex")])));
        assert!(!process(&[keep], &mut labels(&[])));
        let drop = rule(&[("action", "drop"), ("regex", "go_gc_.*")], &["__name__"]);
        assert!(!process(std::slice::from_ref(&drop), &mut labels(&[("__name__", "go_gc_duration_seconds")])));
        assert!(process(&[drop], &mut labels(&[("__name__", "up")])));
        let ke = rule(&[("action", "keepequal"), ("target_label", "b")], &["a"]);
        assert!(process(std::slice::from_ref(&ke), &mut labels(&[("a", "1"), ("b", "1")])));
        assert!(!process(&[ke], &mut labels(&[("a", "1"), ("b", "2")])));
        let de = rule(&[("action", "DropEqual"), ("target_label", "b")], &["a"]);
        assert!(!process(std::slice::from_ref(&de), &mut labels(&[("a", "1"), ("b", "1")])));
        assert!(process(&[de], &mut labels(&[("a", "1"), ("b", "2")])));
    }

    #[test]
    fn hashmod_matches_prometheus() {
        // Prometheus: md5("foo"), last 8 bytes big-endian, mod 1000 = 976 (from its tests'
        // style: computed independently here with the md5 of "foo").
        let sum = Md5::digest(b"foo");
        let expect = u64::from_be_bytes(sum[8..16].try_into().unwrap()) % 1000;
        let r = rule(&[("action", "hashmod"), ("modulus", "1000"), ("target_label", "shard")], &["a"]);
        let mut ls = labels(&[("a", "foo")]);
        process(&[r], &mut ls);
        assert_eq!(ls["shard"], expect.to_string());
        assert_eq!(hex(&sum), "acbd18db4cc2f85cedef654fccc4a4d8");
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn label_actions_and_case() {
        let lm = rule(&[("action", "labelmap"), ("regex", "__meta_kubernetes_service_label_(.+)")], &[]);
        let mut ls = labels(&[("__meta_kubernetes_service_label_app", "web"), ("x", "1")]);
        process(&[lm], &mut ls);
        assert_eq!(ls["app"], "web");
        assert_eq!(ls["__meta_kubernetes_service_label_app"], "web");
        let ld = rule(&[("action", "labeldrop"), ("regex", "proxy|x")], &[]);
        let mut ls = labels(&[("proxy", "p"), ("x", "1"), ("xy", "2")]);
        process(&[ld], &mut ls);
        assert_eq!(ls, labels(&[("xy", "2")]));
        let lk = rule(&[("action", "labelkeep"), ("regex", "__name__|job")], &[]);
        let mut ls = labels(&[("__name__", "up"), ("job", "j"), ("other", "o")]);
        process(&[lk], &mut ls);
        assert_eq!(ls, labels(&[("__name__", "up"), ("job", "j")]));
        let lc = rule(&[("action", "lowercase"), ("target_label", "l")], &["a"]);
        let uc = rule(&[("action", "uppercase"), ("target_label", "u")], &["a"]);
        let mut ls = labels(&[("a", "MiXed")]);
        process(&[lc, uc], &mut ls);
        assert_eq!((ls["l"].as_str(), ls["u"].as_str()), ("mixed", "MIXED"));
    }

    #[test]
    fn validation_messages() {
        let check = |c: RelabelConfig| {
            let mut e = Vec::new();
            c.validate("p", RelabelStage::Metric, &mut e);
            e.into_iter().map(|f| f.message).collect::<Vec<_>>().join("|")
        };
        let m = check(RelabelConfig { action: Some("hashmod".into()), ..Default::default() });
        assert!(m.contains("non-zero modulus") && m.contains("requires 'target_label'"), "{m}");
        let m = check(RelabelConfig { action: Some("explode".into()), ..Default::default() });
        assert!(m.contains("unknown relabel action \"explode\""), "{m}");
        let m = check(RelabelConfig { regex: Some("(".into()), target_label: "t".into(), ..Default::default() });
        assert!(m.contains("invalid regex"), "{m}");
        let m = check(RelabelConfig {
            action: Some("labeldrop".into()),
            source_labels: vec!["a".into()],
            ..Default::default()
        });
        assert!(m.contains("requires only 'regex'"), "{m}");
        let m = check(RelabelConfig {
            action: Some("keepequal".into()),
            target_label: "t".into(),
            regex: Some("x".into()),
            ..Default::default()
        });
        assert!(m.contains("requires only 'source_labels'"), "{m}");
    }
}
