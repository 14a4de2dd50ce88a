//! Finding input files, reading them read-only (memory-mapped where possible) and decoding
//! their text. Evidence is never written to: files are opened read-only and mapped private.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fs::File;
use std::ops::Deref;
use std::path::{Path, PathBuf};

/// A path that was looked at and not read, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Expand the command-line paths: files as given, folders walked recursively in sorted order.
/// Returns the files to read and the paths that could not be walked (with the reason).
/// A symbolic link found inside a folder is followed only while it stays inside that
/// folder: a link to `/etc/shadow` planted in the evidence is skipped, not read.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Skipped>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut seen_dirs = BTreeSet::new();
    let mut seen_files = BTreeSet::new();
    for p in paths {
        let root = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        walk(
            p,
            &root,
            &mut files,
            &mut problems,
            &mut seen_dirs,
            &mut seen_files,
        );
    }
    (files, problems)
}

/// Why a symbolic link met inside `root` is not followed, if it is not.
fn link_leaves(p: &Path, root: &Path) -> Option<&'static str> {
    let is_link = std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return None;
    }
    match std::fs::canonicalize(p) {
        Ok(target) if target.starts_with(root) => None,
        Ok(_) => Some("symbolic link leading outside the input folder: not followed"),
        // Dangling or looping: metadata below says what it is.
        Err(_) => None,
    }
}

fn walk(
    p: &Path,
    root: &Path,
    files: &mut Vec<PathBuf>,
    problems: &mut Vec<Skipped>,
    seen_dirs: &mut BTreeSet<PathBuf>,
    seen_files: &mut BTreeSet<PathBuf>,
) {
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) => {
            problems.push(Skipped {
                path: p.display().to_string(),
                reason: e.to_string(),
            });
            return;
        }
    };
    // Canonical paths stop symlink loops and stop one file being read twice via two names.
    let canon = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    if meta.is_dir() {
        if !seen_dirs.insert(canon) {
            problems.push(Skipped {
                path: p.display().to_string(),
                reason: "folder already visited (symlink loop or repeated argument)".into(),
            });
            return;
        }
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                problems.push(Skipped {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                });
                return;
            }
        };
        entries.sort();
        for e in entries {
            if let Some(reason) = link_leaves(&e, root) {
                problems.push(Skipped {
                    path: e.display().to_string(),
                    reason: reason.into(),
                });
                continue;
            }
            walk(&e, root, files, problems, seen_dirs, seen_files);
        }
    } else if meta.is_file() {
        if seen_files.insert(canon) {
            files.push(p.to_path_buf());
        }
    } else {
        problems.push(Skipped {
            path: p.display().to_string(),
            reason: "not a regular file".into(),
        });
    }
}

/// The bytes of one input file.
pub enum FileBytes {
    /// The guard is dropped (unregistered) before the map is unmapped: fields drop in order.
    Mapped(crate::mapguard::Guard, memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(_, m) => m,
            FileBytes::Owned(v) => v,
        }
    }
}

impl FileBytes {
    /// The mapped pages before `end` (an address inside the map) are read and will not be
    /// needed again: they leave the process's resident memory. Read again, they come back from
    /// the file unchanged (a private, read-only map of a file); nothing to do for owned bytes.
    pub fn release_before(&self, end: *const u8) {
        const PAGE: usize = 4096;
        if let FileBytes::Mapped(_, map) = self {
            let start = map.as_ptr() as usize;
            let end = end as usize;
            if end > start && end <= start + map.len() {
                let len = (end - start) / PAGE * PAGE;
                if len > 0 {
                    // SAFETY: DONTNEED on a private read-only file map drops clean pages only;
                    // a later read faults them in again from the file, with the same bytes.
                    let _ = unsafe {
                        map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, len)
                    };
                }
            }
        }
    }

    /// The file shrank while mapped: what lay past its new end was read as zero bytes.
    pub fn shrank_while_read(&self) -> bool {
        matches!(self, FileBytes::Mapped(guard, _) if guard.faulted())
    }
}

/// Open a file read-only and map it; fall back to reading it when mapping is not possible
/// (empty files, special files, no free guard, `use_mmap = false`).
pub fn read_file(path: &Path, use_mmap: bool) -> std::io::Result<FileBytes> {
    read_file_with(path, use_mmap, true)
}

