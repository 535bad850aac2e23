//! Recordings: `callseal_capture` (a WAV or MP3 recording sealed as it is
//! captured) and opening, clipping, describing and recovering sealed
//! recordings as playable files.
//!
//! Thin wrappers over [`crate::audio`]: this module turns arguments into
//! Rust values, calls the audio API and maps errors; every byte of WAV or
//! MP3 framing is written and read by `crate::audio`.

use std::ffi::{c_char, c_void};
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

use zeroize::Zeroizing;

use super::boundary::{
    bytes, c_path, c_text, c_text_array, call, call_on, free_handle, into_handle, Failure,
    FfiResult, Handle, Out, StrOut,
};
use super::opener::{identities_arg, open_file};
use super::sealer::{callseal_write_fn, recipients_arg, CallbackWriter};
use super::status::*;
use crate::atomic_file::AtomicFile;
use crate::audio::{
    open_clip, read_recording_info, recover_playable, CaptureWriter, Encoding, Metadata, PcmFormat,
    PlayableReader, RecordingInfo, RecordingKind, SyncData,
};
use crate::open::Opener;

/// How captured PCM samples are encoded (`callseal_capture_new_pcm_*`).
pub type callseal_encoding = i32;
/// 16-bit signed little-endian linear PCM (WAV format tag 1).
pub const CALLSEAL_ENCODING_S16: callseal_encoding = 0;
/// G.711 mu-law, 8 bits per sample (WAV format tag 7).
pub const CALLSEAL_ENCODING_MULAW: callseal_encoding = 1;
/// G.711 A-law, 8 bits per sample (WAV format tag 6).
pub const CALLSEAL_ENCODING_ALAW: callseal_encoding = 2;

/// What kind of recording a sealed file holds.
pub type callseal_recording_kind = i32;
/// A RIFF/WAVE file.
pub const CALLSEAL_RECORDING_WAV: callseal_recording_kind = 0;
/// An MP3 frame stream (optionally after ID3v2 tags).
pub const CALLSEAL_RECORDING_MP3: callseal_recording_kind = 1;
/// Anything else: opened and recovered byte for byte.
pub const CALLSEAL_RECORDING_OTHER: callseal_recording_kind = 2;

fn kind_code(kind: RecordingKind) -> callseal_recording_kind {
    match kind {
        RecordingKind::Wav => CALLSEAL_RECORDING_WAV,
        RecordingKind::Mp3 => CALLSEAL_RECORDING_MP3,
        RecordingKind::Other => CALLSEAL_RECORDING_OTHER,
    }
}

fn invalid_arg(err: crate::Error) -> Failure {
    Failure::new(CALLSEAL_E_INVALID_ARG, err.to_string())
}

/// Milliseconds in `d`, rounded down.
fn millis_down(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Milliseconds in `d`, rounded up (for upper bounds).
fn millis_up(d: Duration) -> i64 {
    i64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX)
}

// ---- arguments ------------------------------------------------------------

/// Builds the metadata from two parallel arrays; both may be NULL when
/// `n` is 0. A key or value the audio layer refuses is `INVALID_ARG`.
///
/// # Safety
/// `keys` and `values` are NULL or valid for reads of `n` pointers, each
/// NULL or a NUL-terminated string.
unsafe fn metadata_arg(
    keys: *const *const c_char,
    values: *const *const c_char,
    n: usize,
) -> FfiResult<Metadata> {
    let mut meta = Metadata::new();
    if n == 0 {
        return Ok(meta);
    }
    // SAFETY: same contract as ours.
    let (keys, values) = unsafe {
        (
            c_text_array(keys, n, "meta_keys", CALLSEAL_E_INVALID_ARG)?,
            c_text_array(values, n, "meta_values", CALLSEAL_E_INVALID_ARG)?,
        )
    };
    for (k, v) in keys.iter().zip(&values) {
        meta.insert(k, v).map_err(invalid_arg)?;
    }
    Ok(meta)
}

/// The PCM format, validated by the audio layer.
fn format_arg(rate: u32, channels: u16, encoding: callseal_encoding) -> FfiResult<PcmFormat> {
    let encoding = match encoding {
        CALLSEAL_ENCODING_S16 => Encoding::S16,
        CALLSEAL_ENCODING_MULAW => Encoding::MuLaw,
        CALLSEAL_ENCODING_ALAW => Encoding::ALaw,
        other => {
            return Err(Failure::new(
                CALLSEAL_E_INVALID_ARG,
                format!("`encoding` {other} is not a CALLSEAL_ENCODING_* value"),
            ))
        }
    };
    PcmFormat::new(rate, channels, encoding).map_err(invalid_arg)
}

/// Copies `from` into a new file at `out` (0600, via a temporary name) and
/// renames it into place only when everything was copied.
fn copy_to_path(from: &mut dyn Read, out: &Path) -> FfiResult {
    let mut file = AtomicFile::create(out, 0o600)?;
    let mut buf = Zeroizing::new(vec![0u8; 64 * 1024]);
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        file.write_all(&buf[..n])?;
    }
    file.commit()?;
    Ok(())
}

// ---- capture --------------------------------------------------------------

/// A recording sealed as it is captured (opaque): a WAV (16-bit PCM, G.711
/// mu-law or A-law; mono, or stereo with the caller on the left channel and
/// the agent on the right) or an MP3 frame stream, with sealed call
/// metadata. Made by a `callseal_capture_new_*` function, fed with
/// `callseal_capture_write` or `callseal_capture_write_legs`, completed by
/// `callseal_capture_finish` (or dropped by `callseal_capture_abort`), and
/// always released with `callseal_capture_free`.
///
/// A WAV is written with streaming placeholder sizes and nothing is ever
/// rewritten; `callseal_open_playable_path` puts the real sizes back. A
/// capture killed at any moment leaves every emitted 64 KiB chunk behind,
/// which `callseal_recover_playable_path` turns into a playable file.
///
/// A capture may be used from any thread, but from one thread at a time.
/// Distinct captures share nothing and may be used from different threads
/// at once. Buffered plaintext is wiped when it is freed.
pub struct callseal_capture {
    poisoned: bool,
    state: State,
}

enum State {
    Open(Box<CaptureWriter<Sink>>),
    Finished,
    Aborted,
    /// `finish` failed: the output is incomplete (a path sink was removed).
    Failed,
}

impl Handle for callseal_capture {
    fn poisoned(&mut self) -> &mut bool {
        &mut self.poisoned
    }
}

impl callseal_capture {
    fn new(writer: CaptureWriter<Sink>) -> callseal_capture {
        callseal_capture {
            poisoned: false,
            state: State::Open(Box::new(writer)),
        }
    }

