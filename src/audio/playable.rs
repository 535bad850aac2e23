//! Opening a sealed recording as a playable file: what the recording is
//! (from its first chunk), and a reader that puts real sizes into a WAV
//! header written with streaming placeholders.

use std::io::{self, Read, Seek, SeekFrom};
use std::time::Duration;

use zeroize::{Zeroize, Zeroizing};

use crate::audio::metadata::Metadata;
use crate::audio::mp3::{id3v2_len, looks_like_mp3, FrameHeader};
use crate::audio::wav::{WavLayout, MAX_HEADER};
use crate::error::{Error, Result};
use crate::open::Opener;

/// What kind of recording a plaintext is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingKind {
    /// A RIFF/WAVE file.
    Wav,
    /// An MP3 frame stream (optionally after ID3v2 tags).
    Mp3,
    /// Anything else: opened byte for byte.
    Other,
}

/// What the start of a recording says: its kind, WAV layout and sealed
/// metadata. Read from the first chunk only by [`read_recording_info`].
///
/// ```
/// use callseal::audio::{read_recording_info, CaptureWriter, Metadata, PcmFormat, RecordingKind};
/// let id = callseal::Identity::generate();
/// let mut meta = Metadata::new();
/// meta.insert("call_id", "c-5")?;
/// let mut rec = CaptureWriter::pcm(&[id.recipient()], Vec::new(), PcmFormat::TELEPHONY, &meta)?;
/// rec.write_frame(&[0u8; 320])?;
/// let file = rec.finish()?;
/// let mut opener = callseal::Opener::new(file.as_slice(), &[id])?;
/// let info = read_recording_info(&mut opener)?;
/// assert_eq!(info.kind, RecordingKind::Wav);
/// assert_eq!(info.metadata.call_id(), Some("c-5"));
/// # Ok::<(), callseal::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingInfo {
    /// WAV, MP3 or other.
    pub kind: RecordingKind,
    /// The WAV header, for a WAV.
    pub wav: Option<WavLayout>,
    /// The sealed call metadata (empty when there is none).
    pub metadata: Metadata,
    /// Bytes before the audio: WAV header up to the samples, or the ID3v2
    /// tags before the first MP3 frame.
    pub audio_offset: u64,
    /// The first MP3 frame's bitrate in kbit/s and sample rate (MP3 only).
    pub mp3: Option<(u32, u32)>,
}

impl RecordingInfo {
    /// Parses the start of a plaintext (at least the whole header, up to
    /// 64 KiB of it).
    ///
    /// ```
    /// use callseal::audio::{RecordingInfo, RecordingKind};
    /// assert_eq!(RecordingInfo::from_start(b"plain bytes")?.kind, RecordingKind::Other);
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn from_start(first: &[u8]) -> Result<RecordingInfo> {
        if let Some(wav) = WavLayout::parse(first)? {
            return Ok(RecordingInfo {
                kind: RecordingKind::Wav,
                metadata: wav.metadata.clone(),
                audio_offset: wav.data_offset,
                wav: Some(wav),
                mp3: None,
            });
        }
        if looks_like_mp3(first) {
            let mut metadata = Metadata::new();
            let mut pos = 0usize;
            while let Some(len) = first.get(pos..).and_then(id3v2_len) {
                let tag = &first[pos..(pos + len).min(first.len())];
                for (k, v) in Metadata::from_id3v2(tag).iter() {
                    metadata.insert(k, v).ok();
                }
                pos += len;
            }
            let mp3 = first
                .get(pos..)
                .and_then(FrameHeader::parse)
                .map(|h| (h.bitrate_kbps, h.sample_rate));
            return Ok(RecordingInfo {
                kind: RecordingKind::Mp3,
                wav: None,
                metadata,
                audio_offset: pos as u64,
                mp3,
            });
        }
        Ok(RecordingInfo {
            kind: RecordingKind::Other,
            wav: None,
            metadata: Metadata::new(),
            audio_offset: 0,
            mp3: None,
        })
    }

