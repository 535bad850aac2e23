//! Inputs and outputs: files or the standard streams, with outputs that
//! appear only when complete.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use callseal::AtomicFile;

/// A CLI failure: one line for the user.
pub type CliResult<T = ()> = Result<T, String>;

/// Opens `path`, or stdin when absent.
pub fn input(path: Option<&Path>) -> CliResult<Box<dyn Read>> {
    match path {
        Some(p) => Ok(Box::new(open_file(p)?)),
        None => Ok(Box::new(io::stdin().lock())),
    }
}

/// Opens a file for reading with a message that names it.
pub fn open_file(path: &Path) -> CliResult<File> {
    File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))
}

/// Where output goes: a file committed only on success, or stdout.
pub enum Output {
    File(AtomicFile),
    Stdout(io::StdoutLock<'static>),
}

impl Output {
    /// `mode` is the file permission for a file output (0o600 for plaintext).
    /// `refuse_terminal` names what must not be printed to a terminal.
    pub fn new(
        path: Option<PathBuf>,
        mode: u32,
        refuse_terminal: Option<&str>,
    ) -> CliResult<Output> {
        match path {
            Some(p) => Ok(Output::File(
                AtomicFile::create(&p, mode).map_err(|e| e.to_string())?,
            )),
            None => {
                let stdout = io::stdout();
                if let Some(what) = refuse_terminal {
                    if stdout.is_terminal() {
                        return Err(format!("refusing to write {what} to a terminal; use -o FILE or redirect stdout"));
                    }
                }
                Ok(Output::Stdout(stdout.lock()))
            }
        }
    }

    /// Makes the output final: renames a file into place, flushes stdout.
    pub fn commit(self) -> CliResult {
        match self {
            Output::File(f) => f.commit().map_err(|e| e.to_string()),
            Output::Stdout(mut s) => s
                .flush()
                .map_err(|e| format!("cannot write to stdout: {e}")),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::File(f) => f.write(buf),
            Output::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::File(f) => f.flush(),
            Output::Stdout(s) => s.flush(),
        }
    }
}