/// `read_file`; with `populate` the whole file is read into the map at once (no page faults
/// while parallel parsers read it), without it each page as it is first read: a file read
/// once, in order, whose pages are let go behind the reader (`release_before`), is then never
/// in memory whole.
pub fn read_file_with(path: &Path, use_mmap: bool, populate: bool) -> std::io::Result<FileBytes> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if use_mmap && len > 0 {
        let mut options = memmap2::MmapOptions::new();
        if populate {
            options.populate();
        }
        // SAFETY: the map is read-only and private, and registered with the SIGBUS guard before
        // anything reads it: if the file shrinks while mapped, the pages past its new end read as
        // zeros instead of killing the process (see `mapguard`).
        if let Ok(map) = unsafe { options.map(&file) } {
            if let Some(guard) = crate::mapguard::register(map.as_ptr(), map.len()) {
                let _ = map.advise(memmap2::Advice::Sequential);
                return Ok(FileBytes::Mapped(guard, map));
            }
        }
    }
    let mut v = Vec::with_capacity(len as usize);
    use std::io::Read;
    let mut f = file;
    f.read_to_end(&mut v)?;
    Ok(FileBytes::Owned(v))
}

/// Whether the text's lines end with CR alone (no LF anywhere, and a CR that starts no CRLF).
pub fn cr_only_lines(text: &str) -> bool {
    cr_only_lines_read_behind(text, &|_| {})
}

/// `cr_only_lines`, telling `read_behind` of the text searched every `STEP` (a text without CR
/// is searched to its end).
pub fn cr_only_lines_read_behind(text: &str, read_behind: &dyn Fn(&[u8])) -> bool {
    let b = text.as_bytes();
    let mut at = 0;
    while at < b.len() {
        let end = (at + STEP).min(b.len());
        if let Some(i) = memchr::memchr(b'\r', &b[at..end]) {
            let i = at + i;
            return b.get(i + 1) != Some(&b'\n') && memchr::memchr(b'\n', b).is_none();
        }
        read_behind(&b[..end]);
        at = end;
    }
    false
}

/// The step of the passes over a whole file (checking its text, hashing it) after which they
/// tell a read-behind callback of the bytes done.
const STEP: usize = 32 << 20;

/// The first `n` bytes of a file (all of it when shorter).
pub fn read_prefix(path: &Path, n: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::with_capacity(n.min(1 << 20));
    File::open(path)?.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// An encoding mailscope does not read, recognized from the first bytes (said as such, rather
/// than as the NUL bytes it would otherwise look like).
pub fn unsupported_encoding(bytes: &[u8]) -> Option<&'static str> {
    let utf32 = bytes.starts_with(&[0xFF, 0xFE, 0, 0])
        || bytes.starts_with(&[0, 0, 0xFE, 0xFF])
        || bytes.len() >= 8
            && bytes[..8]
                .chunks(4)
                .all(|c| c[1] == 0 && c[2] == 0 && (c[0] == 0) != (c[3] == 0));
    utf32.then_some("UTF-32 text, which mailscope does not read: save it as UTF-8 or UTF-16")
}

/// Decoded text of a file, with what it took to get there.
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub encoding: &'static str,
    /// Set when bytes had to be replaced or reinterpreted: the byte offset of the first problem.
    pub lossy_at: Option<usize>,
}

/// Sniff the BOM (UTF-8, UTF-16 LE/BE), detect BOM-less UTF-16 by its zero bytes, and fall back
/// to Windows-1252 for files that are not UTF-8 at all.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    decode_read_behind(bytes, &|_| {})
}

/// `decode`, telling `read_behind` of the bytes checked every `STEP`: checking a large file's
/// text reads all of it before the parse reads its first row.
pub fn decode_read_behind<'b>(bytes: &'b [u8], read_behind: &dyn Fn(&[u8])) -> Decoded<'b> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        let mut d = decode_utf8(rest, read_behind);
        d.encoding = if d.encoding == "utf-8" {
            "utf-8-bom"
        } else {
            d.encoding
        };
        d.lossy_at = d.lossy_at.map(|o| o + 3);
        return d;
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return decode_utf16(rest, false, "utf-16le-bom", 2);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return decode_utf16(rest, true, "utf-16be-bom", 2);
    }
    if bytes.len() >= 4 {
        if bytes[0] != 0 && bytes[1] == 0 && bytes[2] != 0 && bytes[3] == 0 {
            return decode_utf16(bytes, false, "utf-16le", 0);
        }
        if bytes[0] == 0 && bytes[1] != 0 && bytes[2] == 0 && bytes[3] != 0 {
            return decode_utf16(bytes, true, "utf-16be", 0);
        }
    }
    decode_utf8(bytes, read_behind)
}

