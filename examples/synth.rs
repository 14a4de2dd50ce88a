//! Deterministic generator of large, realistic mailbox-audit exports for benchmarks.
//!
//! cargo run --release --example synth -- --records 1000000 --out /tmp/x.csv [--format csv|jsonl|xml|trace] [--seed 7]
//!
//! `--format trace` writes a message trace instead (`Get-MessageTrace | Export-Csv` in PowerShell
//! 7: every value quoted, one row per recipient, 1–3 recipients a message, culture dates) of
//! `--records` rows, the mailboxes and message ids those of the audit exports of the same size.
//!
//! Mix like a real tenant: ~70 % MailItemsAccessed Bind (1–8 message ids), ~5 % Sync, the rest
//! other mailbox events and sign-ins; thousands of mailboxes; ~0.5 % of records from the attacker
//! IP 203.0.113.66 (so `scope --attacker-ip 203.0.113.66` has work to do). Nothing is committed:
//! files are generated on demand.

use std::io::{BufWriter, Write};

/// xorshift64*: small, fast, deterministic for a seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }
}

const FOLDERS: &[&str] = &[
    "\\Inbox",
    "\\Sent Items",
    "\\Archive",
    "\\Drafts",
    "\\Deleted Items",
    "\\Inbox\\Projects",
    "\\Finance",
];
const CLIENTS: &[&str] = &[
    "Client=OWA;Action=ViaProxy",
    "Client=REST;Client=RESTSystem;;",
    "Client=MSExchangeRPC",
    "Client=OutlookService;Outlook-iOS/2.0;",
    "Client=WebServices;Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36;",
];

fn main() {
    let mut records: u64 = 100_000;
    let mut out = String::from("/tmp/mailscope-synth.csv");
    let mut format = String::new();
    let mut seed: u64 = 7;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().expect("missing value");
        match a.as_str() {
            "--records" => records = val().parse().expect("--records N"),
            "--out" => out = val(),
            "--format" => format = val(),
            "--seed" => seed = val().parse().expect("--seed N"),
            other => panic!("unknown argument {other}"),
        }
    }
    if format.is_empty() {
        format = if out.ends_with(".jsonl") {
            "jsonl"
        } else if out.ends_with(".xml") {
            "xml"
        } else {
            "csv"
        }
        .into();
    }
    generate(records, seed, &format, std::path::Path::new(&out));
}

