//! Identity and recipient files in the format age-keygen writes: one key per
//! line, `#` comments and blank lines ignored.

use crate::error::{Error, Result};
use crate::keys::{Identity, Recipient};

/// Parses the text of an identity file (as written by `age-keygen` or
/// `callseal keygen`) into its identities. Errors name the line but never
/// echo its content, which may be a secret.
///
/// ```
/// let id = callseal::Identity::generate();
/// let text = format!("# created: today\n# public key: {}\n{}\n", id.recipient(), id.to_secret_string().as_str());
/// let ids = callseal::parse_identities(&text)?;
/// assert_eq!(ids[0].recipient(), id.recipient());
/// # Ok::<(), callseal::Error>(())
/// ```
pub fn parse_identities(text: &str) -> Result<Vec<Identity>> {
    let mut ids = Vec::new();
    for (no, line) in key_lines(text) {
        let id = line.parse::<Identity>().map_err(|_| {
            Error::InvalidIdentity(format!(
                "line {no} of the identity file is not an AGE-SECRET-KEY-1... key"
            ))
        })?;
        ids.push(id);
    }
    if ids.is_empty() {
        return Err(Error::InvalidIdentity(
            "the identity file holds no AGE-SECRET-KEY-1... key".into(),
        ));
    }
    Ok(ids)
}

/// Parses a recipients file: one `age1...` per line, `#` comments and blank
/// lines ignored.
///
/// ```
/// let r = callseal::Identity::generate().recipient();
/// let list = callseal::parse_recipients(&format!("# supervisors\n{r}\n\n"))?;
/// assert_eq!(list, vec![r]);
/// # Ok::<(), callseal::Error>(())
/// ```
pub fn parse_recipients(text: &str) -> Result<Vec<Recipient>> {
    let mut out = Vec::new();
    for (no, line) in key_lines(text) {
        let r = line
            .parse::<Recipient>()
            .map_err(|e| Error::InvalidRecipient(format!("line {no}: {e}")))?;
        out.push(r);
    }
    if out.is_empty() {
        return Err(Error::NoRecipients);
    }
    Ok(out)
}

/// Non-comment, non-blank lines with their 1-based numbers; a trailing CR
/// (a file edited on Windows) is tolerated.
fn key_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l).trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_line_is_named_without_echoing_it() {
        let err = parse_identities("# c\nAGE-SECRET-KEY-1NOTAKEY\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(!err.contains("NOTAKEY"), "{err}");
    }

    #[test]
    fn empty_files_are_refused() {
        assert!(parse_identities("# only comments\n\n").is_err());
        assert!(matches!(parse_recipients(""), Err(Error::NoRecipients)));
    }
}
