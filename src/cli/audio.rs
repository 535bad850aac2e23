//! The audio side of `seal`, `open`, `inspect` and `recover`: capture from
//! raw PCM frames, sealed metadata, playable output, clips by time and
//! recovery that plays. Every step is a call into `callseal::audio`.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use callseal::audio::{
    open_clip, read_recording_info, recover_playable, CaptureWriter, Metadata, PcmFormat,
    PlayableReader, RecordingInfo, RecordingKind, WavLayout,
};
use callseal::{AtomicFile, Error, Opener, Recipient, Sealer};
use clap::Args;
use zeroize::Zeroize;

use crate::files::{input, open_file, CliResult, Output};
use crate::keys::load_all;

/// Read size while capturing: at least stdin's 8 KiB buffer, so reads bypass
/// it and at most one read (8 KiB) is ever outside the sealer.
const CAPTURE_READ: usize = 8192;

/// Audio flags of `callseal seal`.
#[derive(Args, Debug, Default)]
pub struct SealAudioArgs {
    /// Capture raw PCM frames from the input as a WAV: RATE:CHANNELS:ENCODING,
    /// ENCODING s16, ulaw or alaw (e.g. 8000:1:s16, 8000:2:ulaw; stereo is
    /// caller left, agent right).
    #[arg(long, value_name = "RATE:CHANNELS:ENCODING")]
    pub pcm: Option<String>,
    /// Sealed call metadata KEY=VALUE (call_id, start, direction, queue,
    /// agent, ...); repeatable. Needs --pcm, a WAV or an MP3 input.
    #[arg(long = "meta", value_name = "KEY=VALUE")]
    pub meta: Vec<String>,
    /// With --pcm and -o: fsync the output every N sealed 64 KiB chunks.
    #[arg(long, value_name = "N", requires = "pcm")]
    pub fsync_every: Option<u32>,
}

/// Audio flags of `callseal open`.
#[derive(Args, Debug, Default)]
pub struct OpenAudioArgs {
    /// Output the plaintext exactly as sealed (no WAV size fixing, no clip).
    #[arg(long, conflicts_with_all = ["from", "to", "expect_call_id"])]
    pub raw: bool,
    /// Start the output at this time (SS, MM:SS or HH:MM:SS[.frac]); the
    /// clip is itself a WAV or MP3 file.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End the output at this time.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Refuse the recording unless its sealed call id is ID.
    #[arg(long, value_name = "ID")]
    pub expect_call_id: Option<String>,
}

impl SealAudioArgs {
    /// True when any audio flag was given.
    pub fn is_active(&self) -> bool {
        self.pcm.is_some() || !self.meta.is_empty()
    }
}

fn metadata(pairs: &[String]) -> CliResult<Metadata> {
    let mut meta = Metadata::new();
    for p in pairs {
        meta.insert_pair(p)
            .map_err(|e| format!("--meta {p}: {e}"))?;
    }
    Ok(meta)
}

/// `callseal seal --pcm` / `--meta`.
pub fn seal(
    recipients: &[Recipient],
    args: &SealAudioArgs,
    output: Option<PathBuf>,
    input_path: Option<PathBuf>,
) -> CliResult {
    let meta = metadata(&args.meta)?;
    let mut source = input(input_path.as_deref())?;
    let Some(pcm) = &args.pcm else {
        return seal_with_metadata(recipients, &meta, output, &mut source);
    };
    let format: PcmFormat = pcm.parse().map_err(|e: Error| e.to_string())?;
    let describe = |e: Error| e.to_string();
    match output {
        Some(path) => {
            let file = AtomicFile::create(&path, 0o644).map_err(describe)?;
            let mut rec = CaptureWriter::pcm(recipients, file, format, &meta).map_err(describe)?;
            if let Some(n) = args.fsync_every {
                rec.fsync_every(n);
            }
            capture(&mut source, &mut rec)?;
            let file = rec.finish().map_err(describe)?;
            file.commit().map_err(describe)
        }
        None => {
            let out = Output::new(None, 0o644, Some("ciphertext"))?;
            let mut rec = CaptureWriter::pcm(recipients, out, format, &meta).map_err(describe)?;
            capture(&mut source, &mut rec)?;
            rec.finish().map_err(describe)?.commit()
        }
    }
}

/// Feeds frames as they arrive; each sealed chunk goes out at once.
fn capture<W: Write>(source: &mut dyn Read, rec: &mut CaptureWriter<W>) -> CliResult {
    let mut buf = [0u8; CAPTURE_READ];
    let result = loop {
        match source.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = rec.write_all(&buf[..n]) {
                    break Err(format!("cannot write the output: {}", Error::from_io(e)));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(format!("cannot read the input: {e}")),
        }
    };
    buf.zeroize();
    result
}

