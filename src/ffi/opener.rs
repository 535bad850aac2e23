//! Opening: `callseal_opener` over a file, plus recovery and inspection.

use std::ffi::{c_char, c_void};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::boundary::{
    bytes_mut, c_path, c_text, call, call_on, free_handle, into_handle, Failure, FfiResult, Handle,
    Out,
};
use super::sealer::{callseal_write_fn, CallbackWriter};
use super::status::*;
use crate::identity_file::parse_identities;
use crate::inspect::Ending;
use crate::keys::Identity;
use crate::open::Opener;

/// A decrypting reader over one sealed file (opaque). Made by
/// `callseal_opener_new_path`, read with `callseal_opener_read`, positioned
/// with `callseal_opener_seek`, released with `callseal_opener_free`.
///
/// Only authenticated bytes are ever returned. An opener may be used from
/// any thread, but from one thread at a time; distinct openers may be used
/// from different threads at once. Its 64 KiB plaintext buffer is wiped
/// when freed.
pub struct callseal_opener {
    poisoned: bool,
    opener: Opener<File>,
}

impl Handle for callseal_opener {
    fn poisoned(&mut self) -> &mut bool {
        &mut self.poisoned
    }
}

/// Parses identity-file text read in place from C memory (never copied;
/// the parsed keys are wiped when dropped).
///
/// # Safety
/// `text` is NULL or a NUL-terminated string.
pub(crate) unsafe fn identities_arg(text: *const c_char) -> FfiResult<Vec<Identity>> {
    // SAFETY: same contract as ours.
    let text = unsafe { c_text(text, "identities", CALLSEAL_E_INVALID_IDENTITY) }?;
    Ok(parse_identities(text)?)
}

pub(crate) fn open_file(path: &Path) -> FfiResult<File> {
    File::open(path).map_err(|e| {
        crate::Error::Io(io::Error::new(
            e.kind(),
            format!("cannot open {}: {e}", path.display()),
        ))
        .into()
    })
}

/// Opens the sealed file at `path` (binary or ASCII-armored age) with the
/// identities in `identities`, the text of an identity file as
/// `age-keygen` writes it (one `AGE-SECRET-KEY-1...` per line, `#`
/// comments and blank lines ignored). The header is read and authenticated
/// before this returns; the payload is decrypted as it is read.
///
/// The identity text is read in place, never copied, and not kept: the
/// caller may wipe it as soon as this returns. On success `*out` owns a
/// new opener, to be released with `callseal_opener_free`.
///
/// Returns:
/// - `CALLSEAL_OK`: `*out` was set.
/// - `CALLSEAL_E_NULL_ARG`: `identities`, `path` or `out` is NULL.
/// - `CALLSEAL_E_INVALID_IDENTITY`: the identity text holds no valid key or
///   a malformed line (the message gives the line number, never the key).
/// - `CALLSEAL_E_IO`: the file cannot be opened or read.
/// - `CALLSEAL_E_ARMOR`: malformed ASCII armor.
/// - `CALLSEAL_E_HEADER`: not an age file, or a malformed header.
/// - `CALLSEAL_E_NO_MATCH`: none of the identities opens the file.
/// - `CALLSEAL_E_HEADER_MAC`: the header was altered.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// `identities` and `path` must be NULL or NUL-terminated strings; `out`
/// NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn callseal_opener_new_path(
    identities: *const c_char,
    path: *const c_char,
    out: *mut *mut callseal_opener,
) -> callseal_status {
    call(|| {
        // SAFETY: pointers as described in the contract above.
        let (out, path, ids) = unsafe {
            let out = Out::new(out, "out")?;
            let path = c_path(path, "path")?;
            (out, path, identities_arg(identities)?)
        };
        let opener = Opener::new(open_file(path)?, &ids)?;
        out.set(into_handle(callseal_opener {
            poisoned: false,
            opener,
        }));
        Ok(())
    })
}

