//! Config loading as `switchyard validate` runs it: YAML parsing, `${env:...}` expansion,
//! then parsing against every registered component. Any input must give a config or
//! errors, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_core::config::{expand_tree, parse, parse_config};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mut root) = parse("fuzz.yaml", text) else { return };
    let env = |name: &str| (name == "TOKEN").then(|| "s3cret".to_string());
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    expand_tree(&mut root, &env, &mut errors, &mut warnings);
    if !errors.is_empty() {
        return;
    }
    let Ok(registry) = switchyard_components::registry() else { return };
    let _ = parse_config(&root, &registry);
});
