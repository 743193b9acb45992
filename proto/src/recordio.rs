//! RecordIO, the framing of the scheduler event stream: `record = 1*DIGIT LF <that many bytes>`,
//! with no separator after the bytes. HTTP chunk boundaries have nothing to do with records, so the
//! [`Decoder`] takes bytes as they come and hands out whole records.

use bytes::{Buf, Bytes, BytesMut};

/// Appends one framed record to `out`.
pub fn encode_into(out: &mut Vec<u8>, record: &[u8]) {
    out.extend_from_slice(record.len().to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(record);
}

/// One framed record.
pub fn encode(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len() + 8);
    encode_into(&mut out, record);
    out
}

/// A malformed stream. Offsets count bytes from the start of the stream.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordIoError {
    /// A byte other than a digit or the newline in a length line.
    #[error("byte {offset}: expected a digit or a newline in a record length, found {found:?}")]
    NotADigit {
        /// Where.
        offset: u64,
        /// The byte, shown as a char.
        found: char,
    },
    /// A newline with no digits before it.
    #[error("byte {offset}: empty record length")]
    EmptyLength {
        /// Where.
        offset: u64,
    },
    /// A record of length 0, which RecordIO does not allow.
    #[error("byte {offset}: record length 0")]
    ZeroLength {
        /// Where.
        offset: u64,
    },
    /// A record longer than the decoder accepts (or a length that overflows).
    #[error("byte {offset}: record length {length} is over the limit of {max} bytes")]
    TooLong {
        /// Where the length starts.
        offset: u64,
        /// The length read so far (saturated).
        length: u64,
        /// The limit.
        max: u64,
    },
    /// The stream ended inside a record.
    #[error("stream ended inside a record ({have} of {want} bytes after byte {offset})")]
    Truncated {
        /// Where the unfinished record starts.
        offset: u64,
        /// Bytes of it received.
        have: u64,
        /// Bytes it announced (0 while still reading the length).
        want: u64,
    },
}

/// The default limit on one record: 64 MiB, far above any real event.
pub const DEFAULT_MAX_RECORD: u64 = 64 << 20;

#[derive(Clone, Copy, Debug)]
enum State {
    /// Reading the length: digits seen and value so far.
    Length { digits: u8, value: u64 },
    /// Reading `want` payload bytes.
    Payload { want: u64 },
    /// A previous error; the stream cannot be resynchronised.
    Failed,
}

/// An incremental RecordIO decoder: [`push`](Decoder::push) bytes as they arrive, then take
/// records with [`next_record`](Decoder::next_record) until it answers `Ok(None)`.
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    state: State,
    max: u64,
    /// Stream offset of `buf[0]`.
    consumed: u64,
    /// Stream offset where the current record (its length line) began.
    record_start: u64,
    error: Option<RecordIoError>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_RECORD)
    }
}

impl Decoder {
    /// A decoder that rejects records longer than `max_record` bytes.
    pub fn new(max_record: u64) -> Decoder {
        Decoder {
            buf: BytesMut::new(),
            state: State::Length { digits: 0, value: 0 },
            max: max_record,
            consumed: 0,
            record_start: 0,
            error: None,
        }
    }

