//! Status codes: what every fallible C function returns, and how engine
//! errors map onto them.

use crate::error::{Error, PayloadError};

/// The result of every fallible callseal function: `CALLSEAL_OK` (0) or one
/// of the `CALLSEAL_E_*` codes. A fixed-width 32-bit integer on every
/// compiler. Codes are stable: a code keeps its meaning forever and a
/// retired code is never reused. `callseal_status_str` names a code and
/// `callseal_last_error` gives the detailed message of the last failure.
pub type callseal_status = i32;

/// Success. Output parameters have been written.
pub const CALLSEAL_OK: callseal_status = 0;
/// A pointer argument was NULL. Nothing was done.
pub const CALLSEAL_E_NULL_ARG: callseal_status = 1;
/// An output buffer is too short for the result (a string and its NUL, or
/// a read into a zero-length buffer). Nothing was written; the detailed
/// message says how many bytes are needed.
pub const CALLSEAL_E_BUFFER_TOO_SMALL: callseal_status = 2;
/// A call in the wrong order or on a handle that cannot take it: a write
/// or finish after `callseal_sealer_finish` or `callseal_sealer_abort`,
/// finish twice, a handle poisoned by an earlier panic, a sealer whose
/// sink failed earlier, a read after an I/O failure.
pub const CALLSEAL_E_USAGE: callseal_status = 3;
/// The library panicked (a bug in callseal). The panic was caught at the
/// boundary; the handle involved refuses further use with
/// `CALLSEAL_E_USAGE` and should be freed.
pub const CALLSEAL_E_PANIC: callseal_status = 4;
/// An argument has an impossible value other than NULL (a length larger
/// than any object can be).
pub const CALLSEAL_E_INVALID_ARG: callseal_status = 5;

/// Reading or writing a file, or a write callback, failed (the message
/// names the path or the errno).
pub const CALLSEAL_E_IO: callseal_status = 10;

/// A string that should hold an `AGE-SECRET-KEY-1...` identity, or an
/// identity file, does not. The message never repeats the secret.
pub const CALLSEAL_E_INVALID_IDENTITY: callseal_status = 20;
/// A string that should hold an `age1...` X25519 recipient does not.
pub const CALLSEAL_E_INVALID_RECIPIENT: callseal_status = 21;
/// Sealing was asked for with no recipients.
pub const CALLSEAL_E_NO_RECIPIENTS: callseal_status = 22;

/// The input's ASCII armor (PEM wrapper) is malformed.
pub const CALLSEAL_E_ARMOR: callseal_status = 30;
/// The input is not an age v1 file or its header is malformed.
pub const CALLSEAL_E_HEADER: callseal_status = 31;
/// The header is well formed but none of the identities opens it.
pub const CALLSEAL_E_NO_MATCH: callseal_status = 32;
/// The header MAC does not verify: the header was altered or damaged.
pub const CALLSEAL_E_HEADER_MAC: callseal_status = 33;

/// The file ends before its final chunk: the writer died or the file was
/// cut. The authenticated part can be salvaged with
/// `callseal_recover_path`.
pub const CALLSEAL_E_PAYLOAD_TRUNCATED: callseal_status = 40;
/// A payload chunk failed authentication: the ciphertext was altered.
pub const CALLSEAL_E_PAYLOAD_TAMPERED: callseal_status = 41;
/// The payload breaks the format in another way: data after the final
/// chunk, or an empty final chunk after data.
pub const CALLSEAL_E_PAYLOAD_INVALID: callseal_status = 42;

/// The recording's sealed `call_id` metadata is not the one the caller
/// expected, or it has none: a recording swapped under another call's name.
/// Nothing was written.
pub const CALLSEAL_E_CALL_ID_MISMATCH: callseal_status = 50;

