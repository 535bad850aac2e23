//! Seeking in a one-hour 8 kHz 16-bit mono recording (57.6 MB): time to the
//! first byte after a seek to a random offset (open + authenticate the final
//! chunk + decrypt the target chunk), against decrypting from the start up
//! to that offset, and against one raw chunk decryption.

mod common;

use std::io::{Cursor, Read, Seek, SeekFrom};

use callseal::Opener;
use common::*;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const HOUR_BYTES: usize = 8000 * 2 * 3600;

fn seek(c: &mut Criterion) {
    let id = callseal::Identity::generate();
    let plain = data(HOUR_BYTES);
    let sealed = callseal_seal_to_vec(&[id.recipient()], &plain);
    let raw = RawCipher::new();
    let mut chunk = plain[..CHUNK].to_vec();
    let tags = raw.tags(&mut chunk);
    let mut x = 12345u64;
    let mut next_offset = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 16) % HOUR_BYTES as u64
    };

    let mut group = c.benchmark_group("seek-1h-8kHz-16bit");
    group.sample_size(20);
    group.bench_function("raw-one-chunk-open", |b| {
        b.iter_batched_ref(
            || chunk.clone(),
            |c| raw.open_in_place(c, &tags),
            BatchSize::SmallInput,
        )
    });
    // Opening (X25519 unwrap, header MAC) is a per-file cost, measured by
    // the per_recording bench; here it is set-up, not timed.
    let open = || Opener::new(Cursor::new(&sealed), std::slice::from_ref(&id)).unwrap();
    let first_byte = |o: &mut Opener<Cursor<&Vec<u8>>>, offset: u64| {
        o.seek(SeekFrom::Start(offset)).unwrap();
        let mut byte = [0u8; 1];
        o.read_exact(&mut byte).unwrap();
        byte[0]
    };
    // First seek: authenticates the final chunk, then decrypts the target.
    group.bench_function("callseal-first-seek-first-byte", |b| {
        b.iter_batched(
            || (open(), next_offset()),
            |(mut o, offset)| first_byte(&mut o, offset),
            BatchSize::SmallInput,
        )
    });
    // Later seeks: the length is known; only the target chunk is decrypted.
    group.bench_function("callseal-next-seek-first-byte", |b| {
        let mut o = open();
        o.plaintext_len().unwrap();
        b.iter_batched(
            &mut next_offset,
            |offset| first_byte(&mut o, offset),
            BatchSize::SmallInput,
        )
    });
    // Open, first seek and first byte, end to end.
    group.bench_function("callseal-open-seek-first-byte", |b| {
        b.iter_batched(
            &mut next_offset,
            |offset| first_byte(&mut open(), offset),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("callseal-decrypt-from-start-to-offset", |b| {
        let mut buf = vec![0u8; CHUNK];
        b.iter_batched(
            &mut next_offset,
            |offset| {
                let o = Opener::new(Cursor::new(&sealed), std::slice::from_ref(&id)).unwrap();
                drain(o.take(offset + 1), &mut buf)
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, seek);
criterion_main!(benches);