    fn refusal(&self, what: &str) -> Failure {
        let why = match self.state {
            State::Open(_) => "the capture is open",
            State::Finished => "the capture was already finished",
            State::Aborted => "the capture was aborted",
            State::Failed => "an earlier finish failed and the recording is incomplete",
        };
        Failure::usage(format!("cannot {what}: {why}"))
    }

    fn open_mut(&mut self, what: &str) -> FfiResult<&mut CaptureWriter<Sink>> {
        if !matches!(self.state, State::Open(_)) {
            return Err(self.refusal(what));
        }
        match &mut self.state {
            State::Open(writer) => Ok(writer),
            _ => unreachable!("checked above"),
        }
    }

    /// Takes the open writer out, leaving `Failed` behind until the caller
    /// sets the real outcome.
    fn take_open(&mut self, what: &str) -> FfiResult<CaptureWriter<Sink>> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Open(writer) => Ok(*writer),
            other => {
                self.state = other;
                Err(self.refusal(what))
            }
        }
    }
}

/// Where sealed bytes go.
enum Sink {
    File(AtomicFile),
    Callback(CallbackWriter),
}

impl Sink {
    fn commit(self) -> crate::Result<()> {
        match self {
            Sink::File(file) => file.commit(),
            Sink::Callback(_) => Ok(()),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Callback(c) => c.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Callback(c) => c.flush(),
        }
    }
}

impl SyncData for Sink {
    fn sync_data(&self) -> io::Result<()> {
        match self {
            Sink::File(f) => SyncData::sync_data(f),
            // Refused by `callseal_capture_set_fsync_every`; nothing to sync.
            Sink::Callback(_) => Ok(()),
        }
    }
}

/// What kind of capture to start.
enum Start {
    Pcm(PcmFormat),
    Mp3,
}

/// The body shared by the four constructors.
///
/// # Safety
/// As for `callseal_capture_new_pcm_path`.
unsafe fn new_capture(
    recipients: *const *const c_char,
    n_recipients: usize,
    meta: (*const *const c_char, *const *const c_char, usize),
    start: impl FnOnce() -> FfiResult<(Start, Sink)>,
    out: *mut *mut callseal_capture,
) -> FfiResult {
    // SAFETY: pointers as described in the contract of the caller.
    let (out, list, meta) = unsafe {
        (
            Out::new(out, "out")?,
            recipients_arg(recipients, n_recipients)?,
            metadata_arg(meta.0, meta.1, meta.2)?,
        )
    };
    let writer = match start()? {
        (Start::Pcm(format), sink) => CaptureWriter::pcm(&list, sink, format, &meta)?,
        (Start::Mp3, sink) => CaptureWriter::mp3(&list, sink, &meta)?,
    };
    out.set(into_handle(callseal_capture::new(writer)));
    Ok(())
}

/// Starts a WAV recording sealed to the file at `path` for the
/// `n_recipients` recipients (`age1...` strings) in `recipients`:
/// `sample_rate` Hz (1000 to 384000), `channels` 1 or 2 (caller left,
/// agent right), samples encoded as `encoding` (a `CALLSEAL_ENCODING_*`
/// value), with the `n_meta` metadata pairs `meta_keys[i]` =
/// `meta_values[i]` sealed in the WAV header (a `call_id` key is what
/// `callseal_open_playable_path` can check). Keys must be non-empty UTF-8
/// without NUL, `=` or newline; the encoded metadata at most 16 KiB; a
/// repeated key keeps its last value. `meta_keys` and `meta_values` may be
/// NULL when `n_meta` is 0.
///
/// The file is written under a temporary name beside `path` (mode 0644
/// before the umask) and renamed onto `path` by `callseal_capture_finish`,
/// so `path` only ever holds a complete recording. The temporary file is
/// removed by `callseal_capture_abort`, by a failed finish and by
/// `callseal_capture_free` before finish. The age header is written before
/// this returns.
///
/// On success `*out` owns a new capture, to be released with
/// `callseal_capture_free`. The strings are not kept. Any thread.
///
/// Returns:
/// - `CALLSEAL_OK`: `*out` was set.
/// - `CALLSEAL_E_NULL_ARG`: `recipients`, one of its elements, `path`,
///   `out`, or (with `n_meta > 0`) `meta_keys`, `meta_values` or one of
///   their elements is NULL.
/// - `CALLSEAL_E_NO_RECIPIENTS`: `n_recipients` is 0.
/// - `CALLSEAL_E_INVALID_RECIPIENT`: a recipient is not a valid `age1...`
///   key.
/// - `CALLSEAL_E_INVALID_ARG`: an unknown `encoding`, a sample rate or
///   channel count out of range, an invalid metadata key or value,
///   metadata over 16 KiB, or an impossibly large count.
/// - `CALLSEAL_E_IO`: the temporary file could not be created or written.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// `recipients` must be NULL or point to `n_recipients` pointers, each NULL
/// or a NUL-terminated string; `meta_keys` and `meta_values` likewise with
/// `n_meta`; `path` NULL or a NUL-terminated string; `out` NULL or valid for
/// writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn callseal_capture_new_pcm_path(
    recipients: *const *const c_char,
    n_recipients: usize,
    path: *const c_char,
    sample_rate: u32,
    channels: u16,
    encoding: callseal_encoding,
    meta_keys: *const *const c_char,
    meta_values: *const *const c_char,
    n_meta: usize,
    out: *mut *mut callseal_capture,
) -> callseal_status {
    call(|| {
        // SAFETY: pointers as described in the contract above.
        let path = unsafe { c_path(path, "path") }?;
        // SAFETY: as above.
        unsafe {
            new_capture(
                recipients,
                n_recipients,
                (meta_keys, meta_values, n_meta),
                || {
                    let format = format_arg(sample_rate, channels, encoding)?;
                    let file = AtomicFile::create(path, 0o644)?;
                    Ok((Start::Pcm(format), Sink::File(file)))
                },
                out,
            )
        }
    })
}

