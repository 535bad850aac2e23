//! [`Opener`]: decrypts a sealed recording, releasing only authenticated
//! bytes, with seeking by plaintext offset.

use std::io::{self, Read, Seek, SeekFrom};

use zeroize::Zeroize;

use crate::error::{Error, PayloadError, Result};
use crate::format::{read_header, Header};
use crate::input::Source;
use crate::keys::Identity;
use crate::passphrase::{Passphrase, DEFAULT_MAX_WORK_FACTOR};
use crate::primitives::{FileKey, TAG_LEN};
use crate::stream::{PayloadKey, CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, PAYLOAD_NONCE_SIZE};

/// What can unlock a header.
pub(crate) enum Keys<'a> {
    Identities(&'a [Identity]),
    Passphrase(Passphrase<'a>),
}

/// Reads and decrypts an age v1 file (binary or ASCII-armored).
///
/// Each 64 KiB chunk is authenticated before any of its bytes is returned.
/// A file that ends without its final chunk, has trailing data or was
/// altered yields an error from `read` (never a silent `Ok(0)`), so a
/// reader that reads to the end always learns whether the recording is
/// whole. The error is a [`crate::Error`] inside the `io::Error`; get it back
/// with [`Error::from_io`].
///
/// When the source implements `Seek`, so does the opener, by plaintext
/// offset: the final chunk is authenticated first (so the length is
/// trusted), then only the chunk holding the target offset is decrypted.
///
/// ```
/// use std::io::{Read, Seek, SeekFrom, Write};
/// use callseal::{Identity, Opener, Sealer};
///
/// let id = Identity::generate();
/// let mut sealer = Sealer::new(&[id.recipient()], Vec::new())?;
/// sealer.write_all(&vec![7u8; 200_000])?;
/// let file = sealer.finish()?;
///
/// let mut opener = Opener::new(std::io::Cursor::new(file), &[id])?;
/// assert_eq!(opener.seek(SeekFrom::End(-10))?, 199_990);
/// let mut tail = Vec::new();
/// opener.read_to_end(&mut tail)?;
/// assert_eq!(tail, vec![7u8; 10]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Opener<R> {
    source: Source<R>,
    key: PayloadKey,
    /// One sealed chunk; after decryption its plaintext is at the front.
    chunk: Box<[u8; ENCRYPTED_CHUNK_SIZE]>,
    /// Index of the chunk in `chunk` (or the next one to load when empty).
    chunk_index: u64,
    plain_len: usize,
    pos: usize,
    /// The final chunk has been authenticated: after it comes the end.
    final_seen: bool,
    /// An error to report once the released plaintext has been consumed,
    /// and again on every later read.
    failure: Option<Failure>,
    header_len: u64,
    stanza_count: usize,
    /// Set on the first seek: where the file starts in the source and its
    /// authenticated plaintext length.
    geometry: Option<Geometry>,
}

#[derive(Clone, Copy)]
enum Failure {
    Payload(PayloadError),
    /// An I/O error interrupted a chunk; the stream position is unknown.
    Io,
}

#[derive(Clone, Copy)]
struct Geometry {
    file_start: u64,
    plaintext_len: u64,
    chunks: u64,
}