/// Whether `bytes` are UTF-8, checked a `STEP` at a time (simdutf8: several times faster than
/// std), each step ending before a byte that starts a character: then valid steps make valid
/// text (a step cut inside a character is invalid, and so said).
fn is_utf8(bytes: &[u8], step: usize, read_behind: &dyn Fn(&[u8])) -> bool {
    let mut at = 0;
    while at < bytes.len() {
        let mut end = (at + step.max(4)).min(bytes.len());
        // A character has at most three continuation bytes (10xxxxxx).
        for _ in 0..3 {
            if end < bytes.len() && bytes[end] & 0xC0 == 0x80 {
                end -= 1;
            }
        }
        if simdutf8::basic::from_utf8(&bytes[at..end]).is_err() {
            return false;
        }
        read_behind(&bytes[..end]);
        at = end;
    }
    true
}

fn decode_utf8<'b>(bytes: &'b [u8], read_behind: &dyn Fn(&[u8])) -> Decoded<'b> {
    // std's error says where invalid text goes wrong.
    if is_utf8(bytes, STEP, read_behind) {
        // SAFETY: `is_utf8` checked every byte, in steps that end where a character starts.
        let s = unsafe { std::str::from_utf8_unchecked(bytes) };
        return Decoded {
            text: Cow::Borrowed(s),
            encoding: "utf-8",
            lossy_at: None,
        };
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Decoded {
            text: Cow::Borrowed(s),
            encoding: "utf-8",
            lossy_at: None,
        },
        Err(e) => {
            let first_bad = e.valid_up_to();
            let valid_non_ascii = bytes
                .utf8_chunks()
                .map(|c| c.valid().chars().filter(|ch| !ch.is_ascii()).count())
                .sum::<usize>();
            if valid_non_ascii > 0 {
                // Mostly UTF-8 with a damaged spot: keep UTF-8, mark the damage.
                Decoded {
                    text: Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
                    encoding: "utf-8-with-invalid-bytes",
                    lossy_at: Some(first_bad),
                }
            } else {
                Decoded {
                    text: Cow::Owned(bytes.iter().map(|b| cp1252(*b)).collect()),
                    encoding: "windows-1252",
                    lossy_at: Some(first_bad),
                }
            }
        }
    }
}

fn decode_utf16(
    bytes: &[u8],
    big_endian: bool,
    name: &'static str,
    bom: usize,
) -> Decoded<'static> {
    let units = bytes.chunks(2).map(|c| {
        let pair = [c[0], *c.get(1).unwrap_or(&0)];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    let mut out = String::with_capacity(bytes.len() / 2);
    let mut lossy_at = if bytes.len() % 2 == 1 {
        Some(bom + bytes.len() - 1)
    } else {
        None
    };
    let mut pos = 0usize;
    for r in char::decode_utf16(units) {
        match r {
            Ok(c) => {
                pos += c.len_utf16() * 2;
                out.push(c);
            }
            Err(_) => {
                lossy_at.get_or_insert(bom + pos);
                pos += 2;
                out.push('\u{FFFD}');
            }
        }
    }
    Decoded {
        text: Cow::Owned(out),
        encoding: name,
        lossy_at,
    }
}

fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> u64 {
    1 + count_newlines(&text.as_bytes()[..offset.min(text.len())])
}

/// Newlines in a byte slice (SIMD-accelerated search).
pub fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// 1-based line numbers of ascending byte offsets, counted in one pass.
pub fn lines_of_sorted(text: &str, offsets: impl IntoIterator<Item = usize>) -> Vec<u64> {
    let bytes = text.as_bytes();
    let (mut at, mut line) = (0usize, 1u64);
    offsets
        .into_iter()
        .map(|o| {
            let o = o.min(bytes.len()).max(at);
            line += count_newlines(&bytes[at..o]);
            at = o;
            line
        })
        .collect()
}

/// The hex SHA-256 of bytes: of an input file, of a saved case's data.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// `sha256_hex`, telling `read_behind` of the bytes hashed every `STEP` (the hash reads a file
/// several times faster than a parse beside it, and pages it leaves mapped would hold the whole
/// file in memory until the parse caught up).
pub fn sha256_hex_read_behind(bytes: &[u8], read_behind: &dyn Fn(&[u8])) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut at = 0;
    while at < bytes.len() {
        let end = (at + STEP).min(bytes.len());
        hasher.update(&bytes[at..end]);
        read_behind(&bytes[..end]);
        at = end;
    }
    hex(&hasher.finalize())
}