/// Starts a WAV recording, as `callseal_capture_new_pcm_path` does, whose
/// sealed bytes are handed to `write` (with `userdata`) as they are
/// produced: the age header during this call, then one 64 KiB sealed chunk
/// at a time from the writes, and the final chunk from
/// `callseal_capture_finish`. A recording is only complete once finish has
/// returned `CALLSEAL_OK`. `userdata` is passed through untouched and must
/// stay valid while the capture can call `write`.
///
/// On success `*out` owns a new capture, to be released with
/// `callseal_capture_free`. Any thread.
///
/// Returns:
/// - `CALLSEAL_OK`: `*out` was set.
/// - `CALLSEAL_E_NULL_ARG`: `recipients`, one of its elements, `write`,
///   `out`, or (with `n_meta > 0`) `meta_keys`, `meta_values` or one of
///   their elements is NULL (`userdata` may be NULL).
/// - `CALLSEAL_E_NO_RECIPIENTS`, `CALLSEAL_E_INVALID_RECIPIENT`,
///   `CALLSEAL_E_INVALID_ARG`: as for `callseal_capture_new_pcm_path`.
/// - `CALLSEAL_E_IO`: `write` returned an errno for the header.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// As for `callseal_capture_new_pcm_path`; `write` must follow the
/// `callseal_write_fn` contract.
#[no_mangle]
pub unsafe extern "C" fn callseal_capture_new_pcm_callback(
    recipients: *const *const c_char,
    n_recipients: usize,
    write: callseal_write_fn,
    userdata: *mut c_void,
    sample_rate: u32,
    channels: u16,
    encoding: callseal_encoding,
    meta_keys: *const *const c_char,
    meta_values: *const *const c_char,
    n_meta: usize,
    out: *mut *mut callseal_capture,
) -> callseal_status {
    call(|| {
        let writer = CallbackWriter::new(write, userdata)?;
        // SAFETY: pointers as described in the contract above.
        unsafe {
            new_capture(
                recipients,
                n_recipients,
                (meta_keys, meta_values, n_meta),
                || {
                    let format = format_arg(sample_rate, channels, encoding)?;
                    Ok((Start::Pcm(format), Sink::Callback(writer)))
                },
                out,
            )
        }
    })
}

/// Starts an MP3 recording sealed to the file at `path`: the metadata goes
/// first as an ID3v2 tag (none when `n_meta` is 0), then the frame stream
/// as it is written with `callseal_capture_write`. The encoder must not
/// write a Xing/LAME VBR tag at close (that seeks back): use CBR and
/// `lame_set_bWriteVbrTag(gfp, 0)`. Path handling, ownership and metadata
/// rules as for `callseal_capture_new_pcm_path`. Any thread.
///
/// Returns:
/// - `CALLSEAL_OK`: `*out` was set.
/// - `CALLSEAL_E_NULL_ARG`: `recipients`, one of its elements, `path`,
///   `out`, or (with `n_meta > 0`) `meta_keys`, `meta_values` or one of
///   their elements is NULL.
/// - `CALLSEAL_E_NO_RECIPIENTS`: `n_recipients` is 0.
/// - `CALLSEAL_E_INVALID_RECIPIENT`: a recipient is not a valid `age1...`
///   key.
/// - `CALLSEAL_E_INVALID_ARG`: an invalid metadata key or value, metadata
///   over 16 KiB, or an impossibly large count.
/// - `CALLSEAL_E_IO`: the temporary file could not be created or written.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// As for `callseal_capture_new_pcm_path`.
#[no_mangle]
pub unsafe extern "C" fn callseal_capture_new_mp3_path(
    recipients: *const *const c_char,
    n_recipients: usize,
    path: *const c_char,
    meta_keys: *const *const c_char,
    meta_values: *const *const c_char,
    n_meta: usize,
    out: *mut *mut callseal_capture,
) -> callseal_status {
    call(|| {
        // SAFETY: pointers as described in the contract above.
        let path = unsafe { c_path(path, "path") }?;
        // SAFETY: as above.
        unsafe {
            new_capture(
                recipients,
                n_recipients,
                (meta_keys, meta_values, n_meta),
                || Ok((Start::Mp3, Sink::File(AtomicFile::create(path, 0o644)?))),
                out,
            )
        }
    })
}

/// Starts an MP3 recording, as `callseal_capture_new_mp3_path` does, whose
/// sealed bytes go to `write` (with `userdata`) as for
/// `callseal_capture_new_pcm_callback`. Any thread.
///
/// Returns:
/// - `CALLSEAL_OK`: `*out` was set.
/// - `CALLSEAL_E_NULL_ARG`: `recipients`, one of its elements, `write`,
///   `out`, or (with `n_meta > 0`) `meta_keys`, `meta_values` or one of
///   their elements is NULL (`userdata` may be NULL).
/// - `CALLSEAL_E_NO_RECIPIENTS`, `CALLSEAL_E_INVALID_RECIPIENT`,
///   `CALLSEAL_E_INVALID_ARG`: as for `callseal_capture_new_mp3_path`.
/// - `CALLSEAL_E_IO`: `write` returned an errno for the header.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// As for `callseal_capture_new_pcm_callback`.
#[no_mangle]
pub unsafe extern "C" fn callseal_capture_new_mp3_callback(
    recipients: *const *const c_char,
    n_recipients: usize,
    write: callseal_write_fn,
    userdata: *mut c_void,
    meta_keys: *const *const c_char,
    meta_values: *const *const c_char,
    n_meta: usize,
    out: *mut *mut callseal_capture,
) -> callseal_status {
    call(|| {
        let writer = CallbackWriter::new(write, userdata)?;
        // SAFETY: pointers as described in the contract above.
        unsafe {
            new_capture(
                recipients,
                n_recipients,
                (meta_keys, meta_values, n_meta),
                || Ok((Start::Mp3, Sink::Callback(writer))),
                out,
            )
        }
    })
}

/// Appends `len` bytes of audio at `frames`: for a WAV recording a whole
/// number of sample frames (all channels interleaved; a 20 ms frame of
/// 8 kHz 16-bit mono is 320 bytes), for MP3 any bytes of the frame stream.
/// Each time a 64 KiB chunk fills it is sealed, written to the sink and
/// flushed (and synced as `callseal_capture_set_fsync_every` asks). `len`
/// may be 0 (`frames` must still not be NULL).
///
/// Returns:
/// - `CALLSEAL_OK`: all `len` bytes were accepted.
/// - `CALLSEAL_E_NULL_ARG`: `capture` or `frames` is NULL.
/// - `CALLSEAL_E_USAGE`: `len` is not a whole number of sample frames
///   (nothing was written); or the capture was finished, aborted or
///   poisoned, or an earlier write to its sink failed.
/// - `CALLSEAL_E_INVALID_ARG`: `len` is impossibly large.
/// - `CALLSEAL_E_IO`: writing, flushing or syncing the sink failed; later
///   writes and finish return `CALLSEAL_E_USAGE` or `CALLSEAL_E_IO`.
/// - `CALLSEAL_E_PANIC`: internal bug; the capture is now poisoned.
///
/// # Safety
/// `capture` must be NULL or a live capture not in use by another thread;
/// `frames` NULL or valid for reads of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn callseal_capture_write(
    capture: *mut callseal_capture,
    frames: *const u8,
    len: usize,
) -> callseal_status {
    // SAFETY: `capture` and `frames` as described in the contract above.
    unsafe {
        call_on(capture, "capture", |c| {
            let data = bytes(frames, len, "frames")?;
            c.open_mut("write")?.write_frame(data)?;
            Ok(())
        })
    }
}

