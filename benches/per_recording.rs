//! Per-recording cost: sealing and opening a 1 KiB recording, to 1 and 3
//! recipients (the fixed cost: file key, X25519 per recipient, header MAC,
//! one chunk). callseal against the `age` crate, same data, same run.

mod common;

use common::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn per_recording(c: &mut Criterion) {
    let plain = data(1024);
    let mut buf = vec![0u8; CHUNK];
    for n in [1usize, 3] {
        let ids: Vec<callseal::Identity> = (0..n).map(|_| callseal::Identity::generate()).collect();
        let recipients: Vec<callseal::Recipient> = ids.iter().map(|i| i.recipient()).collect();
        let age_recipients: Vec<age::x25519::Recipient> = ids.iter().map(age_recipient).collect();
        // Open with the last recipient's key: the worst case, every stanza tried.
        let last = ids.last().unwrap();
        let age_last = age_identity(last);
        let sealed = callseal_seal_to_vec(&recipients, &plain);

        let mut seal = c.benchmark_group(format!("recording-1KiB-seal/{n}-recipients"));
        seal.bench_function(BenchmarkId::new("callseal", n), |b| {
            b.iter(|| callseal_seal(&recipients, &plain))
        });
        seal.bench_function(BenchmarkId::new("age-crate", n), |b| {
            b.iter(|| age_seal(&age_recipients, &plain))
        });
        seal.finish();

        let mut open = c.benchmark_group(format!("recording-1KiB-open/{n}-recipients"));
        open.bench_function(BenchmarkId::new("callseal", n), |b| {
            b.iter(|| callseal_open(last, &sealed, &mut buf))
        });
        open.bench_function(BenchmarkId::new("age-crate", n), |b| {
            b.iter(|| age_open(&age_last, &sealed, &mut buf))
        });
        open.finish();
    }
}

criterion_group!(benches, per_recording);
criterion_main!(benches);
