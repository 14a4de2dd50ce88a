//! Saved cases as evidence that travels: every byte of a case is under its checksum (metadata
//! included), `export` says the case's SHA-256, `verify` compares a case with the evidence,
//! metadata that passes the checksum is still validated (a case re-signed after an edit — see
//! `case_edit`), two cases that disagree about an input are warned about, and no report from a
//! case is written where its evidence is.

use crate::case_edit;
use crate::util::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn sha256_of(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `export --quiet EVIDENCE --output OUT` (+ `extra`): its standard output.
fn export(evidence: &[PathBuf], out: &Path, extra: &[&str]) -> String {
    let run = bin()
        .args(["export", "--quiet", "--output"])
        .arg(out)
        .args(extra)
        .args(evidence)
        .output()
        .unwrap();
    assert_success(&run);
    String::from_utf8(run.stdout).unwrap()
}

/// A folder holding a copy of the samples (`evidence/`), and room beside it.
struct Work {
    _dir: tempfile::TempDir,
    root: PathBuf,
    evidence: PathBuf,
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let evidence = root.join("evidence");
        std::fs::create_dir(&evidence).unwrap();
        for e in std::fs::read_dir(sample("")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), evidence.join(e.file_name())).unwrap();
        }
        Work {
            _dir: dir,
            root,
            evidence,
        }
    }

    /// A case of the evidence folder, at `root/name`.
    fn case(&self, name: &str) -> PathBuf {
        let case = self.root.join(name);
        export(std::slice::from_ref(&self.evidence), &case, &[]);
        case
    }
}

/// `inspect --format json` over `paths`, which must succeed.
fn inspect(paths: &[PathBuf]) -> Value {
    let run = bin()
        .args(["inspect", "--quiet", "--format", "json"])
        .args(paths)
        .output()
        .unwrap();
    assert_success(&run);
    serde_json::from_slice(&run.stdout).unwrap()
}

/// The skipped entry of `inspect` for a path ending in `name`.
fn skipped<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} not skipped: {report}"))
}

// --- 1. Every metadata key under the checksum -----------------------------------------------

/// Replace `from` by `to` (same length) once in the case's footer: an edit that leaves every
/// length and offset as it was, and no checksum mended.
fn edited_in_place(case: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let n = case.len();
    let footer_len = u32::from_le_bytes(case[n - 8..n - 4].try_into().unwrap()) as usize;
    let start = n - 8 - footer_len;
    let at = case[start..]
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("{from} not in the footer"))
        + start;
    let mut out = case.to_vec();
    out[at..at + to.len()].copy_from_slice(to.as_bytes());
    out
}

#[test]
fn an_edit_of_any_metadata_of_a_case_is_refused_naming_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.parquet");
    export(&[sample("")], &case, &[]);
    let bytes = std::fs::read(&case).unwrap();
    let json = case_edit::provenance(&bytes);
    let sha = json.split("\"sha256\":\"").nth(1).unwrap()[..64].to_string();
    let mut other_sha = sha.clone();
    other_sha.replace_range(0..1, if sha.starts_with('0') { "1" } else { "0" });
    // The messages' table: a byte in the middle of it, and its place.
    let place =
        String::from_utf8(case_edit::value(&bytes, "mailscope.case.messages").unwrap()).unwrap();
    let (offset, len) = place.split_once('+').unwrap();
    let (offset, len): (usize, usize) = (offset.parse().unwrap(), len.parse().unwrap());
    assert!(len > 100 && offset + len < bytes.len(), "{place}");
    let mut flipped = bytes.clone();
    flipped[offset + len / 2] ^= 0x01;
    let mut moved = place.clone().into_bytes();
    moved[19] = if moved[19] == b'0' { b'1' } else { b'0' };
    let moved = String::from_utf8(moved).unwrap();
    let edits = [
        ("an input's SHA-256", sha.as_str(), other_sha.as_str()),
        ("a row count", "\"rows\":16", "\"rows\":17"),
        ("the messages table's place", place.as_str(), moved.as_str()),
        // Not text: any byte that is not that of another string.
        ("a byte of the messages table", "", ""),
        (
            "the schema key",
            "mailscope.case.schema",
            "mailscope.case.schemb",
        ),
        // Outside the key-value metadata: the writer's name.
        ("the footer's created_by", "Polars", "Polarz"),
    ];
    for (what, from, to) in edits {
        let altered = dir.path().join("altered.parquet");
        let edited = if from.is_empty() {
            flipped.clone()
        } else {
            edited_in_place(&bytes, from, to)
        };
        std::fs::write(&altered, edited).unwrap();
        let report = inspect(&[altered.clone(), sample("SearchResult.xml")]);
        let entry = skipped(&report, "altered.parquet");
        assert_eq!(entry["error"], true, "{what}: {entry}");
        let reason = entry["reason"].as_str().unwrap();
        assert!(
            reason.contains("match the SHA-256 it was written with") || what == "the schema key",
            "{what}: {reason}"
        );
        // The evidence beside it is read.
        assert_eq!(report["files"].as_array().unwrap().len(), 1, "{what}");
    }
}

