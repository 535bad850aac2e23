//! [`Sealer`]: encrypts a recording as it is captured.

use std::io::{self, Read, Write};

use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::format::write_header;
use crate::keys::Recipient;
use crate::primitives::{fill_random, new_file_key, TAG_LEN};
use crate::stream::{
    batch_slots, for_each_slot, PayloadKey, CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, PAYLOAD_NONCE_SIZE,
};

/// Seals everything written to it into an age v1 file on `sink`.
///
/// The header (one `X25519` stanza per recipient, with a fresh file key) and
/// the payload nonce are written by [`Sealer::new`]. Writes are copied into a
/// single 64 KiB chunk buffer; each full chunk is sealed in place and handed
/// to the sink with one `write_all` as soon as the next byte arrives (a full
/// chunk is held until then, because only the last chunk may be marked final
/// and it may not be empty). No allocation happens after construction.
///
/// [`finish`](Sealer::finish) seals the final chunk and returns the sink. A
/// sealer dropped without `finish` leaves a file with no final chunk, which
/// every age implementation refuses as truncated (and `callseal recover`
/// can still salvage chunk by chunk).
///
/// ```
/// use std::io::Write;
/// use callseal::{Identity, Sealer};
///
/// let supervisor = Identity::generate();
/// let mut sealer = Sealer::new(&[supervisor.recipient()], Vec::new())?;
/// sealer.write_all(&[0u8; 320])?; // one 20 ms frame of 8 kHz 16-bit audio
/// let sealed: Vec<u8> = sealer.finish()?;
/// assert!(sealed.starts_with(b"age-encryption.org/v1\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Sealer<W: Write> {
    sink: Option<W>,
    key: PayloadKey,
    /// `slots` chunk slots of `ENCRYPTED_CHUNK_SIZE` bytes, each holding a
    /// chunk's plaintext and then room for its tag. One slot unless the
    /// sealer was built for several threads.
    buf: Box<[u8]>,
    slots: usize,
    threads: usize,
    /// The slot being filled and its fill level; earlier slots are full.
    slot: usize,
    filled: usize,
    /// Chunk counter of slot 0.
    counter: u64,
    /// Set when a sink write failed: the file on the sink is incomplete and
    /// further writes would leave a gap, so they are refused.
    broken: bool,
}

impl<W: Write> Sealer<W> {
    /// Writes the header and payload nonce for `recipients` to `sink` and
    /// returns a sealer ready for audio.
    ///
    /// Fails with [`Error::NoRecipients`] for an empty list, and with
    /// [`Error::Io`] if the sink refuses the header.
    ///
    /// ```
    /// use callseal::{Error, Sealer};
    /// assert!(matches!(Sealer::new(&[], Vec::new()), Err(Error::NoRecipients)));
    /// ```
    pub fn new(recipients: &[Recipient], sink: W) -> Result<Sealer<W>> {
        Sealer::with_threads(recipients, sink, 1)
    }

