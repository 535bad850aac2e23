//! WAV headers: writing the capture header with streaming placeholder sizes,
//! parsing a header back, and patching its sizes from a known length.

use std::str::FromStr;

use crate::audio::metadata::{Metadata, WAV_CHUNK_ID};
use crate::error::{Error, Result};

/// The streaming placeholder for the RIFF and `data` sizes (sox and ffmpeg
/// read such a file to its end).
pub const PLACEHOLDER_SIZE: u32 = u32::MAX;

/// Most header bytes (everything before the audio) that are parsed.
pub(crate) const MAX_HEADER: usize = 64 * 1024;

/// How samples are encoded: what call centres record.
///
/// ```
/// use callseal::audio::Encoding;
/// assert_eq!("ulaw".parse::<Encoding>()?, Encoding::MuLaw);
/// assert_eq!(Encoding::S16.bytes_per_sample(), 2);
/// # Ok::<(), callseal::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 16-bit signed little-endian linear PCM (WAV format tag 1).
    S16,
    /// G.711 mu-law, 8 bits per sample (WAV format tag 7).
    MuLaw,
    /// G.711 A-law, 8 bits per sample (WAV format tag 6).
    ALaw,
}

impl Encoding {
    /// Bytes per sample of one channel.
    ///
    /// ```
    /// assert_eq!(callseal::audio::Encoding::ALaw.bytes_per_sample(), 1);
    /// ```
    pub fn bytes_per_sample(self) -> usize {
        match self {
            Encoding::S16 => 2,
            Encoding::MuLaw | Encoding::ALaw => 1,
        }
    }

    /// The WAV format tag.
    ///
    /// ```
    /// assert_eq!(callseal::audio::Encoding::MuLaw.format_tag(), 7);
    /// ```
    pub fn format_tag(self) -> u16 {
        match self {
            Encoding::S16 => 1,
            Encoding::ALaw => 6,
            Encoding::MuLaw => 7,
        }
    }
}

impl FromStr for Encoding {
    type Err = Error;

    fn from_str(s: &str) -> Result<Encoding> {
        match s.to_ascii_lowercase().as_str() {
            "s16" | "s16le" | "pcm" | "slin" => Ok(Encoding::S16),
            "ulaw" | "mulaw" | "u-law" | "pcmu" => Ok(Encoding::MuLaw),
            "alaw" | "a-law" | "pcma" => Ok(Encoding::ALaw),
            _ => Err(Error::Usage("encoding must be s16, ulaw or alaw")),
        }
    }
}

/// Sample rate, channel count and encoding of captured PCM.
///
/// Stereo recordings carry the caller on channel 0 (left) and the agent on
/// channel 1 (right).
///
/// ```
/// use callseal::audio::{Encoding, PcmFormat};
/// let f: PcmFormat = "8000:2:ulaw".parse()?;
/// assert_eq!(f, PcmFormat { sample_rate: 8000, channels: 2, encoding: Encoding::MuLaw });
/// assert_eq!(f.block_align(), 2);
/// assert_eq!(f.byte_rate(), 16_000);
/// # Ok::<(), callseal::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcmFormat {
    /// Samples per second per channel (8000 for narrowband telephony).
    pub sample_rate: u32,
    /// 1 (mono) or 2 (caller left, agent right).
    pub channels: u16,
    /// Sample encoding.
    pub encoding: Encoding,
}

impl PcmFormat {
    /// 8 kHz, mono, 16-bit linear: Asterisk's `wav` and FreeSWITCH's default.
    ///
    /// ```
    /// assert_eq!(callseal::audio::PcmFormat::TELEPHONY.byte_rate(), 16_000);
    /// ```
    pub const TELEPHONY: PcmFormat = PcmFormat {
        sample_rate: 8000,
        channels: 1,
        encoding: Encoding::S16,
    };

    /// Bytes per sample frame (one sample of every channel).
    ///
    /// ```
    /// assert_eq!(callseal::audio::PcmFormat::TELEPHONY.block_align(), 2);
    /// ```
    pub fn block_align(&self) -> u16 {
        self.channels * self.encoding.bytes_per_sample() as u16
    }

    /// Bytes per second.
    ///
    /// ```
    /// assert_eq!(callseal::audio::PcmFormat::TELEPHONY.byte_rate(), 16_000);
    /// ```
    pub fn byte_rate(&self) -> u32 {
        self.sample_rate * u32::from(self.block_align())
    }

    /// A checked format: 1 or 2 channels, 1 kHz to 384 kHz.
    ///
    /// ```
    /// use callseal::audio::{Encoding, PcmFormat};
    /// assert_eq!(PcmFormat::new(8000, 1, Encoding::S16)?, PcmFormat::TELEPHONY);
    /// assert!(PcmFormat::new(8000, 3, Encoding::MuLaw).is_err());
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn new(sample_rate: u32, channels: u16, encoding: Encoding) -> Result<PcmFormat> {
        PcmFormat {
            sample_rate,
            channels,
            encoding,
        }
        .validate()
    }

