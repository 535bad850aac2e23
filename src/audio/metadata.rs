//! Sealed call metadata: key/value pairs stored at the start of the
//! recording, inside the encrypted stream, so they are confidential and bound
//! to the audio by the same authentication.
//!
//! In a WAV file they live in a `csmd` chunk before `data` (players skip
//! unknown chunks); in an MP3 stream in an ID3v2.4 tag of `TXXX` frames.

use crate::error::{Error, Result};

/// The key that names the call a recording belongs to
/// (`callseal open --expect-call-id` compares it).
pub const CALL_ID: &str = "call_id";

/// The RIFF chunk id of the metadata chunk in a WAV file.
pub(crate) const WAV_CHUNK_ID: &[u8; 4] = b"csmd";

/// Most bytes the encoded metadata may take, so the whole recording header
/// (format, metadata) stays inside the first 64 KiB chunk and `inspect`
/// decrypts that chunk only.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// Ordered key/value metadata for a recording (call id, start time,
/// direction, queue, agent, or any key the host likes).
///
/// ```
/// use callseal::audio::Metadata;
///
/// let mut meta = Metadata::new();
/// meta.insert("call_id", "c-1234")?;
/// meta.insert("direction", "inbound")?;
/// assert_eq!(meta.call_id(), Some("c-1234"));
/// assert_eq!(meta.get("direction"), Some("inbound"));
/// # Ok::<(), callseal::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    entries: Vec<(String, String)>,
}

impl Metadata {
    /// Empty metadata.
    ///
    /// ```
    /// assert!(callseal::audio::Metadata::new().is_empty());
    /// ```
    pub fn new() -> Metadata {
        Metadata::default()
    }

