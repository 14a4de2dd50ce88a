//! The HTML report in a real browser: headless Chromium renders it, the DOM shows the verdicts
//! and hostile evidence text as text, and a screenshot is kept under target/.

use crate::util::*;
use std::path::PathBuf;
use std::process::Command;

/// A mailbox whose attacker-bound message has a hostile subject and folder name.
fn hostile_case(dir: &std::path::Path) -> PathBuf {
    let ev = dir.join("evidence");
    std::fs::create_dir_all(&ev).unwrap();
    let rec = serde_json::json!({
        "CreationTime": "2024-03-12T02:14:07", "Id": "h0000001", "Operation": "MailItemsAccessed", "RecordType": 50,
        "Workload": "Exchange", "UserId": "victim@contoso.com", "MailboxOwnerUPN": "victim@contoso.com",
        "ClientIPAddress": "203.0.113.66", "ClientInfoString": "Client=REST;<b>bold</b>",
        "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}],
        "Folders": [{"Path": "\\<img src=x onerror=alert(2)>", "FolderItems": [
            {"InternetMessageId": "<evil@contoso.com>", "Subject": "<script>alert(1)</script>"}]}]
    });
    let sync = serde_json::json!({
        "CreationTime": "2024-03-12T03:00:00", "Id": "h0000002", "Operation": "MailItemsAccessed", "RecordType": 50,
        "Workload": "Exchange", "UserId": "other@contoso.com", "MailboxOwnerUPN": "other@contoso.com",
        "ClientIPAddress": "203.0.113.66", "OperationProperties": [{"Name": "MailAccessType", "Value": "Sync"}],
        "Folders": [{"Path": "\\Inbox"}]
    });
    std::fs::write(ev.join("audit.jsonl"), format!("{rec}\n{sync}\n")).unwrap();
    ev
}

fn render(dir: &std::path::Path) -> PathBuf {
    let ev = hostile_case(dir);
    let html = dir.join("report.html");
    let out = bin()
        .args([
            "scope",
            "--quiet",
            "--format",
            "html",
            "--attacker-ip",
            "203.0.113.66",
            "--force",
            "--output",
        ])
        .arg(&html)
        .arg(&ev)
        .output()
        .unwrap();
    assert_success(&out);
    html
}

#[test]
fn html_escapes_evidence_and_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let page = std::fs::read_to_string(render(dir.path())).unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(
        !page.contains("<script"),
        "no script of ours, none from the evidence"
    );
    assert!(!page.contains("<img"));
    for remote in ["http://", "https://", "src=\"//", "@import"] {
        assert!(
            !page.contains(remote),
            "page must not fetch anything ({remote})"
        );
    }
    assert!(page.contains("<svg"));
    assert!(page.contains("sha256") || page.contains("SHA-256"));
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium (.ci/run installs Debian's chromium)"
        );
        eprintln!("SKIPPED: no chromium on this machine (apt-get install chromium)");
        return;
    };
    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&artifacts).unwrap();
    let html = render(&artifacts);
    let profile = tempfile::tempdir().unwrap();
    let common = |c: &mut Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    };
    let url = format!("file://{}", html.display());
    let mut dump = Command::new(&browser);
    common(&mut dump);
    let out = dump.arg("--dump-dom").arg(&url).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("victim@contoso.com"));
    assert!(
        dom.contains(">messages</span>") && dom.contains(">entire-mailbox</span>"),
        "verdict badges in the DOM"
    );
    // The hostile subject is a text node: serialized escaped, never an element.
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!dom.contains("<script"));
    assert!(!dom.contains("<img"));

    let png = artifacts.join("report.png");
    let _ = std::fs::remove_file(&png);
    let mut shot = Command::new(&browser);
    common(&mut shot);
    let out = shot
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1280,1600")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert_eq!(&bytes[1..4], b"PNG");
    eprintln!("screenshot: {}", png.display());
}
