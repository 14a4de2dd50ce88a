//! Where reports go: never over evidence, never over an existing file without `--force`, and
//! streamed (a large report is never held whole as text).

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Refuse to write over evidence: not an input file, not inside an input folder, and not over
/// an existing file unless --force.
pub fn check_output(out: &Path, inputs: &[PathBuf], force: bool, is_dir: bool) -> Result<()> {
    let abs = |p: &Path| std::fs::canonicalize(p).ok();
    let out_abs = abs(out).or_else(|| {
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        abs(parent).map(|p| p.join(out.file_name().unwrap_or_default()))
    });
    if let Some(o) = &out_abs {
        for i in inputs {
            if let Some(ia) = abs(i) {
                if *o == ia || o.starts_with(&ia) && ia.is_dir() {
                    bail!(
                        "refusing to write {}: it is an input or inside an input folder (evidence is read-only)",
                        out.display()
                    );
                }
            }
        }
    }
    if out.exists() && !force {
        let empty_dir = is_dir
            && out.is_dir()
            && std::fs::read_dir(out)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
        if !empty_dir {
            bail!("{} exists; pass --force to overwrite", out.display());
        }
    }
    Ok(())
}

/// Stream output to `--output` or stdout.
pub fn write_with(
    output: &Option<PathBuf>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    match output {
        Some(p) => {
            if let Some(parent) = p.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            let file =
                std::fs::File::create(p).with_context(|| format!("writing {}", p.display()))?;
            let mut w = std::io::BufWriter::new(file);
            write(&mut w)
                .and_then(|()| w.flush())
                .with_context(|| format!("writing {}", p.display()))
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            write(&mut w)?;
            w.flush()?;
            Ok(())
        }
    }
}

pub fn write_out(output: &Option<PathBuf>, text: &str) -> Result<()> {
    write_with(output, |w| w.write_all(text.as_bytes()))
}