impl<R: Read> Opener<R> {
    /// Reads the header from `source` and unlocks it with the first of
    /// `identities` that matches.
    ///
    /// Errors: [`Error::Armor`] and [`Error::Header`] for malformed input,
    /// [`Error::NoMatch`] when no identity fits, [`Error::HeaderMac`] when the
    /// header was altered, [`Error::Io`] when the source fails.
    ///
    /// ```
    /// use callseal::{Error, Identity, Opener, Sealer};
    ///
    /// let alice = Identity::generate();
    /// let file = Sealer::new(&[alice.recipient()], Vec::new())?.finish()?;
    /// let bob = Identity::generate();
    /// assert!(matches!(Opener::new(file.as_slice(), &[bob]), Err(Error::NoMatch(_))));
    /// assert!(Opener::new(file.as_slice(), &[alice]).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(source: R, identities: &[Identity]) -> Result<Opener<R>> {
        Opener::with_keys(source, Keys::Identities(identities))
    }

    /// Opens a passphrase-protected file (an `scrypt` stanza, as `age -p`
    /// writes), refusing work factors above 2^22.
    ///
    /// ```
    /// use std::io::Read;
    /// // The C2SP `scrypt` vector: passphrase "password", work factor 2^10.
    /// # let vector = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/age-vectors/scrypt"));
    /// # let Ok(vector) = vector else { return Ok(()) };
    /// # let file = &vector[vector.windows(2).position(|w| w == b"\n\n").unwrap() + 2..];
    /// let mut opener = callseal::Opener::with_passphrase(file, "password")?;
    /// let mut plaintext = Vec::new();
    /// opener.read_to_end(&mut plaintext)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_passphrase(source: R, passphrase: &str) -> Result<Opener<R>> {
        Opener::with_passphrase_limit(source, passphrase, DEFAULT_MAX_WORK_FACTOR)
    }

    /// Like [`Opener::with_passphrase`] with an explicit cap on the scrypt
    /// work factor (log2 N); files asking for more are refused as a header
    /// failure before any scrypt work is done.
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// let file = callseal::Sealer::new(&[id.recipient()], Vec::new())?.finish()?;
    /// // A key-sealed file offers no passphrase stanza.
    /// assert!(matches!(
    ///     callseal::Opener::with_passphrase_limit(file.as_slice(), "pw", 18),
    ///     Err(callseal::Error::NoMatch(_))
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_passphrase_limit(
        source: R,
        passphrase: &str,
        max_work_factor: u8,
    ) -> Result<Opener<R>> {
        Opener::with_keys(
            source,
            Keys::Passphrase(Passphrase {
                passphrase,
                max_work_factor,
            }),
        )
    }

    pub(crate) fn with_keys(source: R, keys: Keys<'_>) -> Result<Opener<R>> {
        let mut source = Source::detect(source)?;
        let (header, rest) = read_header(&mut source)?;
        source.push_back(rest);
        let file_key = unlock(&header, &keys)?;
        header.verify_mac(&file_key)?;

        let mut nonce = [0u8; PAYLOAD_NONCE_SIZE];
        if source.read_full(&mut nonce)? < PAYLOAD_NONCE_SIZE {
            return Err(Error::Header(
                "the payload nonce after the header is missing or short".into(),
            ));
        }
        Ok(Opener {
            source,
            key: PayloadKey::derive(&file_key, &nonce),
            chunk: Box::new([0u8; ENCRYPTED_CHUNK_SIZE]),
            chunk_index: 0,
            plain_len: 0,
            pos: 0,
            final_seen: false,
            failure: None,
            header_len: header.len() as u64,
            stanza_count: header.stanzas.len(),
            geometry: None,
        })
    }

    /// Length in bytes of the header (the payload nonce follows it).
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// let file = callseal::Sealer::new(&[id.recipient()], Vec::new())?.finish()?;
    /// assert_eq!(callseal::Opener::new(file.as_slice(), &[id])?.header_len(), 168);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn header_len(&self) -> u64 {
        self.header_len
    }

    /// Number of recipient stanzas in the header.
    ///
    /// ```
    /// let (a, b) = (callseal::Identity::generate(), callseal::Identity::generate());
    /// let file = callseal::Sealer::new(&[a.recipient(), b.recipient()], Vec::new())?.finish()?;
    /// assert_eq!(callseal::Opener::new(file.as_slice(), &[b])?.stanza_count(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stanza_count(&self) -> usize {
        self.stanza_count
    }

    /// True when the input was ASCII-armored.
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// let file = callseal::Sealer::new(&[id.recipient()], Vec::new())?.finish()?;
    /// let armored = callseal::armor(&file);
    /// assert!(callseal::Opener::new(armored.as_bytes(), &[id])?.is_armored());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_armored(&self) -> bool {
        self.source.is_armored()
    }

    /// Plaintext bytes authenticated and returned (or skipped) so far.
    pub(crate) fn position(&self) -> u64 {
        self.chunk_index * CHUNK_SIZE as u64 + self.pos as u64
    }

    /// The authenticated plaintext of the current chunk not yet consumed.
    /// Empty means: call [`Opener::advance`].
    pub(crate) fn available(&self) -> &[u8] {
        &self.chunk[self.pos..self.plain_len]
    }

    /// Marks `n` bytes of [`Opener::available`] as consumed.
    pub(crate) fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.plain_len);
    }

    /// Loads and authenticates the next chunk. `Ok(false)` at the
    /// authenticated end of the file.
    pub(crate) fn advance(&mut self) -> Result<bool> {
        debug_assert!(self.available().is_empty());
        if let Some(failure) = self.failure {
            return Err(match failure {
                Failure::Payload(p) => Error::Payload(p),
                Failure::Io => {
                    Error::Usage("an earlier read failed; reopen the file to read it again")
                }
            });
        }
        if self.final_seen {
            return Ok(false);
        }
        if self.plain_len > 0 {
            self.chunk_index += 1;
        }
        self.plain_len = 0;
        self.pos = 0;
        match self.load_chunk() {
            Ok(()) => Ok(true),
            Err(Error::Payload(p)) => {
                self.failure = Some(Failure::Payload(p));
                Err(Error::Payload(p))
            }
            Err(e) => {
                self.failure = Some(Failure::Io);
                Err(e)
            }
        }
    }

    /// Reads chunk `chunk_index` from the source and authenticates it.
    ///
    /// A short read means this must be the final chunk. A full-size chunk is
    /// tried as non-final, then as final (a full final chunk is legal).
    fn load_chunk(&mut self) -> Result<()> {
        let index = self.chunk_index;
        let released = index * CHUNK_SIZE as u64;
        let n = self.source.read_full(&mut self.chunk[..])?;
        let truncated = |mid_chunk| {
            Error::Payload(PayloadError::Truncated {
                authenticated_bytes: released,
                mid_chunk,
            })
        };
        if n == 0 {
            return Err(truncated(false));
        }
        if n < ENCRYPTED_CHUNK_SIZE {
            if !self.key.open_in_place(index, true, &mut self.chunk[..n]) {
                return Err(truncated(true));
            }
            if n == TAG_LEN && index > 0 {
                return Err(Error::Payload(PayloadError::EmptyFinalChunk));
            }
            self.final_seen = true;
        } else if self.key.open_in_place(index, false, &mut self.chunk[..]) {
            // A non-final chunk: more must follow.
        } else if self.key.open_in_place(index, true, &mut self.chunk[..]) {
            self.final_seen = true;
            // Release this chunk, but report any byte after it once it is read.
            let mut probe = [0u8; 1];
            if self.source.read_full(&mut probe)? > 0 {
                self.failure = Some(Failure::Payload(PayloadError::TrailingData));
            }
        } else {
            return Err(Error::Payload(PayloadError::Tampered { chunk: index }));
        }
        self.plain_len = n - TAG_LEN;
        Ok(())
    }
}