    fn validate(self) -> Result<PcmFormat> {
        if !(1..=2).contains(&self.channels) {
            return Err(Error::Usage("channels must be 1 or 2"));
        }
        if !(1000..=384_000).contains(&self.sample_rate) {
            return Err(Error::Usage("sample rate must be 1000 to 384000 Hz"));
        }
        Ok(self)
    }
}

impl FromStr for PcmFormat {
    type Err = Error;

    /// `RATE:CHANNELS:ENCODING`, e.g. `8000:1:s16` or `8000:2:alaw`.
    fn from_str(s: &str) -> Result<PcmFormat> {
        let bad = || Error::Usage("PCM format must be RATE:CHANNELS:ENCODING, e.g. 8000:1:s16");
        let mut parts = s.split(':');
        let (Some(rate), Some(ch), Some(enc), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        PcmFormat {
            sample_rate: rate.parse().map_err(|_| bad())?,
            channels: ch.parse().map_err(|_| bad())?,
            encoding: enc.parse()?,
        }
        .validate()
    }
}

/// The capture header: RIFF/WAVE, `fmt `, the metadata chunk if any, and a
/// `data` chunk header, with RIFF and data sizes set to the streaming
/// placeholder. G.711 gets an 18-byte `fmt ` (cbSize 0) and no `fact`
/// chunk (a placeholder `fact` would mislead ffmpeg's duration).
pub(crate) fn capture_header(format: &PcmFormat, metadata: &Metadata) -> Vec<u8> {
    let mut fmt = Vec::with_capacity(18);
    fmt.extend_from_slice(&format.encoding.format_tag().to_le_bytes());
    fmt.extend_from_slice(&format.channels.to_le_bytes());
    fmt.extend_from_slice(&format.sample_rate.to_le_bytes());
    fmt.extend_from_slice(&format.byte_rate().to_le_bytes());
    fmt.extend_from_slice(&format.block_align().to_le_bytes());
    fmt.extend_from_slice(&(format.encoding.bytes_per_sample() as u16 * 8).to_le_bytes());
    if format.encoding != Encoding::S16 {
        fmt.extend_from_slice(&0u16.to_le_bytes());
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&PLACEHOLDER_SIZE.to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    out.extend_from_slice(&fmt);
    if !metadata.is_empty() {
        out.extend_from_slice(&metadata.to_wav_chunk());
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&PLACEHOLDER_SIZE.to_le_bytes());
    out
}

/// What a WAV header says, as parsed from the first bytes of a file.
///
/// ```
/// use callseal::audio::{Metadata, PcmFormat, WavLayout};
/// # use std::io::Write;
/// # let id = callseal::Identity::generate();
/// let mut w = callseal::audio::CaptureWriter::pcm(&[id.recipient()], Vec::new(), PcmFormat::TELEPHONY, &Metadata::new())?;
/// # let _ = &mut w;
/// let header = w.header().to_vec();
/// let layout = WavLayout::parse(&header)?.expect("a WAV header");
/// assert_eq!((layout.sample_rate, layout.channels, layout.block_align), (8000, 1, 2));
/// assert!(layout.has_placeholder_sizes());
/// assert_eq!(layout.data_offset as usize, header.len());
/// # Ok::<(), callseal::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavLayout {
    /// WAV format tag (1 PCM, 6 A-law, 7 mu-law, 0xFFFE extensible, ...).
    pub format_tag: u16,
    /// Channel count.
    pub channels: u16,
    /// Samples per second.
    pub sample_rate: u32,
    /// Bytes per sample frame.
    pub block_align: u16,
    /// Bits per sample.
    pub bits_per_sample: u16,
    /// The RIFF size field as written.
    pub riff_size: u32,
    /// Offset of the first audio byte (just after the `data` chunk header).
    pub data_offset: u64,
    /// The `data` size field as written.
    pub data_size: u32,
    /// The sealed call metadata (`csmd` chunk), if present.
    pub metadata: Metadata,
}

impl WavLayout {
    /// Parses a RIFF/WAVE header from the start of `bytes`.
    ///
    /// `Ok(None)` when `bytes` is not a WAV file; an error when it is one but
    /// the header is malformed, has no `fmt ` chunk, or does not reach its
    /// `data` chunk within `bytes` (at most 64 KiB are looked at).
    ///
    /// ```
    /// assert!(callseal::audio::WavLayout::parse(b"ID3\x04rest")?.is_none());
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Option<WavLayout>> {
        if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Ok(None);
        }
        let bad = |m: &str| Error::Header(format!("malformed WAV header in the recording: {m}"));
        let bytes = &bytes[..bytes.len().min(MAX_HEADER)];
        let riff_size = le32(&bytes[4..8]);
        let mut fmt: Option<&[u8]> = None;
        let mut metadata = Metadata::new();
        let mut pos = 12usize;
        loop {
            let Some(head) = bytes.get(pos..pos + 8) else {
                return Err(bad("no data chunk in the first 64 KiB"));
            };
            let (id, size) = (&head[..4], le32(&head[4..8]));
            let body_start = pos + 8;
            if id == b"data" {
                let f = fmt.ok_or_else(|| bad("no fmt chunk before data"))?;
                return Ok(Some(WavLayout {
                    format_tag: le16(&f[0..2]),
                    channels: le16(&f[2..4]),
                    sample_rate: le32(&f[4..8]),
                    block_align: le16(&f[12..14]).max(1),
                    bits_per_sample: le16(&f[14..16]),
                    riff_size,
                    data_offset: body_start as u64,
                    data_size: size,
                    metadata,
                }));
            }
            let body_end = body_start
                .checked_add(size as usize)
                .filter(|&e| e <= bytes.len())
                .ok_or_else(|| bad("a chunk before data runs past the first 64 KiB"))?;
            let body = &bytes[body_start..body_end];
            if id == b"fmt " {
                if body.len() < 16 {
                    return Err(bad("fmt chunk shorter than 16 bytes"));
                }
                fmt = Some(body);
            } else if id == WAV_CHUNK_ID {
                metadata = Metadata::from_chunk_body(body)?;
            }
            pos = body_end + (size as usize % 2);
        }
    }

