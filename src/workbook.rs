//! Excel workbooks (`.xlsx`, `.xlsm`, `.xlsb`; `.xls` and `.ods` recognised and said, not read):
//! an export opened in Excel and saved as a workbook, which is what often gets e-mailed.
//!
//! Recognised by content, never by the file name: a zip holding a workbook part
//! (`xl/workbook.xml`, `xl/workbook.bin`, or an OpenDocument spreadsheet's `mimetype`), or an
//! OLE2 compound file holding a `Workbook` stream. Each worksheet is written back as the CSV
//! text the export was before Excel touched it — date serials as ISO 8601 text, numbers Excel
//! made from digits as digits, TRUE/FALSE as `True`/`False` — one line per sheet row (empty rows
//! as blank lines, which the CSV reader skips), so that the CSV detection and parsers read it as
//! they read the export itself, and a line number is the sheet's row number.
//!
//! Cells are read with calamine (pure Rust; maintained; xlsx, xlsm, xlsb, xls, ods).

use crate::parse::FileNote;
use crate::warning::WarningCode;
use calamine::{Data, DataRef, Reader, SheetType, SheetVisible};
use std::io::Cursor;

/// What the first bytes of a file say it is, if a container a workbook comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// A zip archive (`PK\x03\x04`): xlsx, xlsm, xlsb, ods — or any other zip.
    Zip,
    /// An OLE2 compound file: xls — or an Outlook `.msg`, a Word `.doc`, an encrypted xlsx.
    Cfb,
}

const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

pub fn container(head: &[u8]) -> Option<Container> {
    if head.starts_with(b"PK\x03\x04") {
        Some(Container::Zip)
    } else if head.starts_with(&CFB_MAGIC) {
        Some(Container::Cfb)
    } else {
        None
    }
}

/// The kinds of workbook read, as a sheet's `encoding` names them.
pub const KINDS: [&str; 2] = ["xlsx", "xlsb"];

/// Excel's cell limit, in characters (UTF-16 code units): longer text is cut to this.
pub const CELL_LIMIT: usize = 32_767;

/// One worksheet written back as CSV text.
#[derive(Debug, Default)]
pub struct SheetText {
    pub text: String,
    pub notes: Vec<FileNote>,
    /// Cells holding exactly Excel's limit of characters (probably cut): (row, `A1` reference).
    pub full_cells: Vec<(u64, String)>,
    /// Where a cell's line breaks make CSV lines part from sheet rows: (first CSV line of a row,
    /// its sheet row), for every row from the first such cell on. Empty when lines are rows.
    line_rows: Vec<(u64, u64)>,
}

impl SheetText {
    /// The sheet row of a CSV line of `text`.
    pub fn row_of_line(&self, line: u64) -> u64 {
        match self.line_rows.partition_point(|&(l, _)| l <= line) {
            0 => line,
            i => self.line_rows[i - 1].1,
        }
    }

    /// Whether some line is not its row (a cell holds a line break).
    pub fn lines_shifted(&self) -> bool {
        !self.line_rows.is_empty()
    }
}

/// One sheet of a workbook and what became of it.
#[derive(Debug)]
pub struct Sheet {
    pub name: String,
    pub outcome: SheetOutcome,
}

#[derive(Debug)]
pub enum SheetOutcome {
    Text(SheetText),
    /// Not read, and no error: an empty sheet, a chart sheet.
    Skipped(String),
    /// The sheet could not be read: an error.
    Unreadable(String),
}

