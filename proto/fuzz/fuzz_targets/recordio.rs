//! The RecordIO decoder on arbitrary bytes, pushed in chunks whose sizes come from the input:
//! it must never panic, never hand out more bytes than it was given, nor a record over its limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proto::RecordDecoder;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let max = u64::from(first) * 4 + 1;
    let chunk = usize::from(first % 17) + 1;
    let mut d = RecordDecoder::new(max);
    let mut total = 0;
    for piece in rest.chunks(chunk) {
        d.push(piece);
        loop {
            match d.next_record() {
                Ok(Some(r)) => {
                    assert!(!r.is_empty() && r.len() as u64 <= max);
                    total += r.len();
                }
                Ok(None) => break,
                Err(_) => {
                    assert!(d.next_record().is_err());
                    break;
                }
            }
        }
    }
    assert!(total <= rest.len());
    let _ = d.finish();
});
