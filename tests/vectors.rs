//! Conformance: every C2SP age vector in ../shared/age-vectors (or
//! $CALLSEAL_AGE_VECTORS) must reach its expected outcome, and the plaintext
//! released before any error must hash to the vector's `payload:`.
//!
//! Hybrid post-quantum vectors are skipped (callseal does not implement
//! mlkem768x25519 yet) and counted as skipped.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use callseal::{Error, Identity, Opener};
use sha2::{Digest, Sha256};

const KNOWN_KEYS: &[&str] = &[
    "expect",
    "payload",
    "file key",
    "identity",
    "passphrase",
    "armored",
    "compressed",
    "comment",
];

struct Vector {
    name: String,
    expect: String,
    payload: Option<String>,
    identities: Vec<String>,
    passphrases: Vec<String>,
    body: Vec<u8>,
}

fn vectors_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CALLSEAL_AGE_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/age-vectors"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "age vectors not found at {} (set CALLSEAL_AGE_VECTORS); CI must run them",
        dir.display()
    );
    println!(
        "NOTICE: age vectors not found at {}; conformance test skipped",
        dir.display()
    );
    None
}

/// Parses a vector file; `Err(reason)` for a vector this harness must skip.
fn parse_vector(name: &str, bytes: &[u8]) -> Result<Vector, String> {
    let split = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or("no blank line after the preamble")?;
    let preamble = std::str::from_utf8(&bytes[..split]).map_err(|_| "preamble is not UTF-8")?;
    let mut body = bytes[split + 2..].to_vec();
    let mut v = Vector {
        name: name.into(),
        expect: String::new(),
        payload: None,
        identities: vec![],
        passphrases: vec![],
        body: vec![],
    };
    for line in preamble.lines() {
        let (key, value) = line
            .split_once(": ")
            .ok_or_else(|| format!("bad preamble line {line:?}"))?;
        if !KNOWN_KEYS.contains(&key) {
            return Err(format!("unknown preamble key {key:?}"));
        }
        match key {
            "expect" => v.expect = value.into(),
            "payload" => v.payload = Some(value.into()),
            "identity" => v.identities.push(value.into()),
            "passphrase" => v.passphrases.push(value.into()),
            "compressed" => {
                assert_eq!(value, "zlib", "{name}: unknown compression");
                let mut out = Vec::new();
                flate2::read::ZlibDecoder::new(body.as_slice())
                    .read_to_end(&mut out)
                    .unwrap();
                body = out;
            }
            _ => {}
        }
    }
    if v.identities
        .iter()
        .any(|i| i.starts_with("AGE-SECRET-KEY-PQ-"))
    {
        return Err("needs a post-quantum (mlkem768x25519) identity".into());
    }
    v.body = body;
    Ok(v)
}

fn outcome_of(err: &Error) -> &'static str {
    match err {
        Error::Armor(_) => "armor failure",
        Error::Header(_) => "header failure",
        Error::NoMatch(_) => "no match",
        Error::HeaderMac => "HMAC failure",
        Error::Payload(_) => "payload failure",
        _ => "unexpected error kind",
    }
}

/// Runs one vector: the outcome reached and the hash of what was released.
fn run(v: &Vector, threads: usize) -> (String, String, String) {
    let identities: Vec<Identity> = v
        .identities
        .iter()
        .map(|s| s.parse().expect("vector identity parses"))
        .collect();
    let opened = match v.passphrases.first() {
        Some(p) => Opener::with_passphrase(v.body.as_slice(), p),
        None => Opener::new(v.body.as_slice(), &identities),
    };
    let mut released = Vec::new();
    let (outcome, detail) = match opened {
        Err(e) => (outcome_of(&e).to_string(), e.to_string()),
        Ok(opener) => {
            let mut opener = opener.with_threads(threads);
            let mut buf = [0u8; 8192];
            loop {
                match opener.read(&mut buf) {
                    Ok(0) => break ("success".to_string(), String::new()),
                    Ok(n) => released.extend_from_slice(&buf[..n]),
                    Err(e) => {
                        let e = Error::from_io(e);
                        break (outcome_of(&e).to_string(), e.to_string());
                    }
                }
            }
        }
    };
    (outcome, hex::encode(Sha256::digest(&released)), detail)
}

#[test]
fn c2sp_age_vectors() {
    let Some(dir) = vectors_dir() else { return };
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // outcome -> (passed, total, skipped)
    let mut tally: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    let mut failures = Vec::new();
    for name in names
        .iter()
        .filter(|n| *n != "README.md" && *n != "LICENSE")
    {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let expect = String::from_utf8_lossy(&bytes)
            .lines()
            .find_map(|l| l.strip_prefix("expect: ").map(str::to_string))
            .unwrap_or_default();
        let v = match parse_vector(name, &bytes) {
            Ok(v) => v,
            Err(why) => {
                println!("skip {name}: {why}");
                tally.entry(expect).or_default().2 += 1;
                continue;
            }
        };
        let (outcome, hash, detail) = run(&v, 1);
        // The parallel batch path must reach exactly the same outcome and
        // release exactly the same bytes.
        let (outcome_parallel, hash_parallel, _) = run(&v, 2);
        if (&outcome_parallel, &hash_parallel) != (&outcome, &hash) {
            failures.push(format!("{name}: 2 threads gave {outcome_parallel:?} / {hash_parallel}, 1 thread {outcome:?} / {hash}"));
        }
        let entry = tally.entry(v.expect.clone()).or_default();
        entry.1 += 1;
        let hash_ok = v.payload.as_ref().is_none_or(|p| *p == hash);
        if outcome == v.expect && hash_ok {
            entry.0 += 1;
        } else {
            failures.push(format!(
                "{}: expected {:?} got {outcome:?} ({detail}); payload hash ok: {hash_ok}",
                v.name, v.expect
            ));
        }
    }
    println!("conformance (passed / total run / skipped):");
    for (outcome, (passed, total, skipped)) in &tally {
        println!("  {outcome:16} {passed:3} / {total:3} / {skipped:3}");
    }
    let run_total: u32 = tally.values().map(|t| t.1).sum();
    assert!(
        run_total >= 120,
        "expected at least 120 runnable vectors in {}, found {run_total}",
        dir.display()
    );
    assert!(
        failures.is_empty(),
        "{} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
