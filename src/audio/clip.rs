//! Seek by time: a clip of a sealed recording, itself a valid WAV or MP3,
//! decrypting only the chunks that hold it (plus the first and last).

use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::audio::mp3::{is_tag_frame, FrameHeader};
use crate::audio::playable::{read_start, PlayableReader, RecordingInfo, RecordingKind};
use crate::error::{Error, Result};
use crate::open::Opener;

/// Parses a time offset: `SS`, `MM:SS` or `HH:MM:SS`, seconds possibly
/// fractional (`12:30`, `1:02:03.25`, `90.5`).
///
/// ```
/// use std::time::Duration;
/// use callseal::audio::parse_time;
/// assert_eq!(parse_time("12:30")?, Duration::from_secs(750));
/// assert_eq!(parse_time("1:00:00.5")?, Duration::from_millis(3_600_500));
/// assert!(parse_time("1:x").is_err());
/// # Ok::<(), callseal::Error>(())
/// ```
pub fn parse_time(s: &str) -> Result<Duration> {
    let bad = || Error::Usage("a time must be SS, MM:SS or HH:MM:SS (seconds may have a fraction)");
    let parts: Vec<&str> = s.trim().split(':').collect();
    if parts.len() > 3 {
        return Err(bad());
    }
    let (last, whole) = parts.split_last().expect("split yields a part");
    let mut minutes: u64 = 0;
    for p in whole {
        let v: u64 = p.parse().map_err(|_| bad())?;
        minutes = minutes
            .checked_mul(60)
            .and_then(|m| m.checked_add(v))
            .ok_or_else(bad)?;
    }
    let seconds: f64 = last.parse().map_err(|_| bad())?;
    if !seconds.is_finite() || seconds < 0.0 || (!whole.is_empty() && seconds >= 60.0) {
        return Err(bad());
    }
    let whole_secs = minutes.checked_mul(60).ok_or_else(bad)?;
    let frac = Duration::try_from_secs_f64(seconds).map_err(|_| bad())?;
    Duration::from_secs(whole_secs)
        .checked_add(frac)
        .ok_or_else(bad)
}

/// Opens the part of a sealed recording between `from` and `to` (the end
/// when `None`) as a playable file.
///
/// - WAV: cut at whole sample frames, exactly (`from × rate` rounded down);
///   the clip keeps the format and metadata chunks, with sizes for the clip.
/// - MP3: whole frames from the one holding `from` to the one holding `to`,
///   after the ID3v2 tag (metadata). For CBR streams the frame is found by
///   arithmetic and a short frame scan at the estimated offset; a VBR stream
///   is walked frame by frame from the start.
///
/// Only the first chunk, the final chunk (authenticated first, so the length
/// is trusted) and the chunks under the clip are decrypted.
///
/// ```
/// use std::io::{Cursor, Read};
/// use std::time::Duration;
/// use callseal::audio::{open_clip, CaptureWriter, PcmFormat};
///
/// let id = callseal::Identity::generate();
/// let mut rec = CaptureWriter::pcm(&[id.recipient()], Vec::new(), PcmFormat::TELEPHONY, &Default::default())?;
/// for s in 0..10u8 {
///     rec.write_frame(&[s; 16_000])?; // second s is all bytes of value s
/// }
/// let file = rec.finish()?;
/// let opener = callseal::Opener::new(Cursor::new(file), &[id])?;
/// let mut clip = open_clip(opener, Duration::from_secs(3), Some(Duration::from_secs(5)))?;
/// assert_eq!(clip.span(), Some((Duration::from_secs(3), Duration::from_secs(5))));
/// let mut wav = Vec::new();
/// clip.read_to_end(&mut wav)?;
/// assert_eq!(wav.len(), 44 + 32_000);
/// assert!(wav[44..16_044].iter().all(|&b| b == 3));
/// assert!(wav[16_044..].iter().all(|&b| b == 4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_clip<R: Read + Seek>(
    mut opener: Opener<R>,
    from: Duration,
    to: Option<Duration>,
) -> Result<PlayableReader<R>> {
    if to.is_some_and(|t| t < from) {
        return Err(Error::Usage("the clip ends before it starts"));
    }
    let len = opener.plaintext_len()?;
    opener.seek(SeekFrom::Start(0))?;
    let first = read_start(&mut opener)?;
    let info = RecordingInfo::from_start(&first)?;
    match info.kind {
        RecordingKind::Wav => wav_clip(opener, &first, info, len, from, to),
        RecordingKind::Mp3 => mp3_clip(opener, &first, info, len, from, to),
        RecordingKind::Other => Err(Error::Usage("seeking by time needs a WAV or MP3 recording")),
    }
}

