//! `mailscope hunt`: rank the suspects of the evidence (`mailscope::hunt`), write them as text,
//! JSON or CSV, and with `--suggest` an indicator file for `scope --indicators`.

use super::Failure;
use super::args::{ContextsFmt, HuntArgs};
use super::commands::{read_evidence, read_inputs};
use super::output::{Evidence, write_file, write_json, write_out, write_text};
use anyhow::anyhow;
use mailscope::frame::{Columns, Frame};
use mailscope::hunt::{self, render};

pub fn run(a: HuntArgs, quiet: bool) -> Result<(), Failure> {
    if a.output.is_some() && a.output == a.suggest {
        return Err(Failure::Usage(anyhow!(
            "--output and --suggest name the same file"
        )));
    }
    let outputs: Vec<&std::path::PathBuf> = a.output.iter().chain(a.suggest.iter()).collect();
    let evidence = Evidence::of(&a.input.paths);
    for o in &outputs {
        evidence.check_file(o, a.force)?;
    }
    let ipdb = a.ip_db.open()?;
    mailscope::timing::start();
    let mut ing = read_inputs(&a.input, quiet, Columns::Views)?;
    mailscope::timing::phase("read, parse and frame");
    let evidence = read_evidence(evidence, &ing);
    for o in &outputs {
        evidence.check_file(o, a.force)?;
    }
    let frame = std::mem::replace(&mut ing.frame, Frame::empty());
    let found = hunt::hunt_with(&frame, ipdb.as_ref()).map_err(|e| anyhow!(e))?;
    drop(frame);
    match a.format {
        ContextsFmt::Text => write_text(&a.output, &render::text(&found, a.top.unwrap_or(20)))?,
        ContextsFmt::Json => {
            let text = render::json(&found, a.top.unwrap_or(usize::MAX));
            write_json(&a.output, |w| w.write_all(text.as_bytes()))?
        }
        ContextsFmt::Csv => {
            let text =
                render::csv(&found, a.top.unwrap_or(usize::MAX)).map_err(anyhow::Error::from)?;
            write_out(&a.output, &text)?
        }
    }
    if let Some(path) = &a.suggest {
        let (text, n) = render::suggest(&found);
        write_file(path, |w| w.write_all(text.as_bytes()))?;
        if !quiet {
            eprintln!(
                "wrote {n} suggested indicators to {} (review them before `mailscope scope --indicators`)",
                path.display()
            );
        }
    }
    Ok(())
}
