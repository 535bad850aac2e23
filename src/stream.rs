//! STREAM, the age payload encryption: ChaCha20-Poly1305 over 64 KiB chunks
//! with a nonce made of an 88-bit big-endian chunk counter and a final flag.
//!
//! This module knows nothing about headers or files. It seals and opens one
//! chunk at a time, in place, in a buffer the caller owns, so the sealer,
//! opener, seeking, recovery and parallel paths all share it.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};

use crate::primitives::{hkdf, TAG_LEN};

/// Plaintext bytes in every chunk but the last.
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Bytes a full chunk takes on disk: plaintext plus its tag.
pub const ENCRYPTED_CHUNK_SIZE: usize = CHUNK_SIZE + TAG_LEN;
/// Bytes of the random payload nonce that follows the header.
pub const PAYLOAD_NONCE_SIZE: usize = 16;

/// The key that encrypts the payload, derived from the file key and the
/// payload nonce. Wiped on drop (the AEAD zeroizes its key).
pub(crate) struct PayloadKey {
    aead: ChaCha20Poly1305,
}

impl PayloadKey {
    /// `HKDF-SHA-256(ikm = file key, salt = nonce, info = "payload")`.
    pub fn derive(file_key: &[u8; 16], nonce: &[u8; PAYLOAD_NONCE_SIZE]) -> PayloadKey {
        let key = hkdf(nonce, b"payload", file_key);
        PayloadKey {
            aead: ChaCha20Poly1305::new(key.as_ref().into()),
        }
    }

    /// Seals `chunk[..len]` in place and writes the tag to
    /// `chunk[len..len + 16]`. Returns the sealed length, `len + 16`.
    pub fn seal_in_place(&self, counter: u64, last: bool, chunk: &mut [u8], len: usize) -> usize {
        debug_assert!(len <= CHUNK_SIZE && chunk.len() >= len + TAG_LEN);
        let tag = self
            .aead
            .encrypt_in_place_detached(&chunk_nonce(counter, last), b"", &mut chunk[..len])
            .expect("a 64 KiB chunk is within ChaCha20-Poly1305 limits");
        chunk[len..len + TAG_LEN].copy_from_slice(&tag);
        len + TAG_LEN
    }

    /// Opens a sealed chunk (ciphertext then tag) in place. On success the
    /// plaintext is in `sealed[..sealed.len() - 16]`; on failure the buffer is
    /// left untouched (the tag is checked before anything is decrypted).
    pub fn open_in_place(&self, counter: u64, last: bool, sealed: &mut [u8]) -> bool {
        let Some(plain_len) = sealed.len().checked_sub(TAG_LEN) else {
            return false;
        };
        let (data, tag) = sealed.split_at_mut(plain_len);
        let tag = Tag::clone_from_slice(tag);
        self.aead
            .decrypt_in_place_detached(&chunk_nonce(counter, last), b"", data, &tag)
            .is_ok()
    }
}

/// The 12-byte chunk nonce: an 11-byte big-endian counter, then 0x01 for the
/// final chunk or 0x00 otherwise.
fn chunk_nonce(counter: u64, last: bool) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[3..11].copy_from_slice(&counter.to_be_bytes());
    nonce[11] = u8::from(last);
    nonce.into()
}

/// Ciphertext bytes (tags included, nonce excluded) for `plaintext_len`
/// bytes of plaintext.
///
/// ```
/// use callseal::stream::payload_size;
/// assert_eq!(payload_size(0), 16);
/// assert_eq!(payload_size(65536), 65552);
/// assert_eq!(payload_size(65537), 65552 + 17);
/// ```
pub fn payload_size(plaintext_len: u64) -> u64 {
    plaintext_len + TAG_LEN as u64 * chunk_count(plaintext_len)
}

/// Number of chunks that `plaintext_len` bytes of plaintext are sealed into
/// (at least one: an empty plaintext is one empty final chunk).
///
/// ```
/// use callseal::stream::chunk_count;
/// assert_eq!((chunk_count(0), chunk_count(65536), chunk_count(65537)), (1, 1, 2));
/// ```
pub fn chunk_count(plaintext_len: u64) -> u64 {
    plaintext_len.div_ceil(CHUNK_SIZE as u64).max(1)
}

/// Runs `work` over `slots` (equal-size pieces of `buf`, one sealed chunk
/// each) on up to `threads` threads; slot `i` is given its index. Chunks
/// are independent (the nonce is the counter), so any split is valid.
pub(crate) fn for_each_slot<F>(buf: &mut [u8], slots: usize, threads: usize, work: F)
where
    F: Fn(usize, &mut [u8]) + Sync,
{
    let slot_size = ENCRYPTED_CHUNK_SIZE;
    let used = &mut buf[..slots * slot_size];
    if threads <= 1 || slots <= 1 {
        for (i, slot) in used.chunks_mut(slot_size).enumerate() {
            work(i, slot);
        }
        return;
    }
    let per_thread = slots.div_ceil(threads);
    std::thread::scope(|scope| {
        let mut groups = used.chunks_mut(per_thread * slot_size).enumerate();
        // The calling thread takes the first group itself instead of idling.
        let first = groups.next();
        for (t, group) in groups {
            let work = &work;
            scope.spawn(move || {
                for (j, slot) in group.chunks_mut(slot_size).enumerate() {
                    work(t * per_thread + j, slot);
                }
            });
        }
        if let Some((_, group)) = first {
            for (j, slot) in group.chunks_mut(slot_size).enumerate() {
                work(j, slot);
            }
        }
    });
}

/// Slots per thread in a parallel batch: 512 KiB of plaintext per thread
/// keeps thread start-up cost under 1% of the sealing work.
pub(crate) const SLOTS_PER_THREAD: usize = 32;

/// Slots in a batch for `threads` threads (1 for the sequential path).
pub(crate) fn batch_slots(threads: usize) -> usize {
    if threads <= 1 {
        1
    } else {
        threads * SLOTS_PER_THREAD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_layout_matches_the_spec() {
        let n = chunk_nonce(0x0102, true);
        assert_eq!(n.as_slice(), &[0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1]);
    }

    #[test]
    fn sealed_chunk_opens_only_with_its_counter_and_flag() {
        let key = PayloadKey::derive(&[1; 16], &[2; 16]);
        let mut buf = vec![0u8; 100 + TAG_LEN];
        buf[..100].fill(0x55);
        let n = key.seal_in_place(5, false, &mut buf, 100);
        let sealed = buf.clone();
        for (counter, last) in [(4, false), (5, true), (6, false)] {
            let mut copy = sealed.clone();
            assert!(!key.open_in_place(counter, last, &mut copy[..n]));
            assert_eq!(copy, sealed, "a failed open must not touch the buffer");
        }
        assert!(key.open_in_place(5, false, &mut buf[..n]));
        assert!(buf[..100].iter().all(|&b| b == 0x55));
    }
}
