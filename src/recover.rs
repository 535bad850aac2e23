//! Recovery of recordings whose writer died: every authenticated chunk is
//! returned, and the report says what was lost and why.

use std::io::{Read, Write};

use crate::error::{Error, PayloadError, Result};
use crate::keys::Identity;
use crate::open::Opener;

/// What [`recover`] salvaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Authenticated plaintext bytes written to the sink.
    pub recovered_bytes: u64,
    /// True when the file was whole (its final chunk authenticated and
    /// nothing followed it): nothing was lost.
    pub complete: bool,
    /// Why reading stopped early, when it did. `Truncated` is the expected
    /// outcome of a writer crash; anything else means the file was damaged.
    pub stopped_by: Option<PayloadError>,
}

impl Recovery {
    /// An upper bound on plaintext bytes lost at the end: a crashed writer
    /// loses at most what it had buffered, one chunk (64 KiB).
    ///
    /// ```
    /// let r = callseal::Recovery { recovered_bytes: 10, complete: true, stopped_by: None };
    /// assert_eq!(r.max_lost_bytes(), 0);
    /// ```
    pub fn max_lost_bytes(&self) -> u64 {
        match self.stopped_by {
            None | Some(PayloadError::TrailingData) => 0,
            Some(_) => crate::stream::CHUNK_SIZE as u64,
        }
    }
}

/// Copies every authenticated chunk of a possibly truncated file to `sink`.
///
/// Header problems (wrong key, altered header) are still errors: recovery
/// never weakens authentication, it only stops at the first chunk that cannot
/// be authenticated instead of refusing the whole file. A strict
/// [`Opener`] still refuses such a file.
///
/// ```
/// use std::io::Write;
/// use callseal::{recover, Identity, Sealer};
///
/// let id = Identity::generate();
/// let mut sealer = Sealer::new(&[id.recipient()], Vec::new())?;
/// sealer.write_all(&vec![1u8; 150_000])?;
/// let crashed = sealer.get_ref().clone(); // the writer died before finish()
///
/// let mut out = Vec::new();
/// let report = recover(crashed.as_slice(), &[id], &mut out)?;
/// assert_eq!(report.recovered_bytes, 131_072); // two whole chunks
/// assert!(!report.complete);
/// assert!(report.stopped_by.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn recover<R: Read, W: Write>(
    source: R,
    identities: &[Identity],
    mut sink: W,
) -> Result<Recovery> {
    let mut opener = Opener::new(source, identities)?;
    let mut recovered_bytes = 0u64;
    loop {
        let chunk = opener.available();
        if !chunk.is_empty() {
            sink.write_all(chunk)?;
            recovered_bytes += chunk.len() as u64;
            let n = chunk.len();
            opener.consume(n);
        }
        match opener.advance() {
            Ok(true) => {}
            Ok(false) => {
                sink.flush()?;
                return Ok(Recovery {
                    recovered_bytes,
                    complete: true,
                    stopped_by: None,
                });
            }
            Err(Error::Payload(p)) => {
                sink.flush()?;
                return Ok(Recovery {
                    recovered_bytes,
                    complete: false,
                    stopped_by: Some(p),
                });
            }
            Err(e) => return Err(e),
        }
    }
}
