//! Shared helpers for the audio tests: real speech from espeak-ng, sox and
//! lame, the CLI binary, and checks with sox and ffprobe.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn callseal() -> Command {
    Command::new(env!("CARGO_BIN_EXE_callseal"))
}

/// True when every tool runs. Missing tools fail under CI, else skip.
pub fn tools_present(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            Command::new(t)
                .arg(if *t == "ffprobe" || *t == "ffmpeg" {
                    "-version"
                } else {
                    "--version"
                })
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_err()
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("FAIL: the audio tests need {missing:?} (install them; .ci/run does)");
    }
    eprintln!("NOTICE: skipping audio test, missing tools: {missing:?}");
    false
}

/// True when sox can read MP3 (Debian: libsox-fmt-mp3).
pub fn sox_reads_mp3() -> bool {
    let o = Command::new("sox").arg("-h").output().expect("sox runs");
    let text = String::from_utf8_lossy(&o.stdout);
    let ok = text
        .lines()
        .any(|l| l.starts_with("AUDIO FILE FORMATS") && l.split(' ').any(|w| w == "mp3"));
    if !ok && std::env::var_os("CI").is_some() {
        panic!("FAIL: sox cannot read MP3: install libsox-fmt-mp3");
    }
    if !ok {
        eprintln!("NOTICE: sox has no MP3 support (libsox-fmt-mp3); MP3 checked with ffprobe only");
    }
    ok
}

pub fn run(cmd: &mut Command) -> Output {
    let o = cmd.output().expect("command runs");
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A throwaway identity file and its recipient.
pub fn keygen(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("supervisor.key");
    let o = run(callseal().args(["keygen", "-o", key.to_str().unwrap()]));
    (key, String::from_utf8(o.stdout).unwrap().trim().to_string())
}

/// Speech as raw samples: `sox_args` give the raw output encoding, e.g.
/// `["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]`.
pub fn speech(dir: &Path, text: &str, name: &str, sox_args: &[&str]) -> Vec<u8> {
    let wav = dir.join(format!("{name}.espeak.wav"));
    run(Command::new("espeak-ng").args(["-w", wav.to_str().unwrap(), text]));
    let raw = dir.join(format!("{name}.raw"));
    run(Command::new("sox")
        .arg(&wav)
        .args(sox_args)
        .args(["-t", "raw"])
        .arg(&raw));
    let bytes = fs::read(&raw).unwrap();
    assert!(bytes.len() > 8000, "espeak-ng made speech");
    bytes
}

/// Encodes 8 kHz 16-bit mono samples as a CBR 32 kbit/s MP3 with no
/// Xing/LAME tag (`-t`), what a capture host must configure. lame is given a
/// WAV, not raw samples: Debian's lame reads raw input through libsndfile,
/// which may sniff the first samples as a file header and encode a fraction
/// of a second (seen: 0.4 s of 26 s).
pub fn encode_mp3(dir: &Path, name: &str, samples: &[u8]) -> Vec<u8> {
    let raw = dir.join(format!("{name}.raw"));
    fs::write(&raw, samples).unwrap();
    let wav = dir.join(format!("{name}.wav"));
    run(Command::new("sox")
        .args(["-t", "raw"])
        .args(S16)
        .arg(&raw)
        .arg(&wav));
    let mp3 = dir.join(format!("{name}.mp3"));
    run(Command::new("lame")
        .args(["--quiet", "-m", "m", "-b", "32", "--cbr", "-t"])
        .arg(&wav)
        .arg(&mp3));
    let frames = fs::read(&mp3).unwrap();
    // 32 kbit/s is 4000 bytes a second.
    let seconds = samples.len() as f64 / 16_000.0;
    assert!(
        frames.len() as f64 > 0.9 * seconds * 4000.0,
        "lame encoded {} bytes for {seconds:.1} s of speech",
        frames.len()
    );
    frames
}

pub const S16: [&str; 8] = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"];
pub const ULAW: [&str; 8] = ["-r", "8000", "-c", "1", "-b", "8", "-e", "u-law"];
pub const ALAW: [&str; 8] = ["-r", "8000", "-c", "1", "-b", "8", "-e", "a-law"];

/// sox and ffprobe both accept `path`; returns ffprobe's duration.
pub fn check_with_tools(path: &Path) -> f64 {
    let is_mp3 = path.extension().is_some_and(|e| e == "mp3");
    if !is_mp3 || sox_reads_mp3() {
        let o = Command::new("sox")
            .arg(path)
            .args(["-n", "stat"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "sox refuses {}: {err}", path.display());
        assert!(!err.contains("FAIL"), "sox: {err}");
    }
    let o = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && err.trim().is_empty(),
        "ffprobe refuses {}: {err}",
        path.display()
    );
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("ffprobe duration of {}", path.display()))
}

/// The data bytes of a WAV as sox decodes them, in the file's own encoding.
pub fn sox_raw(path: &Path, encoding: &[&str]) -> Vec<u8> {
    let o = run(Command::new("sox")
        .arg(path)
        .args(encoding)
        .args(["-t", "raw", "-"]));
    o.stdout
}

/// 16-bit samples of a WAV via hound.
pub fn hound_samples(path: &Path) -> (hound::WavSpec, Vec<i16>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let s = r.samples::<i16>().map(|s| s.unwrap()).collect();
    (spec, s)
}

pub fn le_samples(raw: &[u8]) -> Vec<i16> {
    raw.chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}
