//! The one mechanism every exported function goes through: panic catching,
//! the thread's last error message, NULL checks and pointer conversions.
//!
//! Exported functions are written as `call(|| { ... })` or
//! `call_on(handle, |h| { ... })` around a closure returning
//! [`FfiResult`]; arguments are turned into Rust values with the helpers
//! below, which return `CALLSEAL_E_NULL_ARG` for NULL. No other code in the
//! module casts or dereferences a raw pointer.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::ptr::NonNull;

use super::status::*;
use crate::error::Error;

/// Why an exported call failed: its status and the detailed message that
/// `callseal_last_error` returns.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: callseal_status,
    pub(crate) message: String,
}

/// The result of the body of an exported function.
pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

impl Failure {
    pub(crate) fn new(status: callseal_status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn null(arg: &str) -> Failure {
        Failure::new(CALLSEAL_E_NULL_ARG, format!("argument `{arg}` is NULL"))
    }

    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure::new(CALLSEAL_E_USAGE, message)
    }

    fn panic(payload: Box<dyn Any + Send>) -> Failure {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".into());
        Failure::new(
            CALLSEAL_E_PANIC,
            format!("internal panic caught at the C boundary (please report this bug): {what}"),
        )
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Failure {
        Failure::new(status_of(&err), err.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Failure {
        Error::from_io(err).into()
    }
}

thread_local! {
    /// The message of the last failed call on this thread.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn record(failure: Failure) -> callseal_status {
    let Failure { status, message } = failure;
    // `try_with`: during thread teardown the slot may be gone; the status
    // still reaches the caller.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = message);
    status
}

/// Runs `f` with the last error message of this thread.
pub(crate) fn with_last_error<T>(f: impl FnOnce(&str) -> T) -> T {
    let message = LAST_ERROR
        .try_with(|slot| slot.borrow().clone())
        .unwrap_or_default();
    f(&message)
}

/// Runs the body of an exported function: a panic becomes
/// `CALLSEAL_E_PANIC`, a failure is recorded for `callseal_last_error`.
pub(crate) fn call(body: impl FnOnce() -> FfiResult) -> callseal_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => CALLSEAL_OK,
        Ok(Err(failure)) => record(failure),
        Err(payload) => record(Failure::panic(payload)),
    }
}

/// Runs `f` (which must not panic) and turns a panic into `fallback`, for
/// the few exports that return no status.
pub(crate) fn call_infallible<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// An opaque handle type: poisoned once a panic unwinds through a call on it.
pub(crate) trait Handle {
    /// Set by [`call_on`] after a panic; a poisoned handle refuses calls.
    fn poisoned(&mut self) -> &mut bool;
}

/// Runs the body of a method on handle `ptr`: NULL check, refusal of a
/// poisoned handle, and poisoning when the body panics.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `H` made by this library, not
/// used by another thread during the call.
pub(crate) unsafe fn call_on<H: Handle>(
    ptr: *mut H,
    name: &str,
    body: impl FnOnce(&mut H) -> FfiResult,
) -> callseal_status {
    call(|| {
        // SAFETY: the caller passes NULL or a live, unshared handle.
        let handle = unsafe { ptr.as_mut() }.ok_or_else(|| Failure::null(name))?;
        if *handle.poisoned() {
            return Err(Failure::usage(format!(
                "this {name} handle is unusable after an earlier internal panic; free it"
            )));
        }
        match catch_unwind(AssertUnwindSafe(|| body(&mut *handle))) {
            Ok(result) => result,
            Err(payload) => {
                *handle.poisoned() = true;
                Err(Failure::panic(payload))
            }
        }
    })
}

/// Moves `value` to the heap and hands it to C as a handle.
pub(crate) fn into_handle<H>(value: H) -> *mut H {
    Box::into_raw(Box::new(value))
}

/// Frees a handle made by [`into_handle`]; NULL is a no-op. A panic while
/// dropping is swallowed (the memory may leak, the host survives).
///
/// # Safety
/// `ptr` is NULL or a live handle of type `H` from [`into_handle`], not
/// used again afterwards.
pub(crate) unsafe fn free_handle<H>(ptr: *mut H) {
    if ptr.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract, `ptr` came from Box::into_raw and is
        // freed exactly once.
        drop(unsafe { Box::from_raw(ptr) });
    }));
}

/// An output parameter, checked for NULL before any work is done and
/// written only once the call has succeeded.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// # Safety
    /// `ptr` is NULL or valid and aligned for a write of `T`.
    pub(crate) unsafe fn new(ptr: *mut T, name: &str) -> FfiResult<Out<T>> {
        NonNull::new(ptr)
            .map(Out)
            .ok_or_else(|| Failure::null(name))
    }

    pub(crate) fn set(self, value: T) {
        // SAFETY: checked non-NULL in `new`, whose contract makes it valid
        // for a write; `write` drops nothing (the old value may be garbage).
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// A caller's character buffer for a NUL-terminated string result.
pub(crate) struct StrOut {
    buf: NonNull<c_char>,
    cap: usize,
    name: &'static str,
}

impl StrOut {
    /// # Safety
    /// `buf` is NULL or valid for writes of `cap` bytes.
    pub(crate) unsafe fn new(
        buf: *mut c_char,
        cap: usize,
        name: &'static str,
    ) -> FfiResult<StrOut> {
        let buf = NonNull::new(buf).ok_or_else(|| Failure::null(name))?;
        Ok(StrOut { buf, cap, name })
    }

    /// Fails with `CALLSEAL_E_BUFFER_TOO_SMALL` unless `s` and its NUL fit.
    pub(crate) fn check_fits(&self, s: &str) -> FfiResult {
        let need = s.len() + 1;
        if self.cap < need {
            return Err(Failure::new(
                CALLSEAL_E_BUFFER_TOO_SMALL,
                format!(
                    "`{}` holds {} bytes; {need} are needed (including the NUL)",
                    self.name, self.cap
                ),
            ));
        }
        Ok(())
    }

    /// Copies `s` and a NUL; call [`StrOut::check_fits`] first.
    pub(crate) fn write(self, s: &str) {
        assert!(s.len() < self.cap, "check_fits was called first");
        // SAFETY: `buf` is valid for `cap` bytes (contract of `new`) and
        // `s.len() + 1 <= cap`; the source is a distinct Rust allocation.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), self.buf.as_ptr().cast::<u8>(), s.len());
            self.buf.as_ptr().add(s.len()).write(0);
        }
    }
}