#[test]
fn a_case_written_by_the_first_schema_is_read_with_a_warning_that_its_metadata_is_unchecked() {
    let v1 = fixture("case/samples_v1.parquet");
    let report = scope_report(std::slice::from_ref(&v1), &[]);
    assert_eq!(report["cases"][0]["schema"], "mailscope.case.v1");
    let warning = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "case-v1")
        .unwrap_or_else(|| panic!("{}", report["warnings"]));
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.contains("samples_v1.parquet") && message.contains("data pages only"),
        "{message}"
    );
    // A case of this build draws no such warning.
    let v2 = scope_report(&[fixture("case/samples_v2.parquet")], &[]);
    assert_eq!(v2["cases"][0]["schema"], "mailscope.case.v2");
    assert!(!v2["warnings"].to_string().contains("case-v1"));
}

// --- 2. What the case was when written -------------------------------------------------------

#[test]
fn export_prints_the_case_sha256_and_writes_it_beside_the_case_for_sha256sum() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.parquet");
    let stdout = export(&[sample("")], &case, &["--sha256-file"]);
    let sha = sha256_of(&case);
    // --quiet hides the progress, not the result.
    assert_eq!(stdout, format!("{sha}  {}\n", case.display()));
    let beside = dir.path().join("case.parquet.sha256");
    assert_eq!(
        std::fs::read_to_string(&beside).unwrap(),
        format!("{sha}  case.parquet\n")
    );
    if let Ok(check) = std::process::Command::new("sha256sum")
        .args(["-c", "case.parquet.sha256"])
        .current_dir(dir.path())
        .output()
    {
        assert!(check.status.success(), "{check:?}");
    }
    // Reports from the case name that SHA-256: JSON, text and inspect.
    let report = scope_report(std::slice::from_ref(&case), &[]);
    assert_eq!(report["cases"][0]["sha256"], sha.as_str());
    let text = bin()
        .args(["scope", "-q", "--attacker-ip", "203.0.113.66"])
        .arg(&case)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains(&sha));
    assert_eq!(
        inspect(std::slice::from_ref(&case))["cases"][0]["sha256"],
        sha.as_str()
    );

    // The checksum file is an output like any other: not overwritten without --force (and then
    // nothing is written, the case included).
    let second = dir.path().join("second.parquet");
    std::fs::write(dir.path().join("second.parquet.sha256"), "mine\n").unwrap();
    let run = bin()
        .args(["export", "-q", "--sha256-file", "--output"])
        .arg(&second)
        .arg(sample(""))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("pass --force"));
    assert!(!second.exists());
    // Never into an evidence folder.
    let work = Work::new();
    let inside = work.evidence.join("case.parquet");
    let run = bin()
        .args(["export", "-q", "--sha256-file", "--output"])
        .arg(&inside)
        .arg(&work.evidence)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("inside an input folder"));
    // Only a case has one.
    let run = bin()
        .args(["export", "-q", "--sha256-file", "--output"])
        .arg(dir.path().join("frame.csv"))
        .arg(sample(""))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--sha256-file is for a case"));
}

