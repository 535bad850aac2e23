//! Interoperability with the `age` crate (rage's library), in both
//! directions: files sealed by callseal must decrypt with `age`, and files
//! written by `age` (binary, ASCII-armored, passphrase) must open with
//! callseal. Every comparison is on content, byte for byte.

mod common;

use common::{assert_same, content};
use std::io::{Read, Write};
use std::iter;

use age::secrecy::{ExposeSecret, SecretString};
use callseal::{recover, Error, Identity, Opener, PayloadError, Recovery, Sealer};

/// 64 KiB, the STREAM chunk size.
const CHUNK: usize = 65536;
/// A sealed full chunk: plaintext plus the 16-byte tag.
const SEALED_CHUNK: usize = CHUNK + 16;

/// The size matrix every direction is run over: empty, tiny, around the
/// chunk boundary, several chunks, and a few megabytes.
const SIZES: &[usize] = &[0, 1, 65535, 65536, 65537, 3 * 65536, 5 * 1024 * 1024 + 123];

fn to_age_identity(id: &Identity) -> age::x25519::Identity {
    id.to_secret_string()
        .parse()
        .expect("age parses callseal's AGE-SECRET-KEY-1 text")
}

fn to_callseal_identity(id: &age::x25519::Identity) -> Identity {
    id.to_string()
        .expose_secret()
        .parse()
        .expect("callseal parses age's AGE-SECRET-KEY-1 text")
}

fn to_callseal_recipient(r: &age::x25519::Recipient) -> callseal::Recipient {
    r.to_string()
        .parse()
        .expect("callseal parses age's age1 recipient")
}

fn to_age_recipient(r: &callseal::Recipient) -> age::x25519::Recipient {
    r.to_string()
        .parse()
        .expect("age parses callseal's age1 recipient")
}

/// Seals `data` with callseal, in writes of `write_size` bytes.
fn callseal_seal(recipients: &[callseal::Recipient], data: &[u8], write_size: usize) -> Vec<u8> {
    let mut sealer = Sealer::new(recipients, Vec::new()).expect("Sealer::new");
    for piece in data.chunks(write_size.max(1)) {
        sealer.write_all(piece).expect("sealer write");
    }
    assert_eq!(sealer.plaintext_len(), data.len() as u64);
    sealer.finish().expect("finish")
}

fn callseal_open(file: &[u8], ids: &[Identity]) -> Result<Vec<u8>, Error> {
    let mut opener = Opener::new(file, ids)?;
    let mut out = Vec::new();
    opener.read_to_end(&mut out).map_err(Error::from_io)?;
    Ok(out)
}

fn age_encrypt(recipients: &[age::x25519::Recipient], data: &[u8]) -> Vec<u8> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .expect("age encryptor");
    let mut writer = encryptor.wrap_output(Vec::new()).expect("age wrap_output");
    // Odd-sized writes, so the age writer's own buffering is exercised.
    for piece in data.chunks(10_007) {
        writer.write_all(piece).expect("age write");
    }
    writer.finish().expect("age finish")
}

fn age_decrypt(file: &[u8], id: &age::x25519::Identity) -> Result<Vec<u8>, String> {
    let decryptor = age::Decryptor::new(file).map_err(|e| format!("header: {e}"))?;
    let mut reader = decryptor
        .decrypt(iter::once(id as &dyn age::Identity))
        .map_err(|e| format!("decrypt: {e}"))?;
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .map_err(|e| format!("payload: {e}"))?;
    Ok(out)
}

/// The size of a complete age file for `plaintext_len` bytes, given the
/// header length.
fn expected_file_len(header_len: u64, plaintext_len: usize) -> usize {
    header_len as usize + 16 + callseal::stream::payload_size(plaintext_len as u64) as usize
}

#[test]
fn callseal_to_age_one_recipient() {
    // One key made by age, one by callseal: both must work as the recipient.
    let age_made = age::x25519::Identity::generate();
    let callseal_made = Identity::generate();
    for (i, &size) in SIZES.iter().enumerate() {
        let data = content(size, i as u64 + 1);
        for (label, age_id, recipient) in [
            (
                "age-made key",
                age_made.clone(),
                to_callseal_recipient(&age_made.to_public()),
            ),
            (
                "callseal-made key",
                to_age_identity(&callseal_made),
                callseal_made.recipient(),
            ),
        ] {
            // Writes of 4093 bytes: not a divisor of the chunk size.
            let file = callseal_seal(&[recipient], &data, 4093);
            assert_eq!(
                file.len(),
                expected_file_len(168, size),
                "size {size}: one-recipient file length"
            );
            let plain = age_decrypt(&file, &age_id).unwrap_or_else(|e| {
                panic!("age refused callseal file ({label}, size {size}): {e}")
            });
            assert_same(
                &plain,
                &data,
                &format!("callseal->age, {label}, size {size}"),
            );
        }
    }
}

