//! Event decoding in both content types on arbitrary bytes: an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proto::ContentType;
use proto::v1::scheduler::Event;

fuzz_target!(|data: &[u8]| {
    for ct in [ContentType::Json, ContentType::Protobuf] {
        if let Ok(e) = ct.decode::<Event>(data) {
            let _ = ct.encode(&e);
        }
    }
});
