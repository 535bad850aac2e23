//! Sealing: `callseal_sealer` over a path (atomic file) or a write callback.

use std::ffi::{c_char, c_int, c_void};
use std::io::{self, Write};

use super::boundary::{
    bytes, c_path, c_text_array, call, call_on, free_handle, into_handle, Failure, FfiResult,
    Handle, Out,
};
use super::status::*;
use crate::atomic_file::AtomicFile;
use crate::keys::Recipient;
use crate::seal::Sealer;

/// A sink for sealed bytes, called by the library from inside
/// `callseal_sealer_new_callback`, `callseal_sealer_write`,
/// `callseal_sealer_finish` and `callseal_recover_path`, on the thread
/// making that call.
///
/// It must consume all `len` bytes at `buf` and return 0, or return an
/// errno value (e.g. `ENOSPC`) to fail the call with `CALLSEAL_E_IO`. `buf`
/// is valid only during the call. The callback must not call functions on
/// the handle that invoked it.
pub type callseal_write_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *const u8, len: usize) -> c_int>;

/// An encrypting writer for one recording (opaque). Made by
/// `callseal_sealer_new_path` or `callseal_sealer_new_callback`, fed with
/// `callseal_sealer_write`, completed by `callseal_sealer_finish` (or
/// dropped by `callseal_sealer_abort`), and always released with
/// `callseal_sealer_free`.
///
/// A sealer may be used from any thread, but from one thread at a time.
/// Distinct sealers share nothing and may be used from different threads at
/// once. It holds one 64 KiB buffer of plaintext, wiped when freed.
pub struct callseal_sealer {
    poisoned: bool,
    state: State,
}

enum State {
    Open(Sealer<Sink>),
    Finished,
    Aborted,
    /// `finish` failed: the output is incomplete (a path sink was removed).
    Failed,
}

impl Handle for callseal_sealer {
    fn poisoned(&mut self) -> &mut bool {
        &mut self.poisoned
    }
}

impl callseal_sealer {
    fn new(sealer: Sealer<Sink>) -> callseal_sealer {
        callseal_sealer {
            poisoned: false,
            state: State::Open(sealer),
        }
    }

    fn refusal(&self, what: &str) -> Failure {
        let why = match self.state {
            State::Open(_) => "the sealer is open",
            State::Finished => "the sealer was already finished",
            State::Aborted => "the sealer was aborted",
            State::Failed => "an earlier finish failed and the recording is incomplete",
        };
        Failure::usage(format!("cannot {what}: {why}"))
    }

    fn open_mut(&mut self, what: &str) -> FfiResult<&mut Sealer<Sink>> {
        if !matches!(self.state, State::Open(_)) {
            return Err(self.refusal(what));
        }
        match &mut self.state {
            State::Open(sealer) => Ok(sealer),
            _ => unreachable!("checked above"),
        }
    }