// --- 3. verify ---------------------------------------------------------------------------------

/// `verify CASE EVIDENCE…`: exit code and standard output (or standard error).
fn verify(case: &Path, evidence: &[PathBuf]) -> (i32, String) {
    let run = bin()
        .args(["verify", "-q"])
        .arg(case)
        .args(evidence)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    (run.status.code().unwrap(), said)
}

#[test]
fn verify_says_a_fresh_case_holds_what_its_evidence_gives_wherever_the_evidence_now_is() {
    let work = Work::new();
    let case = work.case("case.parquet");
    let (code, said) = verify(&case, std::slice::from_ref(&work.evidence));
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("holds exactly what the evidence gives"),
        "{said}"
    );
    assert!(said.contains(&sha256_of(&case)), "{said}");
    // The evidence moved elsewhere (another machine): its paths end alike.
    let moved = work.root.join("copy/of/evidence");
    std::fs::create_dir_all(&moved).unwrap();
    for e in std::fs::read_dir(&work.evidence).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), moved.join(e.file_name())).unwrap();
    }
    let (code, said) = verify(&case, std::slice::from_ref(&moved));
    assert_eq!(code, 0, "{said}");
    // The committed cases, of the samples, against the samples.
    let before = samples_before_outbound_mail(&work.root);
    let (code, said) = verify(&fixture("case/samples_v2.parquet"), &[before]);
    assert_eq!(code, 0, "{said}");
    // The v1 case was written before copies of a record were merged field by field: it holds
    // the PowerShell copy of a1c0a002 where this build keeps the Purview copy with both listed.
    let (code, said) = verify(&fixture("case/samples_v1.parquet"), &[sample("")]);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("'a1c0a002-0000-4000-8000-000000000002'") && said.contains("copies"),
        "{said}"
    );
}

#[test]
fn verify_names_a_record_edited_in_the_evidence_after_the_export() {
    let work = Work::new();
    let case = work.case("case.parquet");
    let file = work.evidence.join("purview_audit_export.csv");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("198.51.100.10"));
    std::fs::write(&file, text.replacen("198.51.100.10", "198.51.100.99", 1)).unwrap();
    let (code, said) = verify(&case, std::slice::from_ref(&work.evidence));
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("differs from the evidence"), "{said}");
    assert!(
        said.contains("purview_audit_export.csv: SHA-256 differs"),
        "{said}"
    );
    assert!(
        said.contains("'a1c0a001-0000-4000-8000-000000000001'")
            && said.contains("client_ip")
            && said.contains("'198.51.100.10'")
            && said.contains("'198.51.100.99'"),
        "{said}"
    );
}

#[test]
fn verify_names_a_file_added_to_the_evidence_after_the_export() {
    let work = Work::new();
    std::fs::remove_file(work.evidence.join("SearchResult.xml")).unwrap();
    let case = work.case("case.parquet");
    std::fs::copy(
        sample("SearchResult.xml"),
        work.evidence.join("SearchResult.xml"),
    )
    .unwrap();
    let (code, said) = verify(&case, std::slice::from_ref(&work.evidence));
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("SearchResult.xml: in the evidence only, not in the case"),
        "{said}"
    );
    assert!(said.contains("in the evidence only ("), "{said}");
}

#[test]
fn verify_finds_a_case_whose_rows_came_from_other_evidence() {
    let work = Work::new();
    // Evidence of the same names but other content: the Purview export with a record changed,
    // exported, then the original put back.
    let file = work.evidence.join("purview_audit_export.csv");
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        original.replace("alice@contoso.com", "mallory@contoso.com"),
    )
    .unwrap();
    let case = work.case("rewritten.parquet");
    std::fs::write(&file, &original).unwrap();
    let (code, said) = verify(&case, std::slice::from_ref(&work.evidence));
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("mallory@contoso.com"), "{said}");
    assert!(said.contains("differences"), "{said}");
    // At most the limit asked for, then how many in all.
    let run = bin()
        .args(["verify", "-q", "--limit", "2"])
        .arg(&case)
        .arg(&work.evidence)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("  ")).count(),
        3,
        "{out}"
    );
    assert!(out.contains("more ("), "{out}");
}