/// Writes `records` records of `format` (csv, jsonl, xml) for `seed` to `out`. The golden-output
/// test includes this file and calls it for its generated scenario.
pub fn generate(records: u64, seed: u64, format: &str, out: &std::path::Path) {
    let mut rng = Rng(seed.wrapping_mul(0x9E3779B97F4A7C15) | 1);
    let mailboxes = (records / 200).clamp(50, 20_000);
    let mut w =
        BufWriter::with_capacity(1 << 20, std::fs::File::create(out).expect("create output"));
    if format == "trace" {
        trace(&mut w, &mut rng, records, mailboxes);
        w.flush().unwrap();
        return;
    }
    match format {
        "csv" => writeln!(w, "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r").unwrap(),
        "xml" => writeln!(w, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<SearchResults>").unwrap(),
        _ => {}
    }
    let start: i64 = 1_709_251_200; // 2024-03-01T00:00:00Z
    let span: u64 = 14 * 86_400;
    for n in 0..records {
        let t = start + (n * span / records.max(1)) as i64;
        let dt = chrono::DateTime::from_timestamp(t, 0).unwrap();
        let mb = rng.below(mailboxes);
        let owner = format!("user{mb:05}@contoso.com");
        let attacker = rng.below(1000) < 5;
        let ip = if attacker {
            "203.0.113.66".to_string()
        } else {
            format!("198.51.{}.{}", 100 + mb % 50, 1 + mb % 250)
        };
        let session = if attacker {
            format!("a77ac4e4-0000-4000-8000-{:012x}", mb % 7)
        } else {
            format!("{:08x}-5e55-4000-8000-{:012x}", mb, t / 3600)
        };
        let id = rng.uuid();
        let roll = rng.below(100);
        let op = if format == "xml" {
            [
                "FolderBind",
                "FolderBind",
                "FolderBind",
                "SoftDelete",
                "HardDelete",
                "Move",
                "SendAs",
            ][rng.below(7) as usize]
        } else if roll < 70 || roll < 75 {
            "MailItemsAccessed"
        } else {
            [
                "Send",
                "MailboxLogin",
                "SoftDelete",
                "MoveToDeletedItems",
                "Update",
                "New-InboxRule",
                "UserLoggedIn",
                "Create",
            ][rng.below(8) as usize]
        };
        let client = CLIENTS[rng.below(CLIENTS.len() as u64) as usize];
        if format == "xml" {
            let folder = FOLDERS[rng.below(FOLDERS.len() as u64) as usize];
            let lt = chrono::DateTime::from_timestamp(t - 8 * 3600, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S%.3f-08:00");
            writeln!(
                w,
                "<Event MailboxGuid=\"{g}\" Owner=\"contoso\\user{mb:05}\" LastAccessed=\"{lt}\" Operation=\"{op}\" OperationResult=\"Succeeded\" LogonType=\"Delegate\" FolderId=\"0000000073098C3277988F4CB882F5B82EBF6461{mb:024X}\" FolderPathName=\"{folder}\" ClientInfoString=\"{client}\" ClientIPAddress=\"{ip}\" InternalLogonType=\"Delegate\" MailboxOwnerUPN=\"{owner}\" MailboxOwnerSid=\"S-1-5-21-1000-2000-3000-{mb}\" CrossMailboxOperation=\"false\" LogonUserDN=\"Delegate {d}\" LogonUserSid=\"S-1-5-21-1000-2000-3000-{d}\">",
                g = rng.uuid(),
                d = rng.below(mailboxes),
            )
            .unwrap();
            if op != "FolderBind" {
                write!(w, "<SourceItems>\n<Item Id=\"{}\" Subject=\"Message {}\" FolderPathName=\"{folder}\" />\n</SourceItems>\n", rng.uuid(), rng.below(1_000_000)).unwrap();
            }
            writeln!(w, "</Event>").unwrap();
            continue;
        }
        let mut ad = format!(
            "{{\"CreationTime\":\"{}\",\"Id\":\"{id}\",\"Operation\":\"{op}\",\"OrganizationId\":\"4f1c2a9e-0000-4000-8000-00000000c0de\",\"RecordType\":{rt},\"ResultStatus\":\"Succeeded\",\"UserKey\":\"1003BFFD{mb:08X}\",\"UserType\":0,\"Version\":1,\"Workload\":\"Exchange\",\"UserId\":\"{owner}\",\"ClientIPAddress\":\"{ip}\",\"ClientInfoString\":\"{client}\",\"ExternalAccess\":false,\"InternalLogonType\":0,\"LogonType\":0,\"LogonUserSid\":\"S-1-5-21-1000-2000-3000-{mb}\",\"MailboxGuid\":\"{g}\",\"MailboxOwnerSid\":\"S-1-5-21-1000-2000-3000-{mb}\",\"MailboxOwnerUPN\":\"{owner}\",\"OrganizationName\":\"contoso.onmicrosoft.com\",\"OriginatingServer\":\"AM0PR01MB{srv:04} (15.20.7409.012)\\r\\n\",\"SessionId\":\"{session}\",\"AppId\":\"00000002-0000-0ff1-ce00-000000000000\",\"ClientAppId\":\"\",\"AppAccessContext\":{{\"AADSessionId\":\"{aad}\",\"IssuedAtTime\":\"{}\",\"UniqueTokenId\":\"{tok}\"}}",
            dt.format("%Y-%m-%dT%H:%M:%S"),
            dt.format("%Y-%m-%dT%H:%M:%S"),
            rt = if op == "MailItemsAccessed" { 50 } else { 2 },
            g = format_args!("{mb:08x}-0000-4000-8000-00000000abcd"),
            srv = mb % 9000,
            aad = format_args!("{:08x}-aad0-4000-8000-{:012x}", mb, t / 86_400),
            tok = format_args!("T{:016X}", rng.next()),
        );
        if op == "MailItemsAccessed" {
            let sync = roll >= 70;
            let throttled = rng.below(100_000) == 0;
            ad.push_str(&format!(
                ",\"OperationProperties\":[{{\"Name\":\"MailAccessType\",\"Value\":\"{}\"}},{{\"Name\":\"IsThrottled\",\"Value\":\"{}\"}}],\"Folders\":[",
                if sync { "Sync" } else { "Bind" },
                if throttled { "True" } else { "False" }
            ));
            let nfolders = if sync { 1 } else { 1 + rng.below(2) };
            let mut count = 0;
            for f in 0..nfolders {
                let folder =
                    FOLDERS[rng.below(FOLDERS.len() as u64) as usize].replace('\\', "\\\\");
                if f > 0 {
                    ad.push(',');
                }
                ad.push_str(&format!("{{\"Id\":\"LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9{:012X}AAAB\",\"Path\":\"{folder}\"", mb * 10 + f));
                if !sync {
                    ad.push_str(",\"FolderItems\":[");
                    let k = 1 + rng.below(4);
                    for j in 0..k {
                        if j > 0 {
                            ad.push(',');
                        }
                        ad.push_str(&format!(
                            "{{\"InternetMessageId\":\"<{:016x}{:08x}@AM0PR01MB{:04}.eurprd01.prod.outlook.com>\",\"SizeInBytes\":{}}}",
                            rng.next(),
                            mb,
                            mb % 9000,
                            10_000 + rng.below(90_000)
                        ));
                        count += 1;
                    }
                    ad.push(']');
                }
                ad.push('}');
            }
            ad.push_str(&format!("],\"OperationCount\":{}", count.max(1)));
        } else if op == "New-InboxRule" {
            ad.push_str(",\"Parameters\":[{\"Name\":\"Name\",\"Value\":\"rule\"},{\"Name\":\"MoveToFolder\",\"Value\":\"Archive\"}]");
        } else {
            let folder = FOLDERS[rng.below(FOLDERS.len() as u64) as usize].replace('\\', "\\\\");
            ad.push_str(&format!(
                ",\"Item\":{{\"Id\":\"RgAAAAB{:016X}\",\"Subject\":\"Quarterly planning {}\",\"InternetMessageId\":\"<{:016x}@contoso.com>\",\"ParentFolder\":{{\"Path\":\"{folder}\"}},\"SizeInBytes\":{}}}",
                rng.next(),
                rng.below(1000),
                rng.next(),
                rng.below(100_000)
            ));
        }
        ad.push('}');
        match format {
            "jsonl" => writeln!(w, "{ad}").unwrap(),
            _ => {
                let h = dt.format("%-I").to_string();
                let us = format!(
                    "{}/{}/{} {}:{} {}",
                    dt.format("%-m"),
                    dt.format("%-d"),
                    dt.format("%Y"),
                    h,
                    dt.format("%M:%S"),
                    dt.format("%p")
                );
                write!(
                    w,
                    "{id},{us},{},{op},{owner},\"{}\",,\r\n",
                    if op == "MailItemsAccessed" { 50 } else { 2 },
                    ad.replace('"', "\"\"")
                )
                .unwrap();
            }
        }
    }
    if format == "xml" {
        writeln!(w, "</SearchResults>").unwrap();
    }
    w.flush().unwrap();
}

/// A message trace of `rows` rows (one per recipient), newest first as Get-MessageTrace lists.
fn trace(w: &mut impl Write, rng: &mut Rng, rows: u64, mailboxes: u64) {
    const SUBJECTS: &[&str] = &[
        "Quarterly planning",
        "Re: Invoice",
        "FW: Contract for signature",
        "Weekly update",
        "Meeting notes",
        "Your benefits enrolment",
        "RE: Project Heron – merger agreement draft",
        "Payment confirmation",
    ];
    writeln!(w, "\"PSComputerName\",\"RunspaceId\",\"PSShowComputerName\",\"Organization\",\"MessageId\",\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"ToIP\",\"FromIP\",\"Size\",\"MessageTraceId\",\"StartDate\",\"EndDate\",\"Index\"\r").unwrap();
    let end: i64 = 1_709_251_200 + 14 * 86_400;
    let span = 14 * 86_400u64;
    let mut n = 0u64;
    while n < rows {
        let t = end - (n * span / rows.max(1)) as i64;
        let dt = chrono::DateTime::from_timestamp(t, 0).unwrap();
        let received = format!(
            "{}/{}/{} {}:{} {}",
            dt.format("%-m"),
            dt.format("%-d"),
            dt.format("%Y"),
            dt.format("%-I"),
            dt.format("%M:%S"),
            dt.format("%p")
        );
        let mb = rng.below(mailboxes);
        let external = rng.below(3) == 0;
        let sender = if external {
            format!(
                "sender{}@fabrikam{}.example",
                rng.below(5000),
                rng.below(50)
            )
        } else {
            format!("user{:05}@contoso.com", rng.below(mailboxes))
        };
        let id = format!(
            "<{:016x}{:08x}@AM0PR01MB{:04}.eurprd01.prod.outlook.com>",
            rng.next(),
            mb,
            mb % 9000
        );
        let subject = format!(
            "{} {}",
            SUBJECTS[rng.below(SUBJECTS.len() as u64) as usize],
            rng.below(10_000)
        );
        let size = 2_000 + rng.below(200_000);
        let trace_id = rng.uuid();
        let recipients = 1 + rng.below(3);
        for r in 0..recipients.min(rows - n) {
            let to = if r == 0 { mb } else { rng.below(mailboxes) };
            write!(
                w,
                "\"outlook.office365.com\",\"5f0c1c2e-7a43-4b1e-9c7d-2d2b1d0f4e11\",\"False\",\"contoso.onmicrosoft.com\",\"{id}\",\"{received}\",\"{sender}\",\"user{to:05}@contoso.com\",\"{subject}\",\"Delivered\",\"\",\"{from_ip}\",\"{size}\",\"{trace_id}\",\"2/29/2024 12:00:00 AM\",\"3/15/2024 12:00:00 AM\",\"{n}\"\r\n",
                from_ip = if external { "40.107.22.55" } else { "" },
            )
            .unwrap();
            n += 1;
        }
    }
}
