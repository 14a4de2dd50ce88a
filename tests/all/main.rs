//! One integration-test binary (one link of polars): formats, scope rules, command line, real data.

mod case;
mod case_edit;
mod case_trust;
mod cli;
mod copies;
mod detection_markers;
mod evidence_safety;
mod formats;
mod hostile;
mod hostile2;
mod html;
mod inventory;
mod lossless;
mod props;
mod real;
mod scope;
mod shapes_rules;
mod shapes_siem;
mod siem;
mod util;
mod workbook;
