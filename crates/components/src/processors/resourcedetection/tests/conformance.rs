//! Every `resourcedetection` section of the public configs in
//! `shared/conformance/configs/` decodes and validates (read in place).

// Skipped files and the sections checked are printed, as the other conformance tests do.
#![allow(clippy::print_stdout)]

use switchyard_core::component::ComponentConfig;
use switchyard_core::config;

use super::super::ResourceDetectionConfig;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/conformance/configs");

#[test]
fn the_resourcedetection_sections_of_the_public_configs_validate() {
    let Ok(dir) = std::fs::read_dir(DIR) else {
        println!("skipped: {DIR} is not there");
        return;
    };
    let mut paths: Vec<_> = dir.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    let (mut checked, mut failures) = (Vec::new(), Vec::new());
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let root = match config::parse(&name, &text) {
            Ok(r) => r,
            Err(e) => {
                println!("skipped {name}: does not parse on its own ({e})");
                continue;
            }
        };
        let Some(processors) = root.find(&["processors"]).and_then(|n| n.as_map()) else { continue };
        for (id, entry) in processors {
            let ty = id.split('/').next().unwrap_or("");
            if ty != "resourcedetection" && ty != "resource_detection" {
                continue;
            }
            match config::from_node::<ResourceDetectionConfig>(&entry.node, id) {
                Ok(c) => {
                    let errors = c.validate();
                    if errors.is_empty() {
                        checked.push(format!("{name}: {id} {:?}", c.detectors));
                    } else {
                        failures.push(format!("{name}: {id}: {errors:?}"));
                    }
                }
                Err(e) => failures.push(format!("{name}: {id}: {e}")),
            }
        }
    }
    println!("{}", checked.join("\n"));
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(checked.len() >= 6, "expected the known sections, found {checked:?}");
}
