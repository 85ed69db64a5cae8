//! `switchyard components`: every component with its stability, as YAML.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use switchyard_core::component::Kind;
use switchyard_pdata::Signal;

/// Writes the listing to stdout.
pub fn components() -> Result<ExitCode> {
    let registry = switchyard_components::registry()?;
    let mut out = String::new();
    out.push_str(&format!("buildinfo:\n  command: switchyard\n  version: {}\n", env!("CARGO_PKG_VERSION")));
    for kind in [Kind::Receiver, Kind::Processor, Kind::Exporter, Kind::Connector, Kind::Extension] {
        out.push_str(&format!("{}:\n", kind.section()));
        for f in registry.factories(kind) {
            out.push_str(&format!("  - name: {}\n", f.component_type()));
            if !f.aliases().is_empty() {
                out.push_str(&format!("    aliases: [{}]\n", f.aliases().join(", ")));
            }
            out.push_str("    stability:\n");
            match kind {
                Kind::Extension => {
                    if let Some(s) = f.stability(Signal::Traces) {
                        out.push_str(&format!("      extension: {s}\n"));
                    }
                }
                Kind::Connector => {
                    for from in Signal::ALL {
                        for to in Signal::ALL {
                            if let Some(s) = f.connector_stability(from, to) {
                                out.push_str(&format!("      {from}-to-{to}: {s}\n"));
                            }
                        }
                    }
                }
                _ => {
                    for sig in Signal::ALL {
                        if let Some(s) = f.stability(sig) {
                            out.push_str(&format!("      {sig}: {s}\n"));
                        }
                    }
                }
            }
        }
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
