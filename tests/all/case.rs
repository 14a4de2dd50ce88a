//! Saved cases: `export --output case.parquet`, then `scope`, `contexts`, `timeline` and
//! `inspect` from the case give what they give from the evidence.

use crate::util::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const SAMPLE_IP: &str = "203.0.113.66";

fn run(args: &[&str], inputs: &[PathBuf]) -> Vec<u8> {
    let out = bin()
        .args(args)
        .args(inputs)
        .arg("--quiet")
        .output()
        .unwrap();
    assert_success(&out);
    out.stdout
}

fn export_case(inputs: &[PathBuf], out: &Path) {
    let status = bin()
        .args(["export", "--quiet", "--output"])
        .arg(out)
        .args(inputs)
        .output()
        .unwrap();
    assert_success(&status);
}

/// A JSON output without what may differ between a run from evidence and from its case.
fn json_without_run(bytes: &[u8]) -> Value {
    let mut j: Value = serde_json::from_slice(bytes).unwrap();
    if let Some(o) = j.as_object_mut() {
        o.remove("command_line");
        o.remove("cases");
    }
    j
}

/// A text or Markdown report without its "Read from saved cases" section.
fn text_without_cases(bytes: &[u8]) -> String {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut out = String::new();
    // The section: its heading, (in Markdown) a blank line, its list, a blank line.
    let mut in_cases = false;
    let mut listed = false;
    for line in text.split_inclusive('\n') {
        if line.trim_start_matches("## ").trim_end() == "Read from saved cases" {
            in_cases = true;
            listed = false;
        } else if in_cases && line.trim().is_empty() {
            in_cases = !listed;
        } else if in_cases {
            listed = true;
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Every report `scope`, `contexts`, `timeline` and `inspect` write from `evidence` is the
/// same from its case; the case's own report names the case and the original inputs.
fn assert_round_trip(evidence: &[PathBuf], indicators: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.parquet");
    export_case(evidence, &case);
    let from_case = [case.clone()];

    for format in ["json", "text", "md"] {
        let mut args = vec!["scope", "--format", format];
        args.extend(indicators);
        let a = run(&args, evidence);
        let b = run(&args, &from_case);
        if format == "json" {
            assert_eq!(json_without_run(&a), json_without_run(&b), "scope json");
            let report: Value = serde_json::from_slice(&b).unwrap();
            let listed = &report["cases"][0];
            assert_eq!(listed["path"], case.display().to_string());
            assert_eq!(listed["schema"], "mailscope.case.v3");
            assert_eq!(listed["sha256"].as_str().unwrap().len(), 64);
            assert_eq!(
                listed["inputs"].as_u64().unwrap() as usize,
                report["inputs"].as_array().unwrap().len()
            );
        } else {
            assert_eq!(
                text_without_cases(&a),
                text_without_cases(&b),
                "scope {format}"
            );
            let b = String::from_utf8(b).unwrap();
            assert!(b.contains("Read from saved cases"), "{b}");
        }
    }

    let mut args = vec!["contexts", "--format", "json"];
    args.extend(indicators);
    assert_eq!(
        json_without_run(&run(&args, evidence)),
        json_without_run(&run(&args, &from_case)),
        "contexts"
    );

    let inspect = ["inspect", "--format", "json"];
    let a = run(&inspect, evidence);
    let b = run(&inspect, &from_case);
    assert_eq!(json_without_run(&a), json_without_run(&b), "inspect");

    let mut timelines = Vec::new();
    for (name, inputs) in [("a.csv", evidence), ("b.csv", &from_case[..])] {
        let out = dir.path().join(name);
        let mut args = vec!["timeline", "--output", out.to_str().unwrap()];
        args.extend(indicators);
        run(&args, inputs);
        timelines.push(std::fs::read(out).unwrap());
    }
    assert!(timelines[0].len() > 100);
    assert_eq!(timelines[0], timelines[1], "timeline");
}

#[test]
fn a_case_of_the_samples_gives_the_same_reports_as_the_samples() {
    assert_round_trip(&[sample("")], &["--attacker-ip", SAMPLE_IP]);
}

#[test]
fn a_case_of_the_fixtures_gives_the_same_reports_as_the_fixtures() {
    let files: Vec<PathBuf> = [
        "auditdata.jsonl",
        "auditdata_array.json",
        "classic_portal.csv",
        "mailbox_audit_log_showdetails.csv",
        "purview_2022_6col.csv",
        "purview_2026_isodate.csv",
        "purview_damaged.csv",
        "searchresult_admin.xml",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    assert_round_trip(&files, &["--attacker-ip", SAMPLE_IP]);
    // SIEM shapes (with their dropped-field caveats) and inventories (the notification list).
    assert_round_trip(
        &[fixture("siem"), fixture("inventory")],
        &["--attacker-ip", SAMPLE_IP],
    );
}

#[test]
fn a_case_of_the_real_export_gives_the_same_reports_as_the_export() {
    let real = root().join("../shared/samples/real/purview_rogue_inbox_2023.csv");
    if !real.exists() {
        eprintln!("SKIPPED: {} is absent", real.display());
        return;
    }
    assert_round_trip(&[real], &["--attacker-ip", "185.73.124.135"]);
}

#[test]
fn cases_of_shares_of_the_evidence_give_the_findings_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("machine-a.parquet");
    let second = dir.path().join("machine-b.parquet");
    export_case(
        &[
            sample("purview_audit_export.csv"),
            sample("purview_ediscovery_export.csv"),
            sample("SearchResult.xml"),
        ],
        &first,
    );
    export_case(
        &[
            sample("Search-UnifiedAuditLog_export.csv"),
            sample("sentinel_officeactivity.csv"),
            sample("message_trace.csv"),
        ],
        &second,
    );
    let one_run = scope_report(&[sample("")], &[]);
    let from_cases = scope_report(&[first.clone(), second.clone()], &[]);
    assert_eq!(from_cases["mailboxes"], one_run["mailboxes"]);
    assert_eq!(from_cases["records"], one_run["records"]);
    assert_eq!(from_cases["notification"], one_run["notification"]);
    assert_eq!(from_cases["cases"].as_array().unwrap().len(), 2);
    let hashes = |r: &Value| {
        let mut h: Vec<String> = r["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["sha256"].as_str().unwrap().to_string())
            .collect();
        h.sort();
        h
    };
    assert_eq!(hashes(&from_cases), hashes(&one_run));

    // The same share twice (two machines that both parsed it): its records are one.
    let copy = dir.path().join("machine-c.parquet");
    std::fs::copy(&first, &copy).unwrap();
    let twice = scope_report(&[first.clone(), copy, second], &[]);
    assert_eq!(twice["mailboxes"], one_run["mailboxes"]);
    assert_eq!(twice["records"]["unique"], one_run["records"]["unique"]);
    let once = scope_report(&[first], &[]);
    assert_eq!(
        twice["records"]["duplicates"].as_u64().unwrap(),
        one_run["records"]["duplicates"].as_u64().unwrap()
            + once["records"]["unique"].as_u64().unwrap()
    );
}

/// A case written by an earlier build of this schema (`export samples/ --output
/// tests/fixtures/case/samples_v1.parquet` at the commit that introduced it).
fn committed_case() -> PathBuf {
    fixture("case/samples_v1.parquet")
}

fn verdicts_of_the_samples() -> Vec<(String, String)> {
    verdicts(&scope_report(&[sample("")], &[]))
}

#[test]
fn a_case_written_by_an_earlier_build_is_read() {
    let report = scope_report(&[committed_case()], &[]);
    let verdicts = verdicts(&report);
    let expected = verdicts_of_the_samples();
    assert!(!verdicts.is_empty());
    assert_eq!(verdicts, expected);
    let inputs: Vec<&str> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert!(
        inputs.contains(&"samples/purview_audit_export.csv"),
        "{inputs:?}"
    );
    assert_eq!(report["records"]["rejected"], 0);
}

#[test]
fn a_case_of_an_unknown_schema_version_is_a_clear_error() {
    let bytes = std::fs::read(committed_case()).unwrap();
    let from = b"mailscope.case.v1";
    let to = b"mailscope.case.v7";
    let mut altered = bytes.clone();
    let mut replaced = 0;
    let mut i = 0;
    while i + from.len() <= altered.len() {
        if &altered[i..i + from.len()] == from {
            altered[i..i + from.len()].copy_from_slice(to);
            replaced += 1;
        }
        i += 1;
    }
    assert!(replaced >= 1);
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("future.parquet");
    std::fs::write(&case, altered).unwrap();
    let out = bin()
        .args([
            "scope",
            "--quiet",
            "--format",
            "json",
            "--attacker-ip",
            SAMPLE_IP,
        ])
        .arg(&case)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let skipped = report["skipped"].to_string();
    let said = format!("{stderr}{skipped}");
    assert!(
        said.contains("mailscope.case.v7")
            && said.contains("reads mailscope.case.v3, mailscope.case.v2 and mailscope.case.v1"),
        "{said}"
    );
    assert!(said.contains("future.parquet"), "{said}");
    // Nothing else was given: nothing could be read, and the exit code says so.
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_parquet_file_that_is_no_case_is_skipped_and_a_damaged_case_is_an_error() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("sales.parquet");
    let mut df = df!("region" => ["north", "south"], "total" => [10i64, 20]).unwrap();
    ParquetWriter::new(std::fs::File::create(&other).unwrap())
        .finish(&mut df)
        .unwrap();
    let bytes = std::fs::read(committed_case()).unwrap();
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();

    let report = scope_report(&[sample(""), other, cut], &[]);
    let skipped = report["skipped"].as_array().unwrap();
    let entry = |name: &str| {
        skipped
            .iter()
            .find(|s| s["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} not in {skipped:?}"))
    };
    assert_eq!(entry("sales.parquet")["error"], false);
    assert!(
        entry("sales.parquet")["reason"]
            .as_str()
            .unwrap()
            .contains("no mailscope case")
    );
    assert_eq!(entry("cut.parquet")["error"], true);
    // The evidence beside them is read as usual.
    assert_eq!(
        report["mailboxes"],
        scope_report(&[sample("")], &[])["mailboxes"]
    );
}

#[test]
fn a_case_whose_footer_declares_more_than_the_file_holds_is_an_error_not_an_abort() {
    // Found by the `case` fuzz target: polars asked for 111 GB and the process aborted.
    let damaged = fixture("case/fuzz_footer_declares_111gb.parquet");
    let out = bin()
        .args(["inspect", "--quiet"])
        .arg(&damaged)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fuzz_footer_declares_111gb.parquet")
            && stderr.contains("declares a list of"),
        "{stderr}"
    );
}

#[test]
fn a_case_altered_after_it_was_written_is_an_error() {
    let mut bytes = std::fs::read(committed_case()).unwrap();
    // One byte of a data page (past the magic, well before the footer).
    bytes[100] ^= 0x01;
    let dir = tempfile::tempdir().unwrap();
    let altered = dir.path().join("altered.parquet");
    std::fs::write(&altered, bytes).unwrap();
    let report = scope_report(&[altered, sample("SearchResult.xml")], &[]);
    let skipped = &report["skipped"][0];
    assert_eq!(skipped["error"], true);
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("does not match the SHA-256 it was written with"),
        "{skipped}"
    );
    // The evidence beside it is read.
    assert_eq!(report["records"]["unique"], 4);
}

#[test]
fn a_case_of_an_inventory_round_trips_and_keeps_it_as_a_parquet_table_no_larger_than_the_csv() {
    // A message trace as `Get-MessageTrace | Export-Csv` writes it: 20,000 rows, one per
    // recipient of 1 to 3, as `examples/synth.rs --format trace` writes them.
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.csv");
    let mut csv = String::from(
        "\"PSComputerName\",\"RunspaceId\",\"PSShowComputerName\",\"Organization\",\"MessageId\",\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"ToIP\",\"FromIP\",\"Size\",\"MessageTraceId\",\"StartDate\",\"EndDate\",\"Index\"\r\n",
    );
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let (mut rows, mut messages) = (0u64, 0u64);
    while rows < 20_000 {
        let id = format!(
            "<{:016x}@AM0PR01MB{:04}.eurprd01.prod.outlook.com>",
            next(),
            next() % 9000
        );
        let minute = 20_000 - rows / 3;
        let received = format!(
            "3/{}/2024 {}:{:02}:{:02} AM",
            1 + minute / 1440 % 28,
            1 + minute / 60 % 11,
            minute % 60,
            next() % 60
        );
        let sender = format!("user{:05}@contoso.com", next() % 400);
        let subject = format!("Quarterly planning {}", next() % 10_000);
        let (size, trace_id) = (2_000 + next() % 200_000, next());
        for _ in 0..1 + next() % 3 {
            csv.push_str(&format!(
                "\"outlook.office365.com\",\"5f0c1c2e-7a43-4b1e-9c7d-2d2b1d0f4e11\",\"False\",\"contoso.onmicrosoft.com\",\"{id}\",\"{received}\",\"{sender}\",\"user{:05}@contoso.com\",\"{subject}\",\"Delivered\",\"\",\"\",\"{size}\",\"{trace_id:032x}\",\"2/29/2024 12:00:00 AM\",\"3/15/2024 12:00:00 AM\",\"{rows}\"\r\n",
                next() % 400
            ));
            rows += 1;
        }
        messages += 1;
    }
    std::fs::write(&trace, &csv).unwrap();
    let audit = sample("purview_audit_export.csv");
    let evidence = [audit.clone(), trace.clone()];
    let case = dir.path().join("case.parquet");
    export_case(&evidence, &case);
    // The same reports, the notification list with them.
    let args = ["scope", "--format", "json", "--attacker-ip", SAMPLE_IP];
    assert_eq!(
        json_without_run(&run(&args, &evidence)),
        json_without_run(&run(&args, std::slice::from_ref(&case)))
    );
    // The messages are a Parquet file of their own inside the case, where its metadata says.
    let bytes = std::fs::read(&case).unwrap();
    let place =
        String::from_utf8(crate::case_edit::value(&bytes, "mailscope.case.messages").unwrap())
            .unwrap();
    let (offset, len) = place.split_once('+').unwrap();
    let (offset, len): (usize, usize) = (offset.parse().unwrap(), len.parse().unwrap());
    let table = &bytes[offset..offset + len];
    assert!(table.starts_with(b"PAR1") && table.ends_with(b"PAR1"));
    let frame = polars::prelude::ParquetReader::new(std::io::Cursor::new(table))
        .finish()
        .unwrap();
    use polars::prelude::SerReader;
    assert_eq!(frame.height() as u64, messages);
    // No larger than the CSV; nor the case, with the audit export's records beside.
    let csv_bytes = csv.len();
    assert!(len <= csv_bytes, "messages {len} bytes, CSV {csv_bytes}");
    let audit_bytes = std::fs::metadata(&audit).unwrap().len() as usize;
    assert!(
        bytes.len() <= csv_bytes + audit_bytes,
        "case {} bytes, CSV {csv_bytes} + {audit_bytes}",
        bytes.len()
    );
    eprintln!(
        "messages table {len} bytes = {:.3}x the CSV's {csv_bytes}; case {} bytes",
        len as f64 / csv_bytes as f64,
        bytes.len()
    );
}

#[test]
fn a_v2_case_with_its_messages_in_the_metadata_gives_the_findings_of_the_samples() {
    let from_case = scope_report(&[fixture("case/samples_v2.parquet")], &[]);
    let dir = tempfile::tempdir().unwrap();
    let from_samples = scope_report(&[samples_before_outbound_mail(dir.path())], &[]);
    assert_eq!(from_case["cases"][0]["schema"], "mailscope.case.v2");
    // Paths aside: the v2 case was written with the samples' relative paths.
    // And without what a v2 case cannot hold: it was written before forwarding changes were
    // read (the `forwarding` column), so its mailboxes have no forwarding windows.
    fn without_paths(v: &Value, tmp: &Path) -> Value {
        let text = v.to_string();
        let root = format!("{}/", root().display());
        let tmp = format!("{}/", tmp.display());
        let text = text.replace(&root, "").replace(&tmp, "");
        let mut v: Value = serde_json::from_str(&text).unwrap();
        for mb in v.as_array_mut().into_iter().flatten() {
            let Some(mb) = mb.as_object_mut() else {
                continue;
            };
            mb.remove("forwarding");
            if let Some(Value::Array(reasons)) = mb.get_mut("reasons") {
                reasons.retain(|r| r["rule"] != "forwarded");
            }
            if let Some(Value::Array(assumed)) = mb.get_mut("assumed_messages") {
                for a in assumed {
                    if let Some(why) = a["why"].as_str() {
                        a["why"] = Value::from(why.replace("forwarded, ", ""));
                    }
                }
            }
        }
        v
    }
    for key in ["mailboxes", "notification"] {
        assert_eq!(
            without_paths(&from_case[key], dir.path()),
            without_paths(&from_samples[key], dir.path()),
            "{key}"
        );
    }
    assert_eq!(from_case["notification"]["inventory_messages"], 16);
    assert!(from_case["mailboxes"].to_string().contains("FY2024 budget"));
    // What it cannot hold, it says.
    assert!(
        from_case["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "case-without-forwarding"),
        "{}",
        from_case["warnings"]
    );
}

#[test]
fn the_committed_v3_case_of_the_samples_is_read() {
    // The case the `case` fuzz target edits: written by this schema's first build.
    let report = scope_report(&[fixture("case/samples_v3.parquet")], &[]);
    assert_eq!(report["cases"][0]["schema"], "mailscope.case.v3");
    assert_eq!(verdicts(&report), verdicts_of_the_samples());
    assert_eq!(report["notification"]["inventory_messages"], 16);
}
