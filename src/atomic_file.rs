//! [`AtomicFile`]: output that appears under its final name only when it is
//! complete. Used for every `-o` output of the CLI and every path sink of
//! the C ABI, so a failure never leaves a half-written file behind.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file written under a temporary name beside `dest` and renamed onto it
/// by [`commit`](AtomicFile::commit). Dropped or [`abort`](AtomicFile::abort)ed
/// before that, the temporary file is removed.
///
/// ```
/// use std::io::Write;
/// use callseal::AtomicFile;
///
/// let dir = std::env::temp_dir().join(format!("callseal-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let dest = dir.join("call.age");
/// let mut out = AtomicFile::create(&dest, 0o644)?;
/// out.write_all(b"sealed bytes")?;
/// assert!(!dest.exists(), "nothing appears before commit");
/// out.commit()?;
/// assert_eq!(std::fs::read(&dest)?, b"sealed bytes");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    file: Option<File>,
    temp: PathBuf,
    dest: PathBuf,
}

impl AtomicFile {
    /// Creates the temporary file beside `dest` with permissions `mode`
    /// (Unix; before the umask). `dest` itself is untouched until commit.
    ///
    /// ```
    /// let err = callseal::AtomicFile::create("/nonexistent-dir/x.age", 0o600).unwrap_err();
    /// assert!(err.to_string().contains("/nonexistent-dir"));
    /// ```
    pub fn create(dest: impl AsRef<Path>, mode: u32) -> Result<AtomicFile> {
        let dest = dest.as_ref().to_path_buf();
        let name = dest.file_name().ok_or_else(|| {
            Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a file path", dest.display()),
            ))
        })?;
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut random = [0u8; 6];
        crate::primitives::fill_random(&mut random);
        let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let temp = dir.join(format!(".{}.{suffix}.partial", name.to_string_lossy()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        let file = options.open(&temp).map_err(|e| {
            Error::Io(io::Error::new(
                e.kind(),
                format!("cannot create a file in {}: {e}", dir.display()),
            ))
        })?;
        Ok(AtomicFile {
            file: Some(file),
            temp,
            dest,
        })
    }

    /// The final path.
    ///
    /// ```
    /// # let dir = std::env::temp_dir();
    /// let f = callseal::AtomicFile::create(dir.join("callseal-doc-dest.age"), 0o600)?;
    /// assert!(f.dest().ends_with("callseal-doc-dest.age"));
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Forces written data to stable storage (for periodic durability while
    /// a long recording is captured).
    ///
    /// ```
    /// # let dir = std::env::temp_dir();
    /// let f = callseal::AtomicFile::create(dir.join("callseal-doc-sync.age"), 0o600)?;
    /// f.sync_data()?;
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn sync_data(&self) -> Result<()> {
        Ok(self
            .file
            .as_ref()
            .expect("present until commit")
            .sync_data()?)
    }

    /// Flushes, syncs and renames the file onto its final name (replacing
    /// any file there), then syncs the directory so the name survives a
    /// power cut.
    ///
    /// ```
    /// # let dir = std::env::temp_dir();
    /// let f = callseal::AtomicFile::create(dir.join("callseal-doc-commit.age"), 0o600)?;
    /// f.commit()?;
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn commit(mut self) -> Result<()> {
        let mut file = self.file.take().expect("present until commit");
        file.flush()?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.temp, &self.dest).map_err(|e| {
            let _ = fs::remove_file(&self.temp);
            Error::Io(io::Error::new(
                e.kind(),
                format!("cannot rename output to {}: {e}", self.dest.display()),
            ))
        })?;
        #[cfg(unix)]
        if let Some(dir) = self.dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }

    /// Removes the temporary file; the destination is left as it was.
    ///
    /// ```
    /// # let dir = std::env::temp_dir();
    /// let f = callseal::AtomicFile::create(dir.join("callseal-doc-abort.age"), 0o600)?;
    /// f.abort();
    /// # Ok::<(), callseal::Error>(())
    /// ```
    pub fn abort(self) {
        drop(self);
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("present until commit").write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("present until commit").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_file_leaves_nothing_and_keeps_the_old_destination() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.age");
        fs::write(&dest, b"old").unwrap();
        let mut f = AtomicFile::create(&dest, 0o600).unwrap();
        f.write_all(b"new but unfinished").unwrap();
        drop(f);
        assert_eq!(fs::read(&dest).unwrap(), b"old");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary file removed"
        );
    }
}
