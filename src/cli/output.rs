//! Where reports go. Evidence is read-only: an output is refused when it is an input file by
//! any name (same device and inode: a hard link), lies inside an input folder (checked on the
//! nearest folder that exists, so a path whose folders do not exist yet is checked too), or is
//! a symlink (which could point anywhere, evidence included). Once saved cases are read, the
//! folders of their original inputs count as input folders too (`with_case_inputs`). An
//! existing file needs `--force`. Files are written whole or not at all (`OutFile`).

use anyhow::{Context, Result, bail};
use mailscope::outfile::OutFile;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// What the outputs must not touch: the input folders and every input file's identity.
#[derive(Clone)]
pub struct Evidence {
    folders: Vec<PathBuf>,
    files: Vec<(PathBuf, Option<(u64, u64)>)>,
    /// The folders of the original inputs of the saved cases read: (folder, input, case).
    case_folders: Vec<(PathBuf, String, String)>,
}

/// Device and inode: the file, whatever name reaches it.
fn identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

impl Evidence {
    pub fn of(inputs: &[PathBuf]) -> Evidence {
        let mut folders = Vec::new();
        for i in inputs {
            if let Ok(c) = std::fs::canonicalize(i) {
                if c.is_dir() {
                    folders.push(c);
                }
            }
        }
        let (found, _) = mailscope::input::discover(inputs);
        let files = found
            .iter()
            .chain(inputs.iter().filter(|i| i.is_file()))
            .filter_map(|f| {
                let canon = std::fs::canonicalize(f).ok()?;
                let id = std::fs::metadata(&canon).ok().and_then(|m| identity(&m));
                Some((canon, id))
            })
            .collect();
        Evidence {
            folders,
            files,
            case_folders: Vec::new(),
        }
    }

    /// Add the folders of the original inputs of the saved cases read: a report from a case
    /// must not land where its evidence is. An input's path is as `export` was given it: an
    /// absolute path counts wherever it leads; a relative one counts where it leads from the
    /// current folder when the input is there (the evidence is here, not on another machine).
    pub fn with_case_inputs(mut self, cases: &[mailscope::ingest::SavedCaseInput]) -> Evidence {
        for case in cases {
            for input in &case.input_paths {
                let path = Path::new(input);
                if !path.is_absolute() && !path.is_file() {
                    continue;
                }
                let folder = match path.parent() {
                    Some(f) if !f.as_os_str().is_empty() => f,
                    _ => Path::new("."),
                };
                if let Ok(folder) = self.resolve(folder) {
                    self.case_folders
                        .push((folder, input.clone(), case.path.clone()));
                }
            }
        }
        self
    }

    /// Whether `path` is an input file or lies in an input folder (`verify`: a case among the
    /// evidence it is compared with would be read as evidence).
    pub fn holds(&self, path: &Path) -> bool {
        let Ok(target) = std::fs::canonicalize(path) else {
            return false;
        };
        self.files.iter().any(|(f, _)| *f == target)
            || self.folders.iter().any(|d| target.starts_with(d))
    }

    /// Refused: `target` (resolved) lies in the folder of an original input of a case.
    fn in_case_folder(&self, target: &Path) -> Option<String> {
        self.case_folders
            .iter()
            .find(|(folder, _, _)| target.starts_with(folder))
            .map(|(_, input, case)| {
                format!(
                    "it is inside the folder of {input}, an original input of the saved case {case}"
                )
            })
    }

    /// Refuse `out` when writing it could touch evidence, or (without `force`) an existing file.
    pub fn check_file(&self, out: &Path, force: bool) -> Result<()> {
        let refuse = |why: &str| -> Result<()> {
            bail!(
                "refusing to write {}: {why} (evidence is read-only)",
                out.display()
            )
        };
        if let Ok(meta) = std::fs::symlink_metadata(out) {
            if meta.file_type().is_symlink() {
                return refuse("it is a symbolic link, which could lead anywhere");
            }
            if meta.is_dir() {
                bail!("{} is a folder, not a file", out.display());
            }
            if let Some(id) = identity(&meta) {
                if self.files.iter().any(|(_, f)| *f == Some(id)) {
                    return refuse("it is an input file (the same file by another name)");
                }
            }
        }
        let target = self.resolve(out)?;
        if self.files.iter().any(|(f, _)| *f == target) {
            return refuse("it is an input file");
        }
        if self.folders.iter().any(|d| target.starts_with(d)) {
            return refuse("it is inside an input folder");
        }
        if let Some(why) = self.in_case_folder(&target) {
            return refuse(&why);
        }
        if out.exists() && !force {
            bail!("{} exists; pass --force to overwrite", out.display());
        }
        Ok(())
    }

