//! Real speech (espeak-ng, sox, lame) captured through `callseal seal
//! --pcm`, opened, clipped and inspected; every output checked with sox and
//! ffprobe and compared sample by sample with what was fed in.

mod audio_common;

use std::fs;
use std::io::{Cursor, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use audio_common::*;
use callseal::audio::{open_clip, CaptureWriter, Metadata, PcmFormat, PlayableReader};
use callseal::{Identity, Opener};

const TEXT: &str = "Thank you for calling. Your call may be recorded for quality purposes. \
                    Please state your customer number after the tone.";

fn seal_pcm(
    dir: &Path,
    recipient: &str,
    pcm: &str,
    raw: &[u8],
    name: &str,
    meta: &[&str],
) -> std::path::PathBuf {
    let out = dir.join(format!("{name}.wav.age"));
    let mut cmd = callseal();
    cmd.args([
        "seal",
        "--pcm",
        pcm,
        "-r",
        recipient,
        "-o",
        out.to_str().unwrap(),
    ]);
    for m in meta {
        cmd.args(["--meta", m]);
    }
    let mut child = cmd.stdin(Stdio::piped()).spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for frame in raw.chunks(320) {
            stdin.write_all(frame).unwrap();
        }
    }
    assert!(child.wait().unwrap().success());
    out
}

