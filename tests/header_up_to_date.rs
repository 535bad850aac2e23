//! The committed C header, include/callseal.h, must be exactly what the
//! pinned cbindgen generates from src/ffi/, document every item, and carry
//! the crate's version.
//!
//! Without cbindgen the regeneration check is skipped with a notice, except
//! under CI (env var `CI` set), where a missing or differently versioned
//! cbindgen fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Keep in step with cbindgen.toml, the Makefile and .ci/c-abi.sh.
const CBINDGEN_VERSION: &str = "0.29.4";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn committed() -> String {
    std::fs::read_to_string(root().join("include/callseal.h")).expect("include/callseal.h exists")
}

fn cannot_check(why: String) {
    if std::env::var_os("CI").is_some() {
        panic!(
            "{why}; CI must check the header: cargo install cbindgen --version {CBINDGEN_VERSION} --locked"
        );
    }
    println!("NOTICE: header_up_to_date skipped: {why}");
}

#[test]
fn committed_header_matches_fresh_cbindgen_output() {
    let cbindgen = std::env::var("CBINDGEN").unwrap_or_else(|_| "cbindgen".into());
    let version = match Command::new(&cbindgen).arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        _ => return cannot_check(format!("`{cbindgen}` is not installed")),
    };
    if version != format!("cbindgen {CBINDGEN_VERSION}") {
        return cannot_check(format!(
            "found {version}, but the header is pinned to cbindgen {CBINDGEN_VERSION}"
        ));
    }
    let dir = std::env::temp_dir().join(format!("callseal-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fresh_path = dir.join("callseal.h");
    let out = Command::new(&cbindgen)
        .current_dir(root())
        .args(["--config", "cbindgen.toml", "--output"])
        .arg(&fresh_path)
        .arg("src/ffi/mod.rs")
        .output()
        .expect("cbindgen runs");
    assert!(
        out.status.success(),
        "cbindgen failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh = std::fs::read_to_string(&fresh_path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let old = committed();
    if fresh != old {
        let line = old
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| old.lines().count().min(fresh.lines().count()));
        panic!(
            "include/callseal.h is out of date (first difference at line {}):\n  committed: {:?}\n  generated: {:?}\n\
             regenerate it with `make header` (cbindgen {CBINDGEN_VERSION}) and commit it",
            line + 1,
            old.lines().nth(line),
            fresh.lines().nth(line)
        );
    }
}

/// Each macro, typedef and function of the header is preceded by its doc
/// comment (cbindgen copies `///` docs; an undocumented item has none).
#[test]
fn every_header_item_has_a_doc_comment() {
    let text = committed();
    let lines: Vec<&str> = text.lines().collect();
    let mut items = 0;
    for (i, line) in lines.iter().enumerate() {
        let is_item = (line.starts_with("#define CALLSEAL_")
            && !line.starts_with("#define CALLSEAL_H"))
            || line.starts_with("typedef ")
            || (line.contains("callseal_")
                && line.contains('(')
                && !line.starts_with(' ')
                && !line.starts_with('#')
                && !line.starts_with('/')
                && !line.starts_with(" *"));
        if !is_item {
            continue;
        }
        items += 1;
        let previous = lines[..i]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .copied()
            .unwrap_or("");
        assert_eq!(
            previous.trim(),
            "*/",
            "line {}: `{line}` has no doc comment",
            i + 1
        );
    }
    assert!(
        items > 40,
        "found only {items} items: is the header complete?"
    );
    // Struct fields too: every line inside a `typedef struct ... {` body.
    let mut in_struct = false;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("typedef struct") && line.ends_with('{') {
            in_struct = true;
        } else if line.starts_with('}') {
            in_struct = false;
        } else if in_struct && line.trim_end().ends_with(';') {
            assert_eq!(
                lines[i - 1].trim(),
                "*/",
                "line {}: field `{line}` has no doc comment",
                i + 1
            );
        }
    }
}

#[test]
fn header_version_macros_match_cargo_toml() {
    let text = committed();
    for (name, want) in [
        ("CALLSEAL_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("CALLSEAL_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("CALLSEAL_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let line = format!("#define {name} {want}");
        assert!(text.lines().any(|l| l == line), "header lacks `{line}`");
    }
    assert!(Path::new(&root().join("cbindgen.toml")).exists());
}
