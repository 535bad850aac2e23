//! The C ABI (`include/callseal.h`, generated from this module by cbindgen).
//!
//! A thin shell over the Rust API in the manner of rustls-ffi: every
//! exported function turns its arguments into Rust values through the
//! helpers in `boundary` (one place for NULL checks, pointer casts, panic
//! catching and the thread's last error message), calls the engine, and
//! maps [`crate::Error`] to a `callseal_status` (`status`). No format or
//! crypto logic lives here.
//!
//! Conventions (also stated at the top of the header):
//! - every name starts with `callseal_` (`CALLSEAL_` for macros);
//! - handles are opaque and released with their `_free`, which accepts NULL;
//! - every fallible function returns a `callseal_status` (0 = success) and
//!   writes its outputs only on success; `callseal_last_error` gives the
//!   detailed message of the thread's last failure;
//! - every pointer is checked (`CALLSEAL_E_NULL_ARG`);
//! - no panic crosses the boundary (`CALLSEAL_E_PANIC`, and the handle is
//!   poisoned); this needs `panic = "unwind"`, the default profile setting;
//! - calls in the wrong order return `CALLSEAL_E_USAGE`.

#![allow(unsafe_code)]
#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod audio;
mod boundary;
pub mod keys;
pub mod opener;
pub mod sealer;
pub mod status;

use std::ffi::c_char;

use boundary::{call_infallible, copy_truncated, with_last_error};
use status::callseal_status;

/// Major version of the library this header was generated for (semver).
pub const CALLSEAL_VERSION_MAJOR: u32 = 0;
/// Minor version of the library this header was generated for.
pub const CALLSEAL_VERSION_MINOR: u32 = 1;
/// Patch version of the library this header was generated for.
pub const CALLSEAL_VERSION_PATCH: u32 = 0;
/// The version as one comparable number: MAJOR * 1000000 + MINOR * 1000 +
/// PATCH.
pub const CALLSEAL_VERSION_NUMBER: u32 =
    CALLSEAL_VERSION_MAJOR * 1_000_000 + CALLSEAL_VERSION_MINOR * 1_000 + CALLSEAL_VERSION_PATCH;

// The macros above are literals (cbindgen copies literals) checked against
// Cargo.toml at compile time: a version bump that forgets them fails to
// build, and the header test then asks for the header to be regenerated.
const _: () = {
    assert!(CALLSEAL_VERSION_MAJOR == parse_u32(env!("CARGO_PKG_VERSION_MAJOR")));
    assert!(CALLSEAL_VERSION_MINOR == parse_u32(env!("CARGO_PKG_VERSION_MINOR")));
    assert!(CALLSEAL_VERSION_PATCH == parse_u32(env!("CARGO_PKG_VERSION_PATCH")));
};

const fn parse_u32(s: &str) -> u32 {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i < bytes.len() {
        n = n * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    n
}

const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The version of the library actually linked, as a static NUL-terminated
/// string such as "0.1.0" (compare with the `CALLSEAL_VERSION_*` macros of
/// the header compiled against). Never NULL; never free it. Any thread.
#[no_mangle]
pub extern "C" fn callseal_version() -> *const c_char {
    VERSION.as_ptr().cast()
}

/// A static NUL-terminated description of `status`, starting with its
/// name, e.g. "CALLSEAL_E_NULL_ARG: a pointer argument was NULL"; unknown
/// codes get a generic text. Never NULL; never free it. Any thread.
#[no_mangle]
pub extern "C" fn callseal_status_str(status: callseal_status) -> *const c_char {
    call_infallible(c"callseal_status_str failed".as_ptr(), || {
        status::describe(status).as_ptr()
    })
}

/// Copies the detailed message of the last failed callseal call on the
/// calling thread into `buf`, NUL-terminated and truncated to fit `cap`
/// bytes, and returns the message length (without the NUL), like
/// `snprintf`: the message was truncated when the result is `>= cap`.
/// `buf` may be NULL when `cap` is 0, to ask for the length. An empty
/// string if no call has failed on this thread yet; successful calls leave
/// the message as it was. Each thread has its own message.
///
/// # Safety
/// `buf` must be NULL or valid for writes of `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn callseal_last_error(buf: *mut c_char, cap: usize) -> usize {
    call_infallible(0, || {
        // SAFETY: `buf` is NULL or valid for `cap` bytes (contract above).
        with_last_error(|message| unsafe { copy_truncated(message, buf, cap) })
    })
}

