//! Arbitrary bytes through header parsing only: `Opener::new` with a fixed
//! identity, `Opener::with_passphrase_limit` with a cap of 2^2 (so a
//! hostile scrypt stanza cannot make a case slow), and the identity and
//! recipient file parsers. Must never panic.

#![no_main]

use std::sync::OnceLock;

use callseal::{parse_identities, parse_recipients, Identity, Opener, Recipient};
use libfuzzer_sys::fuzz_target;

const IDENTITY: &str = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";

fn identity() -> &'static [Identity] {
    static ID: OnceLock<[Identity; 1]> = OnceLock::new();
    ID.get_or_init(|| [IDENTITY.parse().expect("fixed identity parses")])
}

fuzz_target!(|data: &[u8]| {
    for opener in [
        Opener::new(data, identity()),
        Opener::with_passphrase_limit(data, "password", 2),
    ]
    .into_iter()
    .flatten()
    {
        // A header that unlocked has at least one stanza and at least the
        // version line, a stanza and the MAC line.
        assert!(opener.stanza_count() >= 1);
        assert!(opener.header_len() as usize >= "age-encryption.org/v1\n-> X\n\n--- \n".len());
    }

    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(ids) = parse_identities(text) {
            for id in &ids {
                let again: Identity = id.to_secret_string().parse().expect("re-parse identity");
                assert_eq!(again.recipient(), id.recipient());
            }
        }
        if let Ok(rs) = parse_recipients(text) {
            for r in &rs {
                let again: Recipient = r.to_string().parse().expect("re-parse recipient");
                assert_eq!(&again, r);
            }
        }
    }
});
