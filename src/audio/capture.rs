//! [`CaptureWriter`]: a recording sealed as it is captured, frame by frame,
//! as a WAV (16-bit PCM, G.711 mu-law or A-law) or an MP3 frame stream.

use std::io::{self, Write};

use zeroize::Zeroize;

use crate::atomic_file::AtomicFile;
use crate::audio::metadata::Metadata;
use crate::audio::wav::{capture_header, PcmFormat};
use crate::error::{Error, Result};
use crate::keys::Recipient;
use crate::seal::Sealer;
use crate::stream::CHUNK_SIZE;

/// A sink that can force written data to stable storage, for
/// [`CaptureWriter::fsync_every`].
///
/// ```
/// use callseal::audio::SyncData;
/// let f = std::fs::File::create(std::env::temp_dir().join("callseal-doc-syncdata"))?;
/// f.sync_data()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait SyncData {
    /// Forces the data written so far to disk.
    fn sync_data(&self) -> io::Result<()>;
}

impl SyncData for std::fs::File {
    fn sync_data(&self) -> io::Result<()> {
        std::fs::File::sync_data(self)
    }
}

impl SyncData for AtomicFile {
    fn sync_data(&self) -> io::Result<()> {
        AtomicFile::sync_data(self).map_err(io::Error::from)
    }
}

/// How often to sync, and the sink's sync function.
type SyncPolicy<W> = Option<(u64, fn(&W) -> io::Result<()>)>;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Pcm(PcmFormat),
    Mp3,
}

/// Seals a call recording as it is captured.
///
/// For PCM, the plaintext is a WAV file: a header with streaming placeholder
/// sizes (RIFF and data 0xFFFFFFFF, which sox and ffmpeg accept) and the
/// sealed call metadata come first, then the frames. Nothing is ever
/// rewritten, so no nonce is reused; [`crate::audio::PlayableReader`] and
/// `callseal open` put the real sizes back when the recording is opened.
/// For MP3, the frames are sealed as they come, after an ID3v2 tag holding
/// the metadata.
///
/// Each 64 KiB chunk goes to the sink (one `write_all`, then `flush`) as soon
/// as the sealer emits it; [`fsync_every`](CaptureWriter::fsync_every) adds
/// a periodic `fsync` on file sinks. A writer killed at any moment leaves
/// every emitted chunk on disk; `callseal recover` turns it into a playable
/// file.
///
/// ```
/// use callseal::audio::{CaptureWriter, Metadata, PcmFormat};
/// use callseal::Identity;
///
/// let supervisor = Identity::generate();
/// let mut meta = Metadata::new();
/// meta.insert("call_id", "c-1001")?;
/// let mut rec = CaptureWriter::pcm(&[supervisor.recipient()], Vec::new(), PcmFormat::TELEPHONY, &meta)?;
/// for _ in 0..50 {
///     rec.write_frame(&[0u8; 320])?; // 20 ms of 8 kHz 16-bit mono
/// }
/// let sealed: Vec<u8> = rec.finish()?;
/// assert!(sealed.starts_with(b"age-encryption.org/v1\n"));
/// # Ok::<(), callseal::Error>(())
/// ```
pub struct CaptureWriter<W: Write> {
    sealer: Sealer<W>,
    kind: Kind,
    header: Vec<u8>,
    emitted_chunks: u64,
    sync: SyncPolicy<W>,
    scratch: Vec<u8>,
}

impl<W: Write> CaptureWriter<W> {
    /// Starts a WAV recording of `format` sealed to `recipients`: writes the
    /// age header and seals the WAV header and `metadata` (sent to the sink
    /// with the first chunk).
    ///
    /// ```
    /// use callseal::audio::{CaptureWriter, PcmFormat};
    /// let id = callseal::Identity::generate();
    /// let stereo_ulaw: PcmFormat = "8000:2:ulaw".parse()?;
    /// let rec = CaptureWriter::pcm(&[id.recipient()], Vec::new(), stereo_ulaw, &Default::default())?;
    /// assert_eq!(&rec.header()[..4], b"RIFF");
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn pcm(
        recipients: &[Recipient],
        sink: W,
        format: PcmFormat,
        metadata: &Metadata,
    ) -> Result<CaptureWriter<W>> {
        let header = capture_header(&format, metadata);
        CaptureWriter::start(recipients, sink, Kind::Pcm(format), header)
    }

