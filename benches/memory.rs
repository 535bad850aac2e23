//! Memory: heap bytes held by one open sealer, and 10,000 sealers open at
//! once in one process (each fed a frame, then finished and checked).
//! A counting global allocator measures the heap; prints a small table.
//! Run: `cargo bench --bench memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SEALERS: usize = 10_000;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too.
    let id = callseal::Identity::generate();
    let recipients = [id.recipient()];
    let frame = [0x55u8; 320];

    let before = LIVE.load(Ordering::Relaxed);
    let mut one = callseal::Sealer::new(&recipients, std::io::sink()).unwrap();
    one.write_all(&frame).unwrap();
    let per_sealer = LIVE.load(Ordering::Relaxed) - before;
    one.finish().unwrap();

    let before = LIVE.load(Ordering::Relaxed);
    let mut sealers: Vec<_> = (0..SEALERS)
        .map(|_| callseal::Sealer::new(&recipients, Vec::new()).unwrap())
        .collect();
    for s in &mut sealers {
        s.write_all(&frame).unwrap();
    }
    let held = LIVE.load(Ordering::Relaxed) - before;
    let files: Vec<Vec<u8>> = sealers.into_iter().map(|s| s.finish().unwrap()).collect();
    let ok = files.iter().all(|f| {
        let mut out = Vec::new();
        std::io::Read::read_to_end(
            &mut callseal::Opener::new(f.as_slice(), std::slice::from_ref(&id)).unwrap(),
            &mut out,
        )
        .unwrap();
        out == frame
    });

    println!("memory (heap, counted by a global allocator)");
    println!("  one open sealer (sink: io::sink)       {per_sealer:>10} bytes ({:.1} KiB; target <= 66 KiB)", per_sealer as f64 / 1024.0);
    println!(
        "  {SEALERS} open sealers (sink: Vec)      {held:>10} bytes ({:.1} KiB each, header bytes in the Vec sinks included)",
        held as f64 / SEALERS as f64 / 1024.0
    );
    println!("  all {SEALERS} files open and match        {ok}");
    assert!(ok, "every file must open and match what was written");
}
