//! Interoperability with the Go reference implementation's command-line
//! tools (`age`, `age-keygen`; Debian package `age`), in both directions.
//!
//! When the binaries are missing the tests print a NOTICE and pass, except
//! under CI (`CI` set), where they fail: CI must exercise them. Set
//! `CALLSEAL_GO_AGE` / `CALLSEAL_GO_AGE_KEYGEN` to use binaries outside PATH.

mod common;

use common::{assert_same, content};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use callseal::{parse_identities, Error, Identity, Opener, Sealer};

const CHUNK: usize = 65536;

/// The size matrix every direction is run over.
const SIZES: &[usize] = &[0, 1, 65535, 65536, 65537, 3 * 65536, 5 * 1024 * 1024 + 77];

struct GoAge {
    age: PathBuf,
    keygen: PathBuf,
    dir: tempfile::TempDir,
}

/// Finds the Go tools, or says why the test is skipped (failing under CI).
fn go_age() -> Option<GoAge> {
    let age = std::env::var_os("CALLSEAL_GO_AGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("age"));
    let keygen = std::env::var_os("CALLSEAL_GO_AGE_KEYGEN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("age-keygen"));
    let works = |bin: &Path| {
        Command::new(bin)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !works(&age) || !works(&keygen) {
        assert!(
            std::env::var_os("CI").is_none(),
            "Go age CLI not found ({} / {}): CI must run the Go interop tests; \
             install the Debian package `age` (apt-get install age)",
            age.display(),
            keygen.display()
        );
        println!(
            "NOTICE: Go age CLI ({} / {}) not found; Go interop test skipped",
            age.display(),
            keygen.display()
        );
        return None;
    }
    Some(GoAge {
        age,
        keygen,
        dir: tempfile::tempdir().expect("temp dir"),
    })
}

impl GoAge {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, bin: &Path, args: &[&str]) -> Output {
        Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()))
    }

    /// Runs `age` and insists on success.
    fn age_ok(&self, args: &[&str]) -> Output {
        let out = self.run(&self.age, args);
        assert!(
            out.status.success(),
            "age {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `age-keygen -o NAME`: returns the key file path, the identity as
    /// callseal parses it and the public key `age-keygen -y` prints.
    fn keygen(&self, name: &str) -> (PathBuf, Identity, String) {
        let path = self.path(name);
        let out = self.run(&self.keygen, &["-o", path.to_str().unwrap()]);
        assert!(out.status.success(), "age-keygen failed: {out:?}");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut ids = parse_identities(&text).expect("callseal parses age-keygen's file");
        assert_eq!(ids.len(), 1);
        let out = self.run(&self.keygen, &["-y", path.to_str().unwrap()]);
        assert!(out.status.success(), "age-keygen -y failed: {out:?}");
        let public = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let id = ids.pop().unwrap();
        assert_eq!(
            id.recipient().to_string(),
            public,
            "callseal derives the same public key as age-keygen -y"
        );
        (path, id, public)
    }

    /// A callseal-made identity written as a key file Go age can read.
    fn callseal_key(&self, name: &str) -> (PathBuf, Identity, String) {
        let id = Identity::generate();
        let path = self.path(name);
        std::fs::write(
            &path,
            format!(
                "# made by callseal\n# public key: {}\n{}\n",
                id.recipient(),
                id.to_secret_string().as_str()
            ),
        )
        .unwrap();
        let public = id.recipient().to_string();
        (path, id, public)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// `age -d -i KEY FILE`, returning the decrypted bytes from stdout.
    /// (With `-o`, Go age creates the output file only on the first write,
    /// so an empty plaintext would leave no file.)
    fn decrypt(&self, key: &Path, file: &Path) -> Vec<u8> {
        self.age_ok(&["-d", "-i", key.to_str().unwrap(), file.to_str().unwrap()])
            .stdout
    }
}

fn seal(recipients: &[callseal::Recipient], data: &[u8], write_size: usize) -> Vec<u8> {
    let mut sealer = Sealer::new(recipients, Vec::new()).unwrap();
    for piece in data.chunks(write_size.max(1)) {
        sealer.write_all(piece).unwrap();
    }
    sealer.finish().unwrap()
}

fn open(file: &[u8], ids: &[Identity]) -> Result<Vec<u8>, Error> {
    let mut opener = Opener::new(file, ids)?;
    let mut out = Vec::new();
    opener.read_to_end(&mut out).map_err(Error::from_io)?;
    Ok(out)
}

#[test]
fn callseal_to_go_age_one_recipient() {
    let Some(go) = go_age() else { return };
    let (go_key, _, go_public) = go.keygen("go-key.txt");
    let (cs_key, cs_id, _) = go.callseal_key("cs-key.txt");
    let go_recipient: callseal::Recipient = go_public.parse().unwrap();
    for (i, &size) in SIZES.iter().enumerate() {
        let data = content(size, i as u64 + 1);
        for (label, key, recipient) in [
            ("age-keygen key", &go_key, go_recipient),
            ("callseal key", &cs_key, cs_id.recipient()),
        ] {
            let file = go.write("sealed.age", &seal(&[recipient], &data, 3001));
            let plain = go.decrypt(key, &file);
            assert_same(
                &plain,
                &data,
                &format!("callseal->Go age, {label}, size {size}"),
            );
        }
    }
}

#[test]
fn callseal_to_go_age_several_recipients() {
    let Some(go) = go_age() else { return };
    let keys = [
        go.keygen("go-key-1.txt"),
        go.keygen("go-key-2.txt"),
        go.callseal_key("cs-key-1.txt"),
        go.callseal_key("cs-key-2.txt"),
    ];
    let recipients: Vec<callseal::Recipient> = keys.iter().map(|k| k.1.recipient()).collect();
    let (outsider, _, _) = go.keygen("outsider.txt");
    for (i, &size) in SIZES.iter().enumerate() {
        let data = content(size, 100 + i as u64);
        let file = go.write("sealed.age", &seal(&recipients, &data, usize::MAX));
        for (n, (key, _, _)) in keys.iter().enumerate() {
            let plain = go.decrypt(key, &file);
            assert_same(
                &plain,
                &data,
                &format!("4 recipients, key {n}, size {size}"),
            );
        }
        let refused = go.run(
            &go.age,
            &[
                "-d",
                "-i",
                outsider.to_str().unwrap(),
                file.to_str().unwrap(),
            ],
        );
        assert!(
            !refused.status.success(),
            "Go age opened a file with a key that is not a recipient"
        );
    }
}

#[test]
fn callseal_armor_to_go_age() {
    let Some(go) = go_age() else { return };
    let (key, id, _) = go.keygen("key.txt");
    for (i, &size) in [0usize, 1, 65537, 200_000].iter().enumerate() {
        let data = content(size, 150 + i as u64);
        let armored = callseal::armor(&seal(&[id.recipient()], &data, 65536));
        let file = go.write("sealed.age.asc", armored.as_bytes());
        assert_same(
            &go.decrypt(&key, &file),
            &data,
            &format!("armor, size {size}"),
        );
    }
}

#[test]
fn go_age_to_callseal_one_and_several_recipients() {
    let Some(go) = go_age() else { return };
    let keys = [
        go.keygen("go-key-1.txt"),
        go.keygen("go-key-2.txt"),
        go.callseal_key("cs-key-1.txt"),
    ];
    for (i, &size) in SIZES.iter().enumerate() {
        let data = content(size, 200 + i as u64);
        let input = go.write("plain.bin", &data);

        // One recipient, once for each kind of key.
        for (n, (_, id, public)) in [&keys[0], &keys[2]].into_iter().enumerate() {
            let out = go.path("one.age");
            go.age_ok(&[
                "-r",
                public,
                "-o",
                out.to_str().unwrap(),
                input.to_str().unwrap(),
            ]);
            let file = std::fs::read(&out).unwrap();
            let plain = open(&file, std::slice::from_ref(id))
                .unwrap_or_else(|e| panic!("one recipient ({n}), size {size}: {e}"));
            assert_same(
                &plain,
                &data,
                &format!("Go age->callseal, one recipient {n}, size {size}"),
            );
        }

        // Several recipients with repeated -r, opened with each identity.
        let out = go.path("several.age");
        let mut args: Vec<&str> = Vec::new();
        for (_, _, public) in &keys {
            args.extend(["-r", public.as_str()]);
        }
        let (out_s, in_s) = (out.to_str().unwrap(), input.to_str().unwrap());
        args.extend(["-o", out_s, in_s]);
        go.age_ok(&args);
        let file = std::fs::read(&out).unwrap();
        for (n, (_, id, _)) in keys.iter().enumerate() {
            let mut opener = Opener::new(file.as_slice(), std::slice::from_ref(id)).unwrap();
            assert_eq!(
                opener.stanza_count(),
                3,
                "Go age writes one stanza per recipient"
            );
            let mut plain = Vec::new();
            opener
                .read_to_end(&mut plain)
                .unwrap_or_else(|e| panic!("identity {n}, size {size}: {}", Error::from_io(e)));
            assert_same(
                &plain,
                &data,
                &format!("Go age 3 recipients, identity {n}, size {size}"),
            );
        }
        assert!(matches!(
            open(&file, &[Identity::generate()]),
            Err(Error::NoMatch(_))
        ));
    }
}

#[test]
fn go_age_recipients_file_and_armor_to_callseal() {
    let Some(go) = go_age() else { return };
    let keys = [go.keygen("go-key.txt"), go.callseal_key("cs-key.txt")];
    let recipients_file = go.write(
        "recipients.txt",
        format!(
            "# supervisors\n{}\n\n# second one\n{}\n",
            keys[0].2, keys[1].2
        )
        .as_bytes(),
    );
    for (i, &size) in SIZES.iter().enumerate() {
        let data = content(size, 300 + i as u64);
        let input = go.write("plain.bin", &data);

        // -R recipients-file.
        let out = go.path("r-file.age");
        go.age_ok(&[
            "-R",
            recipients_file.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        let file = std::fs::read(&out).unwrap();
        for (n, (_, id, _)) in keys.iter().enumerate() {
            let plain = open(&file, std::slice::from_ref(id))
                .unwrap_or_else(|e| panic!("-R, identity {n}, size {size}: {e}"));
            assert_same(&plain, &data, &format!("-R, identity {n}, size {size}"));
        }

        // -a: ASCII armor.
        let out = go.path("armored.age");
        go.age_ok(&[
            "-a",
            "-r",
            &keys[0].2,
            "-o",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        let file = std::fs::read(&out).unwrap();
        assert!(file.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
        let mut opener = Opener::new(file.as_slice(), std::slice::from_ref(&keys[0].1))
            .unwrap_or_else(|e| panic!("armored, size {size}: {e}"));
        assert!(opener.is_armored());
        let mut plain = Vec::new();
        opener
            .read_to_end(&mut plain)
            .unwrap_or_else(|e| panic!("armored, size {size}: {}", Error::from_io(e)));
        assert_same(&plain, &data, &format!("Go age -a, size {size}"));
    }
}

/// Drives `age -p` through a pseudo-terminal (Go age reads passphrases only
/// from a terminal): answers both prompts with the passphrase.
const PTY_DRIVER: &str = r#"
import os, pty, select, signal, sys, time
passphrase = sys.argv[1].encode()
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
deadline = time.monotonic() + 120
transcript = b""
sent = 0
while True:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.stderr.write("pty driver: timed out; transcript: %r\n" % transcript)
        sys.exit(124)
    ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
    if not ready:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    transcript += data
    # "Enter passphrase ..." then "Confirm passphrase:".
    while sent < 2 and transcript.lower().count(b"passphrase") > sent:
        time.sleep(0.05)
        os.write(fd, passphrase + b"\n")
        sent += 1
_, status = os.waitpid(pid, 0)
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128
if code != 0 or sent < 2:
    sys.stderr.write("pty driver: exit %d after %d answers; transcript: %r\n" % (code, sent, transcript))
sys.exit(code if code != 0 else (0 if sent == 2 else 3))
"#;

#[test]
fn go_age_passphrase_file_opens_with_callseal() {
    let Some(go) = go_age() else { return };
    let python_ok = Command::new("python3")
        .arg("-c")
        .arg("import pty")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !python_ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 (with the pty module) is needed to drive `age -p` through a terminal"
        );
        println!("NOTICE: python3 not found; Go age -p interop test skipped");
        return;
    }
    let driver = go.write("pty_driver.py", PTY_DRIVER.as_bytes());
    let passphrase = "call recording passphrase 42";
    let data = content(3 * CHUNK + 4321, 400);
    let input = go.write("plain.bin", &data);
    let out = go.path("protected.age");
    let status = Command::new("python3")
        .arg(&driver)
        .arg(passphrase)
        .arg(&go.age)
        .args(["-p", "-o", out.to_str().unwrap(), input.to_str().unwrap()])
        .stdin(Stdio::null())
        .status()
        .expect("running the pty driver");
    assert!(status.success(), "age -p through a pty failed: {status}");
    let file = std::fs::read(&out).unwrap();
    assert!(
        file.windows(9).any(|w| w == b"-> scrypt"),
        "age -p must write an scrypt stanza"
    );

    let mut opener = Opener::with_passphrase(file.as_slice(), passphrase)
        .unwrap_or_else(|e| panic!("callseal refused Go age's passphrase file: {e}"));
    let mut plain = Vec::new();
    opener
        .read_to_end(&mut plain)
        .unwrap_or_else(|e| panic!("{}", Error::from_io(e)));
    assert_same(&plain, &data, "Go age -p -> callseal");

    assert!(
        matches!(
            Opener::with_passphrase(file.as_slice(), "not the passphrase"),
            Err(Error::NoMatch(_))
        ),
        "a wrong passphrase must be NoMatch"
    );
}

#[test]
fn go_age_refuses_unfinished_callseal_file() {
    let Some(go) = go_age() else { return };
    let (key, id, _) = go.keygen("key.txt");
    for size in [0usize, 10, CHUNK, 2 * CHUNK + 10] {
        let data = content(size, 500 + size as u64);
        let mut sealer = Sealer::new(&[id.recipient()], Vec::new()).unwrap();
        sealer.write_all(&data).unwrap();
        let unfinished = sealer.get_ref().clone();
        drop(sealer); // never finished
        let file = go.write("unfinished.age", &unfinished);
        let out = go.run(
            &go.age,
            &["-d", "-i", key.to_str().unwrap(), file.to_str().unwrap()],
        );
        assert!(
            !out.status.success(),
            "Go age accepted a callseal file whose sealer was dropped without finish() (size {size})"
        );
        assert!(
            data.starts_with(&out.stdout),
            "size {size}: Go age output of an unfinished file is not a prefix of the plaintext"
        );
        // The same data, finished, is accepted.
        let file = go.write("finished.age", &seal(&[id.recipient()], &data, 999));
        assert_same(&go.decrypt(&key, &file), &data, "finished control file");
    }
}

#[test]
fn go_age_output_of_truncated_file_is_a_prefix() {
    let Some(go) = go_age() else { return };
    let (key, id, _) = go.keygen("key.txt");
    let data = content(3 * CHUNK + 999, 600);
    let full = seal(&[id.recipient()], &data, 65536);
    let payload_start = full.len() - callseal::stream::payload_size(data.len() as u64) as usize;
    let sealed_chunk = CHUNK + 16;
    let mut longest_prefix = 0;
    for cut in [
        payload_start,
        payload_start + 100,
        payload_start + sealed_chunk,
        payload_start + sealed_chunk + 1,
        payload_start + 2 * sealed_chunk + 5000,
        payload_start + 3 * sealed_chunk,
        full.len() - 1,
    ] {
        let file = go.write("cut.age", &full[..cut]);
        let out = go.run(
            &go.age,
            &["-d", "-i", key.to_str().unwrap(), file.to_str().unwrap()],
        );
        assert!(
            !out.status.success(),
            "Go age accepted a file cut at {cut} of {}",
            full.len()
        );
        assert!(
            data.starts_with(&out.stdout),
            "cut {cut}: Go age's output ({} bytes) is not a prefix of the plaintext",
            out.stdout.len()
        );
        // Never more than the whole chunks before the cut.
        let whole = (cut - payload_start) / sealed_chunk * CHUNK;
        assert!(
            out.stdout.len() <= whole,
            "cut {cut}: Go age released {} bytes, more than the {whole} authenticated",
            out.stdout.len()
        );
        longest_prefix = longest_prefix.max(out.stdout.len());

        // callseal's recover returns exactly the whole chunks.
        let mut recovered = Vec::new();
        let report =
            callseal::recover(&full[..cut], std::slice::from_ref(&id), &mut recovered).unwrap();
        assert_same(&recovered, &data[..whole], &format!("recover at cut {cut}"));
        assert_eq!(report.recovered_bytes, whole as u64);
        assert!(!report.complete);
    }
    println!("Go age released at most {longest_prefix} bytes from a truncated file");
}