    /// Starts an MP3 recording: the metadata goes first as an ID3v2 tag
    /// (none when `metadata` is empty), then the frames as they are written.
    /// The host's encoder must not write a Xing/LAME VBR tag at close (that
    /// seeks back): use `lame_set_bWriteVbrTag(gfp, 0)` (`lame -t`) and CBR.
    ///
    /// ```
    /// use callseal::audio::{CaptureWriter, Metadata};
    /// let id = callseal::Identity::generate();
    /// let mut meta = Metadata::new();
    /// meta.insert("call_id", "c-9")?;
    /// let rec = CaptureWriter::mp3(&[id.recipient()], Vec::new(), &meta)?;
    /// assert_eq!(&rec.header()[..3], b"ID3");
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn mp3(recipients: &[Recipient], sink: W, metadata: &Metadata) -> Result<CaptureWriter<W>> {
        let header = if metadata.is_empty() {
            Vec::new()
        } else {
            metadata.to_id3v2()
        };
        CaptureWriter::start(recipients, sink, Kind::Mp3, header)
    }

    fn start(
        recipients: &[Recipient],
        sink: W,
        kind: Kind,
        header: Vec<u8>,
    ) -> Result<CaptureWriter<W>> {
        let mut sealer = Sealer::new(recipients, sink)?;
        sealer.write_all(&header)?;
        Ok(CaptureWriter {
            sealer,
            kind,
            header,
            emitted_chunks: 0,
            sync: None,
            scratch: Vec::new(),
        })
    }

    /// The plaintext written before the first frame (WAV header with the
    /// metadata chunk, or the ID3v2 tag).
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// let rec = callseal::audio::CaptureWriter::mp3(&[id.recipient()], Vec::new(), &Default::default())?;
    /// assert!(rec.header().is_empty());
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Appends one frame of audio: for PCM a whole number of sample frames
    /// (a 20 ms 8 kHz 16-bit mono frame is 320 bytes), for MP3 any bytes of
    /// the frame stream.
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// let mut rec = callseal::audio::CaptureWriter::pcm(&[id.recipient()], Vec::new(), callseal::audio::PcmFormat::TELEPHONY, &Default::default())?;
    /// rec.write_frame(&[0u8; 320])?;
    /// assert!(rec.write_frame(&[0u8; 3]).is_err(), "half a sample");
    /// assert_eq!(rec.audio_bytes(), 320);
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn write_frame(&mut self, frame: &[u8]) -> Result<()> {
        if let Kind::Pcm(f) = self.kind {
            if frame.len() % usize::from(f.block_align()) != 0 {
                return Err(Error::Usage(
                    "a PCM frame must hold whole sample frames (all channels)",
                ));
            }
        }
        self.sealer.write_all(frame)?;
        self.after_write()
    }

