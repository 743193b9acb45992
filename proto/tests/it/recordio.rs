//! The RecordIO decoder on arbitrary bytes: it never panics, never returns more bytes than it was
//! given, and decoding a valid stream is independent of how it is chunked. (The cargo-fuzz target
//! in proto/fuzz runs the first property far longer.)

use proptest::prelude::*;
use proto::{RecordDecoder, recordio};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300), cut in 0usize..300, max in 1u64..200) {
        let mut d = RecordDecoder::new(max);
        let cut = cut.min(data.len());
        let mut total = 0usize;
        for part in [&data[..cut], &data[cut..]] {
            d.push(part);
            loop {
                match d.next_record() {
                    Ok(Some(r)) => { prop_assert!(r.len() as u64 <= max && !r.is_empty()); total += r.len(); }
                    Ok(None) => break,
                    Err(_) => { prop_assert!(d.next_record().is_err()); break; }
                }
            }
        }
        prop_assert!(total <= data.len());
        let _ = d.finish();
    }

    #[test]
    fn valid_streams_decode_the_same_in_any_chunks(
        records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..50), 0..20),
        chunk in 1usize..64,
    ) {
        let mut stream = Vec::new();
        for r in &records { recordio::encode_into(&mut stream, r); }
        let mut d = RecordDecoder::default();
        let mut got = Vec::new();
        for piece in stream.chunks(chunk) {
            d.push(piece);
            while let Some(r) = d.next_record().unwrap() { got.push(r.to_vec()); }
        }
        prop_assert!(d.finish().is_ok());
        prop_assert_eq!(got, records);
    }
}
