//! Property tests of the engine's invariants: round trips, tamper and
//! truncation refusal (with the exact error and the exact released prefix),
//! chunk reordering, seeking and inspection.
//!
//! Cases per property: 64 by default; set `CALLSEAL_PROPTEST_CASES` to run
//! more (or fewer).

mod common;

use common::content;
use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use callseal::stream::{chunk_count, payload_size, CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE};
use callseal::{inspect, recover, Ending, Error, Identity, Opener, PayloadError, Recovery, Sealer};
use proptest::prelude::*;
use proptest::sample::Index;

const CHUNK: usize = CHUNK_SIZE;
const SEALED: usize = ENCRYPTED_CHUNK_SIZE;

/// Cases for the properties; the costliest one runs a quarter of them.
fn cases() -> u32 {
    std::env::var("CALLSEAL_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

fn config() -> ProptestConfig {
    config_with(cases())
}

fn config_with(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Failures are shrunk, but not for ever: each case seals a file.
        max_shrink_iters: 256,
        // No regression files written into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Plaintext sizes from 0 to ~300 KB, with extra weight on 64 KiB multiples
/// and their neighbours (where chunking decisions are made).
fn plaintext_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        2 => 0usize..300_000,
        2 => (0usize..=4, -2i64..=2).prop_map(|(k, d)| (k as i64 * CHUNK as i64 + d).max(0) as usize),
        1 => 0usize..64,
    ]
}

/// Seals `data` for `recipients` with writes cycling through `writes`.
fn seal_with(recipients: &[callseal::Recipient], data: &[u8], writes: &[usize]) -> Vec<u8> {
    let mut sealer = Sealer::new(recipients, Vec::new()).expect("Sealer::new");
    let mut rest = data;
    let mut sizes = writes.iter().cycle();
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap()).min(rest.len());
        // write() may accept fewer bytes than offered; honour its count.
        let accepted = sealer.write(&rest[..n]).expect("sealer write");
        assert!(accepted <= n);
        assert!(
            accepted > 0 || n == 0,
            "a write of {n} bytes accepted nothing"
        );
        rest = &rest[accepted..];
    }
    assert_eq!(sealer.plaintext_len(), data.len() as u64);
    sealer.finish().expect("finish")
}

fn seal(id: &Identity, data: &[u8]) -> Vec<u8> {
    seal_with(&[id.recipient()], data, &[65536])
}

/// What reading a file to the end gives: the bytes released, then the
/// error if any (`Err` from `Opener::new` is returned as `Err`).
fn read_all(file: &[u8], id: &Identity) -> Result<(Vec<u8>, Option<Error>), Error> {
    let mut opener = Opener::new(file, std::slice::from_ref(id))?;
    let mut out = Vec::new();
    // Odd buffer size: reads straddle chunk boundaries.
    let mut buf = vec![0u8; 9_999];
    loop {
        match opener.read(&mut buf) {
            Ok(0) => return Ok((out, None)),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => {
                let err = Error::from_io(e);
                // The error is sticky: a second read reports it again.
                let again = opener.read(&mut buf);
                assert!(
                    again.is_err(),
                    "read after an error must fail again, got {again:?}"
                );
                return Ok((out, Some(err)));
            }
        }
    }
}

/// Offset of the first payload chunk (after header and nonce).
fn payload_start(file: &[u8], plaintext_len: usize) -> usize {
    file.len() - payload_size(plaintext_len as u64) as usize
}

fn payload_err(e: &Option<Error>) -> Option<PayloadError> {
    match e {
        Some(Error::Payload(p)) => Some(*p),
        _ => None,
    }
}

