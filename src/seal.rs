//! [`Sealer`]: encrypts a recording as it is captured.

use std::io::{self, Write};

use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::format::write_header;
use crate::keys::Recipient;
use crate::primitives::{fill_random, new_file_key};
use crate::stream::{PayloadKey, CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, PAYLOAD_NONCE_SIZE};

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
    /// Plaintext of the current chunk, then room for its tag.
    chunk: Box<[u8; ENCRYPTED_CHUNK_SIZE]>,
    filled: usize,
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
    pub fn new(recipients: &[Recipient], mut sink: W) -> Result<Sealer<W>> {
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
        Ok(Sealer {
            sink: Some(sink),
            key: PayloadKey::derive(&file_key, &nonce),
            chunk: Box::new([0u8; ENCRYPTED_CHUNK_SIZE]),
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
        self.counter * CHUNK_SIZE as u64 + self.filled as u64
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

    fn ensure_usable(&self) -> Result<()> {
        if self.broken {
            return Err(Error::Usage(
                "an earlier write to the sink failed; this sealed file is incomplete",
            ));
        }
        Ok(())
    }

    /// Seals the buffered chunk in place and writes it to the sink.
    fn seal_and_emit(&mut self, last: bool) -> io::Result<()> {
        let len = self
            .key
            .seal_in_place(self.counter, last, &mut self.chunk[..], self.filled);
        let sink = self.sink.as_mut().expect("present until finish");
        if let Err(e) = sink.write_all(&self.chunk[..len]) {
            self.broken = true;
            return Err(e);
        }
        self.counter += 1;
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
                self.seal_and_emit(false)?;
            }
            let n = data.len().min(CHUNK_SIZE - self.filled);
            self.chunk[self.filled..self.filled + n].copy_from_slice(&data[..n]);
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
        self.chunk[..self.filled].zeroize();
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