    /// Interleaves two legs (caller on the left channel, agent on the
    /// right) and appends them. Stereo PCM only; both legs must hold the
    /// same number of samples.
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// let fmt: callseal::audio::PcmFormat = "8000:2:s16".parse()?;
    /// let mut rec = callseal::audio::CaptureWriter::pcm(&[id.recipient()], Vec::new(), fmt, &Default::default())?;
    /// rec.write_legs(&[1u8; 320], &[2u8; 320])?;
    /// assert_eq!(rec.audio_bytes(), 640);
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn write_legs(&mut self, caller: &[u8], agent: &[u8]) -> Result<()> {
        let Kind::Pcm(f) = self.kind else {
            return Err(Error::Usage("write_legs needs a stereo PCM recording"));
        };
        if f.channels != 2 {
            return Err(Error::Usage("write_legs needs a stereo PCM recording"));
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        let result = interleave_into(caller, agent, f.encoding.bytes_per_sample(), &mut scratch)
            .and_then(|()| self.write_frame(&scratch));
        scratch.zeroize();
        self.scratch = scratch;
        result
    }

    /// Calls `sync_data` on the sink after every `chunks` chunks handed to it
    /// (and at finish): at most `chunks` × 64 KiB then sits in the page cache
    /// unsynced. 0 turns it off.
    ///
    /// ```
    /// use callseal::audio::{CaptureWriter, PcmFormat};
    /// let id = callseal::Identity::generate();
    /// let file = std::fs::File::create(std::env::temp_dir().join("callseal-doc-fsync.wav.age"))?;
    /// let mut rec = CaptureWriter::pcm(&[id.recipient()], file, PcmFormat::TELEPHONY, &Default::default())?;
    /// rec.fsync_every(4);
    /// rec.finish()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fsync_every(&mut self, chunks: u32)
    where
        W: SyncData,
    {
        self.sync = (chunks > 0).then_some((u64::from(chunks), <W as SyncData>::sync_data as _));
    }

    /// Audio bytes written so far (after the header).
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// let rec = callseal::audio::CaptureWriter::mp3(&[id.recipient()], Vec::new(), &Default::default())?;
    /// assert_eq!(rec.audio_bytes(), 0);
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn audio_bytes(&self) -> u64 {
        self.sealer.plaintext_len() - self.header.len() as u64
    }

    /// The sealer underneath (to look at the sink).
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// let rec = callseal::audio::CaptureWriter::mp3(&[id.recipient()], Vec::new(), &Default::default())?;
    /// assert!(rec.sealer().get_ref().starts_with(b"age-encryption.org/v1"));
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn sealer(&self) -> &Sealer<W> {
        &self.sealer
    }

    /// Seals the final chunk, flushes (and syncs, if asked) and returns the
    /// sink. Without it the file reads as truncated, and `recover` salvages it.
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// let rec = callseal::audio::CaptureWriter::mp3(&[id.recipient()], Vec::new(), &Default::default())?;
    /// let file = rec.finish()?;
    /// assert!(file.len() > 100);
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn finish(self) -> Result<W> {
        let sync = self.sync;
        let sink = self.sealer.finish()?;
        if let Some((_, f)) = sync {
            f(&sink)?;
        }
        Ok(sink)
    }

    /// Flushes (and every N chunks syncs) the sink once a chunk went out.
    fn after_write(&mut self) -> Result<()> {
        let len = self.sealer.plaintext_len();
        // A full chunk is emitted when the byte after it arrives.
        let emitted = len.saturating_sub(1) / CHUNK_SIZE as u64;
        if emitted > self.emitted_chunks {
            let before = self.emitted_chunks;
            self.emitted_chunks = emitted;
            self.sealer.get_mut().flush()?;
            if let Some((every, f)) = self.sync {
                if emitted / every > before / every {
                    f(self.sealer.get_ref())?;
                }
            }
        }
        Ok(())
    }
}

impl<W: Write> Write for CaptureWriter<W> {
    /// Raw bytes of the stream (no frame-size check: a PCM writer fed from a
    /// pipe may see a sample split across reads).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sealer.write_all(buf)?;
        self.after_write()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sealer.flush()
    }
}

impl<W: Write> std::fmt::Debug for CaptureWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureWriter")
            .field("kind", &self.kind)
            .field("audio_bytes", &self.audio_bytes())
            .finish_non_exhaustive()
    }
}

/// Interleaves two mono legs into stereo sample frames (caller left, agent
/// right), `bytes_per_sample` bytes per sample (2 for s16, 1 for G.711),
/// replacing the contents of `out`.
///
/// ```
/// let mut out = Vec::new();
/// callseal::audio::interleave_into(&[1, 1, 3, 3], &[2, 2, 4, 4], 2, &mut out)?;
/// assert_eq!(out, [1, 1, 2, 2, 3, 3, 4, 4]);
/// # Ok::<(), callseal::Error>(())
/// ```
pub fn interleave_into(
    caller: &[u8],
    agent: &[u8],
    bytes_per_sample: usize,
    out: &mut Vec<u8>,
) -> Result<()> {
    if caller.len() != agent.len() || bytes_per_sample == 0 || caller.len() % bytes_per_sample != 0
    {
        return Err(Error::Usage(
            "both legs must hold the same whole number of samples",
        ));
    }
    out.clear();
    out.reserve(caller.len() * 2);
    for (c, a) in caller
        .chunks_exact(bytes_per_sample)
        .zip(agent.chunks_exact(bytes_per_sample))
    {
        out.extend_from_slice(c);
        out.extend_from_slice(a);
    }
    Ok(())
}