    /// Takes the open sealer out, leaving `Failed` behind until the caller
    /// sets the real outcome.
    fn take_open(&mut self, what: &str) -> FfiResult<Sealer<Sink>> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Open(sealer) => Ok(sealer),
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
    /// Makes the output final (renames a path sink onto its name).
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

/// A `callseal_write_fn` and its userdata as a `Write`.
pub(crate) struct CallbackWriter {
    write: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> c_int,
    userdata: *mut c_void,
}

impl CallbackWriter {
    pub(crate) fn new(
        write: callseal_write_fn,
        userdata: *mut c_void,
    ) -> FfiResult<CallbackWriter> {
        let write = write.ok_or_else(|| Failure::null("write"))?;
        Ok(CallbackWriter { write, userdata })
    }
}

impl Write for CallbackWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: the callback contract (see `callseal_write_fn`): it reads
        // at most `len` bytes from `buf`, valid for this call only.
        let rc = unsafe { (self.write)(self.userdata, buf.as_ptr(), buf.len()) };
        match rc {
            0 => Ok(buf.len()),
            errno => Err(io::Error::new(
                io::Error::from_raw_os_error(errno).kind(),
                format!(
                    "write callback failed: {} (errno {errno})",
                    io::Error::from_raw_os_error(errno)
                ),
            )),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Starts sealing a recording to the file at `path`, for the
/// `n_recipients` recipients (`age1...` strings) in `recipients`.
///
/// The file is written under a temporary name beside `path` (created with
/// mode 0644 before the umask) and renamed onto `path` by
/// `callseal_sealer_finish`, so `path` only ever holds a complete
/// recording; an existing file there is replaced at that moment. The
/// temporary file is removed by `callseal_sealer_abort`, by a failed
/// finish, and by `callseal_sealer_free` before finish. The header is
/// written before this returns.
///
/// On success `*out` owns a new sealer, to be released with
/// `callseal_sealer_free`. The strings are not kept.
///
/// Returns:
/// - `CALLSEAL_OK`: `*out` was set.
/// - `CALLSEAL_E_NULL_ARG`: `recipients`, one of its elements, `path` or
///   `out` is NULL.
/// - `CALLSEAL_E_NO_RECIPIENTS`: `n_recipients` is 0.
/// - `CALLSEAL_E_INVALID_RECIPIENT`: a recipient is not a valid `age1...`
///   key (the message says which).
/// - `CALLSEAL_E_INVALID_ARG`: `n_recipients` is impossibly large.
/// - `CALLSEAL_E_IO`: the temporary file could not be created or written.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// `recipients` must be NULL or point to `n_recipients` pointers, each NULL
/// or a NUL-terminated string; `path` NULL or a NUL-terminated string;
/// `out` NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn callseal_sealer_new_path(
    recipients: *const *const c_char,
    n_recipients: usize,
    path: *const c_char,
    out: *mut *mut callseal_sealer,
) -> callseal_status {
    call(|| {
        // SAFETY: pointers as described in the contract above.
        let (out, list, path) = unsafe {
            let out = Out::new(out, "out")?;
            let path = c_path(path, "path")?;
            (out, recipients_arg(recipients, n_recipients)?, path)
        };
        let file = AtomicFile::create(path, 0o644)?;
        let sealer = Sealer::new(&list, Sink::File(file))?;
        out.set(into_handle(callseal_sealer::new(sealer)));
        Ok(())
    })
}

/// Checks the list pointer, then the count, then parses each recipient.
///
/// # Safety
/// As for `c_text_array`.
pub(crate) unsafe fn recipients_arg(
    list: *const *const c_char,
    n: usize,
) -> FfiResult<Vec<Recipient>> {
    if list.is_null() {
        return Err(Failure::null("recipients"));
    }
    if n == 0 {
        return Err(crate::Error::NoRecipients.into());
    }
    // SAFETY: same contract as ours.
    let texts = unsafe { c_text_array(list, n, "recipients", CALLSEAL_E_INVALID_RECIPIENT) }?;
    texts
        .iter()
        .map(|t| t.parse::<Recipient>().map_err(Failure::from))
        .collect()
}

/// Starts sealing a recording whose bytes are handed to `write` (with
/// `userdata`) as they are produced: first the header, during this call,
/// then one 64 KiB sealed chunk at a time from `callseal_sealer_write`,
/// and the final chunk from `callseal_sealer_finish`. A recording is only
/// complete once finish has returned `CALLSEAL_OK`; the callback's owner
/// decides what to do with the bytes of an aborted one.
///
/// On success `*out` owns a new sealer, to be released with
/// `callseal_sealer_free`. `userdata` is passed through untouched and must
/// stay valid while the sealer can call `write`.
///
/// Returns:
/// - `CALLSEAL_OK`: `*out` was set.
/// - `CALLSEAL_E_NULL_ARG`: `recipients`, one of its elements, `write` or
///   `out` is NULL (`userdata` may be NULL).
/// - `CALLSEAL_E_NO_RECIPIENTS`: `n_recipients` is 0.
/// - `CALLSEAL_E_INVALID_RECIPIENT`: a recipient is not a valid `age1...`
///   key.
/// - `CALLSEAL_E_INVALID_ARG`: `n_recipients` is impossibly large.
/// - `CALLSEAL_E_IO`: `write` returned an errno for the header.
/// - `CALLSEAL_E_PANIC`: internal bug.
///
/// # Safety
/// As for `callseal_sealer_new_path`; `write` must follow the
/// `callseal_write_fn` contract.
#[no_mangle]
pub unsafe extern "C" fn callseal_sealer_new_callback(
    recipients: *const *const c_char,
    n_recipients: usize,
    write: callseal_write_fn,
    userdata: *mut c_void,
    out: *mut *mut callseal_sealer,
) -> callseal_status {
    call(|| {
        // SAFETY: pointers as described in the contract above.
        let (out, writer) = (
            unsafe { Out::new(out, "out") }?,
            CallbackWriter::new(write, userdata)?,
        );
        // SAFETY: `recipients` as described in the contract above.
        let list = unsafe { recipients_arg(recipients, n_recipients) }?;
        let sink = Sink::Callback(writer);
        let sealer = Sealer::new(&list, sink)?;
        out.set(into_handle(callseal_sealer::new(sealer)));
        Ok(())
    })
}

/// Adds `len` bytes of audio at `buf` to the recording. The bytes are
/// copied into the sealer's 64 KiB chunk buffer; each time a chunk fills
/// (and more data follows) it is sealed and written to the sink, so most
/// calls only copy. `len` may be 0 (`buf` must still not be NULL).
///
/// Returns:
/// - `CALLSEAL_OK`: all `len` bytes were accepted.
/// - `CALLSEAL_E_NULL_ARG`: `sealer` or `buf` is NULL.
/// - `CALLSEAL_E_USAGE`: the sealer was finished, aborted or poisoned, or
///   an earlier write to its sink failed (the recording is incomplete).
/// - `CALLSEAL_E_INVALID_ARG`: `len` is impossibly large.
/// - `CALLSEAL_E_IO`: writing a sealed chunk to the sink failed; later
///   writes and finish return `CALLSEAL_E_USAGE`.
/// - `CALLSEAL_E_PANIC`: internal bug; the sealer is now poisoned.
///
/// # Safety
/// `sealer` must be NULL or a live sealer not in use by another thread;
/// `buf` NULL or valid for reads of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn callseal_sealer_write(
    sealer: *mut callseal_sealer,
    buf: *const u8,
    len: usize,
) -> callseal_status {
    // SAFETY: `sealer` and `buf` as described in the contract above.
    unsafe {
        call_on(sealer, "sealer", |s| {
            let data = bytes(buf, len, "buf")?;
            s.open_mut("write")?.write_all(data)?;
            Ok(())
        })
    }
}