fn open_cli(key: &Path, sealed: &Path, out: &Path, extra: &[&str]) {
    run(callseal()
        .args([
            "open",
            "-i",
            key.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .args(extra)
        .arg(sealed));
}

/// Capture, stock `age -d`, `callseal open`, `--raw`, and a clip, for one
/// PCM format; `decode` reads a WAV's samples back as raw bytes.
fn pcm_round_trip(pcm: &str, sox_enc: &[&str], raw: &[u8], name: &str, bytes_per_frame: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (key, recipient) = keygen(dir.path());
    let sealed = seal_pcm(
        dir.path(),
        &recipient,
        pcm,
        raw,
        name,
        &["call_id=call-77", "direction=inbound"],
    );
    let rate = 8000.0;
    let seconds = (raw.len() / bytes_per_frame) as f64 / rate;

    // Stock age output: streaming placeholder sizes, accepted as they are.
    let age_out = dir.path().join(format!("{name}.age-d.wav"));
    let o = run(Command::new("age")
        .args(["-d", "-i", key.to_str().unwrap()])
        .arg(&sealed));
    fs::write(&age_out, &o.stdout).unwrap();
    assert_eq!(&o.stdout[4..8], &[0xFF; 4], "RIFF placeholder");
    let d = check_with_tools(&age_out);
    assert!((d - seconds).abs() < 0.001, "ffprobe {d} vs {seconds}");
    assert_eq!(sox_raw(&age_out, sox_enc), raw, "samples via age -d");

    // callseal open: real sizes.
    let opened = dir.path().join(format!("{name}.wav"));
    open_cli(&key, &sealed, &opened, &[]);
    let bytes = fs::read(&opened).unwrap();
    let data_size = u32::from_le_bytes(
        bytes[bytes.len() - raw.len() - 4..bytes.len() - raw.len()]
            .try_into()
            .unwrap(),
    );
    assert_eq!(data_size as usize, raw.len());
    assert_eq!(
        u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize,
        bytes.len() - 8
    );
    assert_eq!(&bytes[bytes.len() - raw.len()..], raw);
    let d = check_with_tools(&opened);
    assert!((d - seconds).abs() < 0.001);
    assert_eq!(sox_raw(&opened, sox_enc), raw, "samples via callseal open");
    let sox_err = Command::new("sox")
        .arg(&opened)
        .args(["-n", "stat"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&sox_err.stderr).contains("Premature EOF"),
        "sizes are exact"
    );

    // --raw is the plaintext untouched.
    let raw_out = dir.path().join(format!("{name}.raw.wav"));
    open_cli(&key, &sealed, &raw_out, &["--raw"]);
    assert_eq!(fs::read(&raw_out).unwrap(), o.stdout);

    // A clip from 1.25 s to 3 s: exact sample frames.
    let clip = dir.path().join(format!("{name}.clip.wav"));
    open_cli(&key, &sealed, &clip, &["--from", "0:01.25", "--to", "3"]);
    let d = check_with_tools(&clip);
    assert!((d - 1.75).abs() < 0.0005, "clip duration {d}");
    let (a, b) = (10_000 * bytes_per_frame, 24_000 * bytes_per_frame);
    assert_eq!(sox_raw(&clip, sox_enc), &raw[a..b], "clip samples");
}

#[test]
fn speech_s16_mono_captured_opened_and_clipped_exactly() {
    if !tools_present(&["espeak-ng", "sox", "ffprobe", "age"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let raw = speech(dir.path(), TEXT, "s16", &S16);
    pcm_round_trip(
        "8000:1:s16",
        &["-e", "signed-integer", "-b", "16"],
        &raw,
        "s16",
        2,
    );

    // hound reads the opened file too, sample for sample.
    let (key, recipient) = keygen(dir.path());
    let sealed = seal_pcm(dir.path(), &recipient, "8000:1:s16", &raw, "h", &[]);
    let opened = dir.path().join("h.wav");
    open_cli(&key, &sealed, &opened, &[]);
    let (spec, samples) = hound_samples(&opened);
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16)
    );
    assert_eq!(samples, le_samples(&raw));
}

#[test]
fn speech_mulaw_and_alaw_round_trip_exactly() {
    if !tools_present(&["espeak-ng", "sox", "ffprobe", "age"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ulaw = speech(dir.path(), TEXT, "ulaw", &ULAW);
    pcm_round_trip("8000:1:ulaw", &["-e", "u-law", "-b", "8"], &ulaw, "ulaw", 1);
    let alaw = speech(dir.path(), TEXT, "alaw", &ALAW);
    pcm_round_trip("8000:1:alaw", &["-e", "a-law", "-b", "8"], &alaw, "alaw", 1);
}

#[test]
fn speech_stereo_caller_and_agent_legs() {
    if !tools_present(&["espeak-ng", "sox", "ffprobe", "age"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let caller = speech(
        dir.path(),
        &format!("Hello, I have a question about my bill. {TEXT}"),
        "caller",
        &S16,
    );
    let agent = speech(
        dir.path(),
        &format!("Good morning, you are speaking with Anna. {TEXT}"),
        "agent",
        &S16,
    );
    let n = caller.len().min(agent.len()) / 2 * 2;
    let (caller, agent) = (&caller[..n], &agent[..n]);

    // The API's leg helper, 20 ms per leg per write, as a host would.
    let supervisor = Identity::generate();
    let fmt: PcmFormat = "8000:2:s16".parse().unwrap();
    let mut rec =
        CaptureWriter::pcm(&[supervisor.recipient()], Vec::new(), fmt, &Metadata::new()).unwrap();
    for (c, a) in caller.chunks(320).zip(agent.chunks(320)) {
        rec.write_legs(c, a).unwrap();
    }
    let sealed = rec.finish().unwrap();
    let mut wav = Vec::new();
    PlayableReader::new(Opener::new(Cursor::new(&sealed), &[supervisor]).unwrap())
        .unwrap()
        .read_to_end(&mut wav)
        .unwrap();
    let path = dir.path().join("stereo.wav");
    fs::write(&path, &wav).unwrap();
    check_with_tools(&path);
    let (spec, samples) = hound_samples(&path);
    assert_eq!(spec.channels, 2);
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    assert_eq!(left, le_samples(caller));
    assert_eq!(right, le_samples(agent));

    // And through the CLI, from sox's own interleaving, in mu-law.
    let stereo = dir.path().join("legs.raw");
    let (cw, aw) = (
        dir.path().join("caller.espeak.wav"),
        dir.path().join("agent.espeak.wav"),
    );
    run(Command::new("sox")
        .args(["-M"])
        .arg(&cw)
        .arg(&aw)
        .args([
            "-r", "8000", "-c", "2", "-b", "8", "-e", "u-law", "-t", "raw",
        ])
        .arg(&stereo));
    let raw = fs::read(&stereo).unwrap();
    let raw = &raw[..raw.len() / 2 * 2];
    pcm_round_trip(
        "8000:2:ulaw",
        &["-e", "u-law", "-b", "8"],
        raw,
        "stereo-ulaw",
        2,
    );
}

#[test]
fn metadata_is_sealed_shown_by_inspect_and_checked_on_open() {
    if !tools_present(&["espeak-ng", "sox", "ffprobe"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let raw = speech(dir.path(), "Testing metadata.", "m", &S16);
    let (key, recipient) = keygen(dir.path());
    let meta = [
        "call_id=2024-05-01-000123",
        "start=2024-05-01T09:30:00Z",
        "direction=outbound",
        "queue=billing",
        "agent=Agent Smith",
    ];
    let sealed = seal_pcm(dir.path(), &recipient, "8000:1:s16", &raw, "m", &meta);

    // Not visible in the ciphertext.
    let cipher = fs::read(&sealed).unwrap();
    let contains = |needle: &[u8]| cipher.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(b"000123") && !contains(b"Agent Smith") && !contains(b"csmd"));

    let o = run(callseal()
        .args(["inspect", "-i", key.to_str().unwrap()])
        .arg(&sealed));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("metadata:    call_id = 2024-05-01-000123"),
        "{text}"
    );
    assert!(text.contains("metadata:    agent = Agent Smith"), "{text}");
    assert!(
        text.contains("WAV, 8000 Hz, 1 channel(s), 16-bit PCM"),
        "{text}"
    );
    let o = run(callseal()
        .args(["inspect", "--json", "-i", key.to_str().unwrap()])
        .arg(&sealed));
    let json = String::from_utf8(o.stdout).unwrap();
    assert!(
        json.contains("\"metadata\":{\"call_id\":\"2024-05-01-000123\""),
        "{json}"
    );

    // The right call id opens; another one is refused with no output file.
    let ok = dir.path().join("ok.wav");
    open_cli(
        &key,
        &sealed,
        &ok,
        &["--expect-call-id", "2024-05-01-000123"],
    );
    check_with_tools(&ok);
    let swapped = dir.path().join("swapped.wav");
    let o = callseal()
        .args([
            "open",
            "-i",
            key.to_str().unwrap(),
            "--expect-call-id",
            "2024-05-01-000999",
            "-o",
            swapped.to_str().unwrap(),
        ])
        .arg(&sealed)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("sealed call id is \"2024-05-01-000123\""));
    assert!(!swapped.exists());
}

#[test]
fn wav_sealed_from_a_finished_file_keeps_its_exact_bytes() {
    if !tools_present(&["espeak-ng", "sox"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("finished.espeak.wav");
    run(Command::new("espeak-ng").args(["-w", wav.to_str().unwrap(), "A finished file."]));
    let (key, recipient) = keygen(dir.path());
    let sealed = dir.path().join("f.age");
    run(callseal()
        .args(["seal", "-r", &recipient, "-o", sealed.to_str().unwrap()])
        .arg(&wav));
    let out = dir.path().join("f.wav");
    open_cli(&key, &sealed, &out, &[]);
    assert_eq!(fs::read(&out).unwrap(), fs::read(&wav).unwrap());
}

#[test]
fn mp3_sealed_as_is_with_id3_metadata_and_clipped_by_frames() {
    if !tools_present(&["espeak-ng", "sox", "ffprobe", "lame"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut raw = Vec::new();
    for _ in 0..4 {
        raw.extend(speech(dir.path(), TEXT, "mp3src", &S16));
    }
    let frames = encode_mp3(dir.path(), "mp3src.all", &raw);
    // The clip below needs at least 10 s.
    assert!(
        raw.len() > 12 * 16_000,
        "speech long enough for a 5-10 s clip"
    );
    let (key, recipient) = keygen(dir.path());
    let sealed = dir.path().join("call.mp3.age");
    let mut child = callseal()
        .args([
            "seal",
            "--meta",
            "call_id=mp3-1",
            "-r",
            &recipient,
            "-o",
            sealed.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for piece in frames.chunks(417) {
            stdin.write_all(piece).unwrap();
        }
    }
    assert!(child.wait().unwrap().success());

    let out = dir.path().join("opened.mp3");
    open_cli(&key, &sealed, &out, &["--expect-call-id", "mp3-1"]);
    let opened = fs::read(&out).unwrap();
    assert!(opened.starts_with(b"ID3\x04"));
    assert!(opened.ends_with(&frames), "frame stream out as it went in");
    let full = check_with_tools(&out);
    let o = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format_tags=call_id",
            "-of",
            "csv=p=0",
        ])
        .arg(&out));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "mp3-1");

    // Clip 5 s to 10 s: whole 72 ms frames (576 samples at 8 kHz).
    let clip = dir.path().join("clip.mp3");
    open_cli(&key, &sealed, &clip, &["--from", "5", "--to", "10"]);
    let d = check_with_tools(&clip);
    let frame = 0.072;
    let expected = ((10.0 / frame) as u64 - (5.0 / frame) as u64) as f64 * frame;
    assert!(
        (d - expected).abs() < 0.001,
        "clip {d} s, expected {expected} (full {full})"
    );
    let clip_bytes = fs::read(&clip).unwrap();
    let tag_len = opened.len() - frames.len();
    assert_eq!(
        &clip_bytes[..tag_len],
        &opened[..tag_len],
        "the clip keeps the metadata tag"
    );
    let body = &clip_bytes[tag_len..];
    let at = frames
        .windows(body.len().min(64))
        .position(|w| w == &body[..body.len().min(64)])
        .expect("clip frames come from the stream");
    assert_eq!(
        &frames[at..at + body.len()],
        body,
        "clip is a contiguous run of frames"
    );
}

#[test]
fn api_clip_matches_the_whole_recording() {
    let id = Identity::generate();
    let mut rec = CaptureWriter::pcm(
        &[id.recipient()],
        Vec::new(),
        PcmFormat::TELEPHONY,
        &Metadata::new(),
    )
    .unwrap();
    let audio: Vec<u8> = (0..16_000 * 30).map(|i| (i * 31 % 253) as u8).collect();
    for f in audio.chunks(320) {
        rec.write_frame(f).unwrap();
    }
    let sealed = rec.finish().unwrap();
    for (from, to) in [
        (0, 1000),
        (4100, 4200),
        (12_500, 30_000),
        (29_990, 40_000),
        (7000, 7000),
    ] {
        let opener = Opener::new(Cursor::new(&sealed), std::slice::from_ref(&id)).unwrap();
        let mut clip = open_clip(
            opener,
            Duration::from_millis(from),
            Some(Duration::from_millis(to)),
        )
        .unwrap();
        let mut out = Vec::new();
        clip.read_to_end(&mut out).unwrap();
        let a = (from as usize * 8).min(240_000) * 2;
        let b = (to as usize * 8).min(240_000) * 2;
        assert_eq!(&out[44..], &audio[a..b], "{from}..{to}");
        let data = u32::from_le_bytes(out[40..44].try_into().unwrap()) as usize;
        assert_eq!(data, b - a);
    }
}