#[test]
fn verify_cannot_tell_when_the_case_or_the_evidence_cannot_be_read() {
    let work = Work::new();
    let garbage = work.root.join("garbage.parquet");
    std::fs::write(&garbage, b"PAR1 this is no parquet file at all PAR1").unwrap();
    let (code, said) = verify(&garbage, std::slice::from_ref(&work.evidence));
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("cannot tell") && said.contains("garbage.parquet"),
        "{said}"
    );
    let text = work.root.join("notes.txt");
    std::fs::write(&text, "not a case").unwrap();
    assert_eq!(verify(&text, std::slice::from_ref(&work.evidence)).0, 2);
    // A damaged case (a data page changed).
    let case = work.case("case.parquet");
    let mut bytes = std::fs::read(&case).unwrap();
    bytes[100] ^= 1;
    let damaged = work.root.join("damaged.parquet");
    std::fs::write(&damaged, bytes).unwrap();
    let (code, said) = verify(&damaged, std::slice::from_ref(&work.evidence));
    assert_eq!(code, 2, "{said}");
    // Evidence that is not there.
    let (code, said) = verify(&case, &[work.root.join("no-such-folder")]);
    assert_eq!(code, 2, "{said}");
    // The case among the evidence it is compared with.
    let inside = work.evidence.join("case.parquet");
    std::fs::copy(&case, &inside).unwrap();
    let (code, said) = verify(&inside, std::slice::from_ref(&work.evidence));
    assert_eq!(code, 2, "{said}");
    // Bad arguments: not "differs".
    let run = bin().args(["verify", "--no-such-flag"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
}

// --- 4. Metadata validated where a case is read ------------------------------------------------

/// A case of the samples, written by the build under test (once a test run).
fn samples_case() -> &'static [u8] {
    static CASE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    CASE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let case = dir.path().join("samples.parquet");
        export(&[sample("")], &case, &[]);
        std::fs::read(&case).unwrap()
    })
}

/// The samples' case with its provenance edited by `edit` and signed again.
fn crafted(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let bytes = samples_case();
    let mut json: Value = serde_json::from_str(&case_edit::provenance(bytes)).unwrap();
    edit(&mut json);
    let out = dir.join(name);
    std::fs::write(&out, case_edit::with_provenance(bytes, &json.to_string())).unwrap();
    out
}

/// The index of the Purview export among the samples' case's inputs.
fn purview(json: &Value) -> usize {
    json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .position(|i| {
            i["path"]
                .as_str()
                .unwrap()
                .ends_with("purview_audit_export.csv")
        })
        .unwrap()
}

/// `case` beside the XML sample: every report command completes, the case is an error naming
/// it and saying `why`, and the XML sample is read and reported.
fn refused_and_the_rest_read(case: &Path, why: &str) {
    let name = case.file_name().unwrap().to_str().unwrap();
    for command in [
        vec!["scope", "--format", "text", "--attacker-ip", "203.0.113.66"],
        vec!["scope", "--format", "md", "--attacker-ip", "203.0.113.66"],
        vec!["inspect"],
        vec!["contexts"],
    ] {
        let run = bin()
            .args(&command)
            .arg("-q")
            .arg(case)
            .arg(sample("SearchResult.xml"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(0), "{command:?} {name}: {stderr}");
        assert!(!stdout.is_empty(), "{command:?} {name}");
    }
    let report = inspect(&[case.to_path_buf(), sample("SearchResult.xml")]);
    let entry = skipped(&report, name);
    assert_eq!(entry["error"], true, "{entry}");
    let reason = entry["reason"].as_str().unwrap();
    assert!(
        reason.contains("metadata is not what mailscope writes") && reason.contains(why),
        "{name}: {reason}"
    );
    assert_eq!(report["files"].as_array().unwrap().len(), 1, "{name}");
    assert_eq!(report["totals"]["records"], 4, "{name}");
}

#[test]
fn a_re_signed_case_with_rejected_rows_but_none_listed_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let case = crafted(dir.path(), "rejects.parquet", |j| {
        let i = purview(j);
        let input = &mut j["inputs"][i];
        input["rejected"] = 1.into();
        // The row counts still add up.
        input["rows"] = (input["rows"].as_u64().unwrap() + 1).into();
        input["rejects"] = Value::Array(vec![]);
    });
    refused_and_the_rest_read(&case, "1 rejected rows but 0 listed");
}

