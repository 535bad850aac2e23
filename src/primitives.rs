//! The small cryptographic building blocks age v1 is made of: HKDF-SHA-256,
//! HMAC-SHA-256, ChaCha20-Poly1305 with a zero nonce for key wrapping,
//! canonical unpadded base64, and the OS random source.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Size of an age file key.
pub(crate) const FILE_KEY_LEN: usize = 16;
/// Size of a Poly1305 tag.
pub(crate) const TAG_LEN: usize = 16;

/// A 16-byte file key, wiped from memory when dropped.
pub(crate) type FileKey = Zeroizing<[u8; FILE_KEY_LEN]>;

/// HKDF-SHA-256 with a 32-byte output, as every age derivation uses.
pub(crate) fn hkdf(salt: &[u8], info: &[u8], ikm: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    hkdf::Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out.as_mut())
        .expect("32 bytes is a valid HKDF-SHA-256 output length");
    out
}

/// Computes the header MAC over `header_up_to_dashes` (which ends with `---`).
pub(crate) fn header_mac(
    file_key: &[u8; FILE_KEY_LEN],
    header_up_to_dashes: &[u8],
) -> Hmac<Sha256> {
    let key = hkdf(b"", b"header", file_key);
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref()).expect("HMAC takes any key size");
    mac.update(header_up_to_dashes);
    mac
}

/// Seals a file key under a one-time wrap key (zero nonce, as the spec says:
/// each wrap key is derived from fresh randomness and used once).
pub(crate) fn wrap_file_key(wrap_key: &[u8; 32], file_key: &[u8; FILE_KEY_LEN]) -> [u8; 32] {
    let aead = ChaCha20Poly1305::new(wrap_key.into());
    let mut body = [0u8; FILE_KEY_LEN + TAG_LEN];
    body[..FILE_KEY_LEN].copy_from_slice(file_key);
    let tag = aead
        .encrypt_in_place_detached(&[0u8; 12].into(), b"", &mut body[..FILE_KEY_LEN])
        .expect("a 16-byte message is within ChaCha20-Poly1305 limits");
    body[FILE_KEY_LEN..].copy_from_slice(&tag);
    body
}

/// Opens a wrapped file key; `None` when the tag does not verify (the stanza
/// is for someone else). The caller has already checked the body is 32 bytes.
pub(crate) fn unwrap_file_key(wrap_key: &[u8; 32], body: &[u8; 32]) -> Option<FileKey> {
    let aead = ChaCha20Poly1305::new(wrap_key.into());
    let mut key = Zeroizing::new([0u8; FILE_KEY_LEN]);
    key.copy_from_slice(&body[..FILE_KEY_LEN]);
    aead.decrypt_in_place_detached(
        &[0u8; 12].into(),
        b"",
        key.as_mut(),
        body[FILE_KEY_LEN..].into(),
    )
    .ok()?;
    Some(key)
}

/// Fills `buf` from the operating system's CSPRNG.
///
/// Failing to get randomness is not recoverable for a sealing library: going
/// on would mean reusing keys, so this panics (the C ABI catches it).
pub(crate) fn fill_random(buf: &mut [u8]) {
    getrandom::getrandom(buf)
        .expect("the OS random source failed; refusing to seal without randomness");
}

/// A fresh random file key.
pub(crate) fn new_file_key() -> FileKey {
    let mut key = Zeroizing::new([0u8; FILE_KEY_LEN]);
    fill_random(key.as_mut());
    key
}

/// Encodes as canonical unpadded base64 (the header's encoding).
pub(crate) fn b64_encode(data: &[u8]) -> String {
    STANDARD_NO_PAD.encode(data)
}

/// Decodes canonical unpadded base64, rejecting padding, non-zero trailing
/// bits and any character outside the alphabet (including CR and LF).
pub(crate) fn b64_decode(text: &[u8]) -> Option<Vec<u8>> {
    STANDARD_NO_PAD.decode(text).ok()
}

/// Decodes canonical unpadded base64 that must be exactly `N` bytes.
pub(crate) fn b64_decode_exact<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    b64_decode(text)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rejects_padding_and_non_canonical_bits() {
        assert_eq!(b64_decode(b"AA").as_deref(), Some(&[0u8][..]));
        assert!(b64_decode(b"AA==").is_none(), "padding must be refused");
        assert!(
            b64_decode(b"AB").is_none(),
            "non-zero trailing bits must be refused"
        );
        assert!(b64_decode(b"AA\n").is_none(), "line breaks must be refused");
    }

    #[test]
    fn wrap_then_unwrap_round_trips_and_wrong_key_fails() {
        let file_key = [7u8; 16];
        let body = wrap_file_key(&[1u8; 32], &file_key);
        assert_eq!(*unwrap_file_key(&[1u8; 32], &body).unwrap(), file_key);
        assert!(unwrap_file_key(&[2u8; 32], &body).is_none());
    }
}