/// Opens `file` expecting a payload failure `want` after exactly
/// `released_len` bytes of `data`; `recover` must agree.
fn assert_payload_failure(
    file: &[u8],
    id: &Identity,
    data: &[u8],
    released_len: usize,
    want: PayloadError,
    check_recover: bool,
) -> Result<(), TestCaseError> {
    let (released, err) = read_all(file, id).map_err(|e| {
        TestCaseError::fail(format!("Opener::new failed, expected a payload error: {e}"))
    })?;
    prop_assert_eq!(payload_err(&err), Some(want), "error was {:?}", err);
    prop_assert_eq!(released.len(), released_len);
    prop_assert!(
        released == data[..released_len],
        "released bytes are not the plaintext prefix"
    );
    if !check_recover {
        return Ok(());
    }

    let mut out = Vec::new();
    let report = recover(file, std::slice::from_ref(id), &mut out)
        .map_err(|e| TestCaseError::fail(format!("recover failed: {e}")))?;
    prop_assert_eq!(
        report,
        Recovery {
            recovered_bytes: released_len as u64,
            complete: false,
            stopped_by: Some(want)
        }
    );
    prop_assert!(
        out == data[..released_len],
        "recovered bytes are not the plaintext prefix"
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// (a) Whatever the write pattern, opening gives back the same bytes.
    #[test]
    fn round_trip(
        len in plaintext_len(),
        seed in any::<u64>(),
        writes in prop::collection::vec(prop_oneof![0usize..100, 0usize..70_000, Just(65536)], 1..12),
        recipients in 1usize..4,
        which in any::<Index>(),
        with_read_to_end in any::<bool>(),
    ) {
        let data = content(len, seed);
        let ids: Vec<Identity> = (0..recipients).map(|_| Identity::generate()).collect();
        let rs: Vec<_> = ids.iter().map(Identity::recipient).collect();
        let file = seal_with(&rs, &data, &writes);
        prop_assert_eq!(file.len(), payload_start(&file, len) + payload_size(len as u64) as usize);
        // Any one of the recipients opens it (one read per case: debug
        // builds are slow at this).
        let id = &ids[which.index(ids.len())];
        let out = if with_read_to_end {
            let mut out = Vec::new();
            Opener::new(file.as_slice(), std::slice::from_ref(id))
                .unwrap()
                .read_to_end(&mut out)
                .map_err(|e| TestCaseError::fail(Error::from_io(e).to_string()))?;
            out
        } else {
            let (out, err) = read_all(&file, id).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(err.is_none(), "whole file refused: {:?}", err);
            out
        };
        prop_assert_eq!(out.len(), data.len());
        prop_assert!(out == data, "round trip changed the content");
    }

    /// (b) Any single altered byte is refused; nothing unauthenticated is
    /// released.
    #[test]
    fn flipped_byte_is_refused(
        len in plaintext_len(),
        seed in any::<u64>(),
        near_header in any::<bool>(),
        at in any::<Index>(),
        xor in 1u8..=255,
    ) {
        let id = Identity::generate();
        let data = content(len, seed);
        let mut file = seal(&id, &data);
        let start = payload_start(&file, len);
        // Half the cases aim at the header and nonce, which are small.
        let pos = if near_header { at.index(start) } else { at.index(file.len()) };
        file[pos] ^= xor;

        match read_all(&file, &id) {
            Err(e) => {
                // Only header or nonce bytes may fail the header.
                prop_assert!(pos < start - 16, "payload flip at {} failed the header: {}", pos, e);
                prop_assert!(
                    matches!(e, Error::Header(_) | Error::HeaderMac | Error::NoMatch(_)),
                    "header flip at {} gave {:?}", pos, e
                );
            }
            Ok((released, err)) => {
                prop_assert!(pos >= start - 16, "header flip at {} was accepted", pos);
                let err = err.ok_or_else(|| TestCaseError::fail(format!(
                    "flip at {pos} (file {} bytes) was not detected", file.len())))?;
                prop_assert!(data.is_empty() || released.len() < data.len(),
                    "a tampered file released the full plaintext length");
                // A nonce flip breaks chunk 0; a payload flip breaks its chunk.
                let k = if pos < start { 0 } else { (pos - start) / SEALED };
                let n = chunk_count(len as u64) as usize;
                let last_full = len > 0 && len % CHUNK == 0;
                let want = if k + 1 == n && !last_full {
                    PayloadError::Truncated { authenticated_bytes: (k * CHUNK) as u64, mid_chunk: true }
                } else {
                    PayloadError::Tampered { chunk: k as u64 }
                };
                prop_assert_eq!(payload_err(&Some(err)), Some(want));
                prop_assert_eq!(released.len(), k * CHUNK);
                prop_assert!(released == data[..k * CHUNK], "released bytes are not a plaintext prefix");
            }
        }
    }

    /// (c) A file cut anywhere is refused, and `recover` returns exactly
    /// the whole chunks before the cut.
    #[test]
    fn truncation_is_refused_and_recovered(
        len in plaintext_len(),
        seed in any::<u64>(),
        in_payload in any::<bool>(),
        at in any::<Index>(),
    ) {
        let id = Identity::generate();
        let data = content(len, seed);
        let file = seal(&id, &data);
        let start = payload_start(&file, len);
        let cut = if in_payload {
            start + at.index(file.len() - start)
        } else {
            at.index(file.len())
        };
        let cut_file = &file[..cut];

        if cut < start {
            // Cut inside the header or the nonce.
            prop_assert!(matches!(read_all(cut_file, &id), Err(Error::Header(_))),
                "cut at {} of the header did not give a header error", cut);
            prop_assert!(matches!(recover(cut_file, std::slice::from_ref(&id), Vec::new()), Err(Error::Header(_))));
            return Ok(());
        }
        let whole = (cut - start) / SEALED;
        let rem = (cut - start) % SEALED;
        assert_payload_failure(
            cut_file,
            &id,
            &data,
            whole * CHUNK,
            PayloadError::Truncated { authenticated_bytes: (whole * CHUNK) as u64, mid_chunk: rem != 0 },
            true,
        )?;

        // Seeking needs the final chunk: plaintext_len refuses too.
        let mut opener = Opener::new(Cursor::new(cut_file), std::slice::from_ref(&id)).unwrap();
        let e = opener.plaintext_len().expect_err("plaintext_len of a cut file");
        prop_assert!(e.is_truncation(), "plaintext_len gave {:?}", e);

        // inspect measures what is there.
        let info = inspect(cut_file).unwrap();
        let payload = (cut - start) as u64;
        prop_assert_eq!(info.payload_len, payload);
        prop_assert_eq!(info.chunk_count, payload.div_ceil(SEALED as u64));
        let want_ending = if payload == 0 || (rem > 0 && rem < 16) {
            Ending::Truncated
        } else if rem == 0 {
            Ending::FullChunk
        } else {
            Ending::FinalSized
        };
        prop_assert_eq!(info.ending, want_ending);
    }

    /// (e) Seeking by plaintext offset (Start, End, Current) then reading
    /// returns exactly the matching slice of the plaintext.
    #[test]
    fn seek_reads_the_right_slice(
        len in plaintext_len(),
        seed in any::<u64>(),
        ops in prop::collection::vec(
            (0u8..4, any::<Index>(), 0usize..140_000, any::<bool>()), 1..12),
    ) {
        let id = Identity::generate();
        let data = content(len, seed);
        let file = seal(&id, &data);
        let mut opener = Opener::new(Cursor::new(file), std::slice::from_ref(&id)).unwrap();
        let mut pos: u64 = 0;
        let mut buf = Vec::new();
        for (kind, at, read_len, length_first) in ops {
            if length_first {
                prop_assert_eq!(opener.plaintext_len().unwrap(), len as u64);
            }
            // Targets range over [0, len + 10], reached three ways.
            let target = at.index(len + 11) as u64;
            let from = match kind {
                0 => SeekFrom::Start(target),
                1 => SeekFrom::End(target as i64 - len as i64),
                2 => SeekFrom::Current(target as i64 - pos as i64),
                _ => {
                    // Read on from where we are, without seeking.
                    SeekFrom::Current(0)
                }
            };
            let got = opener.seek(from).map_err(|e| TestCaseError::fail(format!("seek {from:?}: {e}")))?;
            let want_pos = if kind == 3 { pos } else { target };
            prop_assert_eq!(got, want_pos, "seek {:?} from {}", from, pos);
            pos = want_pos;

            buf.clear();
            (&mut opener).take(read_len as u64).read_to_end(&mut buf).unwrap();
            let from_at = (pos as usize).min(len);
            let to = (pos as usize + read_len).min(len);
            prop_assert_eq!(buf.len(), to - from_at);
            prop_assert!(buf[..] == data[from_at..to], "wrong bytes after seek {:?}", from);
            // Past the end, reading does not move the position.
            if buf.is_empty() {
                // Position stays as it was (as with a file).
            } else {
                pos = to as u64;
            }
            if length_first {
                // plaintext_len must not disturb the position either.
                prop_assert_eq!(opener.plaintext_len().unwrap(), len as u64);
            }
        }
        prop_assert_eq!(opener.plaintext_len().unwrap(), len as u64);
    }

    /// (f) `inspect` reports the stanza count, chunk count and length.
    #[test]
    fn inspect_reports_the_layout(
        len in plaintext_len(),
        seed in any::<u64>(),
        recipients in 1usize..5,
        armored in any::<bool>(),
    ) {
        let rs: Vec<_> = (0..recipients).map(|_| Identity::generate().recipient()).collect();
        let data = content(len, seed);
        let file = seal_with(&rs, &data, &[1000, 70_000]);
        let input = if armored { callseal::armor(&file).into_bytes() } else { file.clone() };
        let info = inspect(input.as_slice()).unwrap();
        prop_assert_eq!(info.stanza_types.len(), recipients);
        prop_assert!(info.stanza_types.iter().all(|t| t == "X25519"));
        prop_assert_eq!(info.armored, armored);
        prop_assert_eq!(info.header_len, (22 + 98 * recipients + 48) as u64);
        prop_assert_eq!(info.header_len as usize, payload_start(&file, len) - 16);
        prop_assert_eq!(info.payload_len, payload_size(len as u64));
        prop_assert_eq!(info.chunk_count, chunk_count(len as u64));
        prop_assert_eq!(info.plaintext_len, len as u64);
        let want_ending = if len > 0 && len % CHUNK == 0 { Ending::FullChunk } else { Ending::FinalSized };
        prop_assert_eq!(info.ending, want_ending);
    }
}

proptest! {
    #![proptest_config(config_with((cases() / 4).max(1)))]

    /// (d) Reordered, duplicated, dropped chunks and appended data are
    /// refused with the right error, after releasing only the chunks that
    /// are still in place. (A quarter of the cases: each one seals and
    /// reads several chunks four times over.)
    #[test]
    fn chunk_reordering_is_refused(
        len in (2 * CHUNK + 1)..=(4 * CHUNK),
        seed in any::<u64>(),
        a in any::<Index>(),
        b in any::<Index>(),
        extra in prop::collection::vec(any::<u8>(), 1..300),
        long_extra in any::<bool>(),
    ) {
        let id = Identity::generate();
        let data = content(len, seed);
        let file = seal(&id, &data);
        let start = payload_start(&file, len);
        let n = chunk_count(len as u64) as usize;
        prop_assert!(n >= 3);
        let chunk = |i: usize| &file[start + i * SEALED..(start + (i + 1) * SEALED).min(file.len())];
        let rebuild = |order: &[usize]| {
            let mut out = file[..start].to_vec();
            for &i in order {
                out.extend_from_slice(chunk(i));
            }
            out
        };
        let last_full = len % CHUNK == 0;

        // Swap two different non-final chunks i < j: chunk i fails.
        let i = a.index(n - 2);
        let j = i + 1 + b.index(n - 2 - i);
        let mut order: Vec<usize> = (0..n).collect();
        order.swap(i, j);
        assert_payload_failure(&rebuild(&order), &id, &data, i * CHUNK,
            PayloadError::Tampered { chunk: i as u64 }, false)?;

        // Duplicate non-final chunk i: the copy, at position i + 1, fails.
        let mut order: Vec<usize> = (0..n).collect();
        order.insert(i + 1, i);
        assert_payload_failure(&rebuild(&order), &id, &data, (i + 1) * CHUNK,
            PayloadError::Tampered { chunk: (i + 1) as u64 }, false)?;

        // Drop middle chunk m: whatever now sits at position m fails. A
        // short final chunk there cannot be told from a cut file.
        let m = 1 + a.index(n - 2);
        let order: Vec<usize> = (0..n).filter(|&c| c != m).collect();
        let want = if m + 1 == n - 1 && !last_full {
            PayloadError::Truncated { authenticated_bytes: (m * CHUNK) as u64, mid_chunk: true }
        } else {
            PayloadError::Tampered { chunk: m as u64 }
        };
        assert_payload_failure(&rebuild(&order), &id, &data, m * CHUNK, want, false)?;

        // Append data after the final chunk.
        let mut extended = file.clone();
        let extra = if long_extra {
            // Enough to fill out a short final chunk.
            content(SEALED + extra.len(), seed ^ 1)
        } else {
            extra
        };
        extended.extend_from_slice(&extra);
        let last_len = file.len() - start - (n - 1) * SEALED;
        let (released, want) = if last_full {
            // The full final chunk authenticates; the bytes after it fail.
            (len, PayloadError::TrailingData)
        } else if last_len + extra.len() < SEALED {
            ((n - 1) * CHUNK, PayloadError::Truncated {
                authenticated_bytes: ((n - 1) * CHUNK) as u64, mid_chunk: true })
        } else {
            ((n - 1) * CHUNK, PayloadError::Tampered { chunk: (n - 1) as u64 })
        };
        // recover must agree here too (TrailingData: all data, incomplete).
        assert_payload_failure(&extended, &id, &data, released, want, true)?;
    }
}

/// Seeks to negative offsets are refused with `InvalidInput`, and the
/// opener still reads correctly afterwards.
#[test]
fn seek_before_start_is_refused() {
    let id = Identity::generate();
    let data = content(70_000, 9);
    let file = seal(&id, &data);
    let mut opener = Opener::new(Cursor::new(file), std::slice::from_ref(&id)).unwrap();
    assert_eq!(opener.seek(SeekFrom::Start(0)).unwrap(), 0);
    for bad in [SeekFrom::End(-70_001), SeekFrom::Current(-1)] {
        let err = opener.seek(bad).expect_err("negative offset");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
    }
    assert_eq!(opener.seek(SeekFrom::Start(69_990)).unwrap(), 69_990);
    let mut tail = Vec::new();
    opener.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, data[69_990..]);
}

