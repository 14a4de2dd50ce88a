//! `--format csv`: a folder of flat tables, one item per row, safe to open in a spreadsheet.
//! The files are the report's `TableKind`s; every cell goes through `escape::csv`.

use super::tables::{Row, TableKind};
use super::*;
use crate::escape;
use crate::outfile::OutFile;
use std::path::Path;

/// An optional value as a cell (empty when absent).
pub(super) fn o(s: &Option<impl AsRef<str>>) -> String {
    s.as_ref()
        .map(|s| s.as_ref().to_string())
        .unwrap_or_default()
}

/// The folder's files, one per table kind.
const FILE_NAMES: [&str; TableKind::ALL.len()] = {
    let mut names = [""; TableKind::ALL.len()];
    let mut k = 0;
    while k < names.len() {
        names[k] = TableKind::ALL[k].file();
        k += 1;
    }
    names
};
pub const FILES: &[&str] = &FILE_NAMES;

struct Table {
    w: ::csv::Writer<OutFile>,
}

impl Table {
    fn create(dir: &Path, kind: TableKind) -> std::io::Result<Table> {
        let mut w = ::csv::Writer::from_writer(OutFile::create(&dir.join(kind.file()))?);
        w.write_record(kind.columns())?;
        Ok(Table { w })
    }
    /// Put the table in place (see `OutFile`), once every table is written.
    fn commit(self) -> std::io::Result<()> {
        self.w.into_inner().map_err(|e| e.into_error())?.commit()
    }
    /// A CSV cell is one value whatever its kind: escaped whole.
    fn row(&mut self, cells: Row) -> std::io::Result<()> {
        self.w
            .write_record(cells.iter().map(|c| escape::csv(&c.plain())))?;
        Ok(())
    }
}

/// Write the tables into `dir` (created if missing).
pub fn write_folder(r: &Report, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::with_capacity(TableKind::ALL.len());
    for kind in TableKind::ALL {
        let mut table = Table::create(dir, kind)?;
        kind.rows(r, &mut |row| table.row(row))?;
        written.push(table);
    }
    written.into_iter().try_for_each(Table::commit)
}
