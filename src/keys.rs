//! X25519 identities (`AGE-SECRET-KEY-1...`) and recipients (`age1...`), and
//! how they wrap and unwrap a file key in an `X25519` stanza.

use std::fmt;
use std::str::FromStr;

use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32, Hrp};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::format::Stanza;
use crate::primitives::{
    b64_decode_exact, b64_encode, fill_random, hkdf, unwrap_file_key, wrap_file_key, FileKey,
};

const SECRET_HRP: &str = "age-secret-key-";
const PUBLIC_HRP: &str = "age";
const X25519_TAG: &str = "X25519";
const X25519_INFO: &[u8] = b"age-encryption.org/v1/X25519";

/// A supervisor's private key: opens recordings sealed to its [`Recipient`].
///
/// The secret scalar is wiped from memory when the identity is dropped, and
/// `Debug` shows only the public recipient.
///
/// ```
/// use callseal::Identity;
///
/// let id = Identity::generate();
/// let text = id.to_secret_string();
/// assert!(text.starts_with("AGE-SECRET-KEY-1"));
/// let again: Identity = text.parse().unwrap();
/// assert_eq!(again.recipient(), id.recipient());
/// assert!(!format!("{id:?}").contains("SECRET"));
/// ```
#[derive(Clone)]
pub struct Identity {
    secret: StaticSecret,
    /// Derived once: every stanza tried needs it for the HKDF salt.
    public: PublicKey,
}

/// A public key that recordings are sealed to, written `age1...`.
///
/// ```
/// use callseal::{Identity, Recipient};
///
/// let r = Identity::generate().recipient();
/// let parsed: Recipient = r.to_string().parse().unwrap();
/// assert_eq!(parsed, r);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Recipient {
    public: PublicKey,
}

impl Identity {
    /// Generates a new identity from the operating system's random source.
    ///
    /// ```
    /// let a = callseal::Identity::generate();
    /// let b = callseal::Identity::generate();
    /// assert_ne!(a.recipient(), b.recipient());
    /// ```
    pub fn generate() -> Identity {
        let mut bytes = Zeroizing::new([0u8; 32]);
        fill_random(bytes.as_mut());
        Identity::from_secret(StaticSecret::from(*bytes))
    }

    fn from_secret(secret: StaticSecret) -> Identity {
        let public = PublicKey::from(&secret);
        Identity { secret, public }
    }

    /// The public recipient that files for this identity are sealed to.
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// assert!(id.recipient().to_string().starts_with("age1"));
    /// ```
    pub fn recipient(&self) -> Recipient {
        Recipient {
            public: self.public,
        }
    }

    /// The secret key in age's Bech32 form, `AGE-SECRET-KEY-1...`, in a
    /// buffer that is wiped when dropped. Handle it like a password.
    ///
    /// ```
    /// let id = callseal::Identity::generate();
    /// assert_eq!(id.to_secret_string().len(), 74);
    /// ```
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        let mut bytes = self.secret.to_bytes();
        let hrp = Hrp::parse(SECRET_HRP).expect("valid HRP");
        let encoded = bech32::encode_upper::<Bech32>(hrp, &bytes).expect("32 bytes always encode");
        bytes.zeroize();
        Zeroizing::new(encoded)
    }

    /// Tries to unwrap a file key from one stanza. `Ok(None)` means the
    /// stanza is not an `X25519` stanza for this identity; `Err` means it is
    /// an `X25519` stanza that breaks the spec (a header failure).
    pub(crate) fn unwrap_stanza(&self, stanza: &Stanza) -> Result<Option<FileKey>> {
        if stanza.tag != X25519_TAG {
            return Ok(None);
        }
        let [share_b64] = stanza.args.as_slice() else {
            return Err(Error::Header(
                "X25519 stanza must have exactly one argument".into(),
            ));
        };
        let share = b64_decode_exact::<32>(share_b64.as_bytes()).ok_or_else(|| {
            Error::Header("X25519 ephemeral share is not 32 bytes of canonical base64".into())
        })?;
        // Check the length before any AEAD work (partitioning-oracle defence).
        let body: &[u8; 32] = stanza
            .body
            .as_slice()
            .try_into()
            .map_err(|_| Error::Header("X25519 stanza body is not 32 bytes".into()))?;
        let share = PublicKey::from(share);
        let shared = self.secret.diffie_hellman(&share);
        if !shared.was_contributory() {
            return Err(Error::Header(
                "X25519 share is a low-order point (all-zero shared secret)".into(),
            ));
        }
        let salt = [share.as_bytes().as_slice(), self.public.as_bytes()].concat();
        let wrap_key = hkdf(&salt, X25519_INFO, shared.as_bytes());
        Ok(unwrap_file_key(&wrap_key, body))
    }
}

impl Recipient {
    /// Wraps `file_key` for this recipient in a fresh `X25519` stanza.
    pub(crate) fn wrap(&self, file_key: &[u8; 16]) -> Result<Stanza> {
        let ephemeral = Identity::generate();
        let share = ephemeral.public;
        let shared = ephemeral.secret.diffie_hellman(&self.public);
        if !shared.was_contributory() {
            return Err(Error::InvalidRecipient(format!(
                "{self} is a low-order point; no file can be sealed to it"
            )));
        }
        let salt = [share.as_bytes().as_slice(), self.public.as_bytes()].concat();
        let wrap_key = hkdf(&salt, X25519_INFO, shared.as_bytes());
        Ok(Stanza {
            tag: X25519_TAG.into(),
            args: vec![b64_encode(share.as_bytes())],
            body: wrap_file_key(&wrap_key, file_key).to_vec(),
        })
    }
}

