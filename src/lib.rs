//! # callseal
//!
//! Seal call recordings **as they are captured**, to one or more supervisors'
//! X25519 public keys, as standard [age v1](https://age-encryption.org/v1)
//! files. Storage, backups and web servers only ever hold ciphertext; the
//! capture host cannot read back what it wrote; stock `age` and `rage` open
//! every file callseal writes.
//!
//! ```
//! use std::io::{Read, Write};
//! use callseal::{Identity, Opener, Sealer};
//!
//! // Supervisor side, once: make a key pair and hand out the public half.
//! let supervisor = Identity::generate();
//! let recipient = supervisor.recipient(); // "age1..."
//!
//! // Capture side: seal frames as they arrive.
//! let mut sealer = Sealer::new(&[recipient], Vec::new())?;
//! for _ in 0..50 {
//!     sealer.write_all(&[0u8; 320])?; // 20 ms of 8 kHz 16-bit mono
//! }
//! let sealed = sealer.finish()?;
//!
//! // Supervisor side: open it.
//! let mut audio = Vec::new();
//! Opener::new(sealed.as_slice(), &[supervisor])?.read_to_end(&mut audio)?;
//! assert_eq!(audio.len(), 50 * 320);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Module map: [`Sealer`] writes, [`Opener`] reads and seeks, [`recover`]
//! salvages files whose writer died, [`inspect`] describes a file with no
//! key, [`Identity`]/[`Recipient`] are the keys, [`Error`] says what failed.

// Only the C ABI module may opt back in, with a SAFETY comment per block.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod armor;
mod atomic_file;
/// Recording-aware sealing: WAV/MP3 capture, playable open, clips, recovery, metadata.
pub mod audio;
mod error;
/// The C ABI behind `include/callseal.h` (see `docs/using-from-c.md`).
pub mod ffi;
mod format;
mod identity_file;
mod input;
mod inspect;
mod keys;
mod open;
mod passphrase;
mod primitives;
mod recover;
mod seal;
pub mod stream;

pub use armor::armor;
pub use atomic_file::AtomicFile;
pub use error::{Error, PayloadError, Result};
pub use identity_file::{parse_identities, parse_recipients};
pub use inspect::{inspect, Ending, Inspection};
pub use keys::{Identity, Recipient};
pub use open::Opener;
pub use passphrase::DEFAULT_MAX_WORK_FACTOR;
pub use recover::{recover, Recovery};
pub use seal::Sealer;

/// The README's Rust examples, compiled and run as doctests so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