/// Appends `len_each` bytes of each leg of a stereo WAV recording,
/// interleaved: `caller` on the left channel, `agent` on the right. Both
/// legs hold the same whole number of samples (2 bytes each for S16, 1 for
/// G.711).
///
/// Returns:
/// - `CALLSEAL_OK`: both legs were accepted.
/// - `CALLSEAL_E_NULL_ARG`: `capture`, `caller` or `agent` is NULL.
/// - `CALLSEAL_E_USAGE`: the recording is not stereo PCM, `len_each` is
///   not a whole number of samples (nothing was written); or the capture
///   was finished, aborted or poisoned, or an earlier write failed.
/// - `CALLSEAL_E_INVALID_ARG`: `len_each` is impossibly large.
/// - `CALLSEAL_E_IO`: writing, flushing or syncing the sink failed.
/// - `CALLSEAL_E_PANIC`: internal bug; the capture is now poisoned.
///
/// # Safety
/// `capture` must be NULL or a live capture not in use by another thread;
/// `caller` and `agent` NULL or valid for reads of `len_each` bytes.
#[no_mangle]
pub unsafe extern "C" fn callseal_capture_write_legs(
    capture: *mut callseal_capture,
    caller: *const u8,
    agent: *const u8,
    len_each: usize,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe {
        call_on(capture, "capture", |c| {
            let caller = bytes(caller, len_each, "caller")?;
            let agent = bytes(agent, len_each, "agent")?;
            c.open_mut("write legs")?.write_legs(caller, agent)?;
            Ok(())
        })
    }
}

/// Syncs the file to stable storage (`fdatasync`) after every `chunks`
/// sealed 64 KiB chunks, and at finish: at most `chunks` x 64 KiB of the
/// recording then sits unsynced in the page cache. 0 turns it off (the
/// default; finish always syncs a path sink). Path sinks only.
///
/// Returns:
/// - `CALLSEAL_OK`: the policy is set for the following writes.
/// - `CALLSEAL_E_NULL_ARG`: `capture` is NULL.
/// - `CALLSEAL_E_USAGE`: the capture writes to a callback (the callback's
///   owner decides about durability), or it was finished, aborted or
///   poisoned.
/// - `CALLSEAL_E_PANIC`: internal bug; the capture is now poisoned.
///
/// # Safety
/// `capture` must be NULL or a live capture not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn callseal_capture_set_fsync_every(
    capture: *mut callseal_capture,
    chunks: u32,
) -> callseal_status {
    // SAFETY: `capture` as described in the contract above.
    unsafe {
        call_on(capture, "capture", |c| {
            let writer = c.open_mut("set fsync_every")?;
            if !matches!(writer.sealer().get_ref(), Sink::File(_)) {
                return Err(Failure::usage(
                    "fsync_every needs a path sink; a callback sink syncs in its callback",
                ));
            }
            writer.fsync_every(chunks);
            Ok(())
        })
    }
}

/// Seals the final chunk, flushes the sink and completes the recording: a
/// path sink is synced and renamed onto its final name. Only after
/// `CALLSEAL_OK` here does the recording open as complete. The capture
/// must still be freed.
///
/// Returns:
/// - `CALLSEAL_OK`: the recording is complete.
/// - `CALLSEAL_E_NULL_ARG`: `capture` is NULL.
/// - `CALLSEAL_E_USAGE`: already finished, aborted or poisoned; or an
///   earlier write to the sink failed (a path sink's temporary file is
///   then removed).
/// - `CALLSEAL_E_IO`: writing, syncing or renaming failed. The recording
///   is incomplete (a path sink's temporary file is removed) and later
///   calls return `CALLSEAL_E_USAGE`.
/// - `CALLSEAL_E_PANIC`: internal bug; the capture is now poisoned.
///
/// # Safety
/// `capture` must be NULL or a live capture not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn callseal_capture_finish(
    capture: *mut callseal_capture,
) -> callseal_status {
    // SAFETY: `capture` as described in the contract above.
    unsafe {
        call_on(capture, "capture", |c| {
            c.take_open("finish")?.finish()?.commit()?;
            c.state = State::Finished;
            Ok(())
        })
    }
}

/// Abandons the recording: buffered audio is wiped and nothing more is
/// written. A path sink's temporary file is removed (the final path is left
/// as it was); a callback sink has received only whole, non-final chunks.
/// The capture must still be freed.
///
/// Returns:
/// - `CALLSEAL_OK`: the recording was abandoned.
/// - `CALLSEAL_E_NULL_ARG`: `capture` is NULL.
/// - `CALLSEAL_E_USAGE`: already finished, aborted or poisoned, or a finish
///   failed.
/// - `CALLSEAL_E_PANIC`: internal bug; the capture is now poisoned.
///
/// # Safety
/// `capture` must be NULL or a live capture not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn callseal_capture_abort(capture: *mut callseal_capture) -> callseal_status {
    // SAFETY: `capture` as described in the contract above.
    unsafe {
        call_on(capture, "capture", |c| {
            drop(c.take_open("abort")?);
            c.state = State::Aborted;
            Ok(())
        })
    }
}

/// Releases a capture. Freeing one that was not finished abandons its
/// recording, as `callseal_capture_abort` does. NULL is a no-op. Never
/// fails.
///
/// # Safety
/// `capture` must be NULL or a live capture not in use by another thread;
/// it must not be used, or freed again, afterwards.
#[no_mangle]
pub unsafe extern "C" fn callseal_capture_free(capture: *mut callseal_capture) {
    // SAFETY: `capture` as described in the contract above.
    unsafe { free_handle(capture) }
}

// ---- opening --------------------------------------------------------------

/// Fails with `CALLSEAL_E_CALL_ID_MISMATCH` unless the sealed call id is
/// `expected`.
fn check_call_id(info: &RecordingInfo, expected: Option<&str>) -> FfiResult {
    let Some(expected) = expected else {
        return Ok(());
    };
    match info.metadata.call_id() {
        Some(id) if id == expected => Ok(()),
        Some(id) => Err(Failure::new(
            CALLSEAL_E_CALL_ID_MISMATCH,
            format!("refusing the recording: its sealed call id is {id:?}, not {expected:?}"),
        )),
        None => Err(Failure::new(
            CALLSEAL_E_CALL_ID_MISMATCH,
            format!("refusing the recording: it carries no sealed call id (expected {expected:?})"),
        )),
    }
}

