//! Describing a sealed file without any key.

use std::io::Read;

use crate::error::{Error, Result};
use crate::format::read_header;
use crate::input::Source;
use crate::primitives::TAG_LEN;
use crate::stream::{CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, PAYLOAD_NONCE_SIZE};

/// What can be learnt about a sealed file without a key. Sizes are read off
/// the ciphertext and are *not* authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The type of each recipient stanza, in order (`X25519`, `scrypt`, ...).
    pub stanza_types: Vec<String>,
    /// True when the input was ASCII-armored.
    pub armored: bool,
    /// Header length in bytes.
    pub header_len: u64,
    /// Payload bytes after the 16-byte nonce (all chunks with their tags).
    pub payload_len: u64,
    /// Number of chunks the payload holds (a partial last one counts).
    pub chunk_count: u64,
    /// Plaintext size implied by the payload size, if the file is whole.
    pub plaintext_len: u64,
    /// How the payload ends.
    pub ending: Ending,
}

/// How a payload ends, judged from sizes alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The last chunk is shorter than a full chunk, so it can only be a final
    /// chunk: the file looks complete (decryption will confirm).
    FinalSized,
    /// The last chunk is full-size: either a full final chunk, or the writer
    /// died on a chunk boundary. Only decryption can tell.
    FullChunk,
    /// No chunk at all, or a last piece too short to hold a tag: truncated.
    Truncated,
}

/// Reads a sealed file's header and measures its payload, with no key.
///
/// ```
/// use std::io::Write;
/// use callseal::{inspect, Ending, Identity, Sealer};
///
/// let (a, b) = (Identity::generate(), Identity::generate());
/// let mut s = Sealer::new(&[a.recipient(), b.recipient()], Vec::new())?;
/// s.write_all(&[0u8; 1000])?;
/// let file = s.finish()?;
/// let info = inspect(file.as_slice())?;
/// assert_eq!(info.stanza_types, ["X25519", "X25519"]);
/// assert_eq!((info.plaintext_len, info.chunk_count, info.ending), (1000, 1, Ending::FinalSized));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn inspect<R: Read>(source: R) -> Result<Inspection> {
    let mut source = Source::detect(source)?;
    let armored = source.is_armored();
    let (header, rest) = read_header(&mut source)?;
    source.push_back(rest);
    let total = std::io::copy(&mut source, &mut std::io::sink()).map_err(Error::from_io)?;
    let payload_len = total.saturating_sub(PAYLOAD_NONCE_SIZE as u64);
    if total < PAYLOAD_NONCE_SIZE as u64 {
        return Err(Error::Header(
            "the payload nonce after the header is missing or short".into(),
        ));
    }
    let chunk_count = payload_len.div_ceil(ENCRYPTED_CHUNK_SIZE as u64);
    let last = payload_len - chunk_count.saturating_sub(1) * ENCRYPTED_CHUNK_SIZE as u64;
    let ending = match last {
        _ if chunk_count == 0 || last < TAG_LEN as u64 => Ending::Truncated,
        l if l == ENCRYPTED_CHUNK_SIZE as u64 => Ending::FullChunk,
        _ => Ending::FinalSized,
    };
    let plaintext_len = match ending {
        Ending::Truncated => chunk_count.saturating_sub(1) * CHUNK_SIZE as u64,
        _ => payload_len - chunk_count * TAG_LEN as u64,
    };
    Ok(Inspection {
        stanza_types: header.stanzas.iter().map(|s| s.tag.clone()).collect(),
        armored,
        header_len: header.len() as u64,
        payload_len,
        chunk_count,
        plaintext_len,
        ending,
    })
}