#[cfg(test)]
mod tests {
    use super::status::*;
    use std::ffi::CStr;

    #[test]
    fn codes_are_distinct_and_described() {
        let mut codes: Vec<_> = ALL.iter().map(|(c, _)| *c).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ALL.len());
        // SAFETY: static strings returned by the library.
        let text = unsafe { CStr::from_ptr(super::callseal_status_str(CALLSEAL_E_HEADER_MAC)) };
        assert!(text.to_str().unwrap().starts_with("CALLSEAL_E_HEADER_MAC:"));
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(super::callseal_status_str(12345)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown callseal status code");
    }

    #[test]
    fn every_engine_error_gets_its_own_code() {
        use crate::{Error, PayloadError};
        let cases = [
            (Error::Io(std::io::Error::other("x")), CALLSEAL_E_IO),
            (
                Error::InvalidIdentity("x".into()),
                CALLSEAL_E_INVALID_IDENTITY,
            ),
            (
                Error::InvalidRecipient("x".into()),
                CALLSEAL_E_INVALID_RECIPIENT,
            ),
            (Error::NoRecipients, CALLSEAL_E_NO_RECIPIENTS),
            (Error::Armor("x".into()), CALLSEAL_E_ARMOR),
            (Error::Header("x".into()), CALLSEAL_E_HEADER),
            (Error::NoMatch("x".into()), CALLSEAL_E_NO_MATCH),
            (Error::HeaderMac, CALLSEAL_E_HEADER_MAC),
            (
                Error::Payload(PayloadError::Truncated {
                    authenticated_bytes: 0,
                    mid_chunk: true,
                }),
                CALLSEAL_E_PAYLOAD_TRUNCATED,
            ),
            (
                Error::Payload(PayloadError::Tampered { chunk: 3 }),
                CALLSEAL_E_PAYLOAD_TAMPERED,
            ),
            (
                Error::Payload(PayloadError::TrailingData),
                CALLSEAL_E_PAYLOAD_INVALID,
            ),
            (
                Error::Payload(PayloadError::EmptyFinalChunk),
                CALLSEAL_E_PAYLOAD_INVALID,
            ),
            (Error::Usage("x"), CALLSEAL_E_USAGE),
        ];
        for (err, code) in cases {
            assert_eq!(status_of(&err), code, "{err:?}");
        }
    }

    #[test]
    fn last_error_is_truncated_like_snprintf() {
        // SAFETY: NULL buffers are allowed.
        let status = unsafe { super::sealer::callseal_sealer_finish(std::ptr::null_mut()) };
        assert_eq!(status, CALLSEAL_E_NULL_ARG);
        // SAFETY: NULL with cap 0 asks for the length.
        let need = unsafe { super::callseal_last_error(std::ptr::null_mut(), 0) };
        assert_eq!(need, "argument `sealer` is NULL".len());
        let mut small = [0x7f as std::ffi::c_char; 9];
        // SAFETY: `small` is valid for its length.
        let n = unsafe { super::callseal_last_error(small.as_mut_ptr(), small.len()) };
        assert_eq!(n, need);
        // SAFETY: the library NUL-terminated it.
        let text = unsafe { CStr::from_ptr(small.as_ptr()) };
        assert_eq!(text.to_str().unwrap(), "argument");
    }
}
