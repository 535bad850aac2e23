//! Arbitrary bytes as an age file: opened with a fixed identity and read to
//! the end, recovered, inspected and (when whole) seeked. Must never panic,
//! and the different views of the same bytes must agree.

#![no_main]

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::sync::OnceLock;

use callseal::{inspect, recover, Ending, Error, Identity, Opener};
use libfuzzer_sys::fuzz_target;

/// The identity of the C2SP `x25519` vector; the seeds in `fuzz/seeds/open`
/// are sealed to its recipient so the fuzzer starts inside the payload.
const IDENTITY: &str = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";

fn identity() -> &'static [Identity] {
    static ID: OnceLock<[Identity; 1]> = OnceLock::new();
    ID.get_or_init(|| [IDENTITY.parse().expect("fixed identity parses")])
}

fuzz_target!(|data: &[u8]| {
    let ids = identity();

    // Strict reading: authenticated bytes, then Ok(0) or an error.
    let strict = Opener::new(data, ids).map(|mut opener| {
        let mut out = Vec::new();
        let result = opener
            .read_to_end(&mut out)
            .map(drop)
            .map_err(Error::from_io);
        (out, result, opener.is_armored())
    });

    // Recovery releases exactly what strict reading released. It stops
    // quietly at a payload failure; any other failure (armor, I/O) is still
    // an error, after the same prefix went to the sink.
    let mut recovered = Vec::new();
    let report = recover(data, ids, &mut recovered);
    match (&strict, &report) {
        (Ok((out, result, _)), Ok(report)) => {
            assert_eq!(
                &recovered, out,
                "recover and Opener released different bytes"
            );
            assert_eq!(report.recovered_bytes, out.len() as u64);
            assert_eq!(
                report.complete,
                result.is_ok(),
                "recover and Opener disagree on completeness"
            );
            let payload_failure = match result {
                Err(Error::Payload(p)) => Some(*p),
                Err(other) => panic!("recover went on past a non-payload failure: {other:?}"),
                Ok(()) => None,
            };
            assert_eq!(
                report.stopped_by, payload_failure,
                "recover and Opener stop for different reasons"
            );
        }
        (Ok((out, Err(e), _)), Err(_)) => {
            assert!(
                !matches!(e, Error::Payload(_)),
                "recover failed where the Opener saw a payload failure: {e:?}"
            );
            assert_eq!(
                &recovered, out,
                "recover and Opener released different bytes"
            );
        }
        (Err(_), Err(_)) => {}
        (s, r) => panic!(
            "Opener and recover disagree: {:?} vs {:?}",
            s.as_ref().map(|(_, result, _)| result.as_ref().err()),
            r
        ),
    }

    // inspect needs no key. It reads the whole input (armor included), so
    // it must succeed on every file that read whole, and agree with it.
    let info = inspect(data);
    match &strict {
        Ok((out, Ok(()), armored)) => {
            let info = info.expect("a file that reads whole must inspect");
            assert_eq!(info.armored, *armored);
            assert_eq!(
                info.plaintext_len,
                out.len() as u64,
                "inspect misreports the length"
            );
            assert_ne!(info.ending, Ending::Truncated);
        }
        // A binary file whose header opened always inspects (sizes only).
        Ok((_, Err(_), false)) => {
            let info = info.expect("a binary file that opens must inspect");
            assert!(!info.armored);
        }
        _ => {}
    }

    // Seeking over a binary file that read whole: the authenticated length
    // and a seek to the middle must agree with the plain read.
    if let Ok((out, Ok(()), false)) = &strict {
        let mut opener = Opener::new(Cursor::new(data), ids).expect("opened before");
        assert_eq!(
            opener.plaintext_len().expect("whole file has a length"),
            out.len() as u64
        );
        let mid = out.len() as u64 / 2;
        assert_eq!(opener.seek(SeekFrom::Start(mid)).expect("seek"), mid);
        let mut tail = Vec::new();
        opener.read_to_end(&mut tail).expect("read after seek");
        assert_eq!(
            &tail[..],
            &out[mid as usize..],
            "seek then read gave other bytes"
        );
    }
});