/// Copies as much of `text` as fits into `buf` (NUL-terminated when
/// `cap > 0`), returning the full length; for `callseal_last_error`.
///
/// # Safety
/// `buf` is NULL or valid for writes of `cap` bytes.
pub(crate) unsafe fn copy_truncated(text: &str, buf: *mut c_char, cap: usize) -> usize {
    if !buf.is_null() && cap > 0 {
        let n = text.len().min(cap - 1);
        // SAFETY: `buf` is valid for `cap` bytes and `n + 1 <= cap`.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
            buf.add(n).write(0);
        }
    }
    text.len()
}

/// Borrows a NUL-terminated C string.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that outlives `'a` and is not
/// modified meanwhile.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char, name: &str) -> FfiResult<&'a CStr> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract.
    Ok(unsafe { CStr::from_ptr(ptr) })
}

/// Borrows a C string as UTF-8 text; invalid UTF-8 fails with `invalid`.
/// The text is borrowed, never copied, so secrets are not duplicated.
///
/// # Safety
/// As for [`c_str`].
pub(crate) unsafe fn c_text<'a>(
    ptr: *const c_char,
    name: &str,
    invalid: callseal_status,
) -> FfiResult<&'a str> {
    // SAFETY: same contract as ours.
    let s = unsafe { c_str(ptr, name) }?;
    s.to_str()
        .map_err(|_| Failure::new(invalid, format!("`{name}` is not valid UTF-8")))
}

/// Borrows a C string as a file system path (raw bytes on Unix).
///
/// # Safety
/// As for [`c_str`].
pub(crate) unsafe fn c_path<'a>(ptr: *const c_char, name: &str) -> FfiResult<&'a Path> {
    // SAFETY: same contract as ours.
    let s = unsafe { c_str(ptr, name) }?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(Path::new(std::ffi::OsStr::from_bytes(s.to_bytes())))
    }
    #[cfg(not(unix))]
    {
        s.to_str().map(Path::new).map_err(|_| {
            Failure::new(
                CALLSEAL_E_INVALID_ARG,
                format!("`{name}` is not valid UTF-8"),
            )
        })
    }
}

fn check_len(len: usize, name: &str) -> FfiResult {
    if len > isize::MAX as usize {
        return Err(Failure::new(
            CALLSEAL_E_INVALID_ARG,
            format!("length of `{name}` ({len}) is larger than any buffer can be"),
        ));
    }
    Ok(())
}

/// Borrows `len` bytes at `ptr` (never NULL, even for `len == 0`).
///
/// # Safety
/// `ptr` is NULL or valid for reads of `len` bytes, not modified during
/// the call.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    check_len(len, name)?;
    // SAFETY: non-NULL, valid for `len` bytes per the contract, and `len`
    // fits in isize.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows `cap` writable bytes at `ptr` (never NULL).
///
/// # Safety
/// `ptr` is NULL or valid for writes of `cap` bytes, not accessed by
/// anyone else during the call.
pub(crate) unsafe fn bytes_mut<'a>(
    ptr: *mut u8,
    cap: usize,
    name: &str,
) -> FfiResult<&'a mut [u8]> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    check_len(cap, name)?;
    // Memory handed over by C is treated as initialised bytes, as
    // rustls-ffi does: the compiler cannot see how foreign code filled it,
    // and the readers below only ever overwrite it, never read it.
    // SAFETY: non-NULL, valid for `cap` bytes and exclusively ours for the
    // call per the contract; `cap` fits in isize.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, cap) })
}

/// Borrows an array of `n` C strings (the array itself never NULL, nor any
/// element).
///
/// # Safety
/// `ptr` is NULL or valid for reads of `n` pointers, each NULL or a
/// NUL-terminated string, all outliving `'a`.
pub(crate) unsafe fn c_text_array<'a>(
    ptr: *const *const c_char,
    n: usize,
    name: &str,
    invalid: callseal_status,
) -> FfiResult<Vec<&'a str>> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    check_len(n.saturating_mul(std::mem::size_of::<*const c_char>()), name)?;
    // SAFETY: non-NULL and valid for `n` pointers per the contract.
    let items = unsafe { std::slice::from_raw_parts(ptr, n) };
    items
        .iter()
        .enumerate()
        // SAFETY: each element is NULL or a NUL-terminated string.
        .map(|(i, &p)| unsafe { c_text(p, &format!("{name}[{i}]"), invalid) })
        .collect()
}
