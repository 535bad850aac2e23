#![cfg(feature = "cli")]
//! The `callseal` command line, run as a user would.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use age::secrecy::SecretString;

fn callseal() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_callseal"));
    cmd.env_remove("CALLSEAL_PASSPHRASE");
    cmd
}

fn run(args: &[&str]) -> Output {
    callseal().args(args).output().expect("callseal runs")
}

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = callseal()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("callseal runs");
    // Feed stdin from a thread while stdout is drained, or both pipes fill
    // and the two processes wait on each other. A command that fails before
    // reading stdin closes it early; that is fine.
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    output
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A user error is one line on stderr, no backtrace, a non-zero exit.
fn assert_user_error(o: &Output, needle: &str) {
    assert!(!o.status.success(), "expected failure, got success");
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "one line on stderr, got: {err}");
    assert!(err.starts_with("callseal: error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
    assert!(
        !err.contains("backtrace") && !err.contains("panicked"),
        "{err}"
    );
}

fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let o = run(&["keygen", "-o", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    (path, stdout(&o).trim().to_string())
}

fn no_leftovers(dir: &Path, expected: &[&str]) {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(
        names, expected,
        "no partial or temporary files may be left behind"
    );
}

fn audio(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7919) % 251) as u8).collect()
}

#[test]
fn keygen_writes_a_private_age_keygen_style_file_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let (path, recipient) = keygen(dir.path(), "sup.key");
    assert!(
        recipient.starts_with("age1") && recipient.len() == 62,
        "{recipient}"
    );
    let text = fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("# created: 20"), "{text}");
    assert_eq!(lines[1], format!("# public key: {recipient}"));
    assert!(lines[2].starts_with("AGE-SECRET-KEY-1"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let again = run(&["keygen", "-o", path.to_str().unwrap()]);
    assert_user_error(&again, "refusing to overwrite");
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        text,
        "existing identity untouched"
    );

    let r = run(&["recipient", "-i", path.to_str().unwrap()]);
    assert!(r.status.success());
    assert_eq!(stdout(&r).trim(), recipient);
}