/// `seal --meta` on a WAV or MP3 input: the metadata goes in a `csmd` chunk
/// before `data`, or an ID3v2 tag before the frames.
fn seal_with_metadata(
    recipients: &[Recipient],
    meta: &Metadata,
    output: Option<PathBuf>,
    source: &mut dyn Read,
) -> CliResult {
    let mut first = vec![0u8; 64 * 1024];
    let mut filled = 0;
    while filled < first.len() {
        match source.read(&mut first[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot read the input: {e}")),
        }
    }
    first.truncate(filled);
    let info = RecordingInfo::from_start(&first).map_err(|e| e.to_string())?;
    let start = match info.kind {
        RecordingKind::Wav => {
            let w: WavLayout = info.wav.clone().expect("WAV layout");
            if !w.metadata.is_empty() {
                return Err("the input WAV already carries sealed metadata".into());
            }
            let chunk = meta.to_wav_chunk();
            let at = w.data_offset as usize - 8;
            let mut out = first[..at].to_vec();
            out.extend_from_slice(&chunk);
            out.extend_from_slice(&first[at..]);
            if !w.has_placeholder_sizes() {
                let riff = w.riff_size.saturating_add(chunk.len() as u32);
                out[4..8].copy_from_slice(&riff.to_le_bytes());
            }
            out
        }
        RecordingKind::Mp3 => {
            let mut out = meta.to_id3v2();
            out.extend_from_slice(&first);
            out
        }
        RecordingKind::Other => {
            return Err("--meta needs --pcm, or a WAV or MP3 input".into());
        }
    };
    first.zeroize();
    let out = Output::new(output, 0o644, Some("ciphertext"))?;
    let mut sealer = Sealer::new(recipients, out).map_err(|e| e.to_string())?;
    let mut start = start;
    let written = sealer.write_all(&start);
    start.zeroize();
    written.map_err(|e| format!("cannot write the output: {e}"))?;
    let mut buf = vec![0u8; CAPTURE_READ];
    let result = loop {
        match source.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = sealer.write_all(&buf[..n]) {
                    break Err(format!("cannot write the output: {e}"));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(format!("cannot read the input: {e}")),
        }
    };
    buf.zeroize();
    result?;
    sealer.finish().map_err(|e| e.to_string())?.commit()
}

/// A seekable view of the sealed input: the file itself, or stdin spooled
/// to an unlinked temporary file. Only ciphertext is spooled.
fn seekable_input(path: Option<&Path>) -> CliResult<File> {
    if let Some(p) = path {
        return open_file(p);
    }
    let mut random = [0u8; 8];
    getrandom::getrandom(&mut random).map_err(|e| e.to_string())?;
    let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let spool = std::env::temp_dir().join(format!("callseal-spool-{name}"));
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&spool)
        .map_err(|e| format!("cannot spool stdin in {}: {e}", spool.display()))?;
    let _ = std::fs::remove_file(&spool);
    io::copy(&mut io::stdin().lock(), &mut file)
        .map_err(|e| format!("cannot read the sealed file from stdin: {e}"))?;
    file.rewind().map_err(|e| e.to_string())?;
    Ok(file)
}

/// `callseal open` without `--raw`: a playable WAV/MP3 (sizes fixed from
/// the authenticated length), optionally clipped and checked for its call id.
pub fn open(
    identity_files: &[PathBuf],
    passphrase: bool,
    args: &OpenAudioArgs,
    output: Option<PathBuf>,
    threads: usize,
    input_path: Option<PathBuf>,
) -> CliResult {
    let source = io::BufReader::new(seekable_input(input_path.as_deref())?);
    let opener = crate::commands::unlock(source, identity_files, passphrase, threads)?;
    let clipping = args.from.is_some() || args.to.is_some();
    if opener.is_armored() {
        if clipping || args.expect_call_id.is_some() {
            return Err(
                "--from, --to and --expect-call-id need a binary (not armored) file".into(),
            );
        }
        let mut opener = opener;
        let mut out = Output::new(output, 0o600, None)?;
        copy(&mut opener, &mut out)?;
        return out.commit();
    }
    let mut reader = if clipping {
        let from = time_arg(args.from.as_deref())?.unwrap_or_default();
        let to = time_arg(args.to.as_deref())?;
        open_clip(opener, from, to)
    } else {
        PlayableReader::new(opener)
    }
    .map_err(|e| e.to_string())?;
    if let Some(expected) = &args.expect_call_id {
        match reader.info().metadata.call_id() {
            Some(id) if id == expected => {}
            Some(id) => {
                return Err(format!(
                    "refusing the recording: its sealed call id is {id:?}, not {expected:?} (a file swapped under another name?)"
                ))
            }
            None => {
                return Err(format!(
                    "refusing the recording: it carries no sealed call id (expected {expected:?})"
                ))
            }
        }
    }
    let mut out = Output::new(output, 0o600, None)?;
    copy(&mut reader, &mut out)?;
    out.commit()
}

fn time_arg(s: Option<&str>) -> CliResult<Option<Duration>> {
    s.map(|s| callseal::audio::parse_time(s).map_err(|e| format!("{s:?}: {e}")))
        .transpose()
}

