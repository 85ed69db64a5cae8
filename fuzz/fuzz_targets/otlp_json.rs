//! The OTLP/JSON codec: any input either fails with an error or decodes; what decodes
//! encodes back to JSON that decodes to the same request. Also the receiver's nesting check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use switchyard_pdata::json;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let _ = json::nesting_exceeds(body, 64);
    match selector % 3 {
        0 => {
            if let Ok(req) = json::decode_traces(body) {
                let back = json::decode_traces(&json::encode_traces(&req)).expect("our JSON decodes");
                assert_eq!(back.encode_to_vec(), req.encode_to_vec());
            }
        }
        1 => {
            if let Ok(req) = json::decode_metrics(body) {
                let back = json::decode_metrics(&json::encode_metrics(&req)).expect("our JSON decodes");
                assert_eq!(back.encode_to_vec(), req.encode_to_vec());
            }
        }
        _ => {
            if let Ok(req) = json::decode_logs(body) {
                let back = json::decode_logs(&json::encode_logs(&req)).expect("our JSON decodes");
                assert_eq!(back.encode_to_vec(), req.encode_to_vec());
            }
        }
    }
});