    /// Adds bytes received from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.error.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    fn fail(&mut self, e: RecordIoError) -> Result<Option<Bytes>, RecordIoError> {
        self.state = State::Failed;
        self.buf.clear();
        self.error = Some(e.clone());
        Err(e)
    }

    /// The next whole record, `Ok(None)` if more bytes are needed, or the error that broke the
    /// stream (every later call returns it again).
    pub fn next_record(&mut self) -> Result<Option<Bytes>, RecordIoError> {
        loop {
            match self.state {
                State::Failed => return Err(self.error.clone().expect("failed state has its error")),
                State::Length { digits, value } => {
                    if self.buf.is_empty() {
                        return Ok(None);
                    }
                    let offset = self.consumed;
                    let b = self.buf[0];
                    self.buf.advance(1);
                    self.consumed += 1;
                    match b {
                        b'0'..=b'9' => {
                            let value = value.saturating_mul(10).saturating_add(u64::from(b - b'0'));
                            if value > self.max {
                                return self.fail(RecordIoError::TooLong {
                                    offset: self.record_start,
                                    length: value,
                                    max: self.max,
                                });
                            }
                            self.state = State::Length {
                                digits: digits.saturating_add(1),
                                value,
                            };
                        }
                        b'\n' if digits == 0 => return self.fail(RecordIoError::EmptyLength { offset }),
                        b'\n' if value == 0 => {
                            return self.fail(RecordIoError::ZeroLength {
                                offset: self.record_start,
                            });
                        }
                        b'\n' => self.state = State::Payload { want: value },
                        other => {
                            return self.fail(RecordIoError::NotADigit {
                                offset,
                                found: char::from(other),
                            });
                        }
                    }
                }
                State::Payload { want } => {
                    // `want <= max`, which fits in memory by construction of the limit.
                    let want_usize = usize::try_from(want).unwrap_or(usize::MAX);
                    if self.buf.len() < want_usize {
                        return Ok(None);
                    }
                    let record = self.buf.split_to(want_usize).freeze();
                    self.consumed += want;
                    self.record_start = self.consumed;
                    self.state = State::Length { digits: 0, value: 0 };
                    return Ok(Some(record));
                }
            }
        }
    }

    /// Call at the end of the stream: an error if it stopped inside a record.
    pub fn finish(&self) -> Result<(), RecordIoError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.state {
            State::Length { digits: 0, .. } if self.buf.is_empty() => Ok(()),
            State::Length { .. } => Err(RecordIoError::Truncated {
                offset: self.record_start,
                have: self.consumed - self.record_start + self.buf.len() as u64,
                want: 0,
            }),
            State::Payload { want } => Err(RecordIoError::Truncated {
                offset: self.record_start,
                have: self.buf.len() as u64,
                want,
            }),
            State::Failed => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(d: &mut Decoder) -> Result<Vec<Vec<u8>>, RecordIoError> {
        let mut out = Vec::new();
        while let Some(r) = d.next_record()? {
            out.push(r.to_vec());
        }
        Ok(out)
    }

    #[test]
    fn records_split_anywhere_come_out_whole() {
        let stream = b"5\nhello3\nabc12\n{\"type\":\"x\"}";
        for split in 0..stream.len() {
            let mut d = Decoder::default();
            d.push(&stream[..split]);
            let mut got = all(&mut d).unwrap();
            d.push(&stream[split..]);
            got.extend(all(&mut d).unwrap());
            assert_eq!(
                got,
                vec![b"hello".to_vec(), b"abc".to_vec(), b"{\"type\":\"x\"}".to_vec()]
            );
            d.finish().unwrap();
        }
    }

    #[test]
    fn malformed_lengths_are_errors_that_stick() {
        let mut d = Decoder::default();
        d.push(b"3\nabc\n4\nabcd");
        assert_eq!(all(&mut d).unwrap_err(), RecordIoError::EmptyLength { offset: 5 });
        d.push(b"1\nx");
        assert!(d.next_record().is_err());

        let mut d = Decoder::default();
        d.push(b"0\n");
        assert_eq!(all(&mut d).unwrap_err(), RecordIoError::ZeroLength { offset: 0 });

        let mut d = Decoder::default();
        d.push(b"12a\n");
        assert_eq!(
            all(&mut d).unwrap_err(),
            RecordIoError::NotADigit {
                offset: 2,
                found: 'a'
            }
        );
    }

    #[test]
    fn oversized_records_are_refused_before_buffering() {
        let mut d = Decoder::new(100);
        d.push(b"2\nok101\n");
        assert_eq!(d.next_record().unwrap().unwrap().as_ref(), b"ok");
        assert_eq!(
            d.next_record().unwrap_err(),
            RecordIoError::TooLong {
                offset: 4,
                length: 101,
                max: 100
            }
        );
        let mut d = Decoder::default();
        d.push(b"99999999999999999999999999\n");
        assert!(matches!(d.next_record(), Err(RecordIoError::TooLong { .. })));
    }

    #[test]
    fn a_stream_ending_mid_record_is_truncated() {
        let mut d = Decoder::default();
        d.push(b"10\nabc");
        assert_eq!(d.next_record().unwrap(), None);
        assert_eq!(
            d.finish(),
            Err(RecordIoError::Truncated {
                offset: 0,
                have: 3,
                want: 10
            })
        );
        let mut d = Decoder::default();
        d.push(b"3\nabc1");
        all(&mut d).unwrap();
        assert!(matches!(
            d.finish(),
            Err(RecordIoError::Truncated { offset: 5, .. })
        ));
    }

    #[test]
    fn encode_matches_the_master_framing() {
        assert_eq!(
            encode(b"{\"type\":\"HEARTBEAT\"}"),
            b"20\n{\"type\":\"HEARTBEAT\"}".to_vec()
        );
    }
}
