//! A report file written whole or not at all: the bytes go to a new temporary file beside the
//! target, which is renamed over the target only once everything is written. A failed or
//! interrupted run leaves no half report, and the rename replaces the target's directory entry
//! without ever opening what it pointed to (a hard link or symlink planted there stays untouched).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub struct OutFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl OutFile {
    /// Start writing `target` (its folder must exist).
    pub fn create(target: &Path) -> std::io::Result<OutFile> {
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = target.file_name().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the output has no file name",
            )
        })?;
        // create_new never opens an existing file, whatever it is or points to.
        let mut attempt = 0u32;
        loop {
            let temp = dir.join(format!(
                ".{}.{}-{attempt}.partial",
                name.to_string_lossy(),
                std::process::id()
            ));
            match OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(file) => {
                    return Ok(OutFile {
                        target: target.to_path_buf(),
                        temp,
                        writer: Some(BufWriter::new(file)),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Flush, sync and put the file in place.
    /// On any failure the partial file is removed: nothing is left beside the target.
    pub fn commit(mut self) -> std::io::Result<()> {
        let writer = self.writer.take().expect("committed once");
        let placed = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|file| file.sync_all())
            .and_then(|()| std::fs::rename(&self.temp, &self.target));
        if placed.is_err() {
            let _ = std::fs::remove_file(&self.temp);
        }
        placed
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.as_mut().expect("not committed").write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.as_mut().expect("not committed").flush()
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_appears_only_on_commit_and_a_link_there_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let evidence = dir.path().join("audit.csv");
        std::fs::write(&evidence, "RecordId,AuditData\n").unwrap();
        let target = dir.path().join("report.txt");
        std::fs::hard_link(&evidence, &target).unwrap();
        let mut out = OutFile::create(&target).unwrap();
        out.write_all(b"report").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"RecordId,AuditData\n");
        out.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"report");
        assert_eq!(std::fs::read(&evidence).unwrap(), b"RecordId,AuditData\n");

        let abandoned = OutFile::create(&dir.path().join("half.txt")).unwrap();
        drop(abandoned);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            !left
                .iter()
                .any(|n| n.contains("half") || n.ends_with(".partial")),
            "{left:?}"
        );
    }
}