#[test]
fn a_re_signed_case_whose_sha256_is_no_hex_digest_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    // 64 bytes, with a two-byte character across byte 16 (where the text report cut).
    let bad = format!("a{}b", "é".repeat(31));
    assert_eq!(bad.len(), 64);
    let case = crafted(dir.path(), "sha.parquet", |j| {
        let i = purview(j);
        j["inputs"][i]["sha256"] = bad.clone().into();
    });
    refused_and_the_rest_read(&case, "is not 64 lowercase hex digits");
}

#[test]
fn every_metadata_field_of_a_re_signed_case_is_validated() {
    type Edit = fn(&mut Value, usize);
    let cases: &[(&str, Edit, &str)] = &[
        (
            "upper-case hex",
            |j, i| {
                let s = j["inputs"][i]["sha256"].as_str().unwrap().to_uppercase();
                j["inputs"][i]["sha256"] = s.into();
            },
            "not 64 lowercase hex digits",
        ),
        (
            "short hash",
            |j, i| j["inputs"][i]["sha256"] = "abc".into(),
            "not 64 lowercase hex digits",
        ),
        (
            "unknown format",
            |j, i| j["inputs"][i]["format"] = "excel-97".into(),
            "unknown format",
        ),
        (
            "unknown encoding",
            |j, i| j["inputs"][i]["encoding"] = "\u{1b}[31mebcdic".into(),
            "unknown encoding",
        ),
        (
            "time that is none",
            |j, i| j["inputs"][i]["first_time"] = "yesterday".into(),
            "is no time",
        ),
        (
            "times reversed",
            |j, i| j["inputs"][i]["first_time"] = "2030-01-01T00:00:00Z".into(),
            "first_time is after last_time",
        ),
        (
            "counts that do not add up",
            |j, i| j["inputs"][i]["rows"] = 1000.into(),
            "do not add up",
        ),
        (
            "a count beyond any export",
            |j, i| {
                let records = j["inputs"][i]["records"].as_u64().unwrap();
                j["inputs"][i]["rows"] = (1u64 << 60).into();
                j["inputs"][i]["duplicates"] = ((1u64 << 60) - records).into();
            },
            "beyond any export",
        ),
        (
            "a negative count",
            |j, i| j["inputs"][i]["rows"] = (-1).into(),
            "unreadable",
        ),
        (
            "more rejects listed than rejected",
            |j, i| {
                j["inputs"][i]["rejects"] = serde_json::json!([{"line": 3, "reason": "x"}]);
            },
            "0 rejected rows but 1 listed",
        ),
        (
            "a reject at line 0",
            |j, i| {
                j["inputs"][i]["rejected"] = 1.into();
                j["inputs"][i]["rows"] = (j["inputs"][i]["rows"].as_u64().unwrap() + 1).into();
                j["inputs"][i]["rejects"] = serde_json::json!([{"line": 0, "reason": "x"}]);
            },
            "line 0",
        ),
        (
            "a note code that is no code",
            |j, i| {
                j["inputs"][i]["notes"] =
                    serde_json::json!([{"code": "<b>Bold</b>", "message": "x"}]);
            },
            "a note of code",
        ),
        (
            "records that are not the case's rows",
            |j, i| {
                // One record fewer, one duplicate more: the counts add up, the rows do not.
                let records = j["inputs"][i]["records"].as_u64().unwrap();
                let duplicates = j["inputs"][i]["duplicates"].as_u64().unwrap();
                j["inputs"][i]["records"] = (records - 1).into();
                j["inputs"][i]["duplicates"] = (duplicates + 1).into();
            },
            "records, and 16 rows name it",
        ),
        (
            "an empty path",
            |j, i| j["inputs"][i]["path"] = "".into(),
            "the path is empty",
        ),
        (
            "a field no build writes",
            |j, i| j["inputs"][i]["owner"] = "mallory".into(),
            "unknown field",
        ),
        // Messages are a table of their own (v3): `case::tests` alters them.
        (
            "messages in the provenance",
            |j, _| j["messages"] = serde_json::json!([]),
            "which mailscope.case.v3 keeps as a table",
        ),
        (
            "another schema in the provenance",
            |j, _| j["schema"] = "mailscope.case.v1".into(),
            "the provenance says schema",
        ),
        (
            "a skipped path without a reason",
            |j, _| {
                j["skipped"] = serde_json::json!([{"path": "x", "reason": "", "error": false}]);
            },
            "a path and a reason are required",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (n, (what, edit, why)) in cases.iter().enumerate() {
        let case = crafted(dir.path(), &format!("crafted-{n}.parquet"), |j| {
            let i = purview(j);
            edit(j, i)
        });
        let report = inspect(&[case, sample("SearchResult.xml")]);
        let entry = skipped(&report, &format!("crafted-{n}.parquet"));
        let reason = entry["reason"].as_str().unwrap_or_default();
        assert_eq!(entry["error"], true, "{what}: {entry}");
        assert!(
            reason.contains(why) && reason.contains("mailscope case"),
            "{what}: {reason}"
        );
        assert_eq!(report["totals"]["records"], 4, "{what}");
    }
}

// --- 6. Cases that disagree about an input ---------------------------------------------------

#[test]
fn two_cases_listing_one_input_path_with_different_content_are_warned_about() {
    let work = Work::new();
    let first = work.case("monday.parquet");
    let file = work.evidence.join("purview_audit_export.csv");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("198.51.100.10", "198.51.100.99", 1)).unwrap();
    let second = work.case("tuesday.parquet");
    let report = scope_report(&[first.clone(), second], &[]);
    let conflicts: Vec<&Value> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "case-conflict")
        .collect();
    assert_eq!(conflicts.len(), 1, "{}", report["warnings"]);
    let message = conflicts[0]["message"].as_str().unwrap();
    assert!(
        message.contains("monday.parquet")
            && message.contains("tuesday.parquet")
            && message.contains("purview_audit_export.csv")
            && message.contains("SHA-256"),
        "{message}"
    );
    // The same case twice, or a case with its own evidence unchanged: nothing to say.
    let copy = work.root.join("copy.parquet");
    std::fs::copy(&first, &copy).unwrap();
    let same = scope_report(&[first, copy], &[]);
    assert!(!same["warnings"].to_string().contains("case-conflict"));
}

