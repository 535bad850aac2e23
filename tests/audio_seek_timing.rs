//! Seek timings on a one-hour 8 kHz 16-bit mono recording: time to the
//! first byte of a clip at random offsets, against decrypting from the
//! start to the same offset. Ignored by default (it writes 57.6 MB); run
//! `cargo test --release --test audio_seek_timing -- --ignored --nocapture`.

use std::io::{BufReader, Read, Write};
use std::time::{Duration, Instant};

use callseal::audio::{open_clip, CaptureWriter, Metadata, PcmFormat};
use callseal::{Identity, Opener};

#[test]
#[ignore]
fn one_hour_recording_clip_time_to_first_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hour.wav.age");
    let id = Identity::generate();
    let file = std::fs::File::create(&path).unwrap();
    let mut rec = CaptureWriter::pcm(
        &[id.recipient()],
        file,
        PcmFormat::TELEPHONY,
        &Metadata::new(),
    )
    .unwrap();
    let frame: Vec<u8> = (0..320).map(|i| (i * 7) as u8).collect();
    let t = Instant::now();
    for _ in 0..(3600 * 50) {
        rec.write_frame(&frame).unwrap();
    }
    rec.finish().unwrap().sync_all().unwrap();
    println!("sealed 1 h (57.6 MB) in {:.3} s", t.elapsed().as_secs_f64());

    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut clip_ttfb = Vec::new();
    let mut linear = Vec::new();
    for _ in 0..10 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let at = Duration::from_millis(seed % 3_500_000);
        let t = Instant::now();
        let opener = Opener::new(
            BufReader::new(std::fs::File::open(&path).unwrap()),
            std::slice::from_ref(&id),
        )
        .unwrap();
        let mut clip = open_clip(opener, at, Some(at + Duration::from_secs(30))).unwrap();
        let mut first = [0u8; 4096];
        clip.read_exact(&mut first).unwrap();
        clip_ttfb.push(t.elapsed());
        let mut rest = Vec::new();
        clip.read_to_end(&mut rest).unwrap();
        assert_eq!(rest.len() + 4096, 44 + 30 * 16_000);

        let t = Instant::now();
        let mut opener = Opener::new(
            BufReader::new(std::fs::File::open(&path).unwrap()),
            std::slice::from_ref(&id),
        )
        .unwrap();
        let offset = 44 + at.as_millis() as u64 * 16;
        std::io::copy(&mut (&mut opener).take(offset), &mut std::io::sink()).unwrap();
        opener.read_exact(&mut first).unwrap();
        linear.push(t.elapsed());
        println!(
            "at {:>8.1} s: clip first byte {:>8.3} ms, decrypting from the start {:>9.3} ms",
            at.as_secs_f64(),
            clip_ttfb.last().unwrap().as_secs_f64() * 1e3,
            linear.last().unwrap().as_secs_f64() * 1e3
        );
    }
    clip_ttfb.sort();
    linear.sort();
    println!(
        "median: clip {:.3} ms (worst {:.3} ms), from the start {:.3} ms (worst {:.3} ms)",
        clip_ttfb[5].as_secs_f64() * 1e3,
        clip_ttfb[9].as_secs_f64() * 1e3,
        linear[5].as_secs_f64() * 1e3,
        linear[9].as_secs_f64() * 1e3
    );
    let _ = std::io::stdout().flush();
}