fn copy(from: &mut dyn Read, to: &mut dyn Write) -> CliResult {
    let mut buf = vec![0u8; 64 * 1024];
    let result = loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                break Err(match Error::from_io(e) {
                    Error::Io(e) => format!("cannot read the sealed file: {e}"),
                    other => other.to_string(),
                })
            }
        };
        if let Err(e) = to.write_all(&buf[..n]) {
            break Err(format!("cannot write the output: {e}"));
        }
    };
    buf.zeroize();
    result
}

/// What `inspect -i` adds: the recording's kind, format and metadata, from
/// the first chunk only.
pub struct Described {
    info: RecordingInfo,
}

/// Decrypts the first chunk of `path` and describes the recording.
pub fn describe(path: &Path, identity_files: &[PathBuf]) -> CliResult<Described> {
    let ids = load_all(identity_files)?;
    let mut opener = Opener::new(open_file(path)?, &ids).map_err(|e| e.to_string())?;
    let info = read_recording_info(&mut opener).map_err(|e| e.to_string())?;
    Ok(Described { info })
}

impl Described {
    fn kind(&self) -> String {
        match (&self.info.wav, self.info.kind) {
            (Some(w), _) => format!(
                "WAV, {} Hz, {} channel(s), {}",
                w.sample_rate,
                w.channels,
                match w.format_tag {
                    1 => format!("{}-bit PCM", w.bits_per_sample),
                    6 => "G.711 A-law".into(),
                    7 => "G.711 mu-law".into(),
                    t => format!("format tag {t}"),
                }
            ),
            (None, RecordingKind::Mp3) => match self.info.mp3 {
                Some((kbps, rate)) => format!("MP3, {rate} Hz, {kbps} kbit/s"),
                None => "MP3".into(),
            },
            _ => "not a WAV or MP3 recording".into(),
        }
    }

    /// Extra `inspect` lines.
    pub fn print_text(&self, plaintext_len: u64) {
        println!("recording:   {} (decrypted: first chunk only)", self.kind());
        if let Some(d) = self.info.duration(plaintext_len) {
            println!("duration:    {:.3} s (from sizes)", d.as_secs_f64());
        }
        if self.info.metadata.is_empty() {
            println!("metadata:    none sealed");
        }
        for (k, v) in self.info.metadata.iter() {
            println!("metadata:    {k} = {v}");
        }
    }

    /// Extra `inspect --json` fields, with a leading comma.
    pub fn json_fields(&self, plaintext_len: u64, json_string: fn(&str) -> String) -> String {
        let meta: Vec<String> = self
            .info
            .metadata
            .iter()
            .map(|(k, v)| format!("{}:{}", json_string(k), json_string(v)))
            .collect();
        let duration = self
            .info
            .duration(plaintext_len)
            .map_or("null".to_string(), |d| format!("{:.3}", d.as_secs_f64()));
        format!(
            ",\"recording\":{},\"duration_seconds\":{duration},\"metadata\":{{{}}}",
            json_string(&self.kind()),
            meta.join(",")
        )
    }
}

/// `callseal recover`: a playable WAV or MP3 when the recording is one,
/// byte for byte otherwise; then what was recovered and lost.
pub fn recover(identity_files: &[PathBuf], output: &Path, file: &Path) -> CliResult {
    let ids = load_all(identity_files)?;
    let source = io::BufReader::new(open_file(file)?);
    let mut out = Output::new(Some(output.to_path_buf()), 0o600, None)?;
    let report = recover_playable(source, &ids, &mut out).map_err(|e| e.to_string())?;
    out.commit()?;
    println!(
        "recovered:   {} bytes written to {}",
        report.written_bytes,
        output.display()
    );
    match report.kind {
        RecordingKind::Wav | RecordingKind::Mp3 => {
            let kind = if report.kind == RecordingKind::Wav {
                "WAV, sizes corrected, cut to whole sample frames"
            } else {
                "MP3, cut to whole frames"
            };
            println!("recording:   {kind}");
            if let Some(d) = report.duration {
                println!("duration:    {:.3} s of audio recovered", d.as_secs_f64());
            }
            for (k, v) in report.metadata.iter() {
                println!("metadata:    {k} = {v}");
            }
        }
        RecordingKind::Other => {}
    }
    if report.written_bytes == 0 && !report.recovery.complete {
        println!("nothing:     no chunk authenticated: the writer died before its first 64 KiB chunk reached the disk");
    }
    match report.recovery.stopped_by {
        None => println!("status:      complete: the file was whole, nothing lost"),
        Some(why) => {
            println!("status:      {why}");
            println!(
                "lost:        at most {} bytes after the recovered part{}",
                report.recovery.max_lost_bytes() + report.discarded_bytes,
                report
                    .max_lost
                    .map(|d| format!(" (at most {:.3} s of audio)", d.as_secs_f64()))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}