/// Reads up to `cap` bytes of authenticated plaintext into `buf` and sets
/// `*out_n` to the number read. Like `read(2)` it may return fewer bytes
/// than asked (at most the rest of one 64 KiB chunk per call);
/// `*out_n == 0` means the authenticated end of the recording.
///
/// Returns:
/// - `CALLSEAL_OK`: `*out_n` bytes were written to `buf` (0 at the end).
/// - `CALLSEAL_E_NULL_ARG`: `opener`, `buf` or `out_n` is NULL.
/// - `CALLSEAL_E_BUFFER_TOO_SMALL`: `cap` is 0.
/// - `CALLSEAL_E_INVALID_ARG`: `cap` is impossibly large.
/// - `CALLSEAL_E_PAYLOAD_TRUNCATED`: the file ends before its final chunk
///   (all bytes before the cut were returned by earlier reads).
/// - `CALLSEAL_E_PAYLOAD_TAMPERED`: a chunk failed authentication.
/// - `CALLSEAL_E_PAYLOAD_INVALID`: data after the final chunk, or an empty
///   final chunk after data.
/// - `CALLSEAL_E_IO`: reading the file failed.
/// - `CALLSEAL_E_USAGE`: an earlier read failed with an I/O error, or the
///   opener is poisoned.
/// - `CALLSEAL_E_PANIC`: internal bug; the opener is now poisoned.
///
/// A payload error is returned again by every later read, until a
/// successful `callseal_opener_seek`.
///
/// # Safety
/// `opener` must be NULL or a live opener not in use by another thread;
/// `buf` NULL or valid for writes of `cap` bytes; `out_n` NULL or valid
/// for writing one `size_t`.
#[no_mangle]
pub unsafe extern "C" fn callseal_opener_read(
    opener: *mut callseal_opener,
    buf: *mut u8,
    cap: usize,
    out_n: *mut usize,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe {
        call_on(opener, "opener", |o| {
            let out_n = Out::new(out_n, "out_n")?;
            let buf = bytes_mut(buf, cap, "buf")?;
            if buf.is_empty() {
                return Err(Failure::new(
                    CALLSEAL_E_BUFFER_TOO_SMALL,
                    "`buf` has room for 0 bytes; a read needs at least 1",
                ));
            }
            out_n.set(o.opener.read(buf)?);
            Ok(())
        })
    }
}

/// Moves the read position to plaintext byte `offset`. The final chunk is
/// authenticated on the first seek (so the length is trusted), then only
/// the chunk holding `offset` is decrypted. An offset at or past the end
/// is allowed: reads there return 0.
///
/// Returns:
/// - `CALLSEAL_OK`: the next read starts at `offset`.
/// - `CALLSEAL_E_NULL_ARG`: `opener` is NULL.
/// - `CALLSEAL_E_USAGE`: the file is ASCII-armored (no seeking), or the
///   opener is poisoned.
/// - `CALLSEAL_E_PAYLOAD_TRUNCATED`, `CALLSEAL_E_PAYLOAD_TAMPERED`,
///   `CALLSEAL_E_PAYLOAD_INVALID`: the final chunk, or the chunk holding
///   `offset`, does not authenticate.
/// - `CALLSEAL_E_IO`: reading the file failed.
/// - `CALLSEAL_E_PANIC`: internal bug; the opener is now poisoned.
///
/// # Safety
/// `opener` must be NULL or a live opener not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn callseal_opener_seek(
    opener: *mut callseal_opener,
    offset: u64,
) -> callseal_status {
    // SAFETY: `opener` as described in the contract above.
    unsafe {
        call_on(opener, "opener", |o| {
            o.opener.seek(SeekFrom::Start(offset))?;
            Ok(())
        })
    }
}