#[test]
fn seal_and_open_round_trip_through_files_and_pipes_with_several_recipients() {
    let dir = tempfile::tempdir().unwrap();
    let (k1, r1) = keygen(dir.path(), "a.key");
    let (k2, r2) = keygen(dir.path(), "b.key");
    let rfile = dir.path().join("recipients.txt");
    fs::write(&rfile, format!("# escrow\n{r2}\n")).unwrap();
    let plain = audio(200_000);
    let input = dir.path().join("call.raw");
    fs::write(&input, &plain).unwrap();
    let sealed = dir.path().join("call.age");

    let o = run(&[
        "seal",
        "-r",
        &r1,
        "-R",
        rfile.to_str().unwrap(),
        "-o",
        sealed.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for key in [&k1, &k2] {
        let o = run(&[
            "open",
            "-i",
            key.to_str().unwrap(),
            sealed.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(o.stdout, plain);
    }

    // stdin to stdout.
    let piped = run_with_stdin(&["seal", "-r", &r1], &plain);
    assert!(piped.status.success(), "{}", stderr(&piped));
    let back = run_with_stdin(&["open", "-i", k1.to_str().unwrap()], &piped.stdout);
    assert_eq!(back.stdout, plain);

    // -o for open writes the plaintext with mode 0600.
    let out = dir.path().join("call.opened");
    let o = run(&[
        "open",
        "-i",
        k2.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        sealed.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read(&out).unwrap(), plain);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&out).unwrap().permissions().mode() & 0o077,
            0,
            "plaintext is private"
        );
    }
}

#[test]
fn failures_leave_no_output_and_say_what_went_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (k1, r1) = keygen(dir.path(), "a.key");
    let (k2, _) = keygen(dir.path(), "b.key");
    let sealed = dir.path().join("call.age");
    let o = run_with_stdin(
        &["seal", "-r", &r1, "-o", sealed.to_str().unwrap()],
        &audio(300_000),
    );
    assert!(o.status.success());
    let out = dir.path().join("out.raw");
    let base = ["a.key", "b.key", "call.age"];

    let wrong = run(&[
        "open",
        "-i",
        k2.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        sealed.to_str().unwrap(),
    ]);
    assert_user_error(&wrong, "no identity matched");
    no_leftovers(dir.path(), &base);

    // Truncated: two chunks would be released to a pipe, but a file output must not appear.
    let bytes = fs::read(&sealed).unwrap();
    let cut = dir.path().join("cut.age");
    fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let trunc = run(&[
        "open",
        "-i",
        k1.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        cut.to_str().unwrap(),
    ]);
    assert_user_error(&trunc, "truncated");
    no_leftovers(dir.path(), &["a.key", "b.key", "call.age", "cut.age"]);

    // Tampered.
    let mut tampered = bytes.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 1;
    let bad = dir.path().join("bad.age");
    fs::write(&bad, &tampered).unwrap();
    let o = run(&[
        "open",
        "-i",
        k1.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_user_error(&o, "failed authentication");
    assert!(!out.exists());

    // Not an age file, bad recipient, missing recipients, missing input.
    assert_user_error(
        &run(&["open", "-i", k1.to_str().unwrap(), k1.to_str().unwrap()]),
        "not an age file",
    );
    assert_user_error(
        &run(&["seal", "-r", "age1notakey", "-o", out.to_str().unwrap()]),
        "invalid recipient",
    );
    assert_user_error(&run_with_stdin(&["seal"], b"x"), "no recipients");
    assert_user_error(
        &run(&["open", "-i", k1.to_str().unwrap(), "/nonexistent/file.age"]),
        "cannot open /nonexistent/file.age",
    );
    assert!(!out.exists());
}

#[test]
fn seal_refuses_to_print_ciphertext_to_a_terminal() {
    // `script` gives the command a pseudo-terminal as stdout.
    if Command::new("script").arg("--version").output().is_err() {
        println!("NOTICE: `script` (util-linux) not found; terminal refusal not tested");
        return;
    }
    let id = callseal::Identity::generate();
    let cmd = format!(
        "{} seal -r {} < /dev/null",
        env!("CARGO_BIN_EXE_callseal"),
        id.recipient()
    );
    let o = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .unwrap();
    let text = stdout(&o);
    assert!(
        text.contains("refusing to write ciphertext to a terminal"),
        "{text}"
    );
    assert!(
        !text.contains("age-encryption.org"),
        "no ciphertext may reach the terminal"
    );
}

#[test]
fn inspect_describes_a_file_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_, r1) = keygen(dir.path(), "a.key");
    let (_, r2) = keygen(dir.path(), "b.key");
    let sealed = dir.path().join("call.age");
    let o = run_with_stdin(
        &["seal", "-r", &r1, "-r", &r2, "-o", sealed.to_str().unwrap()],
        &audio(70_000),
    );
    assert!(o.status.success());
    let json = stdout(&run(&["inspect", "--json", sealed.to_str().unwrap()]));
    for field in [
        "\"recipients\":2",
        "\"stanza_types\":[\"X25519\",\"X25519\"]",
        "\"chunks\":2",
        "\"plaintext_bytes\":70000",
        "\"ending\":\"final-sized\"",
    ] {
        assert!(json.contains(field), "{field} missing in {json}");
    }
    let text = stdout(&run(&["inspect", sealed.to_str().unwrap()]));
    assert!(text.contains("recipients:  2 (X25519, X25519)"), "{text}");
}

#[test]
fn recover_salvages_what_a_dead_writer_left() {
    let dir = tempfile::tempdir().unwrap();
    let (k1, r1) = keygen(dir.path(), "a.key");
    let plain = audio(200_000);
    let sealed = dir.path().join("call.age");
    assert!(
        run_with_stdin(&["seal", "-r", &r1, "-o", sealed.to_str().unwrap()], &plain)
            .status
            .success()
    );
    let bytes = fs::read(&sealed).unwrap();
    let cut = dir.path().join("cut.age");
    fs::write(&cut, &bytes[..bytes.len() - 1000]).unwrap();
    let out = dir.path().join("recovered.raw");
    let o = run(&[
        "recover",
        "-i",
        k1.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        cut.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read(&out).unwrap(), &plain[..3 * 65536]);
    let report = stdout(&o);
    assert!(report.contains("recovered:   196608 bytes"), "{report}");
    assert!(report.contains("truncated"), "{report}");
    assert!(report.contains("at most 65536 bytes"), "{report}");
}

#[test]
fn passphrase_protected_identity_files_and_passphrase_files_open() {
    let dir = tempfile::tempdir().unwrap();
    let id = callseal::Identity::generate();
    let key_text = format!(
        "# public key: {}\n{}\n",
        id.recipient(),
        id.to_secret_string().as_str()
    );
    // An identity file protected like `age -p -a` does it.
    let mut recipient = age::scrypt::Recipient::new(SecretString::from("correct horse".to_owned()));
    recipient.set_work_factor(10);
    let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .unwrap();
    let mut armored = Vec::new();
    {
        let aw =
            age::armor::ArmoredWriter::wrap_output(&mut armored, age::armor::Format::AsciiArmor)
                .unwrap();
        let mut w = enc.wrap_output(aw).unwrap();
        w.write_all(key_text.as_bytes()).unwrap();
        w.finish().unwrap().finish().unwrap();
    }
    let key_path = dir.path().join("protected.key");
    fs::write(&key_path, &armored).unwrap();

    let sealed = dir.path().join("call.age");
    let plain = audio(1000);
    assert!(run_with_stdin(
        &[
            "seal",
            "-r",
            &id.recipient().to_string(),
            "-o",
            sealed.to_str().unwrap()
        ],
        &plain
    )
    .status
    .success());
    let ok = callseal()
        .env("CALLSEAL_PASSPHRASE", "correct horse")
        .args([
            "open",
            "-i",
            key_path.to_str().unwrap(),
            sealed.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_eq!(ok.stdout, plain);
    let wrong = callseal()
        .env("CALLSEAL_PASSPHRASE", "wrong")
        .args([
            "open",
            "-i",
            key_path.to_str().unwrap(),
            sealed.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_user_error(&wrong, "wrong passphrase");

    // A file sealed to a passphrase opens with `open -p`.
    let mut w = Vec::new();
    {
        let mut s = enc_passphrase("pw").wrap_output(&mut w).unwrap();
        s.write_all(&plain).unwrap();
        s.finish().unwrap();
    }
    let pfile = dir.path().join("p.age");
    fs::write(&pfile, &w).unwrap();
    let o = callseal()
        .env("CALLSEAL_PASSPHRASE", "pw")
        .args(["open", "-p", pfile.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, plain);
    // ... and an identity cannot open it, with a message that says why.
    let (k, _) = keygen(dir.path(), "k.key");
    assert_user_error(
        &run(&["open", "-i", k.to_str().unwrap(), pfile.to_str().unwrap()]),
        "passphrase",
    );
}

fn enc_passphrase(p: &str) -> age::Encryptor {
    let mut r = age::scrypt::Recipient::new(SecretString::from(p.to_owned()));
    r.set_work_factor(10);
    age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient)).unwrap()
}

#[test]
fn demo_runs_end_to_end_with_no_setup() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["demo", "--dir", dir.path().join("demo").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("byte-identical to the captured WAV: yes"),
        "{text}"
    );
    assert!(text.contains("strict open refuses it"), "{text}");
    let wav = fs::read(dir.path().join("demo/call.wav")).unwrap();
    let reader = hound::WavReader::new(wav.as_slice()).unwrap();
    assert_eq!(reader.spec().sample_rate, 8000);
    assert_eq!(reader.duration(), 40_000, "5 s of 8 kHz audio");
    assert_eq!(
        fs::read(dir.path().join("demo/call.opened.wav")).unwrap(),
        wav
    );
}
