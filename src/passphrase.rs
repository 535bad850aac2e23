//! The `scrypt` recipient type: files protected by a passphrase (`age -p`).
//!
//! callseal only opens these (a passphrase-protected identity file is the
//! common case); recordings are always sealed to X25519 keys.

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::format::Stanza;
use crate::primitives::{b64_decode_exact, unwrap_file_key, FileKey};

const SCRYPT_TAG: &str = "scrypt";
const SALT_LABEL: &[u8] = b"age-encryption.org/v1/scrypt";

/// The highest scrypt work factor (log2 N) accepted by default, as in the Go
/// reference implementation: about 15 s and 4 GiB-free on a modern machine.
/// A hostile file cannot make us spend more than this.
pub const DEFAULT_MAX_WORK_FACTOR: u8 = 22;

/// A passphrase with the work-factor cap it may be used under.
pub(crate) struct Passphrase<'a> {
    pub passphrase: &'a str,
    pub max_work_factor: u8,
}

impl Passphrase<'_> {
    /// `Ok(None)` when the stanza is not `scrypt` or the passphrase is wrong;
    /// `Err` when the stanza breaks the spec or exceeds the work-factor cap.
    pub(crate) fn unwrap_stanza(&self, stanza: &Stanza) -> Result<Option<FileKey>> {
        if stanza.tag != SCRYPT_TAG {
            return Ok(None);
        }
        let [salt_b64, log_n_text] = stanza.args.as_slice() else {
            return Err(Error::Header(
                "scrypt stanza must have exactly two arguments".into(),
            ));
        };
        let salt = b64_decode_exact::<16>(salt_b64.as_bytes()).ok_or_else(|| {
            Error::Header("scrypt salt is not 16 bytes of canonical base64".into())
        })?;
        let log_n = parse_work_factor(log_n_text)?;
        if log_n > self.max_work_factor {
            return Err(Error::Header(format!(
                "scrypt work factor 2^{log_n} is above the limit 2^{}; refusing to spend that much time and memory",
                self.max_work_factor
            )));
        }
        let body: &[u8; 32] = stanza
            .body
            .as_slice()
            .try_into()
            .map_err(|_| Error::Header("scrypt stanza body is not 32 bytes".into()))?;
        let params = scrypt::Params::new(log_n, 8, 1, 32)
            .map_err(|_| Error::Header(format!("scrypt work factor {log_n} is not usable")))?;
        let salt = [SALT_LABEL, &salt].concat();
        let mut wrap_key = Zeroizing::new([0u8; 32]);
        scrypt::scrypt(
            self.passphrase.as_bytes(),
            &salt,
            &params,
            wrap_key.as_mut(),
        )
        .map_err(|_| Error::Header("scrypt failed".into()))?;
        Ok(unwrap_file_key(&wrap_key, body))
    }
}

/// The work factor must be plain decimal: `^[1-9][0-9]*$`, no sign, no
/// leading zero, no hex or octal, and small enough to mean something.
fn parse_work_factor(text: &str) -> Result<u8> {
    let valid =
        text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0') && !text.is_empty();
    let value = if valid {
        text.parse::<u8>().ok().filter(|&n| n < 64)
    } else {
        None
    };
    value.ok_or_else(|| {
        Error::Header(format!(
            "scrypt work factor `{}` is not a decimal number from 1 to 63",
            text.escape_debug()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_factor_spelling_is_strict() {
        assert_eq!(parse_work_factor("18").unwrap(), 18);
        for bad in [
            "",
            "0",
            "018",
            "+18",
            "-1",
            "0x12",
            "18 ",
            "99999999999999999999",
            "64",
        ] {
            assert!(parse_work_factor(bad).is_err(), "{bad:?}");
        }
    }
}
