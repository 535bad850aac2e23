//! The age v1 header: strict parsing of the exact bytes read, and writing.
//!
//! ```text
//! age-encryption.org/v1
//! -> X25519 <ephemeral share>
//! <wrapped file key>
//! --- <header MAC>
//! ```
//!
//! The parser keeps the raw bytes: the MAC is computed over them, never over
//! a re-serialisation, so a loose parse can never hide behind a MAC error.

use std::io::Read;

use crate::error::{Error, Result};
use crate::primitives::{b64_decode, b64_decode_exact, b64_encode, header_mac, FILE_KEY_LEN};

/// The version line, without its LF.
pub(crate) const VERSION_LINE: &[u8] = b"age-encryption.org/v1";
const VERSION_PREFIX: &[u8] = b"age-encryption.org/";
/// Stanza bodies are wrapped at 64 base64 columns (48 bytes).
const BODY_COLUMNS: usize = 64;
/// A defensive cap on header size. The spec sets none; thousands of
/// recipients fit in far less.
pub(crate) const MAX_HEADER_LEN: usize = 8 << 20;

/// One recipient stanza: a type, its arguments and a binary body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stanza {
    pub tag: String,
    pub args: Vec<String>,
    pub body: Vec<u8>,
}

/// A parsed header and where its MAC input ends.
#[derive(Debug)]
pub(crate) struct Header {
    pub stanzas: Vec<Stanza>,
    pub mac: [u8; 32],
    /// The raw header bytes, up to and including the final LF.
    pub raw: Vec<u8>,
    /// Length of the MAC input: the raw bytes up to and including `---`.
    pub mac_input_len: usize,
}

impl Header {
    /// Checks the header MAC in constant time with an unwrapped file key.
    pub fn verify_mac(&self, file_key: &[u8; FILE_KEY_LEN]) -> Result<()> {
        use hmac::Mac;
        header_mac(file_key, &self.raw[..self.mac_input_len])
            .verify_slice(&self.mac)
            .map_err(|_| Error::HeaderMac)
    }

    /// Total header length in bytes.
    pub fn len(&self) -> usize {
        self.raw.len()
    }
}

/// Serialises stanzas and the MAC for `file_key` into a complete header.
pub(crate) fn write_header(stanzas: &[Stanza], file_key: &[u8; FILE_KEY_LEN]) -> Vec<u8> {
    use hmac::Mac;
    let mut out = Vec::with_capacity(64 + stanzas.len() * 128);
    out.extend_from_slice(VERSION_LINE);
    out.push(b'\n');
    for stanza in stanzas {
        out.extend_from_slice(b"->");
        for arg in std::iter::once(&stanza.tag).chain(&stanza.args) {
            out.push(b' ');
            out.extend_from_slice(arg.as_bytes());
        }
        out.push(b'\n');
        let body = b64_encode(&stanza.body);
        // Full lines of 64 columns, then a final short line that is always
        // present, even when empty.
        let mut lines = body.as_bytes().chunks(BODY_COLUMNS);
        let mut last_len = BODY_COLUMNS;
        for line in lines.by_ref() {
            out.extend_from_slice(line);
            out.push(b'\n');
            last_len = line.len();
        }
        if last_len == BODY_COLUMNS {
            out.push(b'\n');
        }
    }
    out.extend_from_slice(b"---");
    let mac = header_mac(file_key, &out).finalize().into_bytes();
    out.push(b' ');
    out.extend_from_slice(b64_encode(&mac).as_bytes());
    out.push(b'\n');
    out
}

/// Reads a header from `source`. Returns it with the bytes read past its end
/// (the start of the payload), so nothing is lost for an unbuffered source.
pub(crate) fn read_header<R: Read>(source: &mut R) -> Result<(Header, Vec<u8>)> {
    let mut data = Vec::with_capacity(1024);
    let mut block = [0u8; 4096];
    let mut scanned = 0; // bytes of `data` known to hold no complete MAC line
    loop {
        if let Some(end) = find_header_end(&data, &mut scanned)? {
            let rest = data.split_off(end);
            return Ok((parse_header(data)?, rest));
        }
        if data.len() > MAX_HEADER_LEN {
            return Err(Error::Header(format!(
                "header is longer than {MAX_HEADER_LEN} bytes"
            )));
        }
        let n = read_some(source, &mut block)?;
        if n == 0 {
            check_version_prefix(&data)?;
            return Err(Error::Header(
                "file ends inside the header (no `---` MAC line)".into(),
            ));
        }
        data.extend_from_slice(&block[..n]);
    }
}