impl<R: Read> Read for Opener<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.available().is_empty() {
            if !self.advance()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.available().len());
        buf[..n].copy_from_slice(&self.available()[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read + Seek> Opener<R> {
    /// The plaintext length, authenticated: the final chunk is decrypted and
    /// verified before the length is returned (a truncated or extended file
    /// fails here). Needs a seekable binary source.
    ///
    /// ```
    /// use std::io::Write;
    /// let id = callseal::Identity::generate();
    /// let mut s = callseal::Sealer::new(&[id.recipient()], Vec::new())?;
    /// s.write_all(&[1u8; 70_000])?;
    /// let file = s.finish()?;
    /// let mut o = callseal::Opener::new(std::io::Cursor::new(file), &[id])?;
    /// assert_eq!(o.plaintext_len()?, 70_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn plaintext_len(&mut self) -> Result<u64> {
        if let Some(g) = self.geometry {
            return Ok(g.plaintext_len);
        }
        let resume_at = self.position();
        let g = self.geometry()?;
        self.seek_plaintext(resume_at)?;
        Ok(g.plaintext_len)
    }

    /// Measures the file and authenticates its final chunk, leaving that
    /// chunk loaded (so a seek near the end costs no second decryption).
    fn geometry(&mut self) -> Result<Geometry> {
        if let Some(g) = self.geometry {
            return Ok(g);
        }
        let result = self.measure();
        if let Err(e) = &result {
            self.failure = Some(match e {
                Error::Payload(p) => Failure::Payload(*p),
                _ => Failure::Io,
            });
        }
        result
    }

    fn measure(&mut self) -> Result<Geometry> {
        let file_start = self.source.file_start()?;
        let file_len = self.source.file_len(file_start)?;
        let payload = file_len.saturating_sub(self.payload_start());
        let chunks = payload.div_ceil(ENCRYPTED_CHUNK_SIZE as u64).max(1);
        let last_len = (payload - (chunks - 1) * ENCRYPTED_CHUNK_SIZE as u64) as usize;
        let authenticated_bytes = (chunks - 1) * CHUNK_SIZE as u64;
        self.plain_len = 0;
        self.pos = 0;
        self.final_seen = false;
        self.chunk_index = chunks - 1;
        // Authenticate the last chunk as final before trusting any length.
        self.source.seek_to(
            file_start,
            self.payload_start() + (chunks - 1) * ENCRYPTED_CHUNK_SIZE as u64,
        )?;
        let n = self.source.read_full(&mut self.chunk[..last_len])?;
        if n != last_len
            || !self
                .key
                .open_in_place(chunks - 1, true, &mut self.chunk[..n])
        {
            let mid_chunk = last_len > 0 && last_len < ENCRYPTED_CHUNK_SIZE;
            return Err(Error::Payload(PayloadError::Truncated {
                authenticated_bytes,
                mid_chunk,
            }));
        }
        if n == TAG_LEN && chunks > 1 {
            return Err(Error::Payload(PayloadError::EmptyFinalChunk));
        }
        self.plain_len = n - TAG_LEN;
        self.final_seen = true;
        let geometry = Geometry {
            file_start,
            plaintext_len: authenticated_bytes + self.plain_len as u64,
            chunks,
        };
        self.geometry = Some(geometry);
        Ok(geometry)
    }

    fn payload_start(&self) -> u64 {
        self.header_len + PAYLOAD_NONCE_SIZE as u64
    }

    /// Positions the reader at plaintext `offset`, decrypting only the chunk
    /// that holds it.
    fn seek_plaintext(&mut self, offset: u64) -> Result<()> {
        let g = self.geometry.expect("geometry is computed before seeking");
        self.failure = None;
        let target_chunk = (offset / CHUNK_SIZE as u64).min(g.chunks - 1);
        let loaded = self.plain_len > 0 && self.chunk_index == target_chunk;
        if !loaded {
            self.chunk_index = target_chunk;
            self.plain_len = 0;
            self.final_seen = false;
            let at = self.payload_start() + target_chunk * ENCRYPTED_CHUNK_SIZE as u64;
            self.source.seek_to(g.file_start, at)?;
            if let Err(e) = self.load_chunk() {
                self.failure = Some(match e {
                    Error::Payload(p) => Failure::Payload(p),
                    _ => Failure::Io,
                });
                return Err(e);
            }
        }
        // Offsets past the end read as end of file.
        self.pos = (offset - target_chunk * CHUNK_SIZE as u64).min(self.plain_len as u64) as usize;
        Ok(())
    }
}

impl<R: Read + Seek> Seek for Opener<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let g = self.geometry()?;
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => g.plaintext_len.checked_add_signed(d),
            SeekFrom::Current(d) => self.position().checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek to a negative offset"))?;
        self.seek_plaintext(target)?;
        // Past the end, report the requested offset, as a file does.
        Ok(target)
    }
}