/// Opens the sealed recording at `in_path` with `identities` (identity-file
/// text, as for `callseal_opener_new_path`) and writes it to `out_path` as
/// a playable file: a WAV captured with placeholder sizes gets its RIFF and
/// data sizes from the authenticated length (the final chunk is verified
/// first); any other plaintext (MP3, a finished WAV, other bytes) is
/// written as it is. An ASCII-armored file is decrypted as it is (no
/// sizes are patched, and `expect_call_id` must be NULL).
///
/// When `expect_call_id` is not NULL the recording's sealed `call_id`
/// metadata must equal it, or nothing is written: this catches a
/// recording swapped under another call's name.
///
/// `out_path` is written under a temporary name beside it (mode 0600
/// before the umask) and renamed into place only when the whole recording
/// authenticated: on any failure nothing appears at `out_path`. Any thread.
///
/// Returns:
/// - `CALLSEAL_OK`: `out_path` holds the playable recording.
/// - `CALLSEAL_E_NULL_ARG`: `identities`, `in_path` or `out_path` is NULL.
/// - `CALLSEAL_E_INVALID_IDENTITY`: the identity text is not valid.
/// - `CALLSEAL_E_INVALID_ARG`: `expect_call_id` is not UTF-8.
/// - `CALLSEAL_E_CALL_ID_MISMATCH`: the sealed call id differs from
///   `expect_call_id`, or the recording has none.
/// - `CALLSEAL_E_USAGE`: `expect_call_id` was given for an armored file.
/// - `CALLSEAL_E_IO`: reading `in_path` or writing `out_path` failed.
/// - `CALLSEAL_E_ARMOR`, `CALLSEAL_E_HEADER`, `CALLSEAL_E_NO_MATCH`,
///   `CALLSEAL_E_HEADER_MAC`: the header cannot be opened.
/// - `CALLSEAL_E_PAYLOAD_TRUNCATED`, `CALLSEAL_E_PAYLOAD_TAMPERED`,
///   `CALLSEAL_E_PAYLOAD_INVALID`: the payload does not authenticate (use
///   `callseal_recover_playable_path` for a truncated capture).
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// `identities`, `in_path`, `out_path` must be NULL or NUL-terminated
/// strings; `expect_call_id` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn callseal_open_playable_path(
    identities: *const c_char,
    in_path: *const c_char,
    out_path: *const c_char,
    expect_call_id: *const c_char,
) -> callseal_status {
    call(|| {
        // SAFETY: pointers as described in the contract above.
        let (in_path, out_path, ids) = unsafe {
            (
                c_path(in_path, "in_path")?,
                c_path(out_path, "out_path")?,
                identities_arg(identities)?,
            )
        };
        let expected = if expect_call_id.is_null() {
            None
        } else {
            // SAFETY: non-NULL, so a NUL-terminated string (contract above).
            Some(unsafe { c_text(expect_call_id, "expect_call_id", CALLSEAL_E_INVALID_ARG) }?)
        };
        let mut opener = Opener::new(open_file(in_path)?, &ids)?;
        if opener.is_armored() {
            if expected.is_some() {
                return Err(Failure::usage(
                    "expect_call_id needs a binary (not armored) file",
                ));
            }
            return copy_to_path(&mut opener, out_path);
        }
        let mut reader = PlayableReader::new(opener)?;
        check_call_id(reader.info(), expected)?;
        copy_to_path(&mut reader, out_path)
    })
}

/// Writes the part of the sealed recording at `in_path` between `from_ms`
/// and `to_ms` milliseconds (`to_ms == -1`: to the end) to `out_path` as a
/// playable file of the same format, and sets `*span_start_ms` and
/// `*span_end_ms` to the times the clip actually covers (rounded down to
/// the millisecond).
///
/// A WAV is cut at whole sample frames (`from_ms x rate` rounded down),
/// keeping its format and metadata chunks with sizes for the clip; an MP3
/// keeps the ID3v2 tag and the whole frames from the one holding `from_ms`
/// up to the one holding `to_ms` (which is left out: the clip ends on the
/// frame boundary at or before `to_ms`). Times past the end are clamped to it. Only
/// the first chunk, the final chunk (authenticated first) and the chunks
/// under the clip are decrypted. `out_path` appears only on success, as
/// for `callseal_open_playable_path`. Any thread.
///
/// Returns:
/// - `CALLSEAL_OK`: `out_path` holds the clip; the spans were set.
/// - `CALLSEAL_E_NULL_ARG`: `identities`, `in_path`, `out_path`,
///   `span_start_ms` or `span_end_ms` is NULL.
/// - `CALLSEAL_E_INVALID_ARG`: `to_ms` is below -1, or below `from_ms`.
/// - `CALLSEAL_E_INVALID_IDENTITY`: the identity text is not valid.
/// - `CALLSEAL_E_USAGE`: the recording is neither WAV nor MP3, or the file
///   is ASCII-armored (no seeking).
/// - `CALLSEAL_E_IO`: reading `in_path` or writing `out_path` failed.
/// - `CALLSEAL_E_ARMOR`, `CALLSEAL_E_HEADER`, `CALLSEAL_E_NO_MATCH`,
///   `CALLSEAL_E_HEADER_MAC`: the header cannot be opened.
/// - `CALLSEAL_E_PAYLOAD_TRUNCATED`, `CALLSEAL_E_PAYLOAD_TAMPERED`,
///   `CALLSEAL_E_PAYLOAD_INVALID`: a chunk read does not authenticate.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// `identities`, `in_path`, `out_path` must be NULL or NUL-terminated
/// strings; `span_start_ms` and `span_end_ms` NULL or valid for writing one
/// `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn callseal_open_clip_path(
    identities: *const c_char,
    in_path: *const c_char,
    from_ms: u64,
    to_ms: i64,
    out_path: *const c_char,
    span_start_ms: *mut u64,
    span_end_ms: *mut u64,
) -> callseal_status {
    call(|| {
        // SAFETY: pointers as described in the contract above.
        let (start_out, end_out, in_path, out_path, ids) = unsafe {
            (
                Out::new(span_start_ms, "span_start_ms")?,
                Out::new(span_end_ms, "span_end_ms")?,
                c_path(in_path, "in_path")?,
                c_path(out_path, "out_path")?,
                identities_arg(identities)?,
            )
        };
        let to = match to_ms {
            -1 => None,
            t if t < -1 || (t as u64) < from_ms => {
                return Err(Failure::new(
                    CALLSEAL_E_INVALID_ARG,
                    format!("`to_ms` ({t}) must be -1 or at least `from_ms` ({from_ms})"),
                ))
            }
            t => Some(Duration::from_millis(t as u64)),
        };
        let opener = Opener::new(open_file(in_path)?, &ids)?;
        let mut clip = open_clip(opener, Duration::from_millis(from_ms), to)?;
        let (start, end) = clip.span().unwrap_or_default();
        copy_to_path(&mut clip, out_path)?;
        start_out.set(millis_down(start) as u64);
        end_out.set(millis_down(end) as u64);
        Ok(())
    })
}