#[derive(Debug)]
pub enum Opened {
    /// A workbook: its kind (`xlsx`, `xlsb`, `xls`, `ods`) and its sheets in workbook order.
    Workbook(&'static str, Vec<Sheet>),
    /// A zip or compound file that holds no workbook: why it is not read.
    NotWorkbook(String),
    /// A workbook (or a container that may be one) that cannot be opened: an error.
    Damaged(String),
}

/// Open a workbook from its bytes and write each sheet back as CSV text. `budget` bounds the
/// text written for all its sheets: cells past it are not read (a zip bomb unpacks to far more
/// than any export).
pub fn open(bytes: &[u8], budget: usize) -> Opened {
    match container(bytes) {
        Some(Container::Zip) => open_zip(bytes, budget),
        Some(Container::Cfb) => open_cfb(bytes),
        None => Opened::NotWorkbook("neither a zip archive nor an OLE2 compound file".into()),
    }
}

/// How much CSV text a workbook of `bytes` bytes may unpack to.
pub fn budget_for(bytes: usize) -> usize {
    bytes.saturating_mul(64).saturating_add(64 << 20)
}

fn open_zip(bytes: &[u8], budget: usize) -> Opened {
    let names: Vec<String> = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(z) => z.file_names().map(str::to_string).collect(),
        Err(e) => return Opened::Damaged(damaged_zip(bytes, &e.to_string())),
    };
    let has = |n: &str| names.iter().any(|m| m == n);
    let result = if has("xl/workbook.xml") {
        calamine::Xlsx::new(Cursor::new(bytes))
            .map_err(|e| e.to_string())
            .map(|mut wb| {
                sheets(KINDS[0], &mut wb, budget, |wb, name, sink| {
                    let mut cells = wb.worksheet_cells_reader(name).map_err(|e| e.to_string())?;
                    while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
                        let (row, col) = cell.get_position();
                        sink.cell(row, col, owned(cell.get_value()))?;
                    }
                    Ok(())
                })
            })
    } else if has("xl/workbook.bin") {
        calamine::Xlsb::new(Cursor::new(bytes))
            .map_err(|e| e.to_string())
            .map(|mut wb| {
                sheets(KINDS[1], &mut wb, budget, |wb, name, sink| {
                    let mut cells = wb.worksheet_cells_reader(name).map_err(|e| e.to_string())?;
                    while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
                        let (row, col) = cell.get_position();
                        sink.cell(row, col, owned(cell.get_value()))?;
                    }
                    Ok(())
                })
            })
    } else if has("mimetype") && has("content.xml") && ods_mimetype(bytes) {
        // calamine's OpenDocument reader expands repeated rows and columns of every sheet while
        // it opens the file: said, not read, like .xls (see `open_cfb`).
        return Opened::Damaged(
            "OpenDocument spreadsheet (.ods): not read (its reader can be made to exhaust memory by a damaged file); save it as an .xlsx workbook, or export the CSV again".into(),
        );
    } else {
        return Opened::NotWorkbook(no_workbook_part(names.len()));
    };
    match result {
        Ok(opened) => opened,
        Err(e) => Opened::Damaged(format!("damaged workbook, cannot be opened: {e}")),
    }
}

fn no_workbook_part(entries: usize) -> String {
    format!(
        "zip archive without a workbook part (xl/workbook.xml, xl/workbook.bin or an OpenDocument spreadsheet; {entries} entries): mailscope does not open archives — extract the exports from it"
    )
}

/// Why a zip file is no workbook, told from its central directory alone, so that a large zip
/// in an evidence folder is not read whole (nor hashed) to find that out; `None` when it may
/// be one, or cannot be opened (`open` says why).
pub fn zip_file_without_workbook(path: &std::path::Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let zip = zip::ZipArchive::new(std::io::BufReader::new(file)).ok()?;
    let names: Vec<&str> = zip.file_names().collect();
    let has = |n: &str| names.contains(&n);
    let maybe =
        has("xl/workbook.xml") || has("xl/workbook.bin") || (has("mimetype") && has("content.xml"));
    (!maybe).then(|| no_workbook_part(names.len()))
}

fn ods_mimetype(bytes: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut z) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return false;
    };
    let Ok(entry) = z.by_name("mimetype") else {
        return false;
    };
    let mut text = String::new();
    entry.take(256).read_to_string(&mut text).is_ok()
        && text.trim() == "application/vnd.oasis.opendocument.spreadsheet"
}