    /// Like [`Sealer::new`], sealing batches of chunks on `threads` threads
    /// (for archive migration and bulk export; the output is the same valid
    /// age file). With more than one thread, chunks reach the sink in
    /// batches of `threads * 8` chunks rather than one by one, so use a
    /// single thread for live capture.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let id = callseal::Identity::generate();
    /// let mut sealer = callseal::Sealer::with_threads(&[id.recipient()], Vec::new(), 2)?;
    /// sealer.write_all(&vec![3u8; 3_000_000])?;
    /// let file = sealer.finish()?;
    /// let mut back = Vec::new();
    /// callseal::Opener::new(file.as_slice(), &[id])?.read_to_end(&mut back)?;
    /// assert_eq!(back, vec![3u8; 3_000_000]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_threads(
        recipients: &[Recipient],
        mut sink: W,
        threads: usize,
    ) -> Result<Sealer<W>> {
        if recipients.is_empty() {
            return Err(Error::NoRecipients);
        }
        let file_key = new_file_key();
        let stanzas = recipients
            .iter()
            .map(|r| r.wrap(&file_key))
            .collect::<Result<Vec<_>>>()?;
        let mut start = write_header(&stanzas, &file_key);
        let mut nonce = [0u8; PAYLOAD_NONCE_SIZE];
        fill_random(&mut nonce);
        start.extend_from_slice(&nonce);
        sink.write_all(&start)?;
        let threads = threads.max(1);
        let slots = batch_slots(threads);
        Ok(Sealer {
            sink: Some(sink),
            key: PayloadKey::derive(&file_key, &nonce),
            buf: vec![0u8; slots * ENCRYPTED_CHUNK_SIZE].into_boxed_slice(),
            slots,
            threads,
            slot: 0,
            filled: 0,
            counter: 0,
            broken: false,
        })
    }

    /// Bytes of plaintext accepted so far.
    ///
    /// ```
    /// use std::io::Write;
    /// let id = callseal::Identity::generate();
    /// let mut s = callseal::Sealer::new(&[id.recipient()], std::io::sink())?;
    /// s.write_all(b"hello")?;
    /// assert_eq!(s.plaintext_len(), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn plaintext_len(&self) -> u64 {
        (self.counter + self.slot as u64) * CHUNK_SIZE as u64 + self.filled as u64
    }

    /// The sink, for inspection (say, to fsync a file between chunks).
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// let s = callseal::Sealer::new(&[id.recipient()], Vec::new())?;
    /// assert!(s.get_ref().starts_with(b"age-encryption.org/v1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_ref(&self) -> &W {
        self.sink
            .as_ref()
            .expect("the sink is only taken by finish, which consumes self")
    }

    /// Mutable access to the sink. Writing to it directly corrupts the file.
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// let mut s = callseal::Sealer::new(&[id.recipient()], Vec::<u8>::new())?;
    /// let _sink: &mut Vec<u8> = s.get_mut();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut W {
        self.sink
            .as_mut()
            .expect("the sink is only taken by finish, which consumes self")
    }

    /// Seals the final chunk, flushes the sink and returns it. Only after
    /// this does the file open as complete.
    ///
    /// ```
    /// use std::io::Write;
    /// let id = callseal::Identity::generate();
    /// let mut s = callseal::Sealer::new(&[id.recipient()], Vec::new())?;
    /// s.write_all(b"call audio")?;
    /// let file = s.finish()?;
    /// let mut out = Vec::new();
    /// std::io::Read::read_to_end(&mut callseal::Opener::new(file.as_slice(), &[id])?, &mut out)?;
    /// assert_eq!(out, b"call audio");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish(mut self) -> Result<W> {
        self.ensure_usable()?;
        self.seal_and_emit(true)?;
        let mut sink = self.sink.take().expect("present until finish");
        sink.flush()?;
        Ok(sink)
    }

    /// Reads `reader` to its end straight into the chunk buffer (one copy
    /// fewer than `io::copy`, which goes through a buffer of its own) and
    /// returns the number of bytes sealed. Call [`Sealer::finish`] after.
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// let mut sealer = callseal::Sealer::new(&[id.recipient()], Vec::new())?;
    /// assert_eq!(sealer.copy_from(&mut &[7u8; 100_000][..])?, 100_000);
    /// let file = sealer.finish()?;
    /// let mut back = Vec::new();
    /// std::io::Read::read_to_end(&mut callseal::Opener::new(file.as_slice(), &[id])?, &mut back)?;
    /// assert_eq!(back, [7u8; 100_000]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn copy_from<R: Read + ?Sized>(&mut self, reader: &mut R) -> io::Result<u64> {
        self.ensure_usable()?;
        let mut total = 0u64;
        loop {
            let last_slot_full = self.filled == CHUNK_SIZE && self.slot + 1 == self.slots;
            if last_slot_full {
                // Only sealable once more data is known to follow: probe.
                let mut probe = [0u8; 1];
                if read_retrying(reader, &mut probe)? == 0 {
                    return Ok(total);
                }
                self.seal_and_emit(false)?;
                self.buf[0] = probe[0];
                self.filled = 1;
                total += 1;
                continue;
            }
            let (slot, filled) = if self.filled == CHUNK_SIZE {
                (self.slot + 1, 0)
            } else {
                (self.slot, self.filled)
            };
            let start = slot * ENCRYPTED_CHUNK_SIZE;
            let n = read_retrying(reader, &mut self.buf[start + filled..start + CHUNK_SIZE])?;
            if n == 0 {
                return Ok(total);
            }
            self.slot = slot;
            self.filled = filled + n;
            total += n as u64;
        }
    }

    fn ensure_usable(&self) -> Result<()> {
        if self.broken {
            return Err(Error::Usage(
                "an earlier write to the sink failed; this sealed file is incomplete",
            ));
        }
        Ok(())
    }

    /// Seals the buffered slots in place (the last one final if `last`) and
    /// writes them to the sink with one `write_all`.
    fn seal_and_emit(&mut self, last: bool) -> io::Result<()> {
        let (key, counter, last_slot, filled) = (&self.key, self.counter, self.slot, self.filled);
        for_each_slot(&mut self.buf, last_slot + 1, self.threads, |i, slot| {
            let len = if i == last_slot { filled } else { CHUNK_SIZE };
            key.seal_in_place(counter + i as u64, last && i == last_slot, slot, len);
        });
        let sealed_len = last_slot * ENCRYPTED_CHUNK_SIZE + filled + TAG_LEN;
        let sink = self.sink.as_mut().expect("present until finish");
        if let Err(e) = sink.write_all(&self.buf[..sealed_len]) {
            self.broken = true;
            return Err(e);
        }
        self.counter += last_slot as u64 + 1;
        self.slot = 0;
        self.filled = 0;
        Ok(())
    }
}

impl<W: Write> Write for Sealer<W> {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        self.ensure_usable()?;
        let total = data.len();
        while !data.is_empty() {
            // A full chunk is sealed only once we know more data follows it.
            if self.filled == CHUNK_SIZE {
                if self.slot + 1 < self.slots {
                    self.slot += 1;
                    self.filled = 0;
                } else {
                    self.seal_and_emit(false)?;
                }
            }
            let n = data.len().min(CHUNK_SIZE - self.filled);
            let at = self.slot * ENCRYPTED_CHUNK_SIZE + self.filled;
            self.buf[at..at + n].copy_from_slice(&data[..n]);
            self.filled += n;
            data = &data[n..];
        }
        Ok(total)
    }

    /// Flushes the sink. Buffered plaintext stays buffered: sealing a partial
    /// chunk early is impossible in age (only the last chunk may be short).
    fn flush(&mut self) -> io::Result<()> {
        self.get_mut().flush()
    }
}

impl<W: Write> Drop for Sealer<W> {
    fn drop(&mut self) {
        // Unsent plaintext must not linger in freed memory.
        self.buf[..self.slot * ENCRYPTED_CHUNK_SIZE + self.filled].zeroize();
    }
}

impl<W: Write> std::fmt::Debug for Sealer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("plaintext_len", &self.plaintext_len())
            .field("finished", &self.sink.is_none())
            .finish_non_exhaustive()
    }
}

/// One `read`, retried on `Interrupted`.
fn read_retrying<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
