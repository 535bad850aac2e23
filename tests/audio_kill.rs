//! Crash recovery that plays: real `callseal seal --pcm` capture processes
//! (and an MP3 capture) fed real speech through a FIFO and SIGKILLed at
//! random moments; each leftover file is recovered with `callseal recover`,
//! checked with sox and ffprobe and compared with exactly the bytes the
//! process had consumed (what was written to the FIFO minus what was still
//! in it). Prints the statistics.
//!
//! Runs: `CALLSEAL_KILL_RUNS` (default 60); seed: `CALLSEAL_KILL_SEED`.

mod audio_common;

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use audio_common::*;

const O_NONBLOCK: i32 = 0o4000; // Linux
const CHUNK: u64 = 64 * 1024;
/// The CLI's capture read size: bytes that may be read but not yet sealed.
const IN_FLIGHT: u64 = 8192;

struct Format {
    name: &'static str,
    pcm: Option<&'static str>,
    byte_rate: f64,
    block: usize,
    source: Vec<u8>,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

struct Outcome {
    recovered_s: f64,
    lost_s: f64,
    nothing: bool,
}

fn leftover(dir: &Path) -> Option<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".partial"))
}

/// One capture killed after `kill_after`; returns what recovery gave.
fn one_run(
    dir: &Path,
    key: &Path,
    recipient: &str,
    f: &Format,
    kill_after: Duration,
) -> Option<Outcome> {
    let fifo = dir.join("in.fifo");
    run(Command::new("mkfifo").arg(&fifo));
    let mut spare = OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let mut writer = OpenOptions::new()
        .write(true)
        .custom_flags(O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let child_in = File::open(&fifo).unwrap();
    let target = dir.join("call.age");
    let mut cmd = callseal();
    cmd.args([
        "seal",
        "-r",
        recipient,
        "-o",
        target.to_str().unwrap(),
        "--meta",
        "call_id=kill-test",
    ]);
    if let Some(pcm) = f.pcm {
        cmd.args(["--pcm", pcm]);
    }
    let mut child = cmd
        .stdin(Stdio::from(child_in))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();

    // Feed the whole source over about 0.45 s, 320 bytes at a time.
    let pace = f.source.len() as f64 / 0.45;
    let start = Instant::now();
    let mut written = 0usize;
    while start.elapsed() < kill_after {
        let due = ((start.elapsed().as_secs_f64() * pace) as usize).min(f.source.len());
        if written < due {
            let end = due.min(written + 320);
            match writer.write(&f.source[written..end]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_micros(200))
                }
                Err(e) => panic!("fifo write: {e}"),
            }
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    drop(writer);
    let mut left = Vec::new();
    loop {
        let mut buf = [0u8; 65536];
        match spare.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => left.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("fifo drain: {e}"),
        }
    }
    fs::remove_file(&fifo).unwrap();
    let consumed = (written - left.len()) as u64;
    assert!(
        !target.exists(),
        "a killed capture never appears under its final name"
    );
    // Without --pcm the CLI first reads up to one chunk (64 KiB) to tell a
    // WAV from an MP3, and only then creates its output: a kill in that
    // window loses at most that chunk, the bound for every other case too.
    let no_file_bound = if f.pcm.is_some() {
        IN_FLIGHT
    } else {
        CHUNK + IN_FLIGHT
    };
    let Some(partial) = leftover(dir) else {
        assert!(
            consumed <= no_file_bound,
            "no file, yet {consumed} bytes consumed ({})",
            f.name
        );
        return None; // killed before it created its file
    };
    let ext = if f.pcm.is_some() { "wav" } else { "mp3" };
    let out = dir.join(format!("recovered.{ext}"));
    let o = run(callseal()
        .args([
            "recover",
            "-i",
            key.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .arg(&partial));
    let report = String::from_utf8(o.stdout).unwrap();
    fs::remove_file(&partial).unwrap();
    let recovered = fs::read(&out).unwrap();
    let fed = &f.source[..consumed as usize];
    if recovered.is_empty() {
        assert!(report.contains("no chunk authenticated"), "{report}");
        assert!(
            consumed <= CHUNK + IN_FLIGHT,
            "lost {consumed} bytes, more than a chunk"
        );
        fs::remove_file(&out).unwrap();
        return Some(Outcome {
            recovered_s: 0.0,
            lost_s: consumed as f64 / f.byte_rate,
            nothing: true,
        });
    }
    assert!(
        report.contains("metadata:    call_id = kill-test"),
        "{report}"
    );
    let seconds = check_with_tools(&out);
    let audio: &[u8] = match f.pcm {
        Some(pcm) if pcm.ends_with("s16") => {
            let (_, samples) = hound_samples(&out);
            let n = samples.len() * 2;
            assert_eq!(samples, le_samples(&fed[..n]), "{}: samples differ", f.name);
            &fed[..n]
        }
        Some(pcm) => {
            let enc: &[&str] = if pcm.ends_with("ulaw") {
                &["-e", "u-law", "-b", "8"]
            } else {
                &["-e", "a-law", "-b", "8"]
            };
            let data = sox_raw(&out, enc);
            assert_eq!(
                data.as_slice(),
                &fed[..data.len()],
                "{}: samples differ",
                f.name
            );
            &fed[..data.len()]
        }
        None => {
            assert!(
                recovered.starts_with(b"ID3\x04"),
                "the metadata tag comes first"
            );
            let size = recovered[6..10]
                .iter()
                .fold(0usize, |a, &b| (a << 7) | usize::from(b));
            let tag_len = 10 + size;
            let frames = &recovered[tag_len..];
            assert_eq!(frames, &fed[..frames.len()], "mp3 frames differ");
            frames
        }
    };
    assert_eq!(audio.len() % f.block, 0, "whole sample frames");
    let lost = consumed - audio.len() as u64;
    assert!(
        lost <= CHUNK + IN_FLIGHT + f.block as u64 + 2048,
        "{}: lost {lost} bytes",
        f.name
    );
    if f.pcm.is_some() {
        assert!((seconds - audio.len() as f64 / f.byte_rate).abs() < 0.001);
    }
    fs::remove_file(&out).unwrap();
    Some(Outcome {
        recovered_s: audio.len() as f64 / f.byte_rate,
        lost_s: lost as f64 / f.byte_rate,
        nothing: false,
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        0.0
    } else {
        v[v.len() / 2]
    }
}

#[test]
fn sigkilled_captures_recover_to_playable_files_with_every_authenticated_sample() {
    if !tools_present(&["espeak-ng", "sox", "ffprobe", "lame", "mkfifo"]) {
        return;
    }
    let runs: usize = std::env::var("CALLSEAL_KILL_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("CALLSEAL_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("kill test: {runs} runs, seed {seed} (CALLSEAL_KILL_SEED to repeat)");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let (key, recipient) = keygen(dir.path());
    let text = "Thank you for calling. Your call may be recorded for quality purposes. \
                Please state your customer number after the tone.";
    let times = |v: Vec<u8>, n: usize| v.repeat(n);
    let s16 = times(speech(dir.path(), text, "s16", &S16), 8);
    let ulaw = times(speech(dir.path(), text, "ulaw", &ULAW), 8);
    let alaw = times(speech(dir.path(), text, "alaw", &ALAW), 8);
    let mut stereo = Vec::new();
    let other: Vec<u8> = s16.iter().rev().copied().collect::<Vec<u8>>();
    callseal::audio::interleave_into(&s16, &other[..s16.len()], 2, &mut stereo).unwrap();
    let mp3_frames = encode_mp3(dir.path(), "src", &times(s16.clone(), 3));
    let formats = [
        Format {
            name: "8k s16 mono",
            pcm: Some("8000:1:s16"),
            byte_rate: 16000.0,
            block: 2,
            source: s16,
        },
        Format {
            name: "8k mu-law",
            pcm: Some("8000:1:ulaw"),
            byte_rate: 8000.0,
            block: 1,
            source: ulaw,
        },
        Format {
            name: "8k A-law",
            pcm: Some("8000:1:alaw"),
            byte_rate: 8000.0,
            block: 1,
            source: alaw,
        },
        Format {
            name: "8k s16 stereo",
            pcm: Some("8000:2:s16"),
            byte_rate: 32000.0,
            block: 4,
            source: stereo,
        },
        Format {
            name: "MP3 32k CBR",
            pcm: None,
            byte_rate: 4000.0,
            block: 1,
            source: mp3_frames,
        },
    ];
    let mut all: Vec<(usize, Outcome)> = Vec::new();
    let mut no_file = 0;
    for i in 0..runs {
        let fi = i % formats.len();
        let kill = Duration::from_millis(rng.range(15, 520));
        match one_run(dir.path(), &key, &recipient, &formats[fi], kill) {
            Some(o) => all.push((fi, o)),
            None => no_file += 1,
        }
    }
    println!(
        "{:<15} {:>4} {:>8} {:>12} {:>12} {:>10} {:>10}",
        "format", "runs", "nothing", "recov.med s", "recov.max s", "lost.med s", "lost.max s"
    );
    let mut lost_all = Vec::new();
    let mut rec_all = Vec::new();
    for (fi, f) in formats.iter().enumerate() {
        let mine: Vec<&Outcome> = all
            .iter()
            .filter(|(i, _)| *i == fi)
            .map(|(_, o)| o)
            .collect();
        let mut rec: Vec<f64> = mine.iter().map(|o| o.recovered_s).collect();
        let mut lost: Vec<f64> = mine.iter().map(|o| o.lost_s).collect();
        lost_all.extend(lost.iter().copied());
        rec_all.extend(rec.iter().copied());
        let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        println!(
            "{:<15} {:>4} {:>8} {:>12.3} {:>12.3} {:>10.3} {:>10.3}",
            f.name,
            mine.len(),
            mine.iter().filter(|o| o.nothing).count(),
            median(&mut rec),
            max(&rec),
            median(&mut lost),
            max(&lost)
        );
    }
    println!(
        "all: {} runs recovered and checked, {} killed before creating a file; recovered median {:.3} s; lost median {:.3} s, worst {:.3} s",
        all.len(),
        no_file,
        median(&mut rec_all),
        median(&mut lost_all),
        lost_all.iter().copied().fold(0.0, f64::max)
    );
    assert!(
        all.len() >= runs * 3 / 4,
        "most runs must leave a file to recover"
    );
    assert!(
        all.iter().filter(|(_, o)| !o.nothing).count() >= runs / 2,
        "most runs recover audio"
    );
}
