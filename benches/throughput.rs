//! Seal and open throughput: callseal against the `age` crate and the raw
//! cipher (ChaCha20-Poly1305 over 64 KiB chunks in place), same data, same run.
//!
//! `cargo bench --bench throughput`; `CALLSEAL_BENCH_QUICK=1` drops 256 MiB.

mod common;

use common::*;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};

fn sizes() -> Vec<usize> {
    let mut s = vec![1 << 20, 16 << 20];
    if std::env::var_os("CALLSEAL_BENCH_QUICK").is_none() {
        s.push(256 << 20);
    }
    s
}

/// All cores, as the CLI uses for large files.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn seal(c: &mut Criterion) {
    let id = callseal::Identity::generate();
    let recipients = [id.recipient()];
    let age_recipients = [age_recipient(&id)];
    let raw = RawCipher::new();
    let mut group = c.benchmark_group("seal");
    group.sample_size(10);
    for size in sizes() {
        let plain = data(size);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(
            BenchmarkId::new("raw-chacha20poly1305", size),
            &plain,
            |b, p| {
                let mut buf = p.clone();
                b.iter(|| raw.seal_in_place(&mut buf))
            },
        );
        group.bench_with_input(BenchmarkId::new("callseal", size), &plain, |b, p| {
            b.iter(|| callseal_seal(&recipients, p))
        });
        group.bench_with_input(BenchmarkId::new("age-crate", size), &plain, |b, p| {
            b.iter(|| age_seal(&age_recipients, p))
        });
        group.bench_with_input(
            BenchmarkId::new("callseal-parallel", size),
            &plain,
            |b, p| b.iter(|| callseal_seal_threads(&recipients, p, threads())),
        );
    }
    group.finish();
}

fn open(c: &mut Criterion) {
    let id = callseal::Identity::generate();
    let age_id = age_identity(&id);
    let raw = RawCipher::new();
    let mut group = c.benchmark_group("open");
    group.sample_size(10);
    let mut buf = vec![0u8; CHUNK];
    for size in sizes() {
        let plain = data(size);
        let sealed = callseal_seal_to_vec(&[id.recipient()], &plain);
        group.throughput(Throughput::Bytes(size as u64));
        let mut sealed_raw = plain.clone();
        let tags = raw.tags(&mut sealed_raw);
        group.bench_function(BenchmarkId::new("raw-chacha20poly1305", size), |b| {
            b.iter_batched_ref(
                || sealed_raw.clone(),
                |buf| raw.open_in_place(buf, &tags),
                BatchSize::PerIteration,
            )
        });
        group.bench_function(BenchmarkId::new("callseal", size), |b| {
            b.iter(|| callseal_open(&id, &sealed, &mut buf))
        });
        group.bench_function(BenchmarkId::new("age-crate", size), |b| {
            b.iter(|| age_open(&age_id, &sealed, &mut buf))
        });
        group.bench_function(BenchmarkId::new("callseal-parallel", size), |b| {
            b.iter(|| {
                let opener =
                    callseal::Opener::new(sealed.as_slice(), std::slice::from_ref(&id)).unwrap();
                drain(opener.with_threads(threads()), &mut buf)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, seal, open);
criterion_main!(benches);