// --- 7. No report from a case where its evidence is --------------------------------------------

#[test]
fn a_report_from_a_case_is_not_written_into_the_folder_of_an_original_input() {
    let work = Work::new();
    let case = work.case("case.parquet");
    let original: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&work.evidence)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    let scope = ["scope", "-q", "--attacker-ip", "203.0.113.66"];
    let refused = |args: &[&str], out: &Path, cwd: &Path, case: &Path| {
        let run = bin()
            .args(args)
            .arg("--output")
            .arg(out)
            .arg(case)
            .current_dir(cwd)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(
            run.status.code(),
            Some(1),
            "{args:?} {}: {stderr}",
            out.display()
        );
        assert!(
            stderr.contains("refusing to write")
                && stderr.contains("an original input of the saved case"),
            "{stderr}"
        );
        assert!(!cwd.join(out).exists(), "{}", out.display());
    };
    let report = work.evidence.join("report.txt");
    refused(&scope, &report, &work.root, &case);
    refused(&["inspect", "-q"], &report, &work.root, &case);
    refused(&["contexts", "-q"], &report, &work.root, &case);
    refused(
        &["timeline", "-q"],
        &work.evidence.join("t.csv"),
        &work.root,
        &case,
    );
    refused(
        &["export", "-q"],
        &work.evidence.join("again.parquet"),
        &work.root,
        &case,
    );
    let mut csv = scope.to_vec();
    csv.extend(["--format", "csv"]);
    refused(&csv, &work.evidence.join("tables"), &work.root, &case);
    // Paths recorded relative to where export ran count from here when the evidence is here.
    let relative = work.root.join("relative.parquet");
    let run = bin()
        .args(["export", "-q", "--output", "relative.parquet", "evidence"])
        .current_dir(&work.root)
        .output()
        .unwrap();
    assert_success(&run);
    refused(
        &scope,
        Path::new("evidence/new/report.txt"),
        &work.root,
        &relative,
    );
    // Beside the evidence, not in it: written.
    let run = bin()
        .args(scope)
        .arg("--output")
        .arg(work.root.join("report.txt"))
        .arg(&case)
        .output()
        .unwrap();
    assert_success(&run);
    for (p, b) in original {
        assert_eq!(std::fs::read(&p).unwrap(), b, "{}", p.display());
    }
}