    /// Playing time of `plaintext_len` bytes of this recording: exact for
    /// WAV, from the first frame's bitrate for MP3 (exact for CBR).
    ///
    /// ```
    /// # let id = callseal::Identity::generate();
    /// # let rec = callseal::audio::CaptureWriter::pcm(&[id.recipient()], Vec::new(), callseal::audio::PcmFormat::TELEPHONY, &Default::default())?;
    /// let info = callseal::audio::RecordingInfo::from_start(rec.header())?;
    /// let len = rec.header().len() as u64 + 16_000;
    /// assert_eq!(info.duration(len), Some(std::time::Duration::from_secs(1)));
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn duration(&self, plaintext_len: u64) -> Option<Duration> {
        let audio = plaintext_len.saturating_sub(self.audio_offset);
        match (&self.wav, self.mp3) {
            (Some(w), _) if w.byte_rate() > 0 => Some(bytes_to_duration(audio, w.byte_rate())),
            (None, Some((kbps, _))) if kbps > 0 => {
                Some(bytes_to_duration(audio, u64::from(kbps) * 125))
            }
            _ => None,
        }
    }
}

pub(crate) fn bytes_to_duration(bytes: u64, per_second: u64) -> Duration {
    Duration::from_nanos((u128::from(bytes) * 1_000_000_000 / u128::from(per_second)) as u64)
}

/// Reads the recording's start through `opener` (decrypting the first
/// chunk only, for a header under 64 KiB) and describes it. The opener is
/// left after the bytes read; open a fresh one (or seek) to read the audio.
///
/// ```
/// # use callseal::audio::*;
/// let id = callseal::Identity::generate();
/// let file = CaptureWriter::mp3(&[id.recipient()], Vec::new(), &Metadata::new())?.finish()?;
/// let info = read_recording_info(&mut callseal::Opener::new(file.as_slice(), &[id])?)?;
/// assert_eq!(info.kind, RecordingKind::Other, "an empty MP3 stream is just bytes");
/// # Ok::<(), callseal::Error>(())
/// ```
pub fn read_recording_info<R: Read>(opener: &mut Opener<R>) -> Result<RecordingInfo> {
    let first = read_start(opener)?;
    RecordingInfo::from_start(&first)
}

/// Up to 64 KiB from the opener's current position.
pub(crate) fn read_start<R: Read>(opener: &mut Opener<R>) -> Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(vec![0u8; MAX_HEADER]);
    let mut filled = 0;
    while filled < buf.len() {
        match opener.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::from_io(e)),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// A sealed recording opened as a playable file.
///
/// A WAV written with placeholder sizes comes out with its RIFF and data
/// sizes taken from the authenticated plaintext length (the final chunk is
/// authenticated first, so the sizes are trusted); any other plaintext,
/// including a WAV sealed from a finished file, comes out byte for byte. One
/// pass: only the first and last chunks are decrypted twice.
///
/// [`crate::audio::open_clip`] builds the same reader over a time range.
///
/// ```
/// use std::io::{Cursor, Read};
/// use callseal::audio::{CaptureWriter, PcmFormat, PlayableReader};
///
/// let id = callseal::Identity::generate();
/// let mut rec = CaptureWriter::pcm(&[id.recipient()], Vec::new(), PcmFormat::TELEPHONY, &Default::default())?;
/// rec.write_frame(&[0u8; 16_000])?;
/// let file = rec.finish()?;
/// let opener = callseal::Opener::new(Cursor::new(file), &[id])?;
/// let mut wav = Vec::new();
/// PlayableReader::new(opener)?.read_to_end(&mut wav)?;
/// assert_eq!(u32::from_le_bytes(wav[40..44].try_into().unwrap()), 16_000); // data size
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PlayableReader<R> {
    opener: Opener<R>,
    prefix: Zeroizing<Vec<u8>>,
    prefix_pos: usize,
    /// Bytes of the opener still to deliver after the prefix.
    remaining: u64,
    info: RecordingInfo,
    plaintext_len: u64,
    output_len: u64,
    span: Option<(Duration, Duration)>,
}

impl<R: Read + Seek> PlayableReader<R> {
    /// Authenticates the final chunk, reads the header and prepares the
    /// corrected output.
    ///
    /// ```
    /// use callseal::audio::{PlayableReader, RecordingKind};
    /// let id = callseal::Identity::generate();
    /// let file = callseal::Sealer::new(&[id.recipient()], Vec::new())?.finish()?;
    /// let r = PlayableReader::new(callseal::Opener::new(std::io::Cursor::new(file), &[id])?)?;
    /// assert_eq!(r.info().kind, RecordingKind::Other);
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn new(mut opener: Opener<R>) -> Result<PlayableReader<R>> {
        let plaintext_len = opener.plaintext_len()?;
        opener.seek(SeekFrom::Start(0))?;
        let first = read_start(&mut opener)?;
        let info = RecordingInfo::from_start(&first)?;
        match &info.wav {
            Some(w) if w.has_placeholder_sizes() => {
                let data_len = plaintext_len - w.data_offset;
                let prefix = Zeroizing::new(w.patched_header(&first, data_len));
                opener.seek(SeekFrom::Start(w.data_offset))?;
                Ok(PlayableReader::build(
                    opener,
                    prefix,
                    data_len,
                    info,
                    plaintext_len,
                ))
            }
            _ => {
                let rest = plaintext_len - first.len() as u64;
                Ok(PlayableReader::build(
                    opener,
                    first,
                    rest,
                    info,
                    plaintext_len,
                ))
            }
        }
    }
}

