//! A saved case's key-value metadata edited and the case signed again — what someone who
//! alters a case does: the checksum is no secret, so a case that passes it must still be read
//! only if its metadata is what mailscope writes. Bytes only (no Parquet reader), so that the
//! `case` fuzz target shares it (`fuzz/fuzz_targets/case.rs` includes this file).
//!
//! It knows both schemas' checksums: v2's `mailscope.case.checksum` (the whole file with 64
//! `0`s in its place) and v1's `mailscope.case.data_sha256` (the bytes before the footer).

#![allow(dead_code)]

use sha2::{Digest, Sha256};

const PLACEHOLDER: [u8; 64] = [b'0'; 64];

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the footer starts and how long it is.
fn footer(bytes: &[u8]) -> Option<(usize, usize)> {
    let n = bytes.len();
    if n < 12 {
        return None;
    }
    let len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().ok()?) as usize;
    Some(((n - 8).checked_sub(len)?, len))
}

fn varint(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// The value of `key` in the footer: (start of its length, start of its bytes, its length).
/// A Thrift `KeyValue` is the key (length, bytes), then the value's field header `0x18`, its
/// length as a varint, its bytes.
fn find_value(bytes: &[u8], key: &str) -> Option<(usize, usize, usize)> {
    let (start, len) = footer(bytes)?;
    let foot = &bytes[start..start + len];
    let mut pattern = varint(key.len());
    pattern.extend_from_slice(key.as_bytes());
    pattern.push(0x18);
    let at = foot
        .windows(pattern.len())
        .rposition(|w| w == pattern.as_slice())?;
    let length_at = start + at + pattern.len();
    let (mut value_len, mut shift, mut i) = (0usize, 0, length_at);
    loop {
        let b = *bytes.get(i)?;
        value_len |= ((b & 0x7f) as usize).checked_shl(shift)?;
        i += 1;
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    Some((length_at, i, value_len))
}

/// The value of `key`, if the footer holds it.
pub fn value(bytes: &[u8], key: &str) -> Option<Vec<u8>> {
    let (_, at, len) = find_value(bytes, key)?;
    bytes.get(at..at + len).map(<[u8]>::to_vec)
}

/// The case with `key`'s value replaced by `new` (the footer's length mended), not signed.
pub fn with_value(bytes: &[u8], key: &str, new: &[u8]) -> Option<Vec<u8>> {
    let (length_at, at, len) = find_value(bytes, key)?;
    let mut out = bytes[..length_at].to_vec();
    out.extend_from_slice(&varint(new.len()));
    out.extend_from_slice(new);
    out.extend_from_slice(bytes.get(at + len..)?);
    let n = out.len();
    let (_, old_len) = footer(bytes)?;
    let new_len = (old_len + n).checked_sub(bytes.len())? as u32;
    out[n - 8..n - 4].copy_from_slice(&new_len.to_le_bytes());
    Some(out)
}

/// Sign the case again after an edit: each checksum it has, computed as mailscope computes it.
pub fn resign(bytes: &mut [u8]) {
    if let Some((_, at, 64)) = find_value(bytes, "mailscope.case.checksum") {
        bytes[at..at + 64].copy_from_slice(&PLACEHOLDER);
        let sum = hex(&Sha256::digest(&*bytes));
        bytes[at..at + 64].copy_from_slice(sum.as_bytes());
    }
    if let (Some((_, at, 64)), Some((start, _))) = (
        find_value(bytes, "mailscope.case.data_sha256"),
        footer(bytes),
    ) {
        let sum = hex(&Sha256::digest(&bytes[..start]));
        bytes[at..at + 64].copy_from_slice(sum.as_bytes());
    }
}

/// The provenance JSON (`mailscope.case`) as text.
pub fn provenance(bytes: &[u8]) -> String {
    String::from_utf8(value(bytes, "mailscope.case").expect("a case has its provenance"))
        .expect("the provenance is text")
}

/// The case with its provenance replaced by `json`, signed again.
pub fn with_provenance(bytes: &[u8], json: &str) -> Vec<u8> {
    let mut out =
        with_value(bytes, "mailscope.case", json.as_bytes()).expect("a case has its provenance");
    resign(&mut out);
    out
}