/// Why a zip that cannot be opened is not read, said after the names of its first entries (a
/// workbook cut short keeps its local headers: `[Content_Types].xml`, `xl/…`).
fn damaged_zip(bytes: &[u8], error: &str) -> String {
    let mut at = 0usize;
    let mut office = false;
    let head = &bytes[..bytes.len().min(1 << 20)];
    while let Some(k) = memchr::memmem::find(&head[at..], b"PK\x03\x04") {
        let start = at + k;
        let (Some(len), Some(_)) = (head.get(start + 26..start + 28), head.get(start + 30)) else {
            break;
        };
        let len = u16::from_le_bytes([len[0], len[1]]) as usize;
        if let Some(name) = head.get(start + 30..start + 30 + len) {
            office |= name.starts_with(b"xl/") || name == b"[Content_Types].xml";
        }
        at = start + 4;
    }
    if office {
        format!(
            "damaged Excel workbook (an Office zip that cannot be opened: {error}): the file was cut short or altered; read the original export"
        )
    } else {
        format!("damaged zip archive, cannot be opened: {error}")
    }
}

/// An OLE2 compound file: an Excel 97-2003 workbook is said, not read. calamine's `.xls` reader
/// builds every sheet as a rectangle reaching its farthest cells while it opens the file, before
/// a sheet can be looked at: a damaged or hostile file of a few kilobytes (a cell at row 65,535
/// and column 65,535) asks for gigabytes and ends the process (found by fuzzing). Which streams
/// the file holds is told from its directory entries' names (UTF-16LE), never from its content.
fn open_cfb(bytes: &[u8]) -> Opened {
    // A directory entry is 128 bytes, aligned on 128 past the 512-byte header: its name (UTF-16LE)
    // starts the entry and its length in bytes, terminator included, is the u16 at offset 64.
    // Text elsewhere (a message body holding "Book") is content, not a stream's name.
    let names = |name: &str| {
        let wanted: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let length = ((wanted.len() + 2) as u16).to_le_bytes();
        (512..bytes.len().saturating_sub(127))
            .step_by(128)
            .any(|at| bytes[at..].starts_with(&wanted) && bytes[at + 64..at + 66] == length)
    };
    if names("EncryptedPackage") {
        Opened::Damaged(
            "password-protected (encrypted) Excel workbook: open it in Excel, remove the password and save it again".into(),
        )
    } else if names("Workbook") || names("Book") {
        Opened::Damaged(
            "Excel 97-2003 workbook (.xls): not read (its reader can be made to exhaust memory by a damaged file); open it in Excel and save it as an .xlsx workbook, or export the CSV again".into(),
        )
    } else {
        Opened::NotWorkbook(
            "OLE2 compound file without a Workbook stream (an Outlook .msg, a Word document?): not an Excel workbook".into(),
        )
    }
}

fn owned(v: &DataRef<'_>) -> Data {
    v.clone().into()
}

/// Every sheet of an opened workbook.
fn sheets<RS, R>(
    kind: &'static str,
    wb: &mut R,
    budget: usize,
    read: impl Fn(&mut R, &str, &mut Cells) -> Result<(), String>,
) -> Opened
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
{
    let meta: Vec<calamine::Sheet> = wb.sheets_metadata().to_vec();
    let mut left = budget;
    let mut out = Vec::with_capacity(meta.len());
    for sheet in meta {
        let outcome = if sheet.typ != SheetType::WorkSheet {
            SheetOutcome::Skipped(format!(
                "{} sheet of a workbook: no cells to read",
                match sheet.typ {
                    SheetType::ChartSheet => "chart",
                    SheetType::DialogSheet => "dialog",
                    SheetType::MacroSheet => "macro",
                    _ => "VBA module",
                }
            ))
        } else {
            let mut cells = Cells::new(left);
            match read(wb, &sheet.name, &mut cells) {
                Err(e) => SheetOutcome::Unreadable(format!(
                    "sheet of an {kind} workbook that cannot be read: {e}"
                )),
                Ok(()) if cells.cells.is_empty() => {
                    SheetOutcome::Skipped(format!("empty sheet of an {kind} workbook: no cells"))
                }
                Ok(()) => {
                    let hidden = sheet.visible != SheetVisible::Visible;
                    match cells.into_text(kind, hidden) {
                        Ok(text) => {
                            left = left.saturating_sub(text.text.len());
                            SheetOutcome::Text(text)
                        }
                        Err(e) => SheetOutcome::Unreadable(format!(
                            "sheet of an {kind} workbook that cannot be read: {e}"
                        )),
                    }
                }
            }
        };
        out.push(Sheet {
            name: sheet.name,
            outcome,
        });
    }
    Opened::Workbook(kind, out)
}