/// A digest as lowercase hex.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_released_behind_the_reader_read_back_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("message_trace.csv");
        let text: String = (0..200_000)
            .map(|i| format!("<m{i}@contoso.com>,alice@contoso.com,bob@fabrikam.com\n"))
            .collect();
        std::fs::write(&path, &text).unwrap();
        let bytes = read_file(&path, true).unwrap();
        let before = sha256_hex(&bytes);
        bytes.release_before(bytes[..bytes.len() / 2].as_ptr_range().end);
        bytes.release_before(bytes.as_ptr_range().end);
        // An address outside the map is ignored.
        bytes.release_before(std::ptr::null());
        assert_eq!(sha256_hex(&bytes), before);
        assert_eq!(&bytes[..], text.as_bytes());
    }

    #[cfg(unix)]
    #[test]
    fn a_mapped_file_truncated_while_read_reads_as_zeros_not_a_signal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live_export.csv");
        // Mapped whole at once, or page by page as read (an inventory).
        for populate in [true, false] {
            std::fs::write(&path, "RecordId,AuditData\n".repeat(100_000)).unwrap();
            let bytes = read_file_with(&path, true, populate).unwrap();
            assert!(matches!(bytes, FileBytes::Mapped(..)));
            assert_eq!(&bytes[..9], b"RecordId,");
            // The export is cut while mapped (still being written, or a share that dropped).
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(4096)
                .unwrap();
            // Past the new end: SIGBUS without the guard; zeros with it.
            let tail = &bytes[1_000_000..1_000_016];
            assert_eq!(tail, &[0u8; 16]);
            assert!(bytes.shrank_while_read());
            assert_eq!(bytes.len(), 1_900_000);
            let other = read_file(&path, true).unwrap();
            assert!(!other.shrank_while_read());
        }
    }

    #[test]
    fn text_checked_in_steps_is_valid_exactly_when_whole() {
        let text = "Grüße, 日本語 and 🦀 — ".repeat(50);
        let mut cut = text.clone().into_bytes();
        cut.pop();
        let mut bad = text.clone().into_bytes();
        bad[301] = 0xFF;
        for step in [1, 4, 5, 6, 7, 64, 1 << 20] {
            for bytes in [text.as_bytes(), &cut, &bad] {
                let ends = std::cell::RefCell::new(Vec::new());
                let valid = is_utf8(bytes, step, &|done| ends.borrow_mut().push(done.len()));
                assert_eq!(valid, std::str::from_utf8(bytes).is_ok(), "step {step}");
                // Each step ends where a character starts.
                for end in ends.into_inner() {
                    assert!(text.is_char_boundary(end), "step {step}, end {end}");
                }
            }
        }
        let ends = std::cell::RefCell::new(Vec::new());
        sha256_hex_read_behind(text.as_bytes(), &|d| ends.borrow_mut().push(d.len()));
        assert_eq!(ends.into_inner(), [text.len()]);
        assert_eq!(
            sha256_hex_read_behind(text.as_bytes(), &|_| {}),
            sha256_hex(text.as_bytes())
        );
        for (t, cr_only) in [
            ("a\rb\r", true),
            ("a\r\nb", false),
            ("a\nb\rc", false),
            ("ab", false),
        ] {
            assert_eq!(cr_only_lines(t), cr_only, "{t:?}");
        }
    }

    #[test]
    fn decodes_boms_and_bomless_utf16() {
        let d = decode(b"\xEF\xBB\xBFa,b");
        assert_eq!((d.text.as_ref(), d.encoding), ("a,b", "utf-8-bom"));
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("é,x".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(decode(&le).text, "é,x");
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("ab".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(decode(&be).text, "ab");
        let bare: Vec<u8> = "ab,c"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let d = decode(&bare);
        assert_eq!((d.text.as_ref(), d.encoding), ("ab,c", "utf-16le"));
    }

    #[test]
    fn invalid_utf8_is_flagged_not_dropped() {
        let d = decode(b"caf\xE9 ok");
        assert_eq!(
            (d.text.as_ref(), d.encoding, d.lossy_at),
            ("café ok", "windows-1252", Some(3))
        );
        let mixed: Vec<u8> = "é \u{e9}".bytes().chain([0xFF]).collect();
        let d = decode(&mixed);
        assert_eq!(d.encoding, "utf-8-with-invalid-bytes");
        assert!(d.text.ends_with('\u{FFFD}'));
    }
}
