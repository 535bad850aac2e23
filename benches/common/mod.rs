//! Shared bench helpers: deterministic data and the three contenders
//! (callseal, the `age` crate, and the raw cipher with no framing).
#![allow(dead_code)]

use std::io::{Read, Write};

use callseal::{Identity, Opener, Sealer};
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;

pub const CHUNK: usize = 64 * 1024;

/// Deterministic, incompressible-looking bytes.
pub fn data(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub fn callseal_seal(recipients: &[callseal::Recipient], plain: &[u8]) -> usize {
    let mut s = Sealer::new(recipients, std::io::sink()).unwrap();
    s.write_all(plain).unwrap();
    s.finish().unwrap();
    plain.len()
}

pub fn callseal_seal_threads(
    recipients: &[callseal::Recipient],
    plain: &[u8],
    threads: usize,
) -> usize {
    let mut s = Sealer::with_threads(recipients, std::io::sink(), threads).unwrap();
    s.write_all(plain).unwrap();
    s.finish().unwrap();
    plain.len()
}

pub fn callseal_seal_to_vec(recipients: &[callseal::Recipient], plain: &[u8]) -> Vec<u8> {
    let mut s = Sealer::new(
        recipients,
        Vec::with_capacity(plain.len() + plain.len() / 4000 + 1024),
    )
    .unwrap();
    s.write_all(plain).unwrap();
    s.finish().unwrap()
}

/// Reads everything through a 64 KiB buffer and discards it.
pub fn drain(mut r: impl Read, buf: &mut [u8]) -> usize {
    let mut total = 0;
    loop {
        match r.read(buf).unwrap() {
            0 => return total,
            n => total += n,
        }
    }
}

pub fn callseal_open(id: &Identity, sealed: &[u8], buf: &mut [u8]) -> usize {
    drain(Opener::new(sealed, std::slice::from_ref(id)).unwrap(), buf)
}

pub fn age_recipient(id: &Identity) -> age::x25519::Recipient {
    id.recipient().to_string().parse().unwrap()
}

pub fn age_identity(id: &Identity) -> age::x25519::Identity {
    id.to_secret_string().parse().unwrap()
}

pub fn age_seal(recipients: &[age::x25519::Recipient], plain: &[u8]) -> usize {
    let enc = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
        .unwrap();
    let mut w = enc.wrap_output(std::io::sink()).unwrap();
    w.write_all(plain).unwrap();
    w.finish().unwrap();
    plain.len()
}

pub fn age_seal_to_vec(recipients: &[age::x25519::Recipient], plain: &[u8]) -> Vec<u8> {
    let enc = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
        .unwrap();
    let mut out = Vec::new();
    let mut w = enc.wrap_output(&mut out).unwrap();
    w.write_all(plain).unwrap();
    w.finish().unwrap();
    out
}

pub fn age_open(id: &age::x25519::Identity, sealed: &[u8], buf: &mut [u8]) -> usize {
    let d = age::Decryptor::new_buffered(sealed).unwrap();
    let r = d
        .decrypt(std::iter::once(id as &dyn age::Identity))
        .unwrap();
    drain(r, buf)
}

/// The raw limit: ChaCha20-Poly1305 sealing 64 KiB chunks in place, no
/// framing, no copies.
pub struct RawCipher {
    aead: ChaCha20Poly1305,
}

impl Default for RawCipher {
    fn default() -> Self {
        Self::new()
    }
}

impl RawCipher {
    pub fn new() -> Self {
        RawCipher {
            aead: ChaCha20Poly1305::new(&[7u8; 32].into()),
        }
    }

    fn nonce(i: usize) -> chacha20poly1305::Nonce {
        let mut n = [0u8; 12];
        n[3..11].copy_from_slice(&(i as u64).to_be_bytes());
        n.into()
    }

    /// Seals `buf` in place chunk by chunk; tags are kept aside.
    pub fn seal_in_place(&self, buf: &mut [u8]) -> u8 {
        let mut acc = 0;
        for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
            let tag = self
                .aead
                .encrypt_in_place_detached(&Self::nonce(i), b"", chunk)
                .unwrap();
            acc ^= tag[0];
        }
        acc
    }

    /// Produces tags for `buf` (sealing it), for `open_in_place`.
    pub fn tags(&self, buf: &mut [u8]) -> Vec<chacha20poly1305::Tag> {
        buf.chunks_mut(CHUNK)
            .enumerate()
            .map(|(i, c)| {
                self.aead
                    .encrypt_in_place_detached(&Self::nonce(i), b"", c)
                    .unwrap()
            })
            .collect()
    }

    /// Verifies and decrypts in place.
    pub fn open_in_place(&self, buf: &mut [u8], tags: &[chacha20poly1305::Tag]) {
        for ((i, chunk), tag) in buf.chunks_mut(CHUNK).enumerate().zip(tags) {
            self.aead
                .decrypt_in_place_detached(&Self::nonce(i), b"", chunk, tag)
                .unwrap();
        }
    }
}
