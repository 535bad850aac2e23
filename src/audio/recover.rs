//! Recovery that plays: a recording whose writer was killed becomes a WAV
//! with corrected sizes cut to whole sample frames, or an MP3 cut to whole
//! frames, holding every authenticated sample.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::audio::metadata::Metadata;
use crate::audio::mp3::Walker;
use crate::audio::playable::{bytes_to_duration, RecordingInfo, RecordingKind};
use crate::audio::wav::MAX_HEADER;
use crate::error::Result;
use crate::keys::Identity;
use crate::recover::{recover, Recovery};

/// What [`recover_playable`] salvaged.
///
/// ```
/// use std::io::Cursor;
/// use callseal::audio::{recover_playable, CaptureWriter, PcmFormat, RecordingKind};
///
/// let id = callseal::Identity::generate();
/// let mut rec = CaptureWriter::pcm(&[id.recipient()], Vec::new(), PcmFormat::TELEPHONY, &Default::default())?;
/// rec.write_frame(&vec![9u8; 160_000])?; // 10 s
/// let crashed = rec.sealer().get_ref().clone(); // killed before finish()
/// let mut wav = Vec::new();
/// let report = recover_playable(Cursor::new(crashed), &[id], &mut wav)?;
/// assert_eq!(report.kind, RecordingKind::Wav);
/// assert_eq!(report.audio_bytes, 131_072 - 44); // two whole chunks, whole samples
/// assert_eq!(report.written_bytes, wav.len() as u64);
/// assert!(report.max_lost.unwrap() <= std::time::Duration::from_millis(4100));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioRecovery {
    /// What the recording was (`Other` files are recovered byte for byte).
    pub kind: RecordingKind,
    /// The engine's report: authenticated bytes, completeness, why it stopped.
    pub recovery: Recovery,
    /// Bytes written to the sink.
    pub written_bytes: u64,
    /// Audio bytes in the output (WAV samples, or MP3 frames without tags).
    pub audio_bytes: u64,
    /// Authenticated bytes left out to end on a whole sample frame or MP3
    /// frame.
    pub discarded_bytes: u64,
    /// Playing time recovered, when the format says it.
    pub duration: Option<Duration>,
    /// Upper bound on the playing time lost at the end: the engine's bound
    /// (one 64 KiB chunk when the file is cut) plus the discarded bytes.
    pub max_lost: Option<Duration>,
    /// The sealed call metadata, when the header was recovered.
    pub metadata: Metadata,
}

/// Salvages every authenticated chunk of a sealed recording as a playable
/// file: two passes over `source` (the first measures what authenticates
/// and where the last whole frame ends, the second writes), so the sink
/// need not seek. Plaintext that is not WAV or MP3 comes out byte for byte,
/// as [`crate::recover`] gives it.
///
/// Header problems (wrong key, altered header) are errors, as in
/// [`crate::recover`]: recovery never weakens authentication.
///
/// ```
/// use std::io::Cursor;
/// let id = callseal::Identity::generate();
/// let file = callseal::Sealer::new(&[id.recipient()], Vec::new())?.finish()?;
/// let other = callseal::Identity::generate();
/// assert!(callseal::audio::recover_playable(Cursor::new(file), &[other], Vec::new()).is_err());
/// # Ok::<(), callseal::Error>(())
/// ```
pub fn recover_playable<R: Read + Seek, W: Write>(
    mut source: R,
    identities: &[Identity],
    sink: W,
) -> Result<AudioRecovery> {
    let start = source.stream_position()?;
    let mut probe = Probe::default();
    let recovery = recover(&mut source, identities, &mut probe)?;
    let authenticated = recovery.recovered_bytes;
    let info = RecordingInfo::from_start(&probe.first).unwrap_or(RecordingInfo {
        kind: RecordingKind::Other,
        wav: None,
        metadata: Metadata::new(),
        audio_offset: 0,
        mp3: None,
    });

    // Decide the output: a header to put first (replacing the first
    // `skip` bytes) and where to stop.
    let (prefix, skip, end, byte_rate) = match (&info.wav, info.kind) {
        (Some(w), RecordingKind::Wav) => {
            let available = authenticated.saturating_sub(w.data_offset);
            let data = if w.has_placeholder_sizes() {
                available
            } else {
                available.min(u64::from(w.data_size))
            };
            let data = data / u64::from(w.block_align) * u64::from(w.block_align);
            let header = w.patched_header(&probe.first, data);
            (
                header,
                w.data_offset,
                w.data_offset + data,
                Some(w.byte_rate()),
            )
        }
        (_, RecordingKind::Mp3) => {
            let end = probe.walker.complete_end;
            let rate = info.mp3.map(|(kbps, _)| u64::from(kbps) * 125);
            (Vec::new(), 0, end, rate)
        }
        _ => (Vec::new(), 0, authenticated, None),
    };
    // A whole recording that needs no fixing is copied as it is.
    let untouched = recovery.complete
        && !info.wav.as_ref().is_some_and(|w| w.has_placeholder_sizes())
        && end == authenticated;
    let (prefix, skip, end) = if untouched {
        (Vec::new(), 0, authenticated)
    } else {
        (prefix, skip, end)
    };

    source.seek(SeekFrom::Start(start))?;
    let mut cutter = Cutter {
        sink,
        prefix: Zeroizing::new(prefix),
        skip,
        end,
        pos: 0,
        written: 0,
    };
    recover(&mut source, identities, &mut cutter)?;
    cutter.finish()?;

    let audio_offset = if info.kind == RecordingKind::Other {
        0
    } else {
        info.audio_offset
    };
    let audio_bytes = end.saturating_sub(audio_offset);
    let discarded_bytes = authenticated - end;
    let lost_bytes = recovery.max_lost_bytes() + discarded_bytes;
    Ok(AudioRecovery {
        kind: info.kind,
        written_bytes: cutter.written,
        audio_bytes,
        discarded_bytes,
        duration: byte_rate.map(|r| bytes_to_duration(audio_bytes, r)),
        max_lost: byte_rate.map(|r| bytes_to_duration(lost_bytes, r)),
        metadata: info.metadata,
        recovery,
    })
}

/// First pass: keeps the first 64 KiB and walks MP3 frames.
#[derive(Default)]
struct Probe {
    first: Zeroizing<Vec<u8>>,
    walker: Walker,
    walking: bool,
}

impl Write for Probe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.walking {
            self.walker = Walker::new();
            self.walking = true;
        }
        let room = MAX_HEADER.saturating_sub(self.first.len()).min(buf.len());
        self.first.extend_from_slice(&buf[..room]);
        self.walker.feed(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Second pass: writes `prefix` in place of the first `skip` bytes, then
/// the plaintext up to `end`.
struct Cutter<W: Write> {
    sink: W,
    prefix: Zeroizing<Vec<u8>>,
    skip: u64,
    end: u64,
    pos: u64,
    written: u64,
}

impl<W: Write> Cutter<W> {
    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        if !self.prefix.is_empty() {
            let prefix = std::mem::take(&mut self.prefix);
            self.sink.write_all(&prefix)?;
            self.written += prefix.len() as u64;
        }
        self.sink.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.emit(&[])?;
        self.sink.flush()
    }
}

impl<W: Write> Write for Cutter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let from = self.pos;
        let to = from + buf.len() as u64;
        self.pos = to;
        let lo = from.max(self.skip).min(to);
        let hi = to.min(self.end).max(lo);
        if hi > lo {
            self.emit(&buf[(lo - from) as usize..(hi - from) as usize])?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