/// Sets `*out` to the recording's plaintext size in bytes, authenticated:
/// the final chunk is decrypted and verified first, so a truncated or
/// extended file fails here. The read position is unchanged.
///
/// Returns:
/// - `CALLSEAL_OK`: `*out` was set.
/// - `CALLSEAL_E_NULL_ARG`: `opener` or `out` is NULL.
/// - `CALLSEAL_E_USAGE`: the file is ASCII-armored, or the opener is
///   poisoned.
/// - `CALLSEAL_E_PAYLOAD_TRUNCATED`, `CALLSEAL_E_PAYLOAD_TAMPERED`,
///   `CALLSEAL_E_PAYLOAD_INVALID`: the final chunk does not authenticate.
/// - `CALLSEAL_E_IO`: reading the file failed.
/// - `CALLSEAL_E_PANIC`: internal bug; the opener is now poisoned.
///
/// # Safety
/// `opener` must be NULL or a live opener not in use by another thread;
/// `out` NULL or valid for writing one `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn callseal_opener_plaintext_size(
    opener: *mut callseal_opener,
    out: *mut u64,
) -> callseal_status {
    // SAFETY: pointers as described in the contract above.
    unsafe {
        call_on(opener, "opener", |o| {
            let out = Out::new(out, "out")?;
            out.set(o.opener.plaintext_len()?);
            Ok(())
        })
    }
}

/// Releases an opener and wipes its buffer. NULL is a no-op. Never fails.
///
/// # Safety
/// `opener` must be NULL or a live opener not in use by another thread; it
/// must not be used, or freed again, afterwards.
#[no_mangle]
pub unsafe extern "C" fn callseal_opener_free(opener: *mut callseal_opener) {
    // SAFETY: `opener` as described in the contract above.
    unsafe { free_handle(opener) }
}

/// What `callseal_recover_path` salvaged.
#[repr(C)]
pub struct callseal_recovery {
    /// Authenticated plaintext bytes handed to the write callback.
    pub recovered_bytes: u64,
    /// An upper bound on the plaintext bytes lost at the end: 0 for a whole
    /// file, at most one chunk (65536) for a crashed writer.
    pub max_lost_bytes: u64,
    /// True when the file was whole: its final chunk authenticated and
    /// nothing was lost.
    pub complete: bool,
    /// Why reading stopped early: `CALLSEAL_OK` for a whole file,
    /// `CALLSEAL_E_PAYLOAD_TRUNCATED` for the expected writer crash, or
    /// `CALLSEAL_E_PAYLOAD_TAMPERED` / `CALLSEAL_E_PAYLOAD_INVALID` for a
    /// damaged file.
    pub stopped_by: callseal_status,
}

/// Salvages a recording whose writer died (or any damaged file): every
/// payload chunk that authenticates, up to the first that does not, is
/// passed to `write` (with `userdata`), and `*out` reports how much was
/// recovered and why it stopped. The header must still open with one of
/// `identities` (identity-file text, as for `callseal_opener_new_path`):
/// recovery never weakens authentication.
///
/// Plaintext reaches `write` as it is authenticated, before the call
/// returns; `*out` is written only on success. A truncated file is a
/// success here (`complete == false`).
///
/// Returns:
/// - `CALLSEAL_OK`: `*out` was set.
/// - `CALLSEAL_E_NULL_ARG`: `identities`, `path`, `write` or `out` is NULL.
/// - `CALLSEAL_E_INVALID_IDENTITY`: the identity text is not valid.
/// - `CALLSEAL_E_IO`: the file cannot be read, or `write` returned an errno.
/// - `CALLSEAL_E_ARMOR`, `CALLSEAL_E_HEADER`, `CALLSEAL_E_NO_MATCH`,
///   `CALLSEAL_E_HEADER_MAC`: the header cannot be opened.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// `identities` and `path` must be NULL or NUL-terminated strings; `write`
/// must follow the `callseal_write_fn` contract; `out` NULL or valid for
/// writing one `callseal_recovery`.
#[no_mangle]
pub unsafe extern "C" fn callseal_recover_path(
    identities: *const c_char,
    path: *const c_char,
    write: callseal_write_fn,
    userdata: *mut c_void,
    out: *mut callseal_recovery,
) -> callseal_status {
    call(|| {
        // SAFETY: pointers as described in the contract above.
        let (out, path, sink, ids) = unsafe {
            let out = Out::new(out, "out")?;
            let path = c_path(path, "path")?;
            let sink = CallbackWriter::new(write, userdata)?;
            (out, path, sink, identities_arg(identities)?)
        };
        let report = crate::recover(open_file(path)?, &ids, sink)?;
        out.set(callseal_recovery {
            recovered_bytes: report.recovered_bytes,
            max_lost_bytes: report.max_lost_bytes(),
            complete: report.complete,
            stopped_by: report.stopped_by.map_or(CALLSEAL_OK, payload_status),
        });
        Ok(())
    })
}