/// Reads once, retrying on `Interrupted`.
fn read_some<R: Read>(source: &mut R, buf: &mut [u8]) -> Result<usize> {
    loop {
        match source.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::from_io(e)),
        }
    }
}

/// Fails fast on input that cannot be an age file at all (say, a WAV), so we
/// never buffer megabytes of it looking for a MAC line.
fn check_version_prefix(data: &[u8]) -> Result<()> {
    let n = data.len().min(VERSION_PREFIX.len());
    if data[..n] != VERSION_PREFIX[..n] {
        return Err(Error::Header(
            "not an age file: it does not start with `age-encryption.org/`".into(),
        ));
    }
    Ok(())
}

/// Finds the end of the header (the byte after the MAC line's LF) in the data
/// read so far. `scanned` remembers where the last unfinished line starts.
fn find_header_end(data: &[u8], scanned: &mut usize) -> Result<Option<usize>> {
    check_version_prefix(data)?;
    while let Some(nl) = data[*scanned..].iter().position(|&b| b == b'\n') {
        let line_start = *scanned;
        let line_end = line_start + nl;
        *scanned = line_end + 1;
        if data[line_start..line_end].starts_with(b"---") {
            return Ok(Some(line_end + 1));
        }
    }
    Ok(None)
}

/// Parses a complete header (ending with the MAC line's LF) strictly.
pub(crate) fn parse_header(raw: Vec<u8>) -> Result<Header> {
    let header_err = |m: String| Error::Header(m);
    // The last byte is the MAC line's LF; split the rest into lines.
    let body = raw
        .strip_suffix(b"\n")
        .ok_or_else(|| header_err("header does not end in LF".into()))?;
    let mut lines = body.split(|&b| b == b'\n').enumerate().peekable();

    let (_, version) = lines.next().expect("split yields at least one item");
    if version != VERSION_LINE {
        return Err(match version.strip_prefix(VERSION_PREFIX) {
            Some(v) => header_err(format!(
                "unsupported age version `{}` (only v1 is supported)",
                String::from_utf8_lossy(v).escape_debug()
            )),
            None => header_err("not an age file: bad version line".into()),
        });
    }

    let mut stanzas = Vec::new();
    let mut offset = VERSION_LINE.len() + 1;
    while let Some((no, line)) = lines.next() {
        let line_no = no + 1;
        if let Some(mac_text) = line.strip_prefix(b"---") {
            if lines.peek().is_some() {
                return Err(header_err(format!(
                    "line {line_no}: data after the MAC line"
                )));
            }
            if stanzas.is_empty() {
                return Err(header_err("header has no recipient stanzas".into()));
            }
            let mac_b64 = mac_text.strip_prefix(b" ").ok_or_else(|| {
                header_err(format!(
                    "line {line_no}: MAC line needs one space after `---`"
                ))
            })?;
            let mac = b64_decode_exact::<32>(mac_b64).ok_or_else(|| {
                header_err(format!(
                    "line {line_no}: MAC is not 43 characters of canonical base64"
                ))
            })?;
            check_scrypt_is_alone(&stanzas)?;
            return Ok(Header {
                stanzas,
                mac,
                mac_input_len: offset + 3,
                raw,
            });
        }
        let args = line.strip_prefix(b"-> ").ok_or_else(|| {
            header_err(format!(
                "line {line_no}: expected a `-> ` stanza line or the `---` MAC line"
            ))
        })?;
        let args = parse_args(args).map_err(|m| header_err(format!("line {line_no}: {m}")))?;
        offset += line.len() + 1;

        // Body: full 64-column lines, then exactly one shorter line (maybe empty).
        let mut body_b64 = Vec::new();
        loop {
            let Some((no, body_line)) = lines.next() else {
                return Err(header_err(format!(
                    "stanza on line {line_no} is missing its final body line"
                )));
            };
            offset += body_line.len() + 1;
            if body_line.len() > BODY_COLUMNS {
                return Err(header_err(format!(
                    "line {}: stanza body line longer than 64 columns",
                    no + 1
                )));
            }
            body_b64.extend_from_slice(body_line);
            if body_line.len() < BODY_COLUMNS {
                break;
            }
        }
        let body = b64_decode(&body_b64).ok_or_else(|| {
            header_err(format!(
                "stanza on line {line_no}: body is not canonical unpadded base64"
            ))
        })?;
        let mut args = args.into_iter();
        let tag = args
            .next()
            .expect("parse_args returns at least one argument");
        stanzas.push(Stanza {
            tag,
            args: args.collect(),
            body,
        });
    }
    Err(header_err("header has no `---` MAC line".into()))
}

