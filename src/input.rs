//! Where ciphertext comes from: a reader, maybe ASCII-armored, with the bytes
//! already read past a boundary (armor sniffing, header read-ahead) replayed
//! first, and a count of what was taken from the reader so seeking can find
//! the start of the file again.

use std::io::{self, BufReader, Read, Seek, SeekFrom};

use crate::armor::{looks_armored, ArmoredReader, BEGIN_LINE};
use crate::error::{Error, Result};

/// A reader with some bytes pushed back in front of it.
pub(crate) struct Replay<R> {
    pending: Vec<u8>,
    pos: usize,
    inner: R,
    /// Bytes taken from `inner` since construction.
    taken: u64,
}

impl<R: Read> Read for Replay<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.pending.len() {
            let n = buf.len().min(self.pending.len() - self.pos);
            buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        let n = self.inner.read(buf)?;
        self.taken += n as u64;
        Ok(n)
    }
}

impl<R> Replay<R> {
    fn push_back(&mut self, bytes: Vec<u8>) {
        debug_assert!(
            self.pos == self.pending.len(),
            "push_back only after the replay is drained"
        );
        self.pending = bytes;
        self.pos = 0;
    }
}

/// Binary age input or armored input being decoded on the fly.
pub(crate) enum Source<R> {
    Binary(Replay<R>),
    Armored(ArmoredReader<BufReader<Replay<R>>>, Replay<io::Empty>),
}

impl<R: Read> Source<R> {
    /// Sniffs the first bytes of `inner` to tell armored from binary input.
    pub fn detect(mut inner: R) -> Result<Source<R>> {
        let mut start = Vec::with_capacity(64);
        let mut block = [0u8; 64];
        // Enough bytes to see past tolerated whitespace and the BEGIN line.
        loop {
            let content = start
                .iter()
                .skip_while(|b: &&u8| b.is_ascii_whitespace())
                .count();
            if content >= BEGIN_LINE.len() || start.len() > 1100 {
                break;
            }
            let n = match inner.read(&mut block) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::from_io(e)),
            };
            if n == 0 {
                break;
            }
            start.extend_from_slice(&block[..n]);
        }
        let taken = start.len() as u64;
        let armored = looks_armored(&start);
        let replay = Replay {
            pending: start,
            pos: 0,
            inner,
            taken,
        };
        Ok(if armored {
            let decoded = Replay {
                pending: Vec::new(),
                pos: 0,
                inner: io::empty(),
                taken: 0,
            };
            Source::Armored(ArmoredReader::new(BufReader::new(replay)), decoded)
        } else {
            Source::Binary(replay)
        })
    }

    /// True for ASCII-armored input.
    pub fn is_armored(&self) -> bool {
        matches!(self, Source::Armored(..))
    }

    /// Replays `bytes` before anything else is read (the header reader's
    /// read-ahead).
    pub fn push_back(&mut self, bytes: Vec<u8>) {
        match self {
            Source::Binary(r) => r.push_back(bytes),
            Source::Armored(_, decoded) => decoded.push_back(bytes),
        }
    }

    /// Reads until `buf` is full or the input ends; returns the count.
    pub fn read_full(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::from_io(e)),
            }
        }
        Ok(filled)
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Binary(r) => r.read(buf),
            Source::Armored(armored, decoded) => {
                if decoded.pos < decoded.pending.len() {
                    return decoded.read(buf);
                }
                armored.read(buf)
            }
        }
    }
}

impl<R: Read + Seek> Source<R> {
    /// Seeks to byte `offset` of the age file (binary input only), given
    /// where the file started in the underlying reader.
    pub fn seek_to(&mut self, file_start: u64, offset: u64) -> Result<()> {
        let Source::Binary(r) = self else {
            return Err(Error::Usage(
                "seeking is not supported on ASCII-armored input",
            ));
        };
        r.inner.seek(SeekFrom::Start(file_start + offset))?;
        r.pending.clear();
        r.pos = 0;
        Ok(())
    }

    /// Where the age file starts in the underlying reader: its current
    /// position minus what has been taken from it so far.
    pub fn file_start(&mut self) -> Result<u64> {
        let Source::Binary(r) = self else {
            return Err(Error::Usage(
                "seeking is not supported on ASCII-armored input",
            ));
        };
        let now = r.inner.stream_position()?;
        now.checked_sub(r.taken).ok_or(Error::Usage(
            "the source reports a position before the bytes already read",
        ))
    }

    /// Total length of the underlying reader, from the start of the age file.
    pub fn file_len(&mut self, file_start: u64) -> Result<u64> {
        let Source::Binary(r) = self else {
            return Err(Error::Usage(
                "seeking is not supported on ASCII-armored input",
            ));
        };
        let end = r.inner.seek(SeekFrom::End(0))?;
        r.pending.clear();
        r.pos = 0;
        Ok(end.saturating_sub(file_start))
    }
}
