//! One error type for the whole engine.
//!
//! The variants follow the layers of the age format, so a caller (and the
//! conformance tests) can tell *where* a file went wrong: armor, header,
//! key matching, header MAC, or payload. A lower-layer problem is never
//! reported as a higher-layer one.

use std::fmt;
use std::io;

/// A specialised `Result` for callseal operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while sealing, opening, recovering or
/// inspecting a recording.
///
/// ```
/// use callseal::{Error, Identity, Opener};
///
/// let not_age = b"RIFF....WAVEfmt ".as_slice();
/// let id = Identity::generate();
/// match Opener::new(not_age, &[id]) {
///     Err(Error::Header(msg)) => assert!(msg.contains("not an age file")),
///     other => panic!("expected a header error, got {:?}", other.err()),
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading the source or writing the sink failed.
    Io(io::Error),
    /// A string or file meant to hold an `AGE-SECRET-KEY-1...` identity does not.
    InvalidIdentity(String),
    /// A string meant to hold an `age1...` recipient does not.
    InvalidRecipient(String),
    /// Sealing was asked for with an empty recipient list.
    NoRecipients,
    /// The ASCII armor (PEM) wrapper is malformed.
    Armor(String),
    /// The age header is malformed or breaks a rule of the spec (this also
    /// covers a missing or short payload nonce, as the spec does).
    Header(String),
    /// The header is well formed but none of the given identities or
    /// passphrases unwraps any of its stanzas.
    NoMatch(String),
    /// A file key was unwrapped but the header MAC does not verify: the header
    /// was altered or the file was built for another key.
    HeaderMac,
    /// The encrypted payload failed; see [`PayloadError`].
    Payload(PayloadError),
    /// An API was used in the wrong order or in a state that forbids it
    /// (writing after `finish`, seeking armored input, ...).
    Usage(&'static str),
}

/// How the encrypted payload (the STREAM chunks after the header) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadError {
    /// The file ends before its final chunk: the writer died, or the file was
    /// cut. `authenticated_bytes` of plaintext before the cut are intact
    /// (`callseal recover` returns them).
    Truncated {
        /// Plaintext bytes in the whole chunks before the cut.
        authenticated_bytes: u64,
        /// True when the cut falls inside a chunk (a partial chunk is left).
        mid_chunk: bool,
    },
    /// A full-size chunk failed authentication: the ciphertext was altered.
    Tampered {
        /// Zero-based index of the chunk that failed.
        chunk: u64,
    },
    /// The final chunk is empty although data came before it (only broken
    /// pre-1.0 writers produce this).
    EmptyFinalChunk,
    /// Bytes follow the final chunk.
    TrailingData,
}

impl Error {
    /// Recovers a callseal error carried inside an [`io::Error`] (as returned
    /// by the `Read`/`Write` implementations), or wraps a plain I/O error.
    ///
    /// ```
    /// use callseal::{Error, PayloadError};
    /// let io: std::io::Error = Error::Payload(PayloadError::TrailingData).into();
    /// assert!(matches!(Error::from_io(io), Error::Payload(PayloadError::TrailingData)));
    /// ```
    pub fn from_io(err: io::Error) -> Error {
        if err.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            let inner = err.into_inner().expect("checked above");
            return *inner.downcast::<Error>().expect("checked above");
        }
        Error::Io(err)
    }

    /// True when the payload ended early (writer crash or a cut file), the
    /// case that recovery can help with.
    ///
    /// ```
    /// use callseal::{Error, PayloadError};
    /// let e = Error::Payload(PayloadError::Truncated { authenticated_bytes: 0, mid_chunk: false });
    /// assert!(e.is_truncation());
    /// ```
    pub fn is_truncation(&self) -> bool {
        matches!(self, Error::Payload(PayloadError::Truncated { .. }))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::InvalidIdentity(m) => write!(f, "invalid identity: {m}"),
            Error::InvalidRecipient(m) => write!(f, "invalid recipient: {m}"),
            Error::NoRecipients => write!(f, "no recipients given: a recording must be sealed to at least one age1... public key"),
            Error::Armor(m) => write!(f, "malformed ASCII armor: {m}"),
            Error::Header(m) => write!(f, "invalid age header: {m}"),
            Error::NoMatch(m) => write!(f, "no identity matched: {m}"),
            Error::HeaderMac => write!(f, "header MAC does not verify: the header was altered or damaged"),
            Error::Payload(p) => write!(f, "{p}"),
            Error::Usage(m) => write!(f, "{m}"),
        }
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadError::Truncated { authenticated_bytes, mid_chunk: true } => write!(
                f,
                "file is truncated: it ends inside a chunk after {authenticated_bytes} authenticated bytes \
                 (the writer died or the file was cut; `callseal recover` returns the intact part)"
            ),
            PayloadError::Truncated { authenticated_bytes, mid_chunk: false } => write!(
                f,
                "file is truncated: no final chunk after {authenticated_bytes} authenticated bytes \
                 (the writer died or the file was cut; `callseal recover` returns the intact part)"
            ),
            PayloadError::Tampered { chunk } => write!(
                f,
                "payload chunk {chunk} failed authentication: the file was altered or damaged"
            ),
            PayloadError::EmptyFinalChunk => {
                write!(f, "payload ends with an empty final chunk after data, which age v1 forbids")
            }
            PayloadError::TrailingData => {
                write!(f, "unexpected data after the final payload chunk: the file was altered")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::from_io(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(inner) => inner,
            other => {
                let kind = match &other {
                    Error::Payload(PayloadError::Truncated { .. }) => io::ErrorKind::UnexpectedEof,
                    Error::Usage(_) => io::ErrorKind::Unsupported,
                    _ => io::ErrorKind::InvalidData,
                };
                io::Error::new(kind, other)
            }
        }
    }
}
