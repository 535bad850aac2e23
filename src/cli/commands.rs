//! `seal`, `open`, `inspect` and `recover`.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use callseal::{
    inspect as inspect_file, parse_recipients, Ending, Error, Opener, Recipient, Sealer,
};
use zeroize::Zeroize;

use crate::audio::{OpenAudioArgs, SealAudioArgs};
use crate::files::{input, open_file, CliResult, Output};
use crate::keys::{load_all, read_passphrase};

/// Copy buffer: whole chunks, so each read feeds the sealer whole chunks.
const COPY_BUF: usize = 1 << 20;

/// `callseal seal`.
pub fn seal(
    recipients: &[String],
    files: &[PathBuf],
    output: Option<PathBuf>,
    threads: Option<usize>,
    input_path: Option<PathBuf>,
    audio: &SealAudioArgs,
) -> CliResult {
    let recipients = collect_recipients(recipients, files)?;
    if audio.is_active() {
        return crate::audio::seal(&recipients, audio, output, input_path);
    }
    let threads = threads.unwrap_or_else(|| default_threads(input_path.as_deref()));
    let mut source = input(input_path.as_deref())?;
    let out = Output::new(output, 0o644, Some("ciphertext"))?;
    let mut sealer = Sealer::with_threads(&recipients, out, threads).map_err(|e| e.to_string())?;
    sealer
        .copy_from(&mut source)
        .map_err(|e| describe(e, "input or output"))?;
    let out = sealer.finish().map_err(|e| e.to_string())?;
    out.commit()
}

fn collect_recipients(args: &[String], files: &[PathBuf]) -> CliResult<Vec<Recipient>> {
    let mut all = Vec::new();
    for r in args {
        all.push(r.parse::<Recipient>().map_err(|e| e.to_string())?);
    }
    for f in files {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        all.extend(parse_recipients(&text).map_err(|e| format!("{}: {e}", f.display()))?);
    }
    if all.is_empty() {
        return Err("no recipients: pass -r age1... or -R RECIPIENTS_FILE".into());
    }
    Ok(all)
}

/// `callseal open`. With `-o`, the output appears only if the whole file
/// authenticated: plaintext from a damaged file never lands on disk.
/// Without `--raw`, recordings come out playable (see `crate::audio`).
pub fn open(
    identity_files: &[PathBuf],
    passphrase: bool,
    output: Option<PathBuf>,
    threads: Option<usize>,
    input_path: Option<PathBuf>,
    audio: &OpenAudioArgs,
) -> CliResult {
    let threads = threads.unwrap_or_else(|| default_threads(input_path.as_deref()));
    if !audio.raw {
        return crate::audio::open(
            identity_files,
            passphrase,
            audio,
            output,
            threads,
            input_path,
        );
    }
    let source = input(input_path.as_deref())?;
    let mut opener = unlock(source, identity_files, passphrase, threads)?;
    let mut out = Output::new(output, 0o600, None)?;
    copy(&mut opener, &mut out, "sealed file")?;
    out.commit()
}

/// Reads the header of `source` and unlocks it with the identity files, or
/// with a passphrase asked for when `passphrase` is set.
pub fn unlock<R: Read>(
    source: R,
    identity_files: &[PathBuf],
    passphrase: bool,
    threads: usize,
) -> CliResult<Opener<R>> {
    let opener = if passphrase {
        let p = read_passphrase("Passphrase: ")?;
        Opener::with_passphrase(source, &p)
    } else {
        Opener::new(source, &load_all(identity_files)?)
    };
    Ok(opener.map_err(|e| e.to_string())?.with_threads(threads))
}

/// Input files above this size are processed on all cores by default.
const PARALLEL_THRESHOLD: u64 = 4 << 20;

/// All cores for a large regular input file; one thread otherwise (a pipe
/// may be a live capture, which must reach the sink chunk by chunk).
fn default_threads(input: Option<&Path>) -> usize {
    let large = input
        .and_then(|p| std::fs::metadata(p).ok())
        .is_some_and(|m| m.is_file() && m.len() > PARALLEL_THRESHOLD);
    if large {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        1
    }
}

/// Copies `from` to `to`, turning errors into one line. Buffer wiped after.
fn copy(from: &mut dyn Read, to: &mut dyn Write, what: &str) -> CliResult {
    let mut buf = vec![0u8; COPY_BUF];
    let result = loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(describe(e, what)),
        };
        if let Err(e) = to.write_all(&buf[..n]) {
            break Err(describe(e, "output"));
        }
    };
    buf.zeroize();
    result
}

fn describe(e: io::Error, what: &str) -> String {
    match Error::from_io(e) {
        Error::Io(e) => format!("cannot read or write the {what}: {e}"),
        other => other.to_string(),
    }
}

/// `callseal inspect`; with identities, also the recording (first chunk only).
pub fn inspect(path: &Path, json: bool, identities: &[PathBuf]) -> CliResult {
    let info = inspect_file(open_file(path)?).map_err(|e| e.to_string())?;
    let recording = if identities.is_empty() {
        None
    } else {
        Some(crate::audio::describe(path, identities)?)
    };
    let ending = match info.ending {
        Ending::FinalSized => "final-sized",
        Ending::FullChunk => "full-chunk",
        Ending::Truncated => "truncated",
    };
    if json {
        let types: Vec<String> = info.stanza_types.iter().map(|t| json_string(t)).collect();
        println!(
            "{{\"file\":{},\"format\":\"age-encryption.org/v1\",\"armored\":{},\"recipients\":{},\"stanza_types\":[{}],\"header_bytes\":{},\"payload_bytes\":{},\"chunks\":{},\"plaintext_bytes\":{},\"ending\":\"{ending}\"{}}}",
            json_string(&path.display().to_string()),
            info.armored,
            info.stanza_types.len(),
            types.join(","),
            info.header_len,
            info.payload_len,
            info.chunk_count,
            info.plaintext_len,
            recording
                .as_ref()
                .map(|r| r.json_fields(info.plaintext_len, json_string))
                .unwrap_or_default(),
        );
    } else {
        println!("file:        {}", path.display());
        println!(
            "format:      age-encryption.org/v1{}",
            if info.armored { " (ASCII-armored)" } else { "" }
        );
        println!(
            "recipients:  {} ({})",
            info.stanza_types.len(),
            info.stanza_types.join(", ")
        );
        println!("header:      {} bytes", info.header_len);
        println!(
            "payload:     {} bytes in {} chunk(s)",
            info.payload_len, info.chunk_count
        );
        println!(
            "plaintext:   {} bytes (from sizes; not authenticated without a key)",
            info.plaintext_len
        );
        println!(
            "ending:      {}",
            match info.ending {
                Ending::FinalSized => "short last chunk: looks complete",
                Ending::FullChunk =>
                    "full last chunk: complete, or the writer died on a chunk boundary",
                Ending::Truncated => "truncated: the writer died or the file was cut",
            }
        );
        if let Some(r) = recording {
            r.print_text(info.plaintext_len);
        }
    }
    Ok(())
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `callseal recover`: writes what authenticates (as a playable WAV or MP3
/// when it is one), then says what was lost.
pub fn recover(identity_files: &[PathBuf], output: &Path, file: &Path) -> CliResult {
    crate::audio::recover(identity_files, output, file)
}
