//! Helpers shared by the integration tests.
#![allow(dead_code)]

/// Deterministic, position-dependent content (xorshift), so a swapped,
/// shifted or zeroed chunk can never compare equal.
pub fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Compares two byte strings and, on mismatch, names the first differing
/// offset instead of dumping megabytes.
#[track_caller]
pub fn assert_same(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let first = got
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "{what}: content differs (got {} bytes, want {}; first difference at offset {first})",
            got.len(),
            want.len()
        );
    }
}
