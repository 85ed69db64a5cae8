//! Probes every field number of every message descriptor against the generated code: a
//! descriptor that forgets a field, adds one, or gets its type or label wrong makes the
//! walker and prost disagree on one of these probes.

use super::agree;
use super::fixtures::{cat, key, ld};
use crate::wire::schema::{self, Message, Type};
use crate::Signal;

/// Field numbers from the request down to `target` (BFS, so the shortest path).
fn path_to(root: &'static Message, target: &'static Message) -> Option<Vec<u32>> {
    let mut queue: Vec<(&'static Message, Vec<u32>)> = vec![(root, Vec::new())];
    let mut seen: Vec<*const Message> = Vec::new();
    let mut i = 0;
    while let Some((m, path)) = queue.get(i).cloned() {
        i += 1;
        if std::ptr::eq(m, target) {
            return Some(path);
        }
        if seen.contains(&(m as *const Message)) {
            continue;
        }
        seen.push(m);
        for f in m.fields {
            if let Type::Message(child) = f.ty {
                let mut p = path.clone();
                p.push(f.number);
                queue.push((child, p));
            }
        }
    }
    None
}

/// The probes: one occurrence of field `n` with each wire type and a few payloads.
fn probes(n: u32) -> Vec<Vec<u8>> {
    vec![
        cat(&[&key(n, 0), &[1]]),
        cat(&[&key(n, 0), &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]]),
        cat(&[&key(n, 1), &[1; 8]]),
        cat(&[&key(n, 5), &[1; 4]]),
        cat(&[&key(n, 2), &[0]]),
        cat(&[&key(n, 2), &[1, 0xff]]),
        cat(&[&key(n, 2), &[2, 0x08, 0x01]]),
        cat(&[&key(n, 2), &[4, 0x01, 0x01, 0x01, 0x01]]),
        cat(&[&key(n, 2), &[8, 0x11, 0, 0, 0, 0, 0, 0, 0]]),
        cat(&[&key(n, 3), &key(n, 4)]),
        key(n, 4),
    ]
}

#[test]
fn every_field_number_of_every_message_agrees_with_prost() {
    let roots = [
        (Signal::Traces, &schema::EXPORT_TRACE_SERVICE_REQUEST),
        (Signal::Metrics, &schema::EXPORT_METRICS_SERVICE_REQUEST),
        (Signal::Logs, &schema::EXPORT_LOGS_SERVICE_REQUEST),
    ];
    for target in schema::ALL {
        let (signal, path) = roots
            .iter()
            .find_map(|(signal, root)| path_to(root, target).map(|p| (*signal, p)))
            .unwrap_or_else(|| panic!("{} is not reachable from any request", target.name));
        let (mut accepted, mut refused) = (0, 0);
        for n in 1..=20 {
            for probe in probes(n) {
                // The probe twice: a known singular field seen twice must also agree.
                let mut buf = cat(&[&probe, &probe]);
                for number in path.iter().rev() {
                    buf = ld(*number, &buf);
                }
                if agree(signal, &buf) {
                    accepted += 1;
                } else {
                    refused += 1;
                }
            }
        }
        assert!(accepted > 0 && refused > 0, "{}: {accepted} accepted, {refused} refused", target.name);
    }
}

#[test]
fn descriptors_have_unique_field_numbers_and_one_oneof_at_most() {
    for m in schema::ALL {
        for (i, f) in m.fields.iter().enumerate() {
            assert!(m.fields[..i].iter().all(|g| g.number != f.number), "{}.{} twice", m.name, f.name);
            assert!(f.number >= 1, "{}.{}", m.name, f.name);
        }
        // The walker tracks one oneof per message; OTLP has no message with two.
        let mut groups = m.fields.iter().filter_map(|f| f.oneof);
        if let Some(first) = groups.next() {
            assert!(groups.all(|g| g == first), "{}: two oneofs", m.name);
        }
    }
}
