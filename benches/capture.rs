//! The capture path: one 320-byte frame (20 ms of 8 kHz 16-bit mono) written
//! through the Rust API and through the C ABI, amortised over whole chunks
//! (each iteration writes 2048 frames = 10 chunks and seals them), against
//! the raw cipher cost of the same bytes (64 KiB chunks sealed in place).
//! Criterion reports per-iteration time; divide by 2048 for one frame.

mod common;

use std::ffi::{c_int, c_void, CString};
use std::io::Write;

use callseal::ffi::sealer::{
    callseal_sealer, callseal_sealer_finish, callseal_sealer_free, callseal_sealer_new_callback,
    callseal_sealer_write,
};
use callseal::ffi::status::CALLSEAL_OK;
use common::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const FRAME: usize = 320;
const FRAMES: usize = 2048;

/// A sink that takes the bytes and does nothing, like `io::sink()`.
unsafe extern "C" fn discard(_userdata: *mut c_void, _buf: *const u8, _len: usize) -> c_int {
    0
}

fn capture(c: &mut Criterion) {
    let audio = data(FRAME * FRAMES);
    let id = callseal::Identity::generate();
    let recipients = [id.recipient()];
    let raw = RawCipher::new();
    let recipient_c = CString::new(id.recipient().to_string()).unwrap();
    let recipient_ptrs = [recipient_c.as_ptr()];

    let mut group = c.benchmark_group("capture-2048-frames-of-320B");
    group.throughput(Throughput::Bytes((FRAME * FRAMES) as u64));
    group.bench_function("raw-chacha20poly1305", |b| {
        let mut buf = audio.clone();
        b.iter(|| raw.seal_in_place(&mut buf))
    });
    // One sealer per measurement batch; its setup (X25519) is outside the loop.
    let mut sealer = callseal::Sealer::new(&recipients, std::io::sink()).unwrap();
    group.bench_function("callseal-rust", |b| {
        b.iter(|| {
            for frame in audio.chunks_exact(FRAME) {
                sealer.write_all(frame).unwrap();
            }
        })
    });
    let mut handle: *mut callseal_sealer = std::ptr::null_mut();
    // SAFETY: valid recipient strings, a valid callback, and an out pointer.
    let status = unsafe {
        callseal_sealer_new_callback(
            recipient_ptrs.as_ptr(),
            1,
            Some(discard),
            std::ptr::null_mut(),
            &mut handle,
        )
    };
    assert_eq!(status, CALLSEAL_OK);
    group.bench_function("callseal-c-abi", |b| {
        b.iter(|| {
            for frame in audio.chunks_exact(FRAME) {
                // SAFETY: `handle` is a live sealer; `frame` is FRAME readable bytes.
                let status = unsafe { callseal_sealer_write(handle, frame.as_ptr(), frame.len()) };
                debug_assert_eq!(status, CALLSEAL_OK);
            }
        })
    });
    group.finish();
    sealer.finish().unwrap();
    // SAFETY: `handle` is live and freed exactly once.
    unsafe {
        assert_eq!(callseal_sealer_finish(handle), CALLSEAL_OK);
        callseal_sealer_free(handle);
    }
}

criterion_group!(benches, capture);
criterion_main!(benches);