// ---- recording info -------------------------------------------------------

/// What a sealed recording is (opaque): its kind, format, duration and
/// sealed call metadata. Made by `callseal_recording_info_path`, read with
/// the `callseal_recording_info_*` getters, released with
/// `callseal_recording_info_free`.
///
/// It holds no key and no audio, only the metadata. It may be used from
/// any thread, but from one thread at a time.
pub struct callseal_recording_info {
    poisoned: bool,
    info: RecordingInfo,
    duration_ms: i64,
    metadata: Vec<(String, String)>,
}

impl Handle for callseal_recording_info {
    fn poisoned(&mut self) -> &mut bool {
        &mut self.poisoned
    }
}

/// Describes the sealed recording at `in_path`, opened with `identities`
/// (identity-file text): only the first chunk is decrypted for the kind,
/// format and metadata, and the final chunk for the duration. The duration
/// is unknown (-1) when the length cannot be authenticated (an armored
/// file, or a capture still being written or cut short: see
/// `callseal_opener_plaintext_size` for why) or the format does not say it.
///
/// On success `*out` owns a new info handle, to be released with
/// `callseal_recording_info_free`. Any thread.
///
/// Returns:
/// - `CALLSEAL_OK`: `*out` was set.
/// - `CALLSEAL_E_NULL_ARG`: `identities`, `in_path` or `out` is NULL.
/// - `CALLSEAL_E_INVALID_IDENTITY`: the identity text is not valid.
/// - `CALLSEAL_E_IO`: reading `in_path` failed.
/// - `CALLSEAL_E_ARMOR`, `CALLSEAL_E_HEADER`, `CALLSEAL_E_NO_MATCH`,
///   `CALLSEAL_E_HEADER_MAC`: the header cannot be opened.
/// - `CALLSEAL_E_PAYLOAD_TRUNCATED`, `CALLSEAL_E_PAYLOAD_TAMPERED`,
///   `CALLSEAL_E_PAYLOAD_INVALID`: the first chunk does not authenticate.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// `identities` and `in_path` must be NULL or NUL-terminated strings; `out`
/// NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn callseal_recording_info_path(
    identities: *const c_char,
    in_path: *const c_char,
    out: *mut *mut callseal_recording_info,
) -> callseal_status {
    call(|| {
        // SAFETY: pointers as described in the contract above.
        let (out, in_path, ids) = unsafe {
            (
                Out::new(out, "out")?,
                c_path(in_path, "in_path")?,
                identities_arg(identities)?,
            )
        };
        let mut opener = Opener::new(open_file(in_path)?, &ids)?;
        let info = read_recording_info(&mut opener)?;
        let duration = match opener.is_armored() {
            true => None,
            false => match opener.plaintext_len() {
                Ok(len) => info.duration(len),
                Err(crate::Error::Payload(_)) => None,
                Err(e) => return Err(e.into()),
            },
        };
        let metadata = info
            .metadata
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        out.set(into_handle(callseal_recording_info {
            poisoned: false,
            duration_ms: duration.map_or(-1, millis_down),
            info,
            metadata,
        }));
        Ok(())
    })
}

/// Runs a getter on an info handle and writes its result to `out`.
///
/// # Safety
/// `info` NULL or a live info handle not in use by another thread; `out`
/// NULL or valid for writing one `T`.
unsafe fn get<T>(
    info: *mut callseal_recording_info,
    out: *mut T,
    f: impl FnOnce(&callseal_recording_info) -> T,
) -> callseal_status {
    // SAFETY: same contract as ours.
    unsafe {
        call_on(info, "info", |i| {
            Out::new(out, "out")?.set(f(i));
            Ok(())
        })
    }
}

/// Sets `*out` to the recording's kind: a `CALLSEAL_RECORDING_*` value.
///
/// Returns `CALLSEAL_OK`, `CALLSEAL_E_NULL_ARG` (`info` or `out` is NULL),
/// `CALLSEAL_E_USAGE` (poisoned handle) or `CALLSEAL_E_PANIC`.
///
/// # Safety
/// `info` must be NULL or a live info handle not in use by another thread;
/// `out` NULL or valid for writing one `callseal_recording_kind`.
#[no_mangle]
pub unsafe extern "C" fn callseal_recording_info_kind(
    info: *mut callseal_recording_info,
    out: *mut callseal_recording_kind,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe { get(info, out, |i| kind_code(i.info.kind)) }
}

/// Sets `*out` to the sample rate in Hz: from the WAV header, or the first
/// MP3 frame; 0 for other recordings.
///
/// Returns `CALLSEAL_OK`, `CALLSEAL_E_NULL_ARG` (`info` or `out` is NULL),
/// `CALLSEAL_E_USAGE` (poisoned handle) or `CALLSEAL_E_PANIC`.
///
/// # Safety
/// `info` must be NULL or a live info handle not in use by another thread;
/// `out` NULL or valid for writing one `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn callseal_recording_info_sample_rate(
    info: *mut callseal_recording_info,
    out: *mut u32,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe {
        get(info, out, |i| match (&i.info.wav, i.info.mp3) {
            (Some(w), _) => w.sample_rate,
            (None, Some((_, rate))) => rate,
            (None, None) => 0,
        })
    }
}

/// Sets `*out` to the WAV channel count (1, or 2 for caller left and agent
/// right); 0 for MP3 and other recordings.
///
/// Returns `CALLSEAL_OK`, `CALLSEAL_E_NULL_ARG` (`info` or `out` is NULL),
/// `CALLSEAL_E_USAGE` (poisoned handle) or `CALLSEAL_E_PANIC`.
///
/// # Safety
/// `info` must be NULL or a live info handle not in use by another thread;
/// `out` NULL or valid for writing one `uint16_t`.
#[no_mangle]
pub unsafe extern "C" fn callseal_recording_info_channels(
    info: *mut callseal_recording_info,
    out: *mut u16,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe { get(info, out, |i| i.info.wav.as_ref().map_or(0, |w| w.channels)) }
}