/// A sheet's cells as read, and the budget they draw on.
pub struct Cells {
    cells: Vec<(u32, u32, Data)>,
    used: usize,
    budget: usize,
}

impl Cells {
    fn new(budget: usize) -> Cells {
        Cells {
            cells: Vec::new(),
            used: 0,
            budget,
        }
    }

    fn cell(&mut self, row: u32, col: u32, v: Data) -> Result<(), String> {
        if matches!(v, Data::Empty) {
            return Ok(());
        }
        // Text and a separator, plus what a cell costs held here.
        self.used += 48
            + match &v {
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.len(),
                _ => 0,
            };
        if self.used > self.budget {
            return Err(too_large(self.budget));
        }
        self.cells.push((row, col, v));
        Ok(())
    }

    fn into_text(mut self, kind: &'static str, hidden: bool) -> Result<SheetText, String> {
        // Cells come in row order from every writer seen; sort when they do not.
        if !self.cells.is_sorted_by_key(|c| (c.0, c.1)) {
            self.cells.sort_by_key(|c| (c.0, c.1));
        }
        self.cells.dedup_by_key(|c| (c.0, c.1));
        // Every row as wide as the widest, as Excel writes a CSV: a row's empty cells at its end
        // are fields all the same. (The padding is bounded by the budget, checked row by row.)
        let first_col = self.cells.iter().map(|c| c.1).min().unwrap_or(0);
        let last_col = self.cells.iter().map(|c| c.1).max().unwrap_or(first_col);
        let mut out = SheetText::default();
        let mut count = Counts::default();
        let text = &mut out.text;
        // The sheet row the next line of text is (0-based), and that line (1-based).
        let (mut next_row, mut line) = (0u64, 1u64);
        let mut shifted = false;
        let mut i = 0;
        while i < self.cells.len() {
            let row = self.cells[i].0;
            let end = i + self.cells[i..].iter().take_while(|c| c.0 == row).count();
            while next_row < u64::from(row) {
                text.push('\n');
                if shifted {
                    out.line_rows.push((line, next_row + 1));
                }
                next_row += 1;
                line += 1;
            }
            let row_line = line;
            let mut col = first_col;
            for (_, c, v) in &self.cells[i..end] {
                while col < *c {
                    text.push(',');
                    col += 1;
                }
                let reference = || a1(*c, row);
                let value = count.text_of(v, reference);
                // UTF-16 units are never more than UTF-8 bytes: a shorter text is not counted.
                if value.len() >= CELL_LIMIT && value.encode_utf16().count() >= CELL_LIMIT {
                    out.full_cells.push((u64::from(row) + 1, a1(*c, row)));
                }
                push_field(text, &value);
                line += crate::input::count_newlines(value.as_bytes());
            }
            while col < last_col {
                text.push(',');
                col += 1;
            }
            if text.len() > self.budget {
                return Err(too_large(self.budget));
            }
            text.push('\n');
            shifted |= line != row_line;
            if shifted {
                out.line_rows.push((row_line, u64::from(row) + 1));
            }
            line += 1;
            next_row = u64::from(row) + 1;
            i = end;
        }
        out.notes = count.notes(kind, hidden, out.lines_shifted());
        Ok(out)
    }
}

fn too_large(budget: usize) -> String {
    format!(
        "its cells unpack to more than {} MiB of text, far more than the workbook's size holds of an export (a zip bomb?): not read",
        budget >> 20
    )
}

/// A cell reference: column letters and 1-based row (`A1`).
pub fn a1(col: u32, row: u32) -> String {
    let mut letters = Vec::new();
    let mut n = u64::from(col) + 1;
    while n > 0 {
        n -= 1;
        letters.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    letters.reverse();
    format!(
        "{}{}",
        String::from_utf8(letters).expect("ASCII letters"),
        u64::from(row) + 1
    )
}

fn push_field(text: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        text.push('"');
        text.push_str(&value.replace('"', "\"\""));
        text.push('"');
    } else {
        text.push_str(value);
    }
}

