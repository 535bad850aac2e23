//! Key generation and conversion.

use std::ffi::c_char;

use super::boundary::{c_text, call, FfiResult, StrOut};
use super::status::*;
use crate::keys::Identity;

/// Bytes needed to hold an identity string (`AGE-SECRET-KEY-1...`, 74
/// characters) and its NUL.
pub const CALLSEAL_IDENTITY_BUF_LEN: usize = 75;
/// Bytes needed to hold a recipient string (`age1...`, 62 characters) and
/// its NUL.
pub const CALLSEAL_RECIPIENT_BUF_LEN: usize = 63;

/// Generates a new X25519 key pair from the operating system's random
/// source and writes the identity (secret, `AGE-SECRET-KEY-1...`) and its
/// recipient (public, `age1...`) as NUL-terminated strings.
///
/// `identity_cap` must be at least `CALLSEAL_IDENTITY_BUF_LEN` and
/// `recipient_cap` at least `CALLSEAL_RECIPIENT_BUF_LEN`. Both buffers are
/// checked before either is written. The identity is a secret: wipe the
/// buffer when done with it. The library keeps no copy.
///
/// Thread safety: may be called from any thread at any time.
///
/// Returns:
/// - `CALLSEAL_OK`: both strings were written.
/// - `CALLSEAL_E_NULL_ARG`: `identity` or `recipient` is NULL.
/// - `CALLSEAL_E_BUFFER_TOO_SMALL`: a buffer is short; nothing written.
/// - `CALLSEAL_E_PANIC`: internal bug; nothing written.
///
/// # Safety
/// `identity` must be valid for `identity_cap` bytes of writes and
/// `recipient` for `recipient_cap` bytes, or NULL.
#[no_mangle]
pub unsafe extern "C" fn callseal_identity_generate(
    identity: *mut c_char,
    identity_cap: usize,
    recipient: *mut c_char,
    recipient_cap: usize,
) -> callseal_status {
    call(|| {
        // SAFETY: the buffers are valid for their caps (contract above).
        let (id_out, r_out) = unsafe {
            (
                StrOut::new(identity, identity_cap, "identity")?,
                StrOut::new(recipient, recipient_cap, "recipient")?,
            )
        };
        let generated = Identity::generate();
        let secret = generated.to_secret_string(); // wiped on drop
        let public = generated.recipient().to_string();
        id_out.check_fits(&secret)?;
        r_out.check_fits(&public)?;
        id_out.write(&secret);
        r_out.write(&public);
        Ok(())
    })
}

/// Writes the recipient (`age1...`, NUL-terminated) that belongs to the
/// identity string `identity` (`AGE-SECRET-KEY-1...`, exactly one key, no
/// surrounding whitespace).
///
/// The identity text is read in place and never copied; the library keeps
/// nothing. Thread safety: may be called from any thread at any time.
///
/// Returns:
/// - `CALLSEAL_OK`: the recipient was written.
/// - `CALLSEAL_E_NULL_ARG`: `identity` or `recipient` is NULL.
/// - `CALLSEAL_E_INVALID_IDENTITY`: `identity` is not a valid identity (or
///   not UTF-8); the message never repeats it.
/// - `CALLSEAL_E_BUFFER_TOO_SMALL`: `recipient_cap` is below
///   `CALLSEAL_RECIPIENT_BUF_LEN`; nothing written.
/// - `CALLSEAL_E_PANIC`: internal bug; nothing written.
///
/// # Safety
/// `identity` must be NULL or a NUL-terminated string; `recipient` must be
/// NULL or valid for `recipient_cap` bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn callseal_recipient_from_identity(
    identity: *const c_char,
    recipient: *mut c_char,
    recipient_cap: usize,
) -> callseal_status {
    call(|| {
        // SAFETY: NUL-terminated string and a buffer valid for its cap
        // (contract above).
        let (text, out) = unsafe {
            (
                c_text(identity, "identity", CALLSEAL_E_INVALID_IDENTITY)?,
                StrOut::new(recipient, recipient_cap, "recipient")?,
            )
        };
        let public = parse_identity(text)?.recipient().to_string();
        out.check_fits(&public)?;
        out.write(&public);
        Ok(())
    })
}

fn parse_identity(text: &str) -> FfiResult<Identity> {
    Ok(text.parse::<Identity>()?)
}