/// How a payload ends, judged from sizes alone (see `callseal_inspection`).
pub type callseal_ending = i32;
/// The last chunk is shorter than a full chunk, so it can only be a final
/// chunk: the file looks complete (decryption will confirm).
pub const CALLSEAL_ENDING_FINAL_SIZED: callseal_ending = 0;
/// The last chunk is full-size: a full final chunk, or a writer that died
/// on a chunk boundary. Only decryption can tell.
pub const CALLSEAL_ENDING_FULL_CHUNK: callseal_ending = 1;
/// No chunk at all, or a last piece too short to hold a tag: truncated.
pub const CALLSEAL_ENDING_TRUNCATED: callseal_ending = 2;

/// What `callseal_inspect_path` learns about a sealed file without any key.
/// Sizes are read off the ciphertext and are not authenticated.
#[repr(C)]
pub struct callseal_inspection {
    /// Number of recipient stanzas in the header (one per recipient).
    pub stanza_count: usize,
    /// Header length in bytes.
    pub header_len: u64,
    /// Payload bytes after the 16-byte nonce (all chunks with their tags).
    pub payload_len: u64,
    /// Number of payload chunks (a partial last one counts).
    pub chunk_count: u64,
    /// Plaintext size implied by the payload size, if the file is whole.
    pub plaintext_len: u64,
    /// How the payload ends: a `CALLSEAL_ENDING_*` value.
    pub ending: callseal_ending,
    /// True when the file is ASCII-armored.
    pub armored: bool,
}

/// Describes the sealed file at `path` without any key: its header and the
/// sizes of its payload. Reads the whole file.
///
/// Returns:
/// - `CALLSEAL_OK`: `*out` was set.
/// - `CALLSEAL_E_NULL_ARG`: `path` or `out` is NULL.
/// - `CALLSEAL_E_IO`: the file cannot be read.
/// - `CALLSEAL_E_ARMOR`, `CALLSEAL_E_HEADER`: not a well-formed age file.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// Thread safety: may be called from any thread at any time.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string; `out` NULL or valid for
/// writing one `callseal_inspection`.
#[no_mangle]
pub unsafe extern "C" fn callseal_inspect_path(
    path: *const c_char,
    out: *mut callseal_inspection,
) -> callseal_status {
    call(|| {
        // SAFETY: pointers as described in the contract above.
        let (out, path) = unsafe { (Out::new(out, "out")?, c_path(path, "path")?) };
        let info = crate::inspect(open_file(path)?)?;
        out.set(callseal_inspection {
            stanza_count: info.stanza_types.len(),
            header_len: info.header_len,
            payload_len: info.payload_len,
            chunk_count: info.chunk_count,
            plaintext_len: info.plaintext_len,
            ending: match info.ending {
                Ending::FinalSized => CALLSEAL_ENDING_FINAL_SIZED,
                Ending::FullChunk => CALLSEAL_ENDING_FULL_CHUNK,
                Ending::Truncated => CALLSEAL_ENDING_TRUNCATED,
            },
            armored: info.armored,
        });
        Ok(())
    })
}
