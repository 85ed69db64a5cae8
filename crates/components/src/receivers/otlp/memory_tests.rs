//! The OTLP receiver's declared memory bound, from its config.

use switchyard_core::component::{MemoryBound, MemoryPart};

use super::{memory_bound, OtlpReceiverConfig};

fn config(yaml: &str) -> OtlpReceiverConfig {
    super::tests::config_from(yaml)
}

#[test]
fn default_protocols_declare_the_budget_and_the_admitted_requests() {
    let cfg = config("protocols:\n  grpc:\n  http:\n");
    let b = memory_bound(&cfg, 16);
    let MemoryBound::Declared { parts, largest_request } = &b else { panic!("{b:?}") };
    assert_eq!(largest_request, &Some(20 << 20), "HTTP's 20 MiB body is larger than gRPC's 4 MiB message");
    assert_eq!(parts.iter().map(|p| p.bytes).collect::<Vec<_>>(), [64 << 20, 16 * (20 << 20)]);
}

#[test]
fn a_larger_message_limit_raises_the_budget() {
    let cfg = config("protocols:\n  grpc:\n    max_recv_msg_size_mib: 100\n");
    let b = memory_bound(&cfg, 8);
    let largest = (100u64 << 20) + 5;
    let MemoryBound::Declared { parts, .. } = &b else { panic!("{b:?}") };
    assert_eq!(parts[0], MemoryPart { what: parts[0].what.clone(), bytes: largest }, "budget = largest request");
    assert_eq!(b.total(), Some(largest + 8 * largest));
}