/// Sets `*out` to the WAV format tag (1 = PCM, 6 = A-law, 7 = mu-law, or
/// whatever a sealed WAV file says); 0 for MP3 and other recordings.
///
/// Returns `CALLSEAL_OK`, `CALLSEAL_E_NULL_ARG` (`info` or `out` is NULL),
/// `CALLSEAL_E_USAGE` (poisoned handle) or `CALLSEAL_E_PANIC`.
///
/// # Safety
/// `info` must be NULL or a live info handle not in use by another thread;
/// `out` NULL or valid for writing one `uint16_t`.
#[no_mangle]
pub unsafe extern "C" fn callseal_recording_info_format_tag(
    info: *mut callseal_recording_info,
    out: *mut u16,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe {
        get(info, out, |i| {
            i.info.wav.as_ref().map_or(0, |w| w.format_tag)
        })
    }
}

/// Sets `*out` to the encoding of a WAV captured as 16-bit PCM, mu-law or
/// A-law (a `CALLSEAL_ENCODING_*` value), or -1 when the recording is not
/// a WAV in one of those encodings.
///
/// Returns `CALLSEAL_OK`, `CALLSEAL_E_NULL_ARG` (`info` or `out` is NULL),
/// `CALLSEAL_E_USAGE` (poisoned handle) or `CALLSEAL_E_PANIC`.
///
/// # Safety
/// `info` must be NULL or a live info handle not in use by another thread;
/// `out` NULL or valid for writing one `callseal_encoding`.
#[no_mangle]
pub unsafe extern "C" fn callseal_recording_info_encoding(
    info: *mut callseal_recording_info,
    out: *mut callseal_encoding,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe {
        get(info, out, |i| {
            match i
                .info
                .wav
                .as_ref()
                .map(|w| (w.format_tag, w.bits_per_sample))
            {
                Some((1, 16)) => CALLSEAL_ENCODING_S16,
                Some((7, 8)) => CALLSEAL_ENCODING_MULAW,
                Some((6, 8)) => CALLSEAL_ENCODING_ALAW,
                _ => -1,
            }
        })
    }
}

/// Sets `*out` to the first MP3 frame's bitrate in kbit/s; 0 for other
/// recordings.
///
/// Returns `CALLSEAL_OK`, `CALLSEAL_E_NULL_ARG` (`info` or `out` is NULL),
/// `CALLSEAL_E_USAGE` (poisoned handle) or `CALLSEAL_E_PANIC`.
///
/// # Safety
/// `info` must be NULL or a live info handle not in use by another thread;
/// `out` NULL or valid for writing one `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn callseal_recording_info_bitrate_kbps(
    info: *mut callseal_recording_info,
    out: *mut u32,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe { get(info, out, |i| i.info.mp3.map_or(0, |(kbps, _)| kbps)) }
}

/// Sets `*out` to the playing time in milliseconds (rounded down): exact
/// for WAV, from the first frame's bitrate for MP3 (exact for CBR); -1 when
/// unknown (see `callseal_recording_info_path`).
///
/// Returns `CALLSEAL_OK`, `CALLSEAL_E_NULL_ARG` (`info` or `out` is NULL),
/// `CALLSEAL_E_USAGE` (poisoned handle) or `CALLSEAL_E_PANIC`.
///
/// # Safety
/// `info` must be NULL or a live info handle not in use by another thread;
/// `out` NULL or valid for writing one `int64_t`.
#[no_mangle]
pub unsafe extern "C" fn callseal_recording_info_duration_ms(
    info: *mut callseal_recording_info,
    out: *mut i64,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe { get(info, out, |i| i.duration_ms) }
}

/// Sets `*out` to the number of sealed metadata entries (0 when there are
/// none), to index with `callseal_recording_info_metadata_key` and
/// `callseal_recording_info_metadata_value` in the order they were given.
///
/// Returns `CALLSEAL_OK`, `CALLSEAL_E_NULL_ARG` (`info` or `out` is NULL),
/// `CALLSEAL_E_USAGE` (poisoned handle) or `CALLSEAL_E_PANIC`.
///
/// # Safety
/// `info` must be NULL or a live info handle not in use by another thread;
/// `out` NULL or valid for writing one `size_t`.
#[no_mangle]
pub unsafe extern "C" fn callseal_recording_info_metadata_count(
    info: *mut callseal_recording_info,
    out: *mut usize,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe { get(info, out, |i| i.metadata.len()) }
}

/// Copies the key (`value == false`) or value of metadata entry `index`.
///
/// # Safety
/// As for `callseal_recording_info_metadata_key`.
unsafe fn metadata_entry(
    info: *mut callseal_recording_info,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    value: bool,
) -> callseal_status {
    // SAFETY: same contract as ours.
    unsafe {
        call_on(info, "info", |i| {
            let out = StrOut::new(buf, cap, "buf")?;
            let (k, v) = i.metadata.get(index).ok_or_else(|| {
                Failure::new(
                    CALLSEAL_E_INVALID_ARG,
                    format!(
                        "metadata index {index} is out of range ({} entries)",
                        i.metadata.len()
                    ),
                )
            })?;
            let s = if value { v } else { k };
            out.check_fits(s)?;
            out.write(s);
            Ok(())
        })
    }
}

/// Copies the key of metadata entry `index` (from 0) into `buf`,
/// NUL-terminated. Nothing is written unless it fits in `cap` bytes with
/// its NUL; the detailed message then says how many bytes are needed.
///
/// Returns:
/// - `CALLSEAL_OK`: `buf` holds the key.
/// - `CALLSEAL_E_NULL_ARG`: `info` or `buf` is NULL.
/// - `CALLSEAL_E_INVALID_ARG`: `index` is not below the metadata count.
/// - `CALLSEAL_E_BUFFER_TOO_SMALL`: the key and its NUL exceed `cap`.
/// - `CALLSEAL_E_USAGE`: the handle is poisoned.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// `info` must be NULL or a live info handle not in use by another thread;
/// `buf` NULL or valid for writes of `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn callseal_recording_info_metadata_key(
    info: *mut callseal_recording_info,
    index: usize,
    buf: *mut c_char,
    cap: usize,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe { metadata_entry(info, index, buf, cap, false) }
}

/// Copies the value of metadata entry `index` (from 0) into `buf`,
/// NUL-terminated, as `callseal_recording_info_metadata_key` does for the
/// key.
///
/// Returns:
/// - `CALLSEAL_OK`: `buf` holds the value.
/// - `CALLSEAL_E_NULL_ARG`: `info` or `buf` is NULL.
/// - `CALLSEAL_E_INVALID_ARG`: `index` is not below the metadata count.
/// - `CALLSEAL_E_BUFFER_TOO_SMALL`: the value and its NUL exceed `cap`.
/// - `CALLSEAL_E_USAGE`: the handle is poisoned.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// `info` must be NULL or a live info handle not in use by another thread;
/// `buf` NULL or valid for writes of `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn callseal_recording_info_metadata_value(
    info: *mut callseal_recording_info,
    index: usize,
    buf: *mut c_char,
    cap: usize,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe { metadata_entry(info, index, buf, cap, true) }
}