/// What the cell conversion did, for the sheet's notes.
#[derive(Default)]
struct Counts {
    dates: u64,
    numbers: u64,
    /// Numbers of 16 or more digits: Excel keeps 15 significant digits.
    long_numbers: (u64, Option<String>),
    booleans: u64,
    errors: (u64, Option<String>),
}

impl Counts {
    fn text_of(&mut self, v: &Data, reference: impl Fn() -> String) -> String {
        match v {
            Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
            Data::Int(i) => {
                self.numbers += 1;
                if i.unsigned_abs() >= 1_000_000_000_000_000 {
                    self.long(&reference);
                }
                i.to_string()
            }
            Data::Float(f) => {
                self.numbers += 1;
                if f.abs() >= 1e15 {
                    self.long(&reference);
                }
                number(*f)
            }
            Data::Bool(b) => {
                self.booleans += 1;
                if *b { "True" } else { "False" }.into()
            }
            Data::DateTime(dt) => {
                self.dates += 1;
                date_time(dt)
            }
            Data::Error(e) => {
                self.errors.0 += 1;
                self.errors
                    .1
                    .get_or_insert_with(|| format!("{} ({e})", reference()));
                String::new()
            }
            Data::Empty => String::new(),
        }
    }

    fn long(&mut self, reference: &impl Fn() -> String) {
        self.long_numbers.0 += 1;
        self.long_numbers.1.get_or_insert_with(reference);
    }

    fn notes(&self, kind: &str, hidden: bool, shifted: bool) -> Vec<FileNote> {
        let mut notes = vec![FileNote {
            code: WarningCode::Workbook,
            message: format!(
                "read from a{} sheet of an {kind} workbook (an export saved by Excel; values may have been altered): {} date cell(s) written back as ISO 8601 text read as UTC (Excel keeps no zone; the export's times were UTC), {} number cell(s) as digits, {} TRUE/FALSE cell(s) as True/False; {}",
                if hidden { " hidden" } else { "" },
                self.dates,
                self.numbers,
                self.booleans,
                if shifted {
                    "a cell holds a line break, so line numbers after it are not sheet rows (rejected rows give their sheet row)"
                } else {
                    "line numbers are the sheet's row numbers"
                }
            ),
        }];
        if self.errors.0 > 0 {
            notes.push(FileNote {
                code: WarningCode::CellError,
                message: format!(
                    "{} cell(s) hold an Excel error value and were read as empty (first at {})",
                    self.errors.0,
                    self.errors.1.as_deref().unwrap_or("?")
                ),
            });
        }
        if self.long_numbers.0 > 0 {
            notes.push(FileNote {
                code: WarningCode::CellPrecision,
                message: format!(
                    "{} number cell(s) of 16 or more digits (first at {}): Excel keeps 15 significant digits, so the digits the export held may have been changed",
                    self.long_numbers.0,
                    self.long_numbers.1.as_deref().unwrap_or("?")
                ),
            });
        }
        notes
    }
}

/// A number as the export wrote it: an integral value without a fraction, others in the
/// shortest form that reads back the same.
fn number(f: f64) -> String {
    if !f.is_finite() {
        return String::new();
    }
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        return format!("{}", f as i64);
    }
    format!("{f}")
}