impl<R: Read> PlayableReader<R> {
    /// A reader that yields `prefix`, then `remaining` bytes of `opener`.
    pub(crate) fn build(
        opener: Opener<R>,
        prefix: Zeroizing<Vec<u8>>,
        remaining: u64,
        info: RecordingInfo,
        plaintext_len: u64,
    ) -> PlayableReader<R> {
        let output_len = prefix.len() as u64 + remaining;
        PlayableReader {
            opener,
            prefix,
            prefix_pos: 0,
            remaining,
            info,
            plaintext_len,
            output_len,
            span: None,
        }
    }

    pub(crate) fn set_span(&mut self, start: Duration, end: Duration) {
        self.span = Some((start, end));
    }

    /// For a clip ([`crate::audio::open_clip`]): the start and end times it
    /// actually covers (whole sample frames or MP3 frames); `None` for a
    /// whole recording.
    ///
    /// ```
    /// # use callseal::audio::*;
    /// # let id = callseal::Identity::generate();
    /// let file = CaptureWriter::pcm(&[id.recipient()], Vec::new(), PcmFormat::TELEPHONY, &Metadata::new())?.finish()?;
    /// let r = PlayableReader::new(callseal::Opener::new(std::io::Cursor::new(file), &[id])?)?;
    /// assert_eq!(r.span(), None);
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn span(&self) -> Option<(Duration, Duration)> {
        self.span
    }

    /// What the recording is (kind, WAV layout, sealed metadata).
    ///
    /// ```
    /// # use callseal::audio::*;
    /// # let id = callseal::Identity::generate();
    /// # let mut m = Metadata::new(); m.insert("call_id", "z")?;
    /// # let file = CaptureWriter::pcm(&[id.recipient()], Vec::new(), PcmFormat::TELEPHONY, &m)?.finish()?;
    /// let r = PlayableReader::new(callseal::Opener::new(std::io::Cursor::new(file), &[id])?)?;
    /// assert_eq!(r.info().metadata.call_id(), Some("z"));
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn info(&self) -> &RecordingInfo {
        &self.info
    }

    /// The authenticated plaintext length of the whole sealed recording.
    ///
    /// ```
    /// # use callseal::audio::*;
    /// # let id = callseal::Identity::generate();
    /// let file = CaptureWriter::pcm(&[id.recipient()], Vec::new(), PcmFormat::TELEPHONY, &Metadata::new())?.finish()?;
    /// let r = PlayableReader::new(callseal::Opener::new(std::io::Cursor::new(file), &[id])?)?;
    /// assert_eq!(r.plaintext_len(), 44);
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn plaintext_len(&self) -> u64 {
        self.plaintext_len
    }

    /// Bytes this reader yields in all.
    ///
    /// ```
    /// # use callseal::audio::*;
    /// # let id = callseal::Identity::generate();
    /// let file = CaptureWriter::pcm(&[id.recipient()], Vec::new(), PcmFormat::TELEPHONY, &Metadata::new())?.finish()?;
    /// let r = PlayableReader::new(callseal::Opener::new(std::io::Cursor::new(file), &[id])?)?;
    /// assert_eq!(r.output_len(), 44);
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn output_len(&self) -> u64 {
        self.output_len
    }
}

impl<R: Read> Read for PlayableReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.prefix_pos < self.prefix.len() {
            let n = buf.len().min(self.prefix.len() - self.prefix_pos);
            buf[..n].copy_from_slice(&self.prefix[self.prefix_pos..self.prefix_pos + n]);
            self.prefix_pos += n;
            if self.prefix_pos == self.prefix.len() {
                self.prefix.zeroize();
                self.prefix_pos = 0;
                self.prefix.clear();
            }
            return Ok(n);
        }
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.opener.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the recording ended before its authenticated length",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

impl<R> std::fmt::Debug for PlayableReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlayableReader")
            .field("kind", &self.info.kind)
            .field("output_len", &self.output_len)
            .finish_non_exhaustive()
    }
}