/// The status an engine error maps to. The match is exhaustive on purpose:
/// a new engine error variant must be given a code here.
pub(crate) fn status_of(err: &Error) -> callseal_status {
    match err {
        Error::Io(_) => CALLSEAL_E_IO,
        Error::InvalidIdentity(_) => CALLSEAL_E_INVALID_IDENTITY,
        Error::InvalidRecipient(_) => CALLSEAL_E_INVALID_RECIPIENT,
        Error::NoRecipients => CALLSEAL_E_NO_RECIPIENTS,
        Error::Armor(_) => CALLSEAL_E_ARMOR,
        Error::Header(_) => CALLSEAL_E_HEADER,
        Error::NoMatch(_) => CALLSEAL_E_NO_MATCH,
        Error::HeaderMac => CALLSEAL_E_HEADER_MAC,
        Error::Payload(p) => payload_status(*p),
        Error::Usage(_) => CALLSEAL_E_USAGE,
    }
}

/// The status a payload failure maps to.
pub(crate) fn payload_status(err: PayloadError) -> callseal_status {
    match err {
        PayloadError::Truncated { .. } => CALLSEAL_E_PAYLOAD_TRUNCATED,
        PayloadError::Tampered { .. } => CALLSEAL_E_PAYLOAD_TAMPERED,
        PayloadError::EmptyFinalChunk | PayloadError::TrailingData => CALLSEAL_E_PAYLOAD_INVALID,
    }
}

/// Every status with its name and short description, in code order.
pub(crate) const ALL: &[(callseal_status, &std::ffi::CStr)] = &[
    (CALLSEAL_OK, c"CALLSEAL_OK: success"),
    (
        CALLSEAL_E_NULL_ARG,
        c"CALLSEAL_E_NULL_ARG: a pointer argument was NULL",
    ),
    (
        CALLSEAL_E_BUFFER_TOO_SMALL,
        c"CALLSEAL_E_BUFFER_TOO_SMALL: an output buffer is too short",
    ),
    (
        CALLSEAL_E_USAGE,
        c"CALLSEAL_E_USAGE: call in the wrong order or on an unusable handle",
    ),
    (
        CALLSEAL_E_PANIC,
        c"CALLSEAL_E_PANIC: internal panic caught (a callseal bug)",
    ),
    (
        CALLSEAL_E_INVALID_ARG,
        c"CALLSEAL_E_INVALID_ARG: an argument has an impossible value",
    ),
    (CALLSEAL_E_IO, c"CALLSEAL_E_IO: I/O error"),
    (
        CALLSEAL_E_INVALID_IDENTITY,
        c"CALLSEAL_E_INVALID_IDENTITY: not an AGE-SECRET-KEY-1... identity",
    ),
    (
        CALLSEAL_E_INVALID_RECIPIENT,
        c"CALLSEAL_E_INVALID_RECIPIENT: not an age1... recipient",
    ),
    (
        CALLSEAL_E_NO_RECIPIENTS,
        c"CALLSEAL_E_NO_RECIPIENTS: no recipients given",
    ),
    (CALLSEAL_E_ARMOR, c"CALLSEAL_E_ARMOR: malformed ASCII armor"),
    (
        CALLSEAL_E_HEADER,
        c"CALLSEAL_E_HEADER: not an age file, or a malformed header",
    ),
    (
        CALLSEAL_E_NO_MATCH,
        c"CALLSEAL_E_NO_MATCH: no identity opens this file",
    ),
    (
        CALLSEAL_E_HEADER_MAC,
        c"CALLSEAL_E_HEADER_MAC: header MAC does not verify (header altered)",
    ),
    (
        CALLSEAL_E_PAYLOAD_TRUNCATED,
        c"CALLSEAL_E_PAYLOAD_TRUNCATED: file is truncated (no final chunk)",
    ),
    (
        CALLSEAL_E_PAYLOAD_TAMPERED,
        c"CALLSEAL_E_PAYLOAD_TAMPERED: a payload chunk failed authentication",
    ),
    (
        CALLSEAL_E_PAYLOAD_INVALID,
        c"CALLSEAL_E_PAYLOAD_INVALID: malformed payload (trailing data or empty final chunk)",
    ),
    (
        CALLSEAL_E_CALL_ID_MISMATCH,
        c"CALLSEAL_E_CALL_ID_MISMATCH: the sealed call id is not the expected one",
    ),
];

/// The static description of `status`, or of an unknown code.
pub(crate) fn describe(status: callseal_status) -> &'static std::ffi::CStr {
    ALL.iter()
        .find(|(code, _)| *code == status)
        .map_or(c"unknown callseal status code", |(_, text)| *text)
}
