//! Identity files: generating them, reading them (including
//! passphrase-protected ones made with `age -p`), and passphrases.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use callseal::{parse_identities, Identity, Opener};
use zeroize::Zeroizing;

use crate::files::{open_file, CliResult};

/// Environment variable read for a passphrase when no terminal is available
/// (automation only; an interactive prompt is preferred).
pub const PASSPHRASE_ENV: &str = "CALLSEAL_PASSPHRASE";

/// The text of a new identity file, as age-keygen writes it.
pub fn identity_file_text(id: &Identity) -> Zeroizing<String> {
    Zeroizing::new(format!(
        "# created: {}\n# public key: {}\n{}\n",
        now_rfc3339(),
        id.recipient(),
        id.to_secret_string().as_str()
    ))
}

/// `callseal keygen`: writes a fresh identity (mode 0600, never over an
/// existing file) and prints its recipient on stdout.
pub fn keygen(output: Option<PathBuf>) -> CliResult {
    let id = Identity::generate();
    let text = identity_file_text(&id);
    match output {
        Some(path) => {
            write_new_secret_file(&path, text.as_bytes())?;
            println!("{}", id.recipient());
        }
        None => {
            eprintln!("Public key: {}", id.recipient());
            std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| format!("cannot write to stdout: {e}"))?;
        }
    }
    Ok(())
}

/// Creates `path` with mode 0600, refusing to replace anything there. On a
/// failed write the partial file is removed.
pub fn write_new_secret_file(path: &Path, contents: &[u8]) -> CliResult {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            format!(
                "{} already exists; refusing to overwrite an identity file",
                path.display()
            )
        }
        _ => format!("cannot create {}: {e}", path.display()),
    })?;
    if let Err(e) = file.write_all(contents).and_then(|_| file.sync_all()) {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    Ok(())
}

/// `callseal recipient -i FILE`.
pub fn print_recipients(path: &Path) -> CliResult {
    for id in load_identities(path)? {
        println!("{}", id.recipient());
    }
    Ok(())
}

/// Reads the identities of one identity file. A file that is itself an age
/// file (binary or armored, as `age -p` makes) is decrypted with a
/// passphrase first; its plaintext never touches the disk.
pub fn load_identities(path: &Path) -> CliResult<Vec<Identity>> {
    let mut raw = Zeroizing::new(Vec::new());
    open_file(path)?
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text_bytes = if is_age_file(&raw) {
        let passphrase = read_passphrase(&format!(
            "Passphrase for identity file {}: ",
            path.display()
        ))?;
        let mut opener = Opener::with_passphrase(raw.as_slice(), &passphrase)
            .map_err(|e| format!("cannot decrypt identity file {}: {e}", path.display()))?;
        let mut plain = Zeroizing::new(Vec::new());
        opener.read_to_end(&mut plain).map_err(|e| {
            format!(
                "cannot decrypt identity file {}: {}",
                path.display(),
                callseal::Error::from_io(e)
            )
        })?;
        plain
    } else {
        raw
    };
    let text = std::str::from_utf8(&text_bytes)
        .map_err(|_| format!("{} is not a text identity file", path.display()))?;
    parse_identities(text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Loads and concatenates several identity files.
pub fn load_all(paths: &[PathBuf]) -> CliResult<Vec<Identity>> {
    if paths.is_empty() {
        return Err("no identity given: pass -i IDENTITY_FILE".into());
    }
    let mut ids = Vec::new();
    for p in paths {
        ids.extend(load_identities(p)?);
    }
    Ok(ids)
}

fn is_age_file(data: &[u8]) -> bool {
    data.starts_with(b"age-encryption.org/")
        || String::from_utf8_lossy(&data[..data.len().min(2048)])
            .trim_start()
            .starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
}

/// Reads a passphrase from the terminal (no echo), or from
/// `CALLSEAL_PASSPHRASE` when set.
pub fn read_passphrase(prompt: &str) -> CliResult<Zeroizing<String>> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(Zeroizing::new(p));
    }
    rpassword::prompt_password(prompt).map(Zeroizing::new).map_err(|e| {
        format!("cannot read a passphrase ({e}): run in a terminal, or set {PASSPHRASE_ENV} for automation")
    })
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`, as age-keygen writes it.
fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_779), (2026, 11, 22));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
