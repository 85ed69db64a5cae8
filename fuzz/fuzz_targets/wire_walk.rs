//! The protobuf walker against prost: the same bytes, read as each of the three export
//! requests, must be accepted by the walker exactly when prost decodes them, with the
//! decoded request's item count and chunks that reassemble the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use switchyard_pdata::wire::walk;
use switchyard_pdata::{Logs, Metrics, Signal, SignalData, Traces};

fn check<S: SignalData>(signal: Signal, bytes: &[u8]) {
    let walked = walk(signal, bytes);
    let decoded = S::Request::decode(bytes).map(|req| S::from_request(req).item_count());
    match (&walked, &decoded) {
        (Ok(w), Ok(items)) => {
            assert_eq!(w.items, *items, "{signal}: item counts differ");
            let joined: Vec<u8> = w.chunks.iter().flat_map(|c| &bytes[c.start..c.end]).copied().collect();
            assert_eq!(joined, bytes, "{signal}: chunks do not reassemble the input");
        }
        (Err(_), Err(_)) => {}
        _ => panic!("{signal}: walker {walked:?}, prost {decoded:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    check::<Traces>(Signal::Traces, data);
    check::<Metrics>(Signal::Metrics, data);
    check::<Logs>(Signal::Logs, data);
});