#[test]
fn callseal_to_age_several_recipients() {
    let age_ids: Vec<age::x25519::Identity> =
        (0..2).map(|_| age::x25519::Identity::generate()).collect();
    let callseal_id = Identity::generate();
    // Every identity as the age crate sees it, with the matching recipient.
    let mut all_age_ids: Vec<age::x25519::Identity> = age_ids.clone();
    all_age_ids.push(to_age_identity(&callseal_id));
    let recipients: Vec<callseal::Recipient> = age_ids
        .iter()
        .map(|id| to_callseal_recipient(&id.to_public()))
        .chain(iter::once(callseal_id.recipient()))
        .collect();
    let outsider = age::x25519::Identity::generate();

    for (i, &size) in SIZES.iter().enumerate() {
        let data = content(size, 100 + i as u64);
        // Write everything in one call this time.
        let file = callseal_seal(&recipients, &data, usize::MAX);
        for (n, id) in all_age_ids.iter().enumerate() {
            let plain = age_decrypt(&file, id).unwrap_or_else(|e| {
                panic!("age refused callseal file for identity {n}, size {size}: {e}")
            });
            assert_same(
                &plain,
                &data,
                &format!("3 recipients, identity {n}, size {size}"),
            );
        }
        assert!(
            age_decrypt(&file, &outsider).is_err(),
            "age opened a file with an identity that is not a recipient"
        );
    }
}

#[test]
fn age_to_callseal_one_recipient() {
    let age_made = age::x25519::Identity::generate();
    let callseal_made = Identity::generate();
    for (i, &size) in SIZES.iter().enumerate() {
        let data = content(size, 200 + i as u64);
        for (label, recipient, id) in [
            (
                "age-made key",
                age_made.to_public(),
                to_callseal_identity(&age_made),
            ),
            (
                "callseal-made key",
                to_age_recipient(&callseal_made.recipient()),
                callseal_made.clone(),
            ),
        ] {
            let file = age_encrypt(&[recipient], &data);
            let plain = callseal_open(&file, &[id]).unwrap_or_else(|e| {
                panic!("callseal refused age file ({label}, size {size}): {e}")
            });
            assert_same(
                &plain,
                &data,
                &format!("age->callseal, {label}, size {size}"),
            );
        }
    }
}

#[test]
fn age_to_callseal_several_recipients() {
    let age_ids: Vec<age::x25519::Identity> =
        (0..2).map(|_| age::x25519::Identity::generate()).collect();
    let callseal_id = Identity::generate();
    let recipients: Vec<age::x25519::Recipient> = age_ids
        .iter()
        .map(|id| id.to_public())
        .chain(iter::once(to_age_recipient(&callseal_id.recipient())))
        .collect();
    let mut ids: Vec<Identity> = age_ids.iter().map(to_callseal_identity).collect();
    ids.push(callseal_id);

    for (i, &size) in SIZES.iter().enumerate() {
        let data = content(size, 300 + i as u64);
        let file = age_encrypt(&recipients, &data);
        for (n, id) in ids.iter().enumerate() {
            let mut opener = Opener::new(file.as_slice(), std::slice::from_ref(id))
                .unwrap_or_else(|e| panic!("identity {n}, size {size}: {e}"));
            // The age crate may add a "grease" stanza of a random type.
            let x25519 = callseal::inspect(file.as_slice())
                .unwrap()
                .stanza_types
                .iter()
                .filter(|t| *t == "X25519")
                .count();
            assert_eq!(x25519, 3, "one X25519 stanza per recipient");
            assert!((3..=4).contains(&opener.stanza_count()));
            assert!(!opener.is_armored());
            let mut plain = Vec::new();
            opener
                .read_to_end(&mut plain)
                .unwrap_or_else(|e| panic!("identity {n}, size {size}: {}", Error::from_io(e)));
            assert_same(
                &plain,
                &data,
                &format!("3 recipients, identity {n}, size {size}"),
            );
        }
        // An identity list where only the last entry matches also works.
        let outsider = Identity::generate();
        let plain = callseal_open(&file, &[outsider.clone(), ids[1].clone()]).unwrap();
        assert_same(&plain, &data, "matching identity second in the list");
        assert!(
            matches!(callseal_open(&file, &[outsider]), Err(Error::NoMatch(_))),
            "a non-recipient identity must get NoMatch"
        );
    }
}

