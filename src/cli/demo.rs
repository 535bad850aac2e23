//! `callseal demo`: the whole life of one recording, with no setup.

use std::f64::consts::PI;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use callseal::{inspect, recover, AtomicFile, Ending, Error, Identity, Opener, Sealer};

use crate::files::{open_file, CliResult};
use crate::keys::{identity_file_text, write_new_secret_file};

const RATE: u32 = 8000;
const SECONDS: u32 = 5;
/// One 20 ms frame of 8 kHz 16-bit mono, as telephony hosts write it.
const FRAME_BYTES: usize = 320;

/// Runs the demo in `dir` (or a fresh temporary directory).
pub fn run(dir: Option<PathBuf>) -> CliResult {
    let dir = match dir {
        Some(d) => {
            fs::create_dir_all(&d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
            d
        }
        None => new_temp_dir()?,
    };
    println!("callseal demo: files in {}\n", dir.display());

    let key_path = dir.join("supervisor.key");
    let id = Identity::generate();
    write_new_secret_file(&key_path, identity_file_text(&id).as_bytes())?;
    let recipient = id.recipient();
    step(
        1,
        "identity",
        &format!("{} (mode 0600)", key_path.display()),
    );
    println!("                recipient {recipient}");

    let wav_path = dir.join("call.wav");
    write_speech_wav(&wav_path)?;
    let wav = fs::read(&wav_path).map_err(|e| e.to_string())?;
    step(
        2,
        "capture",
        &format!(
            "{}: {SECONDS} s of {RATE} Hz 16-bit mono speech-band audio, {} bytes",
            wav_path.display(),
            wav.len()
        ),
    );

    let sealed_path = dir.join("call.wav.age");
    let mut out = AtomicFile::create(&sealed_path, 0o644).map_err(|e| e.to_string())?;
    let mut sealer = Sealer::new(&[recipient], &mut out).map_err(|e| e.to_string())?;
    for frame in wav.chunks(FRAME_BYTES) {
        sealer.write_all(frame).map_err(|e| e.to_string())?;
    }
    sealer.finish().map_err(|e| e.to_string())?;
    out.commit().map_err(|e| e.to_string())?;
    let sealed_len = fs::metadata(&sealed_path).map_err(|e| e.to_string())?.len();
    step(
        3,
        "seal",
        &format!(
            "{}: {sealed_len} bytes, written frame by frame ({FRAME_BYTES} B / 20 ms)",
            sealed_path.display()
        ),
    );

    let info = inspect(open_file(&sealed_path)?).map_err(|e| e.to_string())?;
    step(
        4,
        "inspect",
        &format!(
            "no key needed: {} recipient(s) ({}), {} chunk(s), {} plaintext bytes, {}",
            info.stanza_types.len(),
            info.stanza_types.join(", "),
            info.chunk_count,
            info.plaintext_len,
            if info.ending == Ending::FinalSized {
                "looks complete"
            } else {
                "may be truncated"
            }
        ),
    );

    let opened_path = dir.join("call.opened.wav");
    let mut opened = Vec::new();
    Opener::new(open_file(&sealed_path)?, std::slice::from_ref(&id))
        .and_then(|mut o| o.read_to_end(&mut opened).map_err(Error::from_io))
        .map_err(|e| e.to_string())?;
    fs::write(&opened_path, &opened).map_err(|e| e.to_string())?;
    step(
        5,
        "open",
        &format!(
            "{}: {} bytes, every chunk authenticated",
            opened_path.display(),
            opened.len()
        ),
    );

    let identical = opened == wav;
    step(
        6,
        "compare",
        if identical {
            "byte-identical to the captured WAV: yes"
        } else {
            "byte-identical: NO"
        },
    );
    if !identical {
        return Err("the opened recording differs from the original".into());
    }

    // A writer that dies mid-call leaves a file with no final chunk.
    let sealed = fs::read(&sealed_path).map_err(|e| e.to_string())?;
    let crashed_path = dir.join("call.crashed.wav.age");
    let cut = sealed.len() - 1000;
    fs::write(&crashed_path, &sealed[..cut]).map_err(|e| e.to_string())?;
    let strict = Opener::new(sealed[..cut].as_ref(), std::slice::from_ref(&id))
        .and_then(|mut o| o.read_to_end(&mut Vec::new()).map_err(Error::from_io));
    let refused = match strict {
        Err(e) => e.to_string(),
        Ok(_) => return Err("a truncated file opened as complete".into()),
    };
    let mut salvaged = Vec::new();
    let report = recover(&sealed[..cut], std::slice::from_ref(&id), &mut salvaged)
        .map_err(|e| e.to_string())?;
    step(
        7,
        "crash",
        &format!("{} cut by 1000 bytes", crashed_path.display()),
    );
    println!("                strict open refuses it: {refused}");
    println!(
        "                recover salvages {} bytes ({:.2} s of audio), a prefix of the original: {}",
        report.recovered_bytes,
        report.recovered_bytes as f64 / f64::from(RATE * 2),
        wav.starts_with(&salvaged)
    );

    println!("\nTry it yourself:");
    println!(
        "  callseal open -i {} -o out.wav {}",
        key_path.display(),
        sealed_path.display()
    );
    println!(
        "  age -d -i {} {} > out.wav      # stock age opens it too",
        key_path.display(),
        sealed_path.display()
    );
    Ok(())
}

fn step(n: u32, name: &str, text: &str) {
    println!("{n}. {name:12} {text}");
}

fn new_temp_dir() -> CliResult<PathBuf> {
    let mut rnd = [0u8; 4];
    getrandom::getrandom(&mut rnd).map_err(|e| format!("no OS randomness: {e}"))?;
    let suffix: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("callseal-demo-{suffix}"));
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(&dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Synthesises a voice-like signal: a gliding fundamental with harmonics up
/// to 3.4 kHz shaped by moving vowel formants, in syllables of about 200 ms.
fn write_speech_wav(path: &Path) -> CliResult {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let vowels = [
        (700.0, 1220.0, 2600.0),
        (300.0, 2300.0, 3000.0),
        (500.0, 900.0, 2400.0),
        (400.0, 1900.0, 2550.0),
    ];
    let mut phase = 0.0f64;
    for i in 0..RATE * SECONDS {
        let t = f64::from(i) / f64::from(RATE);
        let syllable = (t / 0.21) as usize;
        let (f1, f2, f3) = vowels[syllable % vowels.len()];
        let f0 = 110.0 + 25.0 * (2.0 * PI * 0.7 * t).sin();
        phase += 2.0 * PI * f0 / f64::from(RATE);
        let mut sample = 0.0;
        let mut k = 1.0;
        while k * f0 < 3400.0 {
            let f = k * f0;
            let gain: f64 = [(f1, 1.0), (f2, 0.6), (f3, 0.3)]
                .iter()
                .map(|&(c, g)| g * (-((f - c) / 120.0).powi(2)).exp())
                .sum();
            sample += gain * (k * phase).sin() / k.sqrt();
            k += 1.0;
        }
        let envelope = (PI * (t / 0.21).fract()).sin().powi(2);
        let value = (sample * envelope * 9000.0).clamp(-32767.0, 32767.0) as i16;
        writer.write_sample(value).map_err(|e| e.to_string())?;
    }
    writer.finalize().map_err(|e| e.to_string())
}