/// Splits a stanza's argument text on single spaces; every argument is a
/// non-empty run of visible ASCII.
fn parse_args(text: &[u8]) -> std::result::Result<Vec<String>, String> {
    let mut args = Vec::new();
    for arg in text.split(|&b| b == b' ') {
        if arg.is_empty() {
            return Err("empty stanza argument (two spaces in a row, or a trailing space)".into());
        }
        if let Some(bad) = arg.iter().find(|&&b| !(0x21..=0x7e).contains(&b)) {
            return Err(format!("invalid byte 0x{bad:02x} in a stanza argument"));
        }
        args.push(String::from_utf8(arg.to_vec()).expect("visible ASCII is UTF-8"));
    }
    Ok(args)
}

/// The spec: an scrypt stanza must be the only stanza. Enforced for every
/// reader, not just passphrase ones, so a key holder can never be handed a
/// file that a passphrase "also" opens.
fn check_scrypt_is_alone(stanzas: &[Stanza]) -> Result<()> {
    if stanzas.len() > 1 && stanzas.iter().any(|s| s.tag == "scrypt") {
        return Err(Error::Header(
            "an scrypt stanza must be the only stanza in the header".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stanza(tag: &str, body_len: usize) -> Stanza {
        Stanza {
            tag: tag.into(),
            args: vec!["a".into(), "b".into()],
            body: vec![0xab; body_len],
        }
    }

    #[test]
    fn written_headers_parse_back_identically_for_every_body_length() {
        let key = [3u8; 16];
        for len in [0, 1, 32, 47, 48, 49, 96, 200] {
            let stanzas = vec![stanza("X", len), stanza("grease", 48)];
            let raw = write_header(&stanzas, &key);
            let header = parse_header(raw.clone()).unwrap();
            assert_eq!(header.stanzas, stanzas, "body length {len}");
            assert_eq!(header.raw, raw);
            header.verify_mac(&key).unwrap();
            assert!(matches!(
                header.verify_mac(&[4u8; 16]),
                Err(Error::HeaderMac)
            ));
        }
    }

    #[test]
    fn body_of_a_multiple_of_48_bytes_ends_with_an_empty_line() {
        let raw = write_header(&[stanza("X", 48)], &[0u8; 16]);
        let text = String::from_utf8(raw).unwrap();
        let body_line = "q6ur".repeat(16);
        assert!(text.contains(&format!("{body_line}\n\n---")), "{text}");
    }

    #[test]
    fn read_header_returns_bytes_after_the_mac_line() {
        let mut raw = write_header(&[stanza("X", 32)], &[0u8; 16]);
        let header_len = raw.len();
        raw.extend_from_slice(b"payload-bytes");
        let (header, rest) = read_header(&mut raw.as_slice()).unwrap();
        assert_eq!(header.len(), header_len);
        assert_eq!(rest, b"payload-bytes");
    }

    #[test]
    fn foreign_input_fails_fast_as_not_age() {
        let wav = [b"RIFF".as_slice(), &[0u8; 100_000]].concat();
        let err = read_header(&mut wav.as_slice()).unwrap_err();
        assert!(err.to_string().contains("not an age file"), "{err}");
    }
}