fn frames_at(t: Duration, per_second: u64) -> u64 {
    (t.as_nanos() * u128::from(per_second) / 1_000_000_000) as u64
}

fn wav_clip<R: Read + Seek>(
    mut opener: Opener<R>,
    first: &[u8],
    info: RecordingInfo,
    len: u64,
    from: Duration,
    to: Option<Duration>,
) -> Result<PlayableReader<R>> {
    let w = info.wav.clone().expect("a WAV has a layout");
    let available = len.saturating_sub(w.data_offset);
    let data_len = if w.has_placeholder_sizes() {
        available
    } else {
        available.min(u64::from(w.data_size))
    };
    let ba = u64::from(w.block_align);
    let total = data_len / ba;
    let rate = u64::from(w.sample_rate);
    let start = frames_at(from, rate).min(total);
    let end = to.map_or(total, |t| frames_at(t, rate)).clamp(start, total);
    let bytes = (end - start) * ba;
    let prefix = Zeroizing::new(w.patched_header(first, bytes));
    opener.seek(SeekFrom::Start(w.data_offset + start * ba))?;
    let mut reader = PlayableReader::build(opener, prefix, bytes, info, len);
    reader.set_span(
        Duration::from_nanos((u128::from(start) * 1_000_000_000 / u128::from(rate)) as u64),
        Duration::from_nanos((u128::from(end) * 1_000_000_000 / u128::from(rate)) as u64),
    );
    Ok(reader)
}

/// Reads up to `n` bytes at plaintext offset `at`.
fn read_at<R: Read + Seek>(
    opener: &mut Opener<R>,
    at: u64,
    n: usize,
) -> Result<Zeroizing<Vec<u8>>> {
    opener.seek(SeekFrom::Start(at))?;
    let mut buf = Zeroizing::new(Vec::with_capacity(n));
    opener
        .by_ref()
        .take(n as u64)
        .read_to_end(&mut buf)
        .map_err(Error::from_io)?;
    Ok(buf)
}

struct Mp3Stream {
    /// First audio frame (after tags and a Xing/Info frame).
    a0: u64,
    h0: FrameHeader,
    /// Average bytes per frame at the first frame's bitrate.
    avg: f64,
    len: u64,
}

