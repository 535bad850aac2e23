//! Recording-aware sealing: call recordings captured as WAV (16-bit PCM,
//! G.711 mu-law or A-law, mono or caller/agent stereo) or MP3, sealed as
//! they are written, opened as playable files, recovered after a crash,
//! clipped by time, and carrying sealed call metadata.
//!
//! This layer only frames bytes: it writes a WAV header, a metadata chunk or
//! MP3 frames into a [`crate::Sealer`] and reads them back through an
//! [`crate::Opener`]. It never touches keys or nonces.
//!
//! ```
//! use std::io::{Cursor, Read};
//! use std::time::Duration;
//! use callseal::audio::{open_clip, CaptureWriter, Metadata, PcmFormat, PlayableReader};
//! use callseal::{Identity, Opener};
//!
//! let supervisor = Identity::generate();
//! let mut meta = Metadata::new();
//! meta.insert("call_id", "c-2024-0001")?;
//!
//! // Capture: 20 ms frames, sealed on the fly; the WAV header says "streaming".
//! let mut rec = CaptureWriter::pcm(&[supervisor.recipient()], Vec::new(), PcmFormat::TELEPHONY, &meta)?;
//! for _ in 0..500 {
//!     rec.write_frame(&[0u8; 320])?; // 10 s in all
//! }
//! let sealed = rec.finish()?;
//!
//! // Open: a WAV whose sizes come from the authenticated length.
//! let mut wav = Vec::new();
//! let mut playable = PlayableReader::new(Opener::new(Cursor::new(&sealed), &[supervisor.clone()])?)?;
//! assert_eq!(playable.info().metadata.call_id(), Some("c-2024-0001"));
//! playable.read_to_end(&mut wav)?;
//!
//! // Seek by time: seconds 2 to 3 only.
//! let opener = Opener::new(Cursor::new(&sealed), &[supervisor])?;
//! let clip = open_clip(opener, Duration::from_secs(2), Some(Duration::from_secs(3)))?;
//! assert_eq!(clip.output_len(), wav.len() as u64 - 10 * 16_000 + 16_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod capture;
mod clip;
mod metadata;
mod mp3;
mod playable;
mod recover;
mod wav;

pub use capture::{interleave_into, CaptureWriter, SyncData};
pub use clip::{open_clip, parse_time};
pub use metadata::{Metadata, CALL_ID, MAX_METADATA_BYTES};
pub use playable::{read_recording_info, PlayableReader, RecordingInfo, RecordingKind};
pub use recover::{recover_playable, AudioRecovery};
pub use wav::{Encoding, PcmFormat, WavLayout, PLACEHOLDER_SIZE};