#[test]
fn age_armored_output_opens_with_callseal() {
    let id = Identity::generate();
    let recipient = to_age_recipient(&id.recipient());
    for (i, &size) in SIZES.iter().enumerate() {
        let data = content(size, 400 + i as u64);
        let encryptor =
            age::Encryptor::with_recipients(iter::once(&recipient as &dyn age::Recipient)).unwrap();
        let armor =
            age::armor::ArmoredWriter::wrap_output(Vec::new(), age::armor::Format::AsciiArmor)
                .unwrap();
        let mut writer = encryptor.wrap_output(armor).unwrap();
        writer.write_all(&data).unwrap();
        let armored = writer.finish().unwrap().finish().unwrap();
        assert!(armored.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----\n"));

        let mut opener = Opener::new(armored.as_slice(), std::slice::from_ref(&id))
            .unwrap_or_else(|e| panic!("armored, size {size}: {e}"));
        assert!(opener.is_armored(), "armored input must be detected");
        let mut plain = Vec::new();
        opener
            .read_to_end(&mut plain)
            .unwrap_or_else(|e| panic!("armored, size {size}: {}", Error::from_io(e)));
        assert_same(&plain, &data, &format!("armored, size {size}"));

        // And callseal's own armor of a callseal file decrypts with age.
        let sealed = callseal_seal(&[id.recipient()], &data, 65536);
        let text = callseal::armor(&sealed);
        let reader = age::armor::ArmoredReader::new(text.as_bytes());
        let decryptor = age::Decryptor::new(reader).expect("age reads callseal armor");
        let age_id = to_age_identity(&id);
        let mut out = Vec::new();
        decryptor
            .decrypt(iter::once(&age_id as &dyn age::Identity))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_same(&out, &data, &format!("callseal armor -> age, size {size}"));
    }
}

#[test]
fn age_passphrase_file_opens_with_callseal() {
    let passphrase = "correct horse battery staple ✓";
    for (i, &size) in [0usize, 1, 65536, 65537, 200_000].iter().enumerate() {
        let data = content(size, 500 + i as u64);
        let mut recipient = age::scrypt::Recipient::new(SecretString::from(passphrase));
        recipient.set_work_factor(10); // keep the test fast
        let encryptor =
            age::Encryptor::with_recipients(iter::once(&recipient as &dyn age::Recipient)).unwrap();
        let mut writer = encryptor.wrap_output(Vec::new()).unwrap();
        writer.write_all(&data).unwrap();
        let file = writer.finish().unwrap();
        assert!(
            file.windows(9).any(|w| w == b"-> scrypt"),
            "the age crate must have written an scrypt stanza"
        );

        let mut opener = Opener::with_passphrase(file.as_slice(), passphrase)
            .unwrap_or_else(|e| panic!("passphrase, size {size}: {e}"));
        let mut plain = Vec::new();
        opener.read_to_end(&mut plain).unwrap();
        assert_same(&plain, &data, &format!("passphrase, size {size}"));

        assert!(
            matches!(
                Opener::with_passphrase(file.as_slice(), "wrong passphrase"),
                Err(Error::NoMatch(_))
            ),
            "a wrong passphrase must be NoMatch"
        );
        assert!(
            matches!(
                Opener::new(file.as_slice(), &[Identity::generate()]),
                Err(Error::NoMatch(_))
            ),
            "an X25519 identity cannot open a passphrase file"
        );
        // The cap is enforced before any scrypt work.
        assert!(
            matches!(
                Opener::with_passphrase_limit(file.as_slice(), passphrase, 9),
                Err(Error::Header(_))
            ),
            "work factor 10 above a cap of 9 must be a header error"
        );
    }
}

/// Header length of an age file: up to and including the MAC line.
fn header_len(file: &[u8]) -> usize {
    let mac = file
        .windows(4)
        .position(|w| w == b"\n---")
        .expect("MAC line");
    mac + 1 + file[mac + 1..].iter().position(|&b| b == b'\n').unwrap() + 1
}

#[test]
fn recover_on_cut_age_file_returns_whole_chunk_prefix() {
    let id = Identity::generate();
    let recipient = to_age_recipient(&id.recipient());
    let data = content(3 * CHUNK + 1000, 600);
    let file = age_encrypt(&[recipient], &data);
    let payload_start = header_len(&file) + 16;
    assert_eq!(file.len(), payload_start + 3 * SEALED_CHUNK + 1016);

    // Cut points: inside the nonce, on each chunk boundary, inside each
    // chunk, one byte short of a chunk, and one byte short of the file.
    let mut cuts = vec![payload_start + 5, payload_start];
    for k in 0..4 {
        let start = payload_start + k * SEALED_CHUNK;
        for cut in [start, start + 1, start + 700, start + SEALED_CHUNK - 1] {
            if cut < file.len() {
                cuts.push(cut);
            }
        }
    }
    cuts.push(file.len() - 1);
    cuts.sort_unstable();
    cuts.dedup();

    for cut in cuts {
        let cut_file = &file[..cut];
        if cut < payload_start {
            // The nonce is part of the header in the spec's terms.
            assert!(
                matches!(
                    recover(cut_file, std::slice::from_ref(&id), Vec::new()),
                    Err(Error::Header(_))
                ),
                "cut {cut} inside the nonce must be a header error"
            );
            continue;
        }
        let whole_chunks = (cut - payload_start) / SEALED_CHUNK;
        let mid_chunk = (cut - payload_start) % SEALED_CHUNK != 0;
        let want = &data[..whole_chunks * CHUNK];

        let mut out = Vec::new();
        let report = recover(cut_file, std::slice::from_ref(&id), &mut out)
            .unwrap_or_else(|e| panic!("recover at cut {cut}: {e}"));
        assert_same(&out, want, &format!("recovered prefix at cut {cut}"));
        assert_eq!(
            report,
            Recovery {
                recovered_bytes: want.len() as u64,
                complete: false,
                stopped_by: Some(PayloadError::Truncated {
                    authenticated_bytes: want.len() as u64,
                    mid_chunk,
                }),
            },
            "recovery report at cut {cut}"
        );

        // The strict opener refuses the same file, after releasing exactly
        // the same prefix.
        let mut opener = Opener::new(cut_file, std::slice::from_ref(&id)).unwrap();
        let mut released = Vec::new();
        let err = opener
            .read_to_end(&mut released)
            .expect_err("cut file must fail");
        assert!(
            Error::from_io(err).is_truncation(),
            "cut {cut}: a cut file is a truncation"
        );
        assert_same(
            &released,
            want,
            &format!("strict opener prefix at cut {cut}"),
        );
    }

    // The uncut file recovers completely.
    let mut out = Vec::new();
    let report = recover(file.as_slice(), &[id], &mut out).unwrap();
    assert_same(&out, &data, "uncut recovery");
    assert_eq!(
        report,
        Recovery {
            recovered_bytes: data.len() as u64,
            complete: true,
            stopped_by: None
        }
    );
}

#[test]
fn age_refuses_unfinished_and_cut_callseal_files() {
    let id = Identity::generate();
    let age_id = to_age_identity(&id);
    let data = content(2 * CHUNK + 10, 700);

    // Dropped without finish(): no final chunk.
    let mut sealer = Sealer::new(&[id.recipient()], Vec::new()).unwrap();
    sealer.write_all(&data).unwrap();
    let unfinished = sealer.get_ref().clone();
    drop(sealer);
    assert!(
        age_decrypt(&unfinished, &age_id).is_err(),
        "age must refuse a file whose sealer was never finished"
    );

    // A finished file cut by one byte.
    let file = callseal_seal(&[id.recipient()], &data, 1000);
    assert!(age_decrypt(&file, &age_id).is_ok());
    assert!(
        age_decrypt(&file[..file.len() - 1], &age_id).is_err(),
        "age must refuse a file cut by one byte"
    );
    // And one with a byte appended.
    let mut extended = file.clone();
    extended.push(0);
    assert!(
        age_decrypt(&extended, &age_id).is_err(),
        "age must refuse trailing data"
    );
}
