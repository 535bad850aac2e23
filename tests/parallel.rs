//! Parallel sealing and opening: byte-for-byte the same age file semantics
//! as the sequential path, at every batch boundary, and the same failures.

use std::io::{Read, Write};

use callseal::{Error, Identity, Opener, PayloadError, Sealer};

const CHUNK: usize = 64 * 1024;
const SEALED_CHUNK: usize = CHUNK + 16;

fn data(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn seal(id: &Identity, plain: &[u8], threads: usize, write_size: usize) -> Vec<u8> {
    let mut s = Sealer::with_threads(&[id.recipient()], Vec::new(), threads).unwrap();
    for piece in plain.chunks(write_size.max(1)) {
        s.write_all(piece).unwrap();
    }
    s.finish().unwrap()
}

fn open(id: &Identity, file: &[u8], threads: usize) -> (Vec<u8>, Option<Error>) {
    let mut out = Vec::new();
    let mut o = Opener::new(file, std::slice::from_ref(id))
        .unwrap()
        .with_threads(threads);
    let mut buf = vec![0u8; 50_000];
    loop {
        match o.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(Error::from_io(e))),
        }
    }
}

/// Sizes around the 2-thread batch (16 chunks) and 3-thread batch (24).
fn sizes() -> Vec<usize> {
    let mut v = vec![0, 1, CHUNK - 1, CHUNK, CHUNK + 1];
    for chunks in [15, 16, 17, 24, 33] {
        v.extend([chunks * CHUNK - 1, chunks * CHUNK, chunks * CHUNK + 1]);
    }
    v
}

#[test]
fn every_thread_count_round_trips_with_every_other() {
    let id = Identity::generate();
    for size in sizes() {
        let plain = data(size);
        for seal_threads in [1, 2, 3] {
            let file = seal(&id, &plain, seal_threads, 100_000);
            let expected_len = 168 + 16 + size + 16 * size.div_ceil(CHUNK).max(1);
            assert_eq!(
                file.len(),
                expected_len,
                "size {size}, {seal_threads} sealing threads"
            );
            for open_threads in [1, 2, 3] {
                let (out, err) = open(&id, &file, open_threads);
                assert!(
                    err.is_none(),
                    "size {size} {seal_threads}/{open_threads}: {err:?}"
                );
                assert!(
                    out == plain,
                    "size {size} {seal_threads}/{open_threads}: content differs"
                );
            }
        }
    }
}

#[test]
fn parallel_opening_refuses_what_sequential_opening_refuses() {
    let id = Identity::generate();
    let plain = data(40 * CHUNK + 123);
    let file = seal(&id, &plain, 2, 1 << 20);
    let header = 168 + 16;
    for threads in [1, 2] {
        // Cut on a chunk boundary inside a batch: no final chunk.
        let cut = &file[..header + 20 * SEALED_CHUNK];
        let (out, err) = open(&id, cut, threads);
        assert!(
            out == plain[..20 * CHUNK],
            "{threads} threads release every whole chunk"
        );
        assert!(
            matches!(err, Some(Error::Payload(PayloadError::Truncated { authenticated_bytes, mid_chunk: false })) if authenticated_bytes == 20 * CHUNK as u64),
            "{err:?}"
        );

        // A flipped byte in chunk 18: chunks 0..18 released, then Tampered.
        let mut bad = file.clone();
        bad[header + 18 * SEALED_CHUNK + 5] ^= 0x40;
        let (out, err) = open(&id, &bad, threads);
        assert!(out == plain[..18 * CHUNK]);
        assert!(
            matches!(
                err,
                Some(Error::Payload(PayloadError::Tampered { chunk: 18 }))
            ),
            "{err:?}"
        );

        // Two chunks swapped.
        let mut swapped = file.clone();
        let (a, b) = (header + 3 * SEALED_CHUNK, header + 4 * SEALED_CHUNK);
        let chunk3 = swapped[a..b].to_vec();
        swapped.copy_within(b..b + SEALED_CHUNK, a);
        swapped[b..b + SEALED_CHUNK].copy_from_slice(&chunk3);
        let (out, err) = open(&id, &swapped, threads);
        assert!(out == plain[..3 * CHUNK]);
        assert!(
            matches!(
                err,
                Some(Error::Payload(PayloadError::Tampered { chunk: 3 }))
            ),
            "{err:?}"
        );

        // A byte appended to a short final chunk corrupts that chunk.
        let mut extended = file.clone();
        extended.push(b'x');
        let (out, err) = open(&id, &extended, threads);
        assert!(out == plain[..40 * CHUNK]);
        assert!(
            matches!(
                err,
                Some(Error::Payload(PayloadError::Truncated {
                    mid_chunk: true,
                    ..
                }))
            ),
            "{err:?}"
        );

        // After a full-size final chunk, any byte is trailing data; the
        // final chunk itself is authenticated and released first.
        let full = data(20 * CHUNK);
        let mut extended = seal(&id, &full, 2, 1 << 20);
        extended.push(b'x');
        let (out, err) = open(&id, &extended, threads);
        assert!(out == full, "the final chunk is released before the error");
        assert!(
            matches!(err, Some(Error::Payload(PayloadError::TrailingData))),
            "{err:?}"
        );
    }
}

#[test]
fn a_failed_length_check_keeps_failing_the_same_way() {
    use std::io::{Cursor, Seek, SeekFrom};
    let id = Identity::generate();
    let file = seal(&id, &data(3 * CHUNK + 10), 1, 4096);
    let cut = file[..file.len() - 5].to_vec();
    let mut o = Opener::new(Cursor::new(cut), std::slice::from_ref(&id)).unwrap();
    for _ in 0..2 {
        assert!(matches!(
            o.plaintext_len(),
            Err(Error::Payload(PayloadError::Truncated { .. }))
        ));
        let e = Error::from_io(o.seek(SeekFrom::Start(10)).unwrap_err());
        assert!(
            matches!(e, Error::Payload(PayloadError::Truncated { .. })),
            "{e:?}"
        );
    }
}

/// A reader that hands out at most `step` bytes per call, like a pipe.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn copy_from_reads_straight_into_the_chunks_at_every_boundary() {
    let id = Identity::generate();
    for size in [
        0,
        1,
        CHUNK,
        CHUNK + 1,
        64 * CHUNK,
        64 * CHUNK + 1,
        65 * CHUNK - 3,
    ] {
        let plain = data(size);
        for (threads, step) in [(1, 7_000), (1, 1 << 20), (2, 65_536), (2, 100_003)] {
            let mut sealer = Sealer::with_threads(&[id.recipient()], Vec::new(), threads).unwrap();
            let copied = sealer
                .copy_from(&mut Trickle { data: &plain, step })
                .unwrap();
            assert_eq!(copied, size as u64);
            let file = sealer.finish().unwrap();
            assert_eq!(
                file.len(),
                168 + 16 + size + 16 * size.div_ceil(CHUNK).max(1),
                "size {size}"
            );
            let (out, err) = open(&id, &file, 1);
            assert!(
                err.is_none() && out == plain,
                "size {size}, {threads} threads, reads of {step}: {err:?}"
            );
        }
    }
}