impl<R> Drop for Opener<R> {
    fn drop(&mut self) {
        self.chunk.zeroize();
    }
}

impl<R> std::fmt::Debug for Opener<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opener")
            .field("header_len", &self.header_len)
            .field("stanza_count", &self.stanza_count)
            .field("chunk_index", &self.chunk_index)
            .finish_non_exhaustive()
    }
}

/// Finds the file key: the first identity (in order) that unwraps any
/// stanza wins. A malformed stanza of a type we know fails the header.
fn unlock(header: &Header, keys: &Keys<'_>) -> Result<FileKey> {
    let has_scrypt = header.stanzas.iter().any(|s| s.tag == "scrypt");
    match keys {
        Keys::Identities(ids) => {
            for id in ids.iter() {
                for stanza in &header.stanzas {
                    if let Some(key) = id.unwrap_stanza(stanza)? {
                        return Ok(key);
                    }
                }
            }
            Err(Error::NoMatch(if has_scrypt {
                "this file is protected by a passphrase, not sealed to a key".into()
            } else if ids.is_empty() {
                "no identities were given".into()
            } else {
                format!(
                    "none of the {} identities opens any of the {} recipient stanzas (wrong key?)",
                    ids.len(),
                    header.stanzas.len()
                )
            }))
        }
        Keys::Passphrase(p) => {
            for stanza in &header.stanzas {
                if let Some(key) = p.unwrap_stanza(stanza)? {
                    return Ok(key);
                }
            }
            Err(Error::NoMatch(if has_scrypt {
                "wrong passphrase".into()
            } else {
                "this file is sealed to keys, not protected by a passphrase; use an identity".into()
            }))
        }
    }
}
