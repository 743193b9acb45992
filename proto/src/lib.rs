//! packsim's Mesos v1 wire layer: its own `.proto` files compiled to prost types, the Mesos JSON
//! dialect, and RecordIO framing.
//!
//! This crate knows bytes and messages, never sockets or clocks. The `.proto` files under
//! `proto/proto/` are packsim's own description of the messages a Mesos 1.11 scheduler exchanges
//! with the master; a test checks every field number, type, label and default against the official
//! table (`../shared/mesos/v1-fields.tsv`). They are compiled at build time by protox, so no system
//! `protoc` is needed.
//!
//! Map:
//! - [`v1`] and [`v1::scheduler`]: the generated message types (`mesos.v1`, `mesos.v1.scheduler`).
//! - [`json`]: the Mesos JSON dialect (proto field names, enums by name, base64 bytes), which is
//!   not proto3's canonical JSON; see `../shared/mesos/PROTOCOL.md` §2.3.
//! - [`recordio`]: the `<length>\n<bytes>` framing of the event stream, with an incremental decoder
//!   that rejects malformed or oversized records and never panics.
//! - [`build`]: builders for scalar resources and shell-command tasks.
//! - [`ContentType`]: the two media types and how a message is encoded in each.
//!
//! A first tour: a SUBSCRIBE call to the Mesos JSON dialect and back, and events framed as the
//! master's stream frames them.
//!
//! ```
//! use proto::v1::FrameworkInfo;
//! use proto::v1::scheduler::{Call, call};
//!
//! let subscribe = Call {
//!     r#type: Some(call::Type::Subscribe as i32),
//!     subscribe: Some(call::Subscribe {
//!         framework_info: FrameworkInfo { user: "root".into(), name: "tour".into(), ..Default::default() },
//!         ..Default::default()
//!     }),
//!     ..Default::default()
//! };
//! let json = proto::json::to_value(&subscribe);
//! assert_eq!(json["type"], "SUBSCRIBE"); // enums by name, proto field names
//! let back: Call = proto::json::from_value(json).unwrap();
//! assert_eq!(back, subscribe);
//!
//! // RecordIO: `<length>\n<bytes>`, decoded however the bytes arrive.
//! let framed = [proto::recordio::encode(b"{}"), proto::recordio::encode(b"[1]")].concat();
//! let mut decoder = proto::RecordDecoder::new(1 << 20);
//! for chunk in framed.chunks(3) {
//!     decoder.push(chunk);
//! }
//! assert_eq!(&decoder.next_record().unwrap().unwrap()[..], b"{}");
//! assert_eq!(&decoder.next_record().unwrap().unwrap()[..], b"[1]");
//! ```

pub mod build;
pub mod json;
pub mod recordio;

/// Generated types of package `mesos.v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/mesos.v1.rs"));

    /// Generated types of package `mesos.v1.scheduler`.
    #[allow(missing_docs, clippy::all, clippy::pedantic, rust_2018_idioms)]
    pub mod scheduler {
        include!(concat!(env!("OUT_DIR"), "/mesos.v1.scheduler.rs"));
    }
}

pub use recordio::{Decoder as RecordDecoder, RecordIoError};

/// Why bytes could not be turned into a message, or a message into bytes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not JSON at all (line and column are 1-based).
    #[error("not JSON: {0}")]
    Syntax(serde_json::Error),
    /// JSON that does not describe the message (a wrong type, an unknown required enum value, ...).
    #[error("JSON does not describe a {message}: {reason}")]
    Json {
        /// The message type expected, e.g. `mesos.v1.scheduler.Event`.
        message: String,
        /// What was wrong, with the field's path when known.
        reason: String,
    },
    /// Required fields are missing (paths like `subscribe.framework_info.user`).
    #[error("{message} is missing required fields: {}", fields.join(", "))]
    MissingRequired {
        /// The message type.
        message: String,
        /// Dotted paths of the missing fields.
        fields: Vec<String>,
    },
    /// Bytes that are not a protobuf encoding of the message.
    #[error("not a protobuf {message}: {source}")]
    Protobuf {
        /// The message type expected.
        message: String,
        /// prost's reason.
        source: prost::DecodeError,
    },
}

/// The media types of the scheduler API. The master compares `Content-Type` as an exact string,
/// so these are sent exactly as written (no charset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ContentType {
    /// `application/x-protobuf`.
    #[default]
    Protobuf,
    /// `application/json`.
    Json,
}

impl ContentType {
    /// The exact header value.
    pub fn media_type(self) -> &'static str {
        match self {
            ContentType::Protobuf => "application/x-protobuf",
            ContentType::Json => "application/json",
        }
    }

    /// The content type named by a header value, compared exactly as the master does.
    pub fn from_header(value: &str) -> Option<ContentType> {
        match value {
            "application/x-protobuf" => Some(ContentType::Protobuf),
            "application/json" => Some(ContentType::Json),
            _ => None,
        }
    }

    /// `json` or `protobuf`, as the command line spells them.
    pub fn from_name(name: &str) -> Option<ContentType> {
        match name {
            "protobuf" => Some(ContentType::Protobuf),
            "json" => Some(ContentType::Json),
            _ => None,
        }
    }

    /// Encodes a message in this content type.
    pub fn encode<M: prost::Message + prost::Name>(self, message: &M) -> Vec<u8> {
        match self {
            ContentType::Protobuf => message.encode_to_vec(),
            ContentType::Json => json::to_vec(message),
        }
    }

    /// Decodes a message from this content type. JSON is checked for required fields; protobuf is
    /// checked too, because prost does not check proto2's `required` on decode.
    pub fn decode<M: prost::Message + prost::Name + Default>(self, bytes: &[u8]) -> Result<M, Error> {
        match self {
            ContentType::Protobuf => {
                let m = M::decode(bytes).map_err(|source| Error::Protobuf {
                    message: M::full_name(),
                    source,
                })?;
                json::check_required(&m)?;
                Ok(m)
            }
            ContentType::Json => json::from_slice(bytes),
        }
    }
}