/// Decodes a Bech32 (not Bech32m) string with the expected HRP into 32 bytes,
/// enforcing single case and zero padding bits.
fn decode_key(text: &str, hrp: &str) -> std::result::Result<Zeroizing<[u8; 32]>, String> {
    let has_upper = text.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = text.bytes().any(|b| b.is_ascii_lowercase());
    if has_upper && has_lower {
        return Err("mixes upper and lower case".into());
    }
    let parsed =
        CheckedHrpstring::new::<Bech32>(text).map_err(|e| format!("not valid Bech32 ({e})"))?;
    if !parsed.hrp().to_lowercase().eq(hrp) {
        return Err(format!("wrong prefix `{}`", parsed.hrp()));
    }
    parsed
        .validate_segwit_padding()
        .map_err(|_| "non-zero padding bits".to_string())?;
    let mut bytes = Zeroizing::new([0u8; 32]);
    let mut n = 0;
    for byte in parsed.byte_iter() {
        if n == 32 {
            return Err("key is longer than 32 bytes".into());
        }
        bytes[n] = byte;
        n += 1;
    }
    if n != 32 {
        return Err(format!("key is {n} bytes, expected 32"));
    }
    Ok(bytes)
}

impl FromStr for Identity {
    type Err = Error;

    /// Parses `AGE-SECRET-KEY-1...`. Error messages never echo the secret.
    fn from_str(s: &str) -> Result<Identity> {
        let bytes = decode_key(s, SECRET_HRP).map_err(|why| {
            Error::InvalidIdentity(format!("not an AGE-SECRET-KEY-1... identity: {why}"))
        })?;
        if !s.starts_with("AGE-SECRET-KEY-1") {
            return Err(Error::InvalidIdentity(
                "identities are written in upper case, AGE-SECRET-KEY-1...".into(),
            ));
        }
        Ok(Identity::from_secret(StaticSecret::from(*bytes)))
    }
}

impl FromStr for Recipient {
    type Err = Error;

    fn from_str(s: &str) -> Result<Recipient> {
        if s.starts_with("AGE-SECRET-KEY-") {
            return Err(Error::InvalidRecipient(
                "that is a secret key (AGE-SECRET-KEY-1...), not a public recipient; never share it".into(),
            ));
        }
        let shown: String = s.chars().take(80).collect();
        let bytes = decode_key(s, PUBLIC_HRP).map_err(|why| {
            Error::InvalidRecipient(format!(
                "`{shown}` is not an age1... X25519 recipient: {why}"
            ))
        })?;
        if !s.starts_with("age1") {
            return Err(Error::InvalidRecipient(format!(
                "`{shown}`: recipients are written in lower case, age1..."
            )));
        }
        Ok(Recipient {
            public: PublicKey::from(*bytes),
        })
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = Hrp::parse(PUBLIC_HRP).expect("valid HRP");
        let text = bech32::encode_lower::<Bech32>(hrp, self.public.as_bytes())
            .expect("32 bytes always encode");
        f.write_str(&text)
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({self})")
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Identity {{ recipient: {}, secret: <redacted> }}",
            self.recipient()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // From the C2SP vector `x25519`.
    const VECTOR_IDENTITY: &str =
        "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";

    #[test]
    fn identity_text_round_trips() {
        let id: Identity = VECTOR_IDENTITY.parse().unwrap();
        assert_eq!(id.to_secret_string().as_str(), VECTOR_IDENTITY);
    }

    #[test]
    fn mixed_case_and_wrong_prefix_are_refused() {
        let mut mixed = VECTOR_IDENTITY.to_string();
        mixed.replace_range(20..21, &mixed[20..21].to_lowercase());
        assert!(mixed.parse::<Identity>().is_err());
        let lower = VECTOR_IDENTITY.to_lowercase();
        assert!(
            lower.parse::<Identity>().is_err(),
            "identities are upper case"
        );
        let r = Identity::generate().recipient().to_string();
        assert!(r.parse::<Identity>().is_err());
        assert!(VECTOR_IDENTITY
            .parse::<Recipient>()
            .unwrap_err()
            .to_string()
            .contains("secret key"));
    }

    #[test]
    fn corrupted_checksum_is_refused() {
        let r = Identity::generate().recipient().to_string();
        let mut bytes = r.into_bytes();
        let last = bytes.len() - 1;
        bytes[last] = if bytes[last] == b'q' { b'p' } else { b'q' };
        assert!(String::from_utf8(bytes)
            .unwrap()
            .parse::<Recipient>()
            .is_err());
    }

    #[test]
    fn wrapped_key_unwraps_only_for_its_identity() {
        let id = Identity::generate();
        let other = Identity::generate();
        let file_key = [9u8; 16];
        let stanza = id.recipient().wrap(&file_key).unwrap();
        assert_eq!(*id.unwrap_stanza(&stanza).unwrap().unwrap(), file_key);
        assert!(other.unwrap_stanza(&stanza).unwrap().is_none());
    }

    #[test]
    fn low_order_share_is_a_hard_error() {
        let id = Identity::generate();
        let stanza = Stanza {
            tag: "X25519".into(),
            args: vec![b64_encode(&[0u8; 32])],
            body: vec![0; 32],
        };
        assert!(matches!(id.unwrap_stanza(&stanza), Err(Error::Header(_))));
    }
}