    /// Sets `key` to `value`, replacing an earlier value of the same key.
    /// Keys must be non-empty and hold no NUL, `=` or newline; values no NUL.
    /// Fails when the encoded metadata would exceed [`MAX_METADATA_BYTES`].
    ///
    /// ```
    /// let mut m = callseal::audio::Metadata::new();
    /// assert!(m.insert("queue", "billing").is_ok());
    /// assert!(m.insert("bad=key", "x").is_err());
    /// ```
    pub fn insert(&mut self, key: &str, value: &str) -> Result<()> {
        if key.is_empty() || key.contains(['\0', '=', '\n']) {
            return Err(Error::Usage(
                "metadata keys must be non-empty, without NUL, '=' or newline",
            ));
        }
        if value.contains('\0') {
            return Err(Error::Usage("metadata values must not contain NUL"));
        }
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.to_string(),
            None => self.entries.push((key.to_string(), value.to_string())),
        }
        if self.encoded_len() > MAX_METADATA_BYTES {
            self.entries.retain(|(k, _)| k != key);
            return Err(Error::Usage("metadata exceeds 16 KiB"));
        }
        Ok(())
    }

    /// Parses `KEY=VALUE` (as given to `callseal seal --meta`) and inserts it.
    ///
    /// ```
    /// let mut m = callseal::audio::Metadata::new();
    /// m.insert_pair("agent=A. Berg")?;
    /// assert_eq!(m.get("agent"), Some("A. Berg"));
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn insert_pair(&mut self, pair: &str) -> Result<()> {
        let (k, v) = pair
            .split_once('=')
            .ok_or(Error::Usage("metadata must be given as KEY=VALUE"))?;
        self.insert(k, v)
    }

    /// The value of `key`, if set.
    ///
    /// ```
    /// let m = callseal::audio::Metadata::new();
    /// assert_eq!(m.get("call_id"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The sealed call id ([`CALL_ID`]), if set.
    ///
    /// ```
    /// let mut m = callseal::audio::Metadata::new();
    /// m.insert(callseal::audio::CALL_ID, "42")?;
    /// assert_eq!(m.call_id(), Some("42"));
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn call_id(&self) -> Option<&str> {
        self.get(CALL_ID)
    }

    /// All entries in insertion order.
    ///
    /// ```
    /// let mut m = callseal::audio::Metadata::new();
    /// m.insert("a", "1")?;
    /// m.insert("b", "2")?;
    /// let keys: Vec<&str> = m.iter().map(|(k, _)| k).collect();
    /// assert_eq!(keys, ["a", "b"]);
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// True when there are no entries.
    ///
    /// ```
    /// assert!(callseal::audio::Metadata::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn encoded_len(&self) -> usize {
        2 + self
            .entries
            .iter()
            .map(|(k, v)| 6 + k.len() + v.len())
            .sum::<usize>()
    }

    /// The body of the WAV `csmd` chunk: a u16 LE entry count, then per
    /// entry a u16 LE key length, the key, a u32 LE value length, the value
    /// (all UTF-8).
    pub(crate) fn to_chunk_body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(&(self.entries.len() as u16).to_le_bytes());
        for (k, v) in &self.entries {
            out.extend_from_slice(&(k.len() as u16).to_le_bytes());
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            out.extend_from_slice(v.as_bytes());
        }
        out
    }

    /// The WAV chunk (`csmd`): id, size, body and a pad byte if the body is
    /// odd. Players skip it; put it before `data`.
    ///
    /// ```
    /// let mut m = callseal::audio::Metadata::new();
    /// m.insert("call_id", "c-1")?;
    /// let chunk = m.to_wav_chunk();
    /// assert_eq!(&chunk[..4], b"csmd");
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn to_wav_chunk(&self) -> Vec<u8> {
        let body = self.to_chunk_body();
        let mut out = Vec::with_capacity(body.len() + 9);
        out.extend_from_slice(WAV_CHUNK_ID);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    /// Parses a `csmd` chunk body.
    pub(crate) fn from_chunk_body(mut body: &[u8]) -> Result<Metadata> {
        let bad = || Error::Header("malformed callseal metadata chunk in the recording".into());
        let take = |n: usize, body: &mut &[u8]| -> Result<Vec<u8>> {
            if body.len() < n {
                return Err(bad());
            }
            let (head, rest) = body.split_at(n);
            *body = rest;
            Ok(head.to_vec())
        };
        let count = u16::from_le_bytes(take(2, &mut body)?.try_into().expect("2 bytes"));
        let mut meta = Metadata::new();
        for _ in 0..count {
            let klen = u16::from_le_bytes(take(2, &mut body)?.try_into().expect("2")) as usize;
            let key = String::from_utf8(take(klen, &mut body)?).map_err(|_| bad())?;
            let vlen = u32::from_le_bytes(take(4, &mut body)?.try_into().expect("4")) as usize;
            let value = String::from_utf8(take(vlen, &mut body)?).map_err(|_| bad())?;
            meta.entries.push((key, value));
        }
        Ok(meta)
    }

    /// An ID3v2.4 tag holding one UTF-8 `TXXX` frame per entry
    /// (description = key), to put before the first MP3 frame.
    ///
    /// ```
    /// let mut m = callseal::audio::Metadata::new();
    /// m.insert("call_id", "c-1")?;
    /// assert_eq!(&m.to_id3v2()[..4], b"ID3\x04");
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn to_id3v2(&self) -> Vec<u8> {
        let mut frames = Vec::new();
        for (k, v) in &self.entries {
            let mut body = vec![3u8]; // UTF-8
            body.extend_from_slice(k.as_bytes());
            body.push(0);
            body.extend_from_slice(v.as_bytes());
            frames.extend_from_slice(b"TXXX");
            frames.extend_from_slice(&syncsafe(body.len() as u32));
            frames.extend_from_slice(&[0, 0]);
            frames.extend_from_slice(&body);
        }
        let mut tag = b"ID3\x04\x00\x00".to_vec();
        tag.extend_from_slice(&syncsafe(frames.len() as u32));
        tag.extend_from_slice(&frames);
        tag
    }

    /// Reads the `TXXX` frames of an ID3v2.3/2.4 tag (`tag` is the whole
    /// tag, header included).
    pub(crate) fn from_id3v2(tag: &[u8]) -> Metadata {
        let mut meta = Metadata::new();
        if tag.len() < 10 || &tag[..3] != b"ID3" {
            return meta;
        }
        let v4 = tag[3] == 4;
        let mut pos = 10;
        while pos + 10 <= tag.len() {
            let id = &tag[pos..pos + 4];
            if id[0] == 0 {
                break; // padding
            }
            let raw: [u8; 4] = tag[pos + 4..pos + 8].try_into().expect("4 bytes");
            let size = if v4 {
                unsyncsafe(raw)
            } else {
                u32::from_be_bytes(raw)
            } as usize;
            let start = pos + 10;
            let Some(body) = tag.get(start..start + size) else {
                break;
            };
            if id == b"TXXX" && body.len() > 1 && (body[0] == 3 || body[0] == 0) {
                let text = &body[1..];
                if let Some(nul) = text.iter().position(|&b| b == 0) {
                    let key = String::from_utf8_lossy(&text[..nul]).into_owned();
                    let mut value = &text[nul + 1..];
                    while value.last() == Some(&0) {
                        value = &value[..value.len() - 1];
                    }
                    let value = String::from_utf8_lossy(value).into_owned();
                    if !key.is_empty() {
                        meta.entries.push((key, value));
                    }
                }
            }
            pos = start + size;
        }
        meta
    }
}

/// A 28-bit value as four 7-bit bytes (ID3v2 sizes).
pub(crate) fn syncsafe(n: u32) -> [u8; 4] {
    [
        ((n >> 21) & 0x7f) as u8,
        ((n >> 14) & 0x7f) as u8,
        ((n >> 7) & 0x7f) as u8,
        (n & 0x7f) as u8,
    ]
}

/// Decodes a syncsafe integer.
pub(crate) fn unsyncsafe(b: [u8; 4]) -> u32 {
    b.iter()
        .fold(0u32, |acc, &x| (acc << 7) | u32::from(x & 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_and_id3_round_trip() {
        let mut m = Metadata::new();
        m.insert("call_id", "c-77").unwrap();
        m.insert("agent", "Åsa Öberg").unwrap();
        m.insert("empty", "").unwrap();
        assert_eq!(Metadata::from_chunk_body(&m.to_chunk_body()).unwrap(), m);
        assert_eq!(Metadata::from_id3v2(&m.to_id3v2()), m);
        let chunk = m.to_wav_chunk();
        assert_eq!(&chunk[..4], b"csmd");
        assert_eq!(chunk.len() % 2, 0);
    }

    #[test]
    fn malformed_chunk_is_an_error_and_limits_hold() {
        assert!(Metadata::from_chunk_body(&[5, 0, 1]).is_err());
        let mut m = Metadata::new();
        assert!(m.insert("big", &"x".repeat(MAX_METADATA_BYTES)).is_err());
        assert!(m.is_empty());
        assert_eq!(unsyncsafe(syncsafe(0x0fff_ffff)), 0x0fff_ffff);
    }
}