    /// True when the RIFF or data size is a streaming placeholder
    /// (0xFFFFFFFF, or zero as Asterisk writes before patching at close).
    ///
    /// ```
    /// # let id = callseal::Identity::generate();
    /// # let w = callseal::audio::CaptureWriter::pcm(&[id.recipient()], Vec::new(), callseal::audio::PcmFormat::TELEPHONY, &Default::default())?;
    /// let layout = callseal::audio::WavLayout::parse(w.header())?.unwrap();
    /// assert!(layout.has_placeholder_sizes());
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn has_placeholder_sizes(&self) -> bool {
        let placeholder = |v: u32| v == PLACEHOLDER_SIZE || v == 0;
        self.data_size == PLACEHOLDER_SIZE || (self.data_size == 0 && placeholder(self.riff_size))
    }

    /// Bytes per second (sample rate times block align).
    ///
    /// ```
    /// # let id = callseal::Identity::generate();
    /// # let w = callseal::audio::CaptureWriter::pcm(&[id.recipient()], Vec::new(), "8000:2:s16".parse()?, &Default::default())?;
    /// let layout = callseal::audio::WavLayout::parse(w.header())?.unwrap();
    /// assert_eq!(layout.byte_rate(), 32_000);
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn byte_rate(&self) -> u64 {
        u64::from(self.sample_rate) * u64::from(self.block_align)
    }

    /// The header bytes (`header` is the file's first `data_offset` bytes)
    /// with the RIFF and data sizes set for `data_len` bytes of audio. Sizes
    /// that do not fit 32 bits stay placeholders.
    pub(crate) fn patched_header(&self, header: &[u8], data_len: u64) -> Vec<u8> {
        let mut out = header[..self.data_offset as usize].to_vec();
        let riff = self.data_offset - 8 + data_len + data_len % 2;
        let (riff, data) = match (u32::try_from(riff), u32::try_from(data_len)) {
            (Ok(r), Ok(d)) if r != PLACEHOLDER_SIZE => (r, d),
            _ => (PLACEHOLDER_SIZE, PLACEHOLDER_SIZE),
        };
        out[4..8].copy_from_slice(&riff.to_le_bytes());
        let d = self.data_offset as usize - 4;
        out[d..d + 4].copy_from_slice(&data.to_le_bytes());
        out
    }
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_with_metadata_and_patches() {
        let mut m = Metadata::new();
        m.insert("call_id", "x1").unwrap();
        let f: PcmFormat = "8000:2:alaw".parse().unwrap();
        let h = capture_header(&f, &m);
        let l = WavLayout::parse(&h).unwrap().unwrap();
        assert_eq!(
            (l.format_tag, l.channels, l.block_align, l.bits_per_sample),
            (6, 2, 2, 8)
        );
        assert_eq!(l.metadata, m);
        assert!(l.has_placeholder_sizes());
        let p = l.patched_header(&h, 1000);
        let l2 = WavLayout::parse(&p).unwrap().unwrap();
        assert_eq!(l2.data_size, 1000);
        assert_eq!(l2.riff_size as u64, h.len() as u64 - 8 + 1000);
        assert!(!l2.has_placeholder_sizes());
    }

    #[test]
    fn formats_parse_and_refuse_nonsense() {
        assert!("8000:3:s16".parse::<PcmFormat>().is_err());
        assert!("8000:1".parse::<PcmFormat>().is_err());
        assert!("8000:1:flac".parse::<PcmFormat>().is_err());
        assert_eq!(
            "16000:1:s16".parse::<PcmFormat>().unwrap().byte_rate(),
            32_000
        );
        assert!(WavLayout::parse(b"RIFF\0\0\0\0WAVEdata").is_err());
    }
}
