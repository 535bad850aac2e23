//! [`Opener`]: decrypts a sealed recording, releasing only authenticated
//! bytes, with seeking by plaintext offset.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, Ordering};

use zeroize::Zeroize;

use crate::error::{Error, PayloadError, Result};
use crate::format::{read_header, Header};
use crate::input::Source;
use crate::keys::Identity;
use crate::passphrase::{Passphrase, DEFAULT_MAX_WORK_FACTOR};
use crate::primitives::{FileKey, TAG_LEN};
use crate::stream::{
    batch_slots, for_each_slot, PayloadKey, CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, PAYLOAD_NONCE_SIZE,
};

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
    /// Slots of one sealed chunk each; after decryption a chunk's plaintext
    /// is at the front of its slot. One slot unless several threads are used.
    buf: Box<[u8]>,
    threads: usize,
    /// Chunk index of slot 0 of the loaded batch.
    batch_index: u64,
    /// Plaintext length of each authenticated slot of the batch.
    lens: Vec<usize>,
    /// Per-slot result of the parallel non-final attempt.
    opened: Vec<AtomicBool>,
    /// The slot being read, and the read position inside it.
    slot: usize,
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
    /// Where the file starts in the source, learnt once: after the first
    /// measurement has moved the source, its position no longer tells.
    file_start: Option<u64>,
    /// A position past the end requested by a seek (reads there return 0),
    /// kept so the position reads back exactly as it was set.
    past_end: Option<u64>,
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
            buf: vec![0u8; ENCRYPTED_CHUNK_SIZE].into_boxed_slice(),
            threads: 1,
            batch_index: 0,
            lens: Vec::with_capacity(1),
            opened: vec![AtomicBool::new(false)],
            slot: 0,
            pos: 0,
            final_seen: false,
            failure: None,
            header_len: header.len() as u64,
            stanza_count: header.stanzas.len(),
            geometry: None,
            file_start: None,
            past_end: None,
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

    /// Decrypts batches of chunks on `threads` threads (for bulk export of
    /// large files; results are identical). Takes effect at the next chunk
    /// boundary.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let id = callseal::Identity::generate();
    /// let mut s = callseal::Sealer::new(&[id.recipient()], Vec::new())?;
    /// s.write_all(&vec![9u8; 2_000_000])?;
    /// let file = s.finish()?;
    /// let mut out = Vec::new();
    /// callseal::Opener::new(file.as_slice(), &[id])?.with_threads(2).read_to_end(&mut out)?;
    /// assert_eq!(out, vec![9u8; 2_000_000]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Plaintext bytes authenticated and returned (or skipped) so far.
    pub(crate) fn position(&self) -> u64 {
        if let Some(offset) = self.past_end {
            return offset;
        }
        (self.batch_index + self.slot as u64) * CHUNK_SIZE as u64 + self.pos as u64
    }

    /// The authenticated plaintext of the current chunk not yet consumed.
    /// Empty means: call [`Opener::advance`].
    pub(crate) fn available(&self) -> &[u8] {
        match self.lens.get(self.slot) {
            Some(&len) => {
                let base = self.slot * ENCRYPTED_CHUNK_SIZE;
                &self.buf[base + self.pos..base + len]
            }
            None => &[],
        }
    }

    /// Marks `n` bytes of [`Opener::available`] as consumed.
    pub(crate) fn consume(&mut self, n: usize) {
        let len = self.lens.get(self.slot).copied().unwrap_or(0);
        self.pos = (self.pos + n).min(len);
    }

    /// Moves to the next authenticated chunk, loading and authenticating a
    /// new batch when needed. `Ok(false)` at the authenticated end.
    pub(crate) fn advance(&mut self) -> Result<bool> {
        debug_assert!(self.available().is_empty());
        if self.slot + 1 < self.lens.len() {
            self.slot += 1;
            self.pos = 0;
            return Ok(true);
        }
        self.check_failure()?;
        if self.final_seen {
            return Ok(false);
        }
        self.batch_index += self.lens.len() as u64;
        self.lens.clear();
        self.slot = 0;
        self.pos = 0;
        let slots = batch_slots(self.threads);
        if let Err(e) = self.load_batch(slots) {
            self.failure = Some(Failure::Io);
            return Err(e);
        }
        if self.lens.is_empty() {
            self.check_failure()?;
        }
        Ok(true)
    }

    fn check_failure(&self) -> Result<()> {
        match self.failure {
            None => Ok(()),
            Some(Failure::Payload(p)) => Err(Error::Payload(p)),
            Some(Failure::Io) => Err(Error::Usage(
                "an earlier read failed; reopen the file to read it again",
            )),
        }
    }

    /// Reads up to `max_slots` chunks starting at chunk `batch_index` and
    /// authenticates them, recording in `lens` the chunks that may be
    /// released and in `failure` what stops the stream after them.
    ///
    /// Full-size chunks are first opened as non-final (in parallel). A short
    /// piece can only be the final chunk. A full chunk that fails as
    /// non-final is tried as final (a full final chunk is legal); if it is
    /// final, any byte after it is trailing data. Only I/O errors are
    /// returned as `Err`.
    fn load_batch(&mut self, max_slots: usize) -> Result<()> {
        if self.buf.len() < max_slots * ENCRYPTED_CHUNK_SIZE {
            self.buf.zeroize();
            self.buf = vec![0u8; max_slots * ENCRYPTED_CHUNK_SIZE].into_boxed_slice();
            self.opened = (0..max_slots).map(|_| AtomicBool::new(false)).collect();
            self.lens.reserve(max_slots);
        }
        let n = self
            .source
            .read_full(&mut self.buf[..max_slots * ENCRYPTED_CHUNK_SIZE])?;
        let first = self.batch_index;
        let released = |i: usize| (first + i as u64) * CHUNK_SIZE as u64;
        let full = n / ENCRYPTED_CHUNK_SIZE;
        let rem = n % ENCRYPTED_CHUNK_SIZE;
        if n == 0 {
            self.fail(PayloadError::Truncated {
                authenticated_bytes: released(0),
                mid_chunk: false,
            });
            return Ok(());
        }
        let (key, opened) = (&self.key, &self.opened);
        for_each_slot(&mut self.buf, full, self.threads, |i, slot| {
            opened[i].store(
                key.open_in_place(first + i as u64, false, slot),
                Ordering::Relaxed,
            );
        });
        for i in 0..full {
            if self.opened[i].load(Ordering::Relaxed) {
                self.lens.push(CHUNK_SIZE);
                continue;
            }
            let slot = &mut self.buf[i * ENCRYPTED_CHUNK_SIZE..(i + 1) * ENCRYPTED_CHUNK_SIZE];
            if !self.key.open_in_place(first + i as u64, true, slot) {
                self.fail(PayloadError::Tampered {
                    chunk: first + i as u64,
                });
                return Ok(());
            }
            self.lens.push(CHUNK_SIZE);
            self.final_seen = true;
            // Release this final chunk, but report any byte after it.
            let more = i + 1 < full || rem > 0 || self.source.read_full(&mut [0u8; 1])? > 0;
            if more {
                self.fail(PayloadError::TrailingData);
            }
            return Ok(());
        }
        if rem > 0 {
            let base = full * ENCRYPTED_CHUNK_SIZE;
            let index = first + full as u64;
            if !self
                .key
                .open_in_place(index, true, &mut self.buf[base..base + rem])
            {
                self.fail(PayloadError::Truncated {
                    authenticated_bytes: released(full),
                    mid_chunk: true,
                });
            } else if rem == TAG_LEN && index > 0 {
                self.fail(PayloadError::EmptyFinalChunk);
            } else {
                self.lens.push(rem - TAG_LEN);
                self.final_seen = true;
            }
        }
        Ok(())
    }

    fn fail(&mut self, p: PayloadError) {
        self.failure = Some(Failure::Payload(p));
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
        let file_start = match self.file_start {
            Some(start) => start,
            None => *self.file_start.insert(self.source.file_start()?),
        };
        let file_len = self.source.file_len(file_start)?;
        let payload = file_len.saturating_sub(self.payload_start());
        let chunks = payload.div_ceil(ENCRYPTED_CHUNK_SIZE as u64).max(1);
        let last_len = (payload - (chunks - 1) * ENCRYPTED_CHUNK_SIZE as u64) as usize;
        let authenticated_bytes = (chunks - 1) * CHUNK_SIZE as u64;
        self.lens.clear();
        self.slot = 0;
        self.pos = 0;
        self.final_seen = false;
        self.batch_index = chunks - 1;
        // Authenticate the last chunk as final before trusting any length.
        self.source.seek_to(
            file_start,
            self.payload_start() + (chunks - 1) * ENCRYPTED_CHUNK_SIZE as u64,
        )?;
        let n = self.source.read_full(&mut self.buf[..last_len])?;
        if n != last_len || !self.key.open_in_place(chunks - 1, true, &mut self.buf[..n]) {
            let mid_chunk = last_len > 0 && last_len < ENCRYPTED_CHUNK_SIZE;
            return Err(Error::Payload(PayloadError::Truncated {
                authenticated_bytes,
                mid_chunk,
            }));
        }
        if n == TAG_LEN && chunks > 1 {
            return Err(Error::Payload(PayloadError::EmptyFinalChunk));
        }
        // Leave the final chunk loaded: a seek near the end needs no
        // second decryption.
        self.lens.push(n - TAG_LEN);
        self.final_seen = true;
        let geometry = Geometry {
            file_start,
            plaintext_len: authenticated_bytes + (n - TAG_LEN) as u64,
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
        self.past_end = (offset > g.plaintext_len).then_some(offset);
        let target_chunk = (offset / CHUNK_SIZE as u64).min(g.chunks - 1);
        let loaded =
            (self.batch_index..self.batch_index + self.lens.len() as u64).contains(&target_chunk);
        if loaded {
            self.slot = (target_chunk - self.batch_index) as usize;
        } else {
            self.batch_index = target_chunk;
            self.lens.clear();
            self.slot = 0;
            self.final_seen = false;
            let at = self.payload_start() + target_chunk * ENCRYPTED_CHUNK_SIZE as u64;
            let loaded = self
                .source
                .seek_to(g.file_start, at)
                .and_then(|()| self.load_batch(1));
            if let Err(e) = loaded {
                self.failure = Some(Failure::Io);
                return Err(e);
            }
            if self.lens.is_empty() {
                self.check_failure()?;
            }
        }
        // Offsets past the end read as end of file.
        let len = self.lens[self.slot] as u64;
        self.pos = (offset - target_chunk * CHUNK_SIZE as u64).min(len) as usize;
        Ok(())
    }
}

impl<R: Read + Seek> Seek for Opener<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        // Taken before measuring: measuring loads the final chunk.
        let current = self.position();
        let g = self.geometry()?;
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => g.plaintext_len.checked_add_signed(d),
            SeekFrom::Current(d) => current.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek to a negative offset"))?;
        self.seek_plaintext(target)?;
        Ok(target)
    }
}

impl<R> Drop for Opener<R> {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

impl<R> std::fmt::Debug for Opener<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opener")
            .field("header_len", &self.header_len)
            .field("stanza_count", &self.stanza_count)
            .field("batch_index", &self.batch_index)
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