/// A date serial as ISO 8601 text without a zone (`2024-03-11T08:02:11`, milliseconds where
/// there are any); a time of day alone as `08:02:11`; a duration as `[h]:mm:ss`; a serial
/// outside Excel's dates (0 to 9999-12-31) as its number.
fn date_time(dt: &calamine::ExcelDateTime) -> String {
    let v = dt.as_f64();
    if !v.is_finite() || !(0.0..2_958_466.0).contains(&v) {
        return number(v);
    }
    if dt.is_duration() {
        let ms = (v * 86_400_000.0).round() as u64;
        let (h, m, s) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60);
        return format!("{h}:{m:02}:{s:02}");
    }
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    let time = if ms > 0 {
        format!("{h:02}:{mi:02}:{s:02}.{ms:03}")
    } else {
        format!("{h:02}:{mi:02}:{s:02}")
    };
    if v < 1.0 {
        time
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{time}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{ExcelDateTime, ExcelDateTimeType};

    #[test]
    fn numbers_come_back_as_the_export_wrote_them() {
        assert_eq!(number(4.0), "4");
        assert_eq!(number(-17.0), "-17");
        assert_eq!(number(22600.0), "22600");
        assert_eq!(number(0.1), "0.1");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(123456789012345.0), "123456789012345");
        assert_eq!(number(f64::NAN), "");
    }

    #[test]
    fn date_serials_come_back_as_iso_text() {
        let dt = |v| ExcelDateTime::new(v, ExcelDateTimeType::DateTime, false);
        // 2024-03-11 08:02:11 is serial 45362 + 8:02:11 of a day.
        let serial = 45362.0 + (8.0 * 3600.0 + 2.0 * 60.0 + 11.0) / 86400.0;
        assert_eq!(date_time(&dt(serial)), "2024-03-11T08:02:11");
        assert_eq!(date_time(&dt(45364.375)), "2024-03-13T09:00:00");
        assert_eq!(
            date_time(&dt(45364.5 + 0.123 / 86400.0)),
            "2024-03-13T12:00:00.123"
        );
        assert_eq!(date_time(&dt(0.525)), "12:36:00");
        assert_eq!(date_time(&dt(-5.0)), "-5");
        assert_eq!(date_time(&dt(1e300)), number(1e300));
        let duration = ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false);
        assert_eq!(date_time(&duration), "36:00:00");
    }

    #[test]
    fn references_and_fields() {
        assert_eq!(a1(0, 0), "A1");
        assert_eq!(a1(25, 9), "Z10");
        assert_eq!(a1(26, 0), "AA1");
        assert_eq!(a1(16383, 1_048_575), "XFD1048576");
        let mut t = String::new();
        push_field(&mut t, "{\"a\":1,\"b\":2}");
        assert_eq!(t, "\"{\"\"a\"\":1,\"\"b\"\":2}\"");
    }

    #[test]
    fn rows_are_lines_and_empty_rows_blank_lines() {
        let mut cells = Cells::new(usize::MAX);
        for (r, c, v) in [
            (1, 1, "RecordId"),
            (1, 2, "AuditData"),
            (2, 1, "a"),
            (2, 2, "x,y"),
            (4, 1, "b"),
            (4, 2, "two\nlines"),
            (5, 1, "c"),
        ] {
            cells.cell(r, c, Data::String(v.into())).unwrap();
        }
        cells.cell(5, 3, Data::Bool(true)).unwrap();
        let sheet = cells.into_text("xlsx", false).unwrap();
        assert_eq!(
            sheet.text,
            "\nRecordId,AuditData,\na,\"x,y\",\n\nb,\"two\nlines\",\nc,,True\n"
        );
        // Line 7 of the text is sheet row 6 (0-based 5): the line break shifted it.
        assert_eq!(sheet.row_of_line(3), 3);
        assert_eq!(sheet.row_of_line(5), 5);
        assert_eq!(sheet.row_of_line(6), 5);
        assert_eq!(sheet.row_of_line(7), 6);
        // Padding counts against the budget: a hostile sheet's far cell cannot make rows huge.
        let mut cells = Cells::new(10_000);
        cells.cell(0, 16383, Data::Int(1)).unwrap();
        for r in 1..100 {
            cells.cell(r, 0, Data::Int(1)).unwrap();
        }
        assert!(cells.into_text("xlsx", false).is_err());
    }

    #[test]
    fn other_containers_are_not_workbooks() {
        assert_eq!(container(b"RecordId,AuditData"), None);
        match open(b"PK\x03\x04\x14\x00\x00\x00\x08\x00garbage", 1 << 20) {
            Opened::Damaged(_) => {}
            other => panic!("{other:?}"),
        }
        match open(&CFB_MAGIC, 1 << 20) {
            Opened::Damaged(_) | Opened::NotWorkbook(_) => {}
            other => panic!("{other:?}"),
        }
    }
}
