//! An encoded batch behaves exactly like the decoded one (items, order, envelopes) while it
//! keeps the received bytes; changes turn it into a decoded batch without touching other holders.

use bytes::Bytes;
use prost::Message;

use crate::split::tests::{flatten, traces};
use crate::{SignalData, Traces};

fn encoded(shape: &[Vec<usize>]) -> (Traces, Bytes) {
    let bytes = Bytes::from(traces(shape).request().encode_to_vec());
    let t = Traces::from_encoded(bytes.clone()).unwrap();
    (t, bytes)
}

#[test]
fn an_encoded_batch_counts_reads_and_exports_its_own_bytes() {
    let shape = vec![vec![1, 2], vec![3]];
    let (t, bytes) = encoded(&shape);
    assert!(t.is_encoded());
    assert_eq!(t.item_count(), 6);
    assert_eq!(t.encoded_len(), bytes.len());
    assert_eq!(flatten(&t), flatten(&traces(&shape)), "decoded on first need, same tree");
    assert!(t.is_encoded(), "reading does not change the representation");
    let mut out = Vec::new();
    t.encode_to(&mut out);
    assert_eq!(out, bytes.as_ref());
    let mut written = Vec::new();
    t.write_encoded(&mut written).unwrap();
    assert_eq!(written, bytes.as_ref());
    // Two resources are two chunks, so to_bytes joins them; one resource is shared as is.
    assert_eq!(t.to_bytes(), bytes);
    let (one, one_bytes) = encoded(&[vec![4]]);
    assert_eq!(one.to_bytes().as_ptr(), one_bytes.as_ptr(), "no copy");
}

#[test]
fn malformed_bytes_are_refused() {
    assert!(Traces::from_encoded(Bytes::from_static(&[0x0a, 0x05, 0x01])).is_err());
    let t = Traces::from_encoded(Bytes::new()).unwrap();
    assert_eq!(t.item_count(), 0);
}

#[test]
fn appending_encoded_batches_concatenates_them() {
    let (mut a, a_bytes) = encoded(&[vec![2]]);
    let (b, b_bytes) = encoded(&[vec![1], vec![3]]);
    let b_shared = b.clone();
    a.append(b).unwrap();
    assert!(a.is_encoded());
    assert_eq!(a.item_count(), 6);
    let mut out = Vec::new();
    a.encode_to(&mut out);
    assert_eq!(out, [a_bytes.as_ref(), b_bytes.as_ref()].concat());
    let mut expected = traces(&[vec![2]]);
    expected.append(traces(&[vec![1], vec![3]])).unwrap();
    assert_eq!(a, expected);
    assert_eq!(b_shared.item_count(), 4, "the other holder's batch is untouched");

    // A decoded batch joins an encoded one as an encoded chunk.
    a.append(traces(&[vec![5]])).unwrap();
    assert!(a.is_encoded());
    assert_eq!(a.item_count(), 11);
    expected.append(traces(&[vec![5]])).unwrap();
    assert_eq!(flatten(&a), flatten(&expected));

    // An empty accumulator takes an encoded batch as it is.
    let mut acc = Traces::default();
    acc.append(encoded(&[vec![2]]).0).unwrap();
    assert!(acc.is_encoded());

    // An encoded batch joins a decoded one as a tree.
    let mut d = traces(&[vec![1]]);
    d.append(encoded(&[vec![2]]).0).unwrap();
    assert!(!d.is_encoded());
    assert_eq!(d.item_count(), 3);
}

#[test]
fn splitting_an_encoded_batch_matches_splitting_the_tree() {
    let shapes: Vec<Vec<Vec<usize>>> =
        vec![vec![vec![5]], vec![vec![1, 2, 3], vec![4], vec![0, 7]], vec![vec![0], vec![3, 0, 2]]];
    for shape in shapes {
        for max in 1..=12 {
            let (mut enc, _) = encoded(&shape);
            let mut dec = traces(&shape);
            let mut parts_enc = Vec::new();
            let mut parts_dec = Vec::new();
            for _ in 0..20 {
                if dec.item_count() == 0 {
                    break;
                }
                let e = enc.split_off_front(max);
                assert!(e.is_encoded(), "splitting keeps bytes");
                assert!(enc.is_encoded() || enc.item_count() == 0, "and so does the rest");
                assert!(e.item_count() <= max);
                parts_enc.extend(flatten(&e));
                parts_dec.extend(flatten(&dec.split_off_front(max)));
            }
            assert_eq!(enc.item_count(), 0, "{shape:?} max {max}");
            assert_eq!(parts_enc, parts_dec, "{shape:?} max {max}");
        }
    }
}

#[test]
fn changing_an_encoded_batch_decodes_it_and_leaves_other_holders_alone() {
    let (mut t, bytes) = encoded(&[vec![2]]);
    let other = t.clone();
    let _ = other.request(); // the shared tree is cached, so the change must copy it
    t.make_mut().resource_spans[0].scope_spans[0].spans[0].name = "changed".into();
    assert!(!t.is_encoded());
    assert!(other.is_encoded());
    assert_eq!(other.request().resource_spans[0].scope_spans[0].spans[0].name, "0.0.0");
    let mut out = Vec::new();
    other.encode_to(&mut out);
    assert_eq!(out, bytes.as_ref());
    t.encode_to(&mut out);
    assert_ne!(&out[bytes.len()..], bytes.as_ref(), "the changed batch encodes its change");
    let req = t.into_request();
    assert_eq!(req.resource_spans[0].scope_spans[0].spans[0].name, "changed");
}

#[test]
fn a_decoded_batch_encoded_in_place_keeps_its_items_and_leaves_other_holders_alone() {
    // What an exporter does before compressing a changed batch it holds for retries.
    let shape = vec![vec![2, 1], vec![3]];
    let mut t = traces(&shape);
    let other = t.clone();
    t.encode_in_place();
    assert!(t.is_encoded());
    assert_eq!(t.item_count(), 6);
    assert_eq!(t.encoded_len(), other.request().encoded_len());
    assert_eq!(flatten(&t), flatten(&other));
    assert!(!other.is_encoded(), "the other holder keeps its tree");
    let mut written = Vec::new();
    t.write_encoded(&mut written).unwrap();
    assert_eq!(written, other.request().encode_to_vec());
    // Already encoded: nothing changes, not even the bytes' address.
    let (mut e, bytes) = encoded(&[vec![4]]);
    e.encode_in_place();
    assert_eq!(e.to_bytes().as_ptr(), bytes.as_ptr());
}