/// Releases an info handle. NULL is a no-op. Never fails.
///
/// # Safety
/// `info` must be NULL or a live info handle not in use by another thread;
/// it must not be used, or freed again, afterwards.
#[no_mangle]
pub unsafe extern "C" fn callseal_recording_info_free(info: *mut callseal_recording_info) {
    // SAFETY: `info` as described in the contract above.
    unsafe { free_handle(info) }
}

// ---- recovery -------------------------------------------------------------

/// What `callseal_recover_playable_path` salvaged.
#[repr(C)]
pub struct callseal_audio_recovery {
    /// What the recording was: a `CALLSEAL_RECORDING_*` value (other
    /// recordings are recovered byte for byte).
    pub kind: callseal_recording_kind,
    /// Bytes written to the output file.
    pub written_bytes: u64,
    /// Audio bytes in the output (WAV samples, or MP3 frames without tags).
    pub audio_bytes: u64,
    /// Authenticated bytes left out to end on a whole sample frame or MP3
    /// frame.
    pub discarded_bytes: u64,
    /// Playing time recovered in milliseconds (rounded down), or -1 when
    /// the format does not say it.
    pub duration_ms: i64,
    /// Upper bound on the playing time lost at the end in milliseconds
    /// (rounded up): 0 for a whole file, about one 64 KiB chunk of audio
    /// for a crashed capture; -1 when the format does not say it.
    pub max_lost_ms: i64,
    /// True when the file was whole: its final chunk authenticated.
    pub complete: bool,
    /// Why reading stopped early: `CALLSEAL_OK` for a whole file,
    /// `CALLSEAL_E_PAYLOAD_TRUNCATED` for the expected capture crash, or
    /// `CALLSEAL_E_PAYLOAD_TAMPERED` / `CALLSEAL_E_PAYLOAD_INVALID` for a
    /// damaged file.
    pub stopped_by: callseal_status,
}

/// Salvages a sealed recording whose capture died (or any damaged file) as
/// a playable file at `out_path`: every payload chunk that authenticates,
/// up to the first that does not, is kept; a WAV gets sizes for what was
/// recovered, cut to whole sample frames, and an MP3 is cut to whole
/// frames. Other plaintext is recovered byte for byte. The header must
/// still open with `identities` (identity-file text): recovery never
/// weakens authentication.
///
/// `out_path` is written under a temporary name (mode 0600 before the
/// umask) and renamed into place on success only. A truncated file is a
/// success here (`complete == false`). `*out` is written only on success.
/// Any thread.
///
/// Returns:
/// - `CALLSEAL_OK`: `out_path` holds the recovered recording; `*out` was
///   set.
/// - `CALLSEAL_E_NULL_ARG`: `identities`, `in_path`, `out_path` or `out` is
///   NULL.
/// - `CALLSEAL_E_INVALID_IDENTITY`: the identity text is not valid.
/// - `CALLSEAL_E_IO`: reading `in_path` or writing `out_path` failed.
/// - `CALLSEAL_E_ARMOR`, `CALLSEAL_E_HEADER`, `CALLSEAL_E_NO_MATCH`,
///   `CALLSEAL_E_HEADER_MAC`: the header cannot be opened.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// `identities`, `in_path` and `out_path` must be NULL or NUL-terminated
/// strings; `out` NULL or valid for writing one `callseal_audio_recovery`.
#[no_mangle]
pub unsafe extern "C" fn callseal_recover_playable_path(
    identities: *const c_char,
    in_path: *const c_char,
    out_path: *const c_char,
    out: *mut callseal_audio_recovery,
) -> callseal_status {
    call(|| {
        // SAFETY: pointers as described in the contract above.
        let (out, in_path, out_path, ids) = unsafe {
            (
                Out::new(out, "out")?,
                c_path(in_path, "in_path")?,
                c_path(out_path, "out_path")?,
                identities_arg(identities)?,
            )
        };
        let source = open_file(in_path)?;
        let mut file = AtomicFile::create(out_path, 0o600)?;
        let report = recover_playable(source, &ids, &mut file)?;
        file.commit()?;
        out.set(callseal_audio_recovery {
            kind: kind_code(report.kind),
            written_bytes: report.written_bytes,
            audio_bytes: report.audio_bytes,
            discarded_bytes: report.discarded_bytes,
            duration_ms: report.duration.map_or(-1, millis_down),
            max_lost_ms: report.max_lost.map_or(-1, millis_up),
            complete: report.recovery.complete,
            stopped_by: report
                .recovery
                .stopped_by
                .map_or(CALLSEAL_OK, payload_status),
        });
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::c_int;

    #[test]
    fn a_panic_inside_a_capture_call_poisons_it() {
        let id = crate::Identity::generate();
        let writer = CaptureWriter::pcm(
            &[id.recipient()],
            Sink::Callback(CallbackWriter::new(Some(discard), std::ptr::null_mut()).unwrap()),
            PcmFormat::TELEPHONY,
            &Metadata::new(),
        )
        .unwrap();
        let handle = into_handle(callseal_capture::new(writer));
        // SAFETY: a live handle from into_handle, used on this thread only.
        let status = unsafe { call_on(handle, "capture", |_| panic!("injected")) };
        assert_eq!(status, CALLSEAL_E_PANIC);
        // SAFETY: as above.
        let again = unsafe { callseal_capture_write(handle, [0u8; 2].as_ptr(), 2) };
        assert_eq!(again, CALLSEAL_E_USAGE);
        // SAFETY: as above; freed once.
        unsafe { callseal_capture_free(handle) };
    }

    #[test]
    fn formats_are_validated_by_the_audio_layer() {
        assert!(format_arg(8000, 2, CALLSEAL_ENCODING_ALAW).is_ok());
        assert_eq!(
            format_arg(8000, 3, CALLSEAL_ENCODING_S16)
                .unwrap_err()
                .status,
            CALLSEAL_E_INVALID_ARG
        );
        assert_eq!(
            format_arg(8000, 1, 9).unwrap_err().status,
            CALLSEAL_E_INVALID_ARG
        );
    }

    unsafe extern "C" fn discard(_: *mut c_void, _: *const u8, _: usize) -> c_int {
        0
    }
}
