//! ASCII armor: strict PEM with the label `AGE ENCRYPTED FILE` (RFC 7468),
//! decoded as a stream.
//!
//! Rules (spec "ASCII armor" and the C2SP vectors): padded canonical base64,
//! 64-column lines with only the last one shorter, no blank lines, no PEM
//! headers, LF or CRLF line ends, and nothing but a little whitespace around
//! the block.

use std::io::{self, BufRead, Read};

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use crate::error::Error;

pub(crate) const BEGIN_LINE: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";
const END_LINE: &[u8] = b"-----END AGE ENCRYPTED FILE-----";
const COLUMNS: usize = 64;
/// Whitespace tolerated around the block, as in the Go implementation.
const MAX_OUTSIDE_WHITESPACE: usize = 1024;

const PADDED: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(false),
);

/// True when `start` (the first bytes of an input) looks like an attempt at
/// armor: after optional whitespace it starts with dashes, or a BEGIN line
/// appears in it. A binary age file starts with `age-encryption.org/`, so
/// the two never overlap; anything else armor-like gets an armor error.
pub(crate) fn looks_armored(start: &[u8]) -> bool {
    trim_leading_whitespace(start).starts_with(b"-----")
        || start.windows(10).any(|w| w == b"-----BEGIN")
}

fn trim_leading_whitespace(data: &[u8]) -> &[u8] {
    let skip = data.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &data[skip..]
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    Begin,
    /// Inside the block; `short_seen` when the last data line was short or
    /// padded, so only the END line may follow.
    Body {
        short_seen: bool,
    },
    Done,
}

/// Decodes an armored age file from `inner`, yielding the binary file.
pub(crate) struct ArmoredReader<R> {
    inner: R,
    state: State,
    line: Vec<u8>,
    decoded: Vec<u8>,
    pos: usize,
}

fn armor_err(msg: impl Into<String>) -> io::Error {
    Error::Armor(msg.into()).into()
}

impl<R: BufRead> ArmoredReader<R> {
    pub fn new(inner: R) -> Self {
        ArmoredReader {
            inner,
            state: State::Begin,
            line: Vec::with_capacity(80),
            decoded: Vec::new(),
            pos: 0,
        }
    }

    /// Reads one line without its LF (and CR). `Ok(false)` at EOF.
    fn next_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        let n = (&mut self.inner)
            .take(COLUMNS as u64 + 3)
            .read_until(b'\n', &mut self.line)?;
        if n == 0 {
            return Ok(false);
        }
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
        } else if self.line.len() > COLUMNS + 1 {
            return Err(armor_err("line longer than 64 columns"));
        }
        Ok(true)
    }

    fn read_begin(&mut self) -> io::Result<()> {
        // Skip tolerated whitespace, then require the exact BEGIN line.
        let mut skipped = 0;
        loop {
            let buf = self.inner.fill_buf()?;
            let ws = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let at_end = ws < buf.len() || buf.is_empty();
            self.inner.consume(ws);
            skipped += ws;
            if skipped > MAX_OUTSIDE_WHITESPACE {
                return Err(armor_err("too much whitespace before the BEGIN line"));
            }
            if at_end {
                break;
            }
        }
        if !self.next_line()? || self.line != BEGIN_LINE {
            return Err(armor_err(
                "first line is not `-----BEGIN AGE ENCRYPTED FILE-----`",
            ));
        }
        self.state = State::Body { short_seen: false };
        Ok(())
    }

    /// After END: allow only whitespace, then EOF.
    fn check_after_end(&mut self) -> io::Result<()> {
        let mut seen = 0;
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(());
            }
            if !buf.iter().all(|b| b.is_ascii_whitespace()) {
                return Err(armor_err("data after the END line"));
            }
            let n = buf.len();
            seen += n;
            self.inner.consume(n);
            if seen > MAX_OUTSIDE_WHITESPACE {
                return Err(armor_err("too much whitespace after the END line"));
            }
        }
    }

    /// Decodes the next data line into `decoded`, or finishes at END.
    fn refill(&mut self) -> io::Result<()> {
        if self.state == State::Begin {
            self.read_begin()?;
        }
        let State::Body { short_seen } = self.state else {
            return Ok(());
        };
        if !self.next_line()? {
            return Err(armor_err("missing `-----END AGE ENCRYPTED FILE-----` line"));
        }
        if self.line == END_LINE {
            self.state = State::Done;
            return self.check_after_end();
        }
        if short_seen {
            return Err(armor_err("a short or padded line is followed by more data"));
        }
        if self.line.is_empty() || self.line.len() > COLUMNS {
            return Err(armor_err(if self.line.is_empty() {
                "empty line inside the armor"
            } else {
                "line longer than 64 columns"
            }));
        }
        let short = self.line.len() < COLUMNS || self.line.contains(&b'=');
        self.decoded.clear();
        self.pos = 0;
        PADDED
            .decode_vec(&self.line, &mut self.decoded)
            .map_err(|_| armor_err("line is not canonical padded base64"))?;
        self.state = State::Body { short_seen: short };
        Ok(())
    }
}

impl<R: BufRead> Read for ArmoredReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.decoded.len() {
            if self.state == State::Done {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.decoded.len() - self.pos);
        buf[..n].copy_from_slice(&self.decoded[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Armors a whole binary age file (used by tests and by `callseal seal -a`).
///
/// ```
/// let armored = callseal::armor(b"age-encryption.org/v1\n");
/// assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
/// assert!(armored.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
/// ```
pub fn armor(binary: &[u8]) -> String {
    let encoded = PADDED.encode(binary);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / COLUMNS + 80);
    out.push_str(std::str::from_utf8(BEGIN_LINE).expect("ASCII"));
    out.push('\n');
    for line in encoded.as_bytes().chunks(COLUMNS) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(std::str::from_utf8(END_LINE).expect("ASCII"));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dearmor(text: &str) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        ArmoredReader::new(text.as_bytes())
            .read_to_end(&mut out)
            .map_err(Error::from_io)?;
        Ok(out)
    }

    #[test]
    fn armor_round_trips_every_length() {
        for len in [0usize, 1, 47, 48, 49, 95, 96, 97, 1000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            assert_eq!(dearmor(&armor(&data)).unwrap(), data, "length {len}");
        }
    }

    #[test]
    fn crlf_and_outside_whitespace_are_tolerated_but_garbage_is_not() {
        let text = armor(b"some bytes").replace('\n', "\r\n");
        assert_eq!(dearmor(&format!("  \n{text}\n\n")).unwrap(), b"some bytes");
        assert!(matches!(dearmor(&format!("{text}x")), Err(Error::Armor(_))));
        assert!(matches!(dearmor(&format!("x{text}")), Err(Error::Armor(_))));
    }
}