/// Seals the final chunk, flushes the sink and completes the recording:
/// for a path sink the file is synced and renamed onto its final name.
/// Only after `CALLSEAL_OK` here does the recording open as complete. The
/// sealer must still be freed.
///
/// Returns:
/// - `CALLSEAL_OK`: the recording is complete.
/// - `CALLSEAL_E_NULL_ARG`: `sealer` is NULL.
/// - `CALLSEAL_E_USAGE`: already finished, aborted or poisoned; or an
///   earlier write to the sink failed (a path sink's temporary file is
///   then removed).
/// - `CALLSEAL_E_IO`: writing, syncing or renaming failed. The recording
///   is incomplete (a path sink's temporary file is removed) and later
///   calls return `CALLSEAL_E_USAGE`.
/// - `CALLSEAL_E_PANIC`: internal bug; the sealer is now poisoned.
///
/// # Safety
/// `sealer` must be NULL or a live sealer not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn callseal_sealer_finish(sealer: *mut callseal_sealer) -> callseal_status {
    // SAFETY: `sealer` as described in the contract above.
    unsafe {
        call_on(sealer, "sealer", |s| {
            let sink = s.take_open("finish")?.finish()?;
            sink.commit()?;
            s.state = State::Finished;
            Ok(())
        })
    }
}

/// Abandons the recording: buffered plaintext is wiped and nothing more is
/// written. A path sink's temporary file is removed (the final path is left
/// as it was); a callback sink has received only whole, non-final chunks,
/// which no age reader accepts as a complete file. The sealer must still
/// be freed.
///
/// Returns:
/// - `CALLSEAL_OK`: the recording was abandoned.
/// - `CALLSEAL_E_NULL_ARG`: `sealer` is NULL.
/// - `CALLSEAL_E_USAGE`: already finished, aborted or poisoned, or a finish
///   failed.
/// - `CALLSEAL_E_PANIC`: internal bug; the sealer is now poisoned.
///
/// # Safety
/// `sealer` must be NULL or a live sealer not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn callseal_sealer_abort(sealer: *mut callseal_sealer) -> callseal_status {
    // SAFETY: `sealer` as described in the contract above.
    unsafe {
        call_on(sealer, "sealer", |s| {
            drop(s.take_open("abort")?);
            s.state = State::Aborted;
            Ok(())
        })
    }
}

/// Releases a sealer. Freeing one that was not finished abandons its
/// recording, as `callseal_sealer_abort` does. NULL is a no-op. Never
/// fails.
///
/// # Safety
/// `sealer` must be NULL or a live sealer not in use by another thread; it
/// must not be used, or freed again, afterwards.
#[no_mangle]
pub unsafe extern "C" fn callseal_sealer_free(sealer: *mut callseal_sealer) {
    // SAFETY: `sealer` as described in the contract above.
    unsafe { free_handle(sealer) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_a_call_poisons_the_handle() {
        let id = crate::Identity::generate();
        let sealer = Sealer::new(
            &[id.recipient()],
            Sink::Callback(CallbackWriter::new(Some(discard), std::ptr::null_mut()).unwrap()),
        )
        .unwrap();
        let handle = into_handle(callseal_sealer::new(sealer));
        // SAFETY: a live handle from into_handle, used on this thread only.
        let status = unsafe { call_on(handle, "sealer", |_| panic!("injected")) };
        assert_eq!(status, CALLSEAL_E_PANIC);
        let message = super::super::boundary::with_last_error(|m| m.to_string());
        assert!(message.contains("injected"), "{message}");
        // SAFETY: as above.
        let again = unsafe { callseal_sealer_write(handle, b"x".as_ptr(), 1) };
        assert_eq!(again, CALLSEAL_E_USAGE);
        let message = super::super::boundary::with_last_error(|m| m.to_string());
        assert!(message.contains("earlier internal panic"), "{message}");
        // SAFETY: as above; freed once.
        unsafe { callseal_sealer_free(handle) };
    }

    #[test]
    fn a_panic_in_a_handleless_call_is_caught() {
        assert_eq!(
            super::super::boundary::call(|| panic!("boom")),
            CALLSEAL_E_PANIC
        );
    }

    unsafe extern "C" fn discard(_: *mut c_void, _: *const u8, _: usize) -> c_int {
        0
    }
}