// --- 5. Any re-signed metadata: an answer, never a panic ---------------------------------------

/// Every value's JSON pointer (`/inputs/0/sha256`).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => o.iter().for_each(|(k, v)| {
            pointers(
                v,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| pointers(v, format!("{at}/{i}"), out)),
        _ => {}
    }
    out.push(at);
}

/// The case at `path` through what the commands do with it: ingest (both frame shapes),
/// inspect, scope and every report. Nothing here catches a panic.
fn through_every_report(path: &Path) {
    use mailscope::frame::Columns;
    for columns in [Columns::Views, Columns::All] {
        let opts = mailscope::ingest::IngestOptions {
            columns,
            ..Default::default()
        };
        let ing = mailscope::ingest::ingest(
            &[path.to_path_buf(), sample("SearchResult.xml")],
            &opts,
            &mailscope::progress::NoProgress,
        );
        let inspect = mailscope::inspect::build(&ing);
        let _ = mailscope::inspect::render_text(&inspect, None);
        if columns == Columns::All {
            continue;
        }
        let mut cfg = mailscope::scope::ScopeConfig {
            session_link: true,
            ..Default::default()
        };
        cfg.indicators.attacker_ip = vec!["203.0.113.66".into()];
        let scope = mailscope::scope::compute(&ing.frame, &cfg).unwrap();
        let mut report = mailscope::report::build_report(ing.provenance(), scope, &cfg, Vec::new());
        for markdown in [false, true] {
            let style = mailscope::report::text::Style {
                markdown,
                tz: None,
                list_limit: 20,
            };
            let _ = mailscope::report::text::render(&report, &style);
        }
        let _ = mailscope::report::html::render(&report, "2024-01-01T00:00:00Z");
        report.write_json(&mut std::io::sink()).unwrap();
    }
}

fn new_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    prop_oneof![
        any::<String>().prop_map(Value::from),
        "[0-9a-fA-Zé]{60,66}".prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0u64..40).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(Value::Null),
        Just(Value::Array(Vec::new())),
        Just(serde_json::json!([{"line": 0, "reason": ""}])),
        Just(serde_json::json!({})),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

    #[test]
    fn any_metadata_re_signed_is_read_or_refused_never_a_panic(
        edits in proptest::collection::vec((proptest::prelude::any::<u16>(), new_value()), 1..4)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = crafted(dir.path(), "edited.parquet", |json| {
            for (at, value) in edits {
                let mut all = Vec::new();
                pointers(json, String::new(), &mut all);
                let pointer = all[usize::from(at) % all.len()].clone();
                if let Some(slot) = json.pointer_mut(&pointer) {
                    *slot = value;
                }
            }
        });
        through_every_report(&path);
    }
}