    /// Refuse a folder for `--format csv`: the folder itself as for a file, then each file
    /// that will be written in it.
    pub fn check_folder(&self, dir: &Path, files: &[&str], force: bool) -> Result<()> {
        if let Ok(meta) = std::fs::symlink_metadata(dir) {
            if meta.file_type().is_symlink() {
                bail!(
                    "refusing to write into {}: it is a symbolic link, which could lead anywhere (evidence is read-only)",
                    dir.display()
                );
            }
            if !meta.is_dir() {
                bail!("{} exists and is not a folder", dir.display());
            }
        }
        let target = self.resolve(dir)?;
        if self.folders.iter().any(|d| target.starts_with(d)) {
            bail!(
                "refusing to write into {}: it is inside an input folder (evidence is read-only)",
                dir.display()
            );
        }
        if let Some(why) = self.in_case_folder(&target) {
            bail!(
                "refusing to write into {}: {why} (evidence is read-only)",
                dir.display()
            );
        }
        let nonempty = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
        if nonempty && !force {
            bail!(
                "{} exists and is not empty; pass --force to overwrite",
                dir.display()
            );
        }
        for f in files {
            self.check_file(&dir.join(f), true)?;
        }
        Ok(())
    }

    /// Where `out` would be: its nearest existing folder, canonical, with the rest appended. A
    /// `..` in the part that does not exist yet cannot be resolved that way: refused.
    fn resolve(&self, out: &Path) -> Result<PathBuf> {
        let absolute = if out.is_absolute() {
            out.to_path_buf()
        } else {
            std::env::current_dir()?.join(out)
        };
        let mut existing = absolute.as_path();
        let mut rest = Vec::new();
        loop {
            if let Ok(c) = std::fs::canonicalize(existing) {
                let mut p = c;
                for part in rest.iter().rev() {
                    p.push(part);
                }
                return Ok(p);
            }
            match (existing.parent(), existing.components().next_back()) {
                (Some(parent), Some(Component::Normal(name))) => {
                    rest.push(name.to_os_string());
                    existing = parent;
                }
                (_, Some(Component::ParentDir | Component::CurDir)) => {
                    bail!(
                        "{}: use an output path without . or .. in folders that do not exist yet",
                        out.display()
                    )
                }
                _ => bail!("{}: cannot tell where this path leads", out.display()),
            }
        }
    }
}

/// Stream output to `--output` (whole or not at all) or stdout.
pub fn write_with(
    output: &Option<PathBuf>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    match output {
        Some(p) => write_file(p, write),
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            write(&mut w)?;
            w.flush()?;
            Ok(())
        }
    }
}

/// Write one file, creating its folder (already checked to be outside the evidence).
pub fn write_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut out = OutFile::create(path).with_context(|| format!("writing {}", path.display()))?;
    write(&mut out)
        .and_then(|()| out.commit())
        .with_context(|| format!("writing {}", path.display()))
}

pub fn write_out(output: &Option<PathBuf>, text: &str) -> Result<()> {
    write_with(output, |w| w.write_all(text.as_bytes()))
}

/// JSON: any C1 or bidi control in a string is written as a `\u` escape (see `escape`).
pub fn write_json(
    output: &Option<PathBuf>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    write_with(output, |w| {
        let mut safe = mailscope::escape::JsonForTerminal::new(w);
        write(&mut safe)?;
        safe.flush()
    })
}

/// A text for people (text, Markdown): its renderer escaped each evidence value, and this last
/// pass shows any control or bidi character that still got through as an escape.
pub fn write_text(output: &Option<PathBuf>, text: &str) -> Result<()> {
    write_out(output, &mailscope::escape::terminal_lines(text))
}

/// A `sha256sum` line: `<hex>  <name>`, with a name that holds a backslash, a newline or a
/// carriage return escaped and the line marked with a leading backslash, as `sha256sum` does.
pub fn sha256sum_line(hex: &str, name: &std::ffi::OsStr) -> Vec<u8> {
    #[cfg(unix)]
    let name: Vec<u8> = {
        use std::os::unix::ffi::OsStrExt;
        name.as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let name: Vec<u8> = name.to_string_lossy().as_bytes().to_vec();
    let escape = name.iter().any(|b| matches!(b, b'\\' | b'\n' | b'\r'));
    let mut line = Vec::with_capacity(hex.len() + name.len() + 4);
    if escape {
        line.push(b'\\');
    }
    line.extend_from_slice(hex.as_bytes());
    line.extend_from_slice(b"  ");
    for &b in &name {
        match b {
            b'\\' => line.extend_from_slice(b"\\\\"),
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            _ => line.push(b),
        }
    }
    line.push(b'\n');
    line
}
