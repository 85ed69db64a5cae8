//! The OTLP protobuf decode path as the receivers run it, then what the pipeline does with
//! a request: count items, split (batching), merge, re-encode. The first byte picks the
//! signal; decoded requests must re-encode and decode to the same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use switchyard_pdata::{Logs, Metrics, SignalData, Traces};

fn exercise<S: SignalData>(bytes: &[u8], split_at: usize) {
    let Ok(req) = S::Request::decode(bytes) else { return };
    let again = S::Request::decode(req.encode_to_vec().as_slice()).expect("re-encoded request decodes");
    assert_eq!(again.encode_to_vec(), req.encode_to_vec());
    let mut data = S::from_request(req);
    let total = data.item_count();
    let front = data.split_off_front(split_at);
    assert_eq!(front.item_count() + data.item_count(), total, "split keeps every item");
    let mut merged = front;
    if merged.append(data).is_ok() {
        assert_eq!(merged.item_count(), total, "append keeps every item");
    }
    let _ = merged.encoded_len();
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let split_at = (selector >> 2) as usize;
    match selector % 3 {
        0 => exercise::<Traces>(rest, split_at),
        1 => exercise::<Metrics>(rest, split_at),
        _ => exercise::<Logs>(rest, split_at),
    }
});
