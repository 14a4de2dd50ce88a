//! Evidence text in the report's own sentences (caveats that name files) is made inert in every
//! format: a file name is evidence, whoever chose it.

use crate::util::{assert_success, bin, fixture};

/// A Sentinel export with `[Local Time]` columns (it draws the local-time caveat naming its
/// file), under a name holding a Markdown link, HTML and a newline (no slash: it is one file name) that starts a forged note.
const HOSTILE_NAME: &str =
    "x](https:evil.example)<img src=x onerror=alert(1)>\nNote: FORGED all clear.csv";

fn report(format: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("siem/sentinel_officeactivity_local_time.csv"),
        dir.path().join(HOSTILE_NAME),
    )
    .unwrap();
    let out = bin()
        .arg("scope")
        .arg(dir.path())
        .args(["--attacker-ip", "203.0.113.66", "-q", "--format", format])
        .output()
        .unwrap();
    assert_success(&out);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_file_name_in_a_caveat_forges_no_line_and_no_link() {
    for format in ["text", "md"] {
        let text = report(format);
        let caveat = text
            .lines()
            .find(|l| l.contains("[Local Time]"))
            .unwrap_or_else(|| panic!("{format}: no local-time caveat in\n{text}"));
        assert!(caveat.contains("FORGED"), "{format}: {caveat}");
        assert!(
            !text.lines().any(|l| l.starts_with("Note: FORGED")),
            "{format}: the file name forged a line:\n{text}"
        );
        if format == "md" {
            for live in ["](", "<"] {
                assert!(!unescaped(caveat, live), "{live} is live in: {caveat}");
            }
        }
    }
    let html = report("html");
    assert!(
        !html.contains("<img src=x"),
        "live markup in the HTML report"
    );
}

/// `needle` occurs in `text` without a backslash before it (Markdown's escape).
fn unescaped(text: &str, needle: &str) -> bool {
    text.match_indices(needle)
        .any(|(at, _)| !text[..at].ends_with('\\'))
}