impl Mp3Stream {
    /// Offset of frame `idx` (counted from `a0`), or where the frames end.
    /// `idx` is the frame wanted (beyond the last: the end of the frames).
    fn offset_of<R: Read + Seek>(&self, o: &mut Opener<R>, idx: u64) -> Result<(u64, u64)> {
        if idx == 0 {
            return Ok((self.a0, 0));
        }
        // Aim at most at the last frame that can start before the end.
        let last = ((self.len - self.a0) as f64 / self.avg) as u64;
        let aim = idx.min(last.saturating_sub(1));
        let back = 2 * self.h0.frame_len as u64 + 8;
        let est = (self.a0 + (aim as f64 * self.avg) as u64)
            .saturating_sub(back)
            .max(self.a0);
        if est < self.len {
            let window = read_at(o, est, 8192)?;
            for i in 0..window.len() {
                let p = est + i as u64;
                let Some(h) = FrameHeader::parse(&window[i..]) else {
                    continue;
                };
                if !self.h0.same_stream(&h) || h.bitrate_kbps != self.h0.bitrate_kbps {
                    continue;
                }
                let next_ok = match window.get(i + h.frame_len..) {
                    Some(rest) if rest.len() >= 4 => {
                        FrameHeader::parse(rest).is_some_and(|n| self.h0.same_stream(&n))
                    }
                    _ => p + h.frame_len as u64 >= self.len,
                };
                if !next_ok {
                    continue;
                }
                let j = ((p - self.a0) as f64 / self.avg).round();
                if ((p - self.a0) as f64 - j * self.avg).abs() > 2.0 {
                    continue; // not on the CBR grid: a false sync or VBR
                }
                if let Some(found) = self.walk(o, p, j as u64, idx)? {
                    return Ok(found);
                }
                break;
            }
        }
        // VBR, or no frame found near the estimate: walk from the start.
        Ok(self
            .walk(o, self.a0, 0, idx)?
            .expect("walking from frame 0 cannot overshoot"))
    }

    /// Walks headers from frame `j` at `pos` to frame `idx`; `None` if
    /// `j > idx`. Stops early at the end of the frames.
    fn walk<R: Read + Seek>(
        &self,
        o: &mut Opener<R>,
        mut pos: u64,
        mut j: u64,
        idx: u64,
    ) -> Result<Option<(u64, u64)>> {
        if j > idx {
            return Ok(None);
        }
        while j < idx {
            let head = read_at(o, pos, 4)?;
            match FrameHeader::parse(&head) {
                Some(h) if self.h0.same_stream(&h) && pos + h.frame_len as u64 <= self.len => {
                    pos += h.frame_len as u64;
                    j += 1;
                }
                _ => break,
            }
        }
        Ok(Some((pos, j)))
    }
}

fn mp3_clip<R: Read + Seek>(
    mut opener: Opener<R>,
    first: &[u8],
    info: RecordingInfo,
    len: u64,
    from: Duration,
    to: Option<Duration>,
) -> Result<PlayableReader<R>> {
    let no_frames = || Error::Usage("no MPEG audio frame found in the recording");
    let mut a0 = info.audio_offset;
    let head = read_at(&mut opener, a0, 4)?;
    let mut h0 = FrameHeader::parse(&head).ok_or_else(no_frames)?;
    let whole_first = read_at(&mut opener, a0, h0.frame_len)?;
    if is_tag_frame(&whole_first) {
        a0 += h0.frame_len as u64;
        h0 = FrameHeader::parse(&read_at(&mut opener, a0, 4)?).ok_or_else(no_frames)?;
    }
    let stream = Mp3Stream {
        a0,
        h0,
        avg: f64::from(h0.samples) * f64::from(h0.bitrate_kbps) * 125.0 / f64::from(h0.sample_rate),
        len,
    };
    let per_frame = u64::from(h0.samples);
    let rate = u64::from(h0.sample_rate);
    let i0 = frames_at(from, rate) / per_frame;
    let (start, j0) = stream.offset_of(&mut opener, i0)?;
    let (end, j1) = match to {
        Some(t) => stream.offset_of(&mut opener, (frames_at(t, rate) / per_frame).max(j0))?,
        None => stream.offset_of(&mut opener, u64::MAX / 2)?,
    };
    let tags = info.audio_offset.min(first.len() as u64) as usize;
    let prefix = Zeroizing::new(first[..tags].to_vec());
    opener.seek(SeekFrom::Start(start))?;
    let mut reader = PlayableReader::build(opener, prefix, end - start, info, len);
    let at = |j: u64| {
        Duration::from_nanos((u128::from(j * per_frame) * 1_000_000_000 / u128::from(rate)) as u64)
    };
    reader.set_span(at(j0), at(j1));
    Ok(reader)
}