/// Regression: `seek` past the end returns the requested offset, and the
/// position reads back as that offset (as a file's does), so `Current` is
/// relative to it.
#[test]
fn stream_position_after_seek_past_end_is_the_requested_offset() {
    let id = Identity::generate();
    let file = seal(&id, b"0123456789");
    let mut opener = Opener::new(Cursor::new(file), std::slice::from_ref(&id)).unwrap();
    assert_eq!(opener.seek(SeekFrom::Start(20)).unwrap(), 20);
    assert_eq!(
        opener.stream_position().unwrap(),
        20,
        "stream_position() after seek(Start(20)) on a 10-byte recording"
    );
    assert_eq!(opener.seek(SeekFrom::Current(-1)).unwrap(), 19);
}

/// Regression: the first seek measures the file (loading its final chunk);
/// `SeekFrom::Current` must still be relative to where reading had got to.
#[test]
fn first_seek_keeps_the_read_position() {
    let id = Identity::generate();
    let file = seal(&id, b"0123456789");
    let mut opener = Opener::new(Cursor::new(file), std::slice::from_ref(&id)).unwrap();
    let mut first = [0u8; 4];
    opener.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"0123");
    assert_eq!(
        opener.stream_position().unwrap(),
        4,
        "position after reading 4 bytes"
    );
    let mut rest = Vec::new();
    opener.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"456789", "bytes after the first 4");

    // Same on a two-chunk file, fresh: Current(0) must stay at 0.
    let data = content(70_000, 3);
    let file = seal(&id, &data);
    let mut opener = Opener::new(Cursor::new(file), std::slice::from_ref(&id)).unwrap();
    assert_eq!(
        opener.stream_position().unwrap(),
        0,
        "fresh opener position"
    );
}
