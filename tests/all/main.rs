//! One integration-test binary (one link of polars): formats, scope rules, command line, real data.

mod admin_exposure;
mod batch;
mod broken_files;
mod case;
mod case_edit;
mod case_trust;
mod cli;
mod copies;
mod detection_markers;
mod evidence_safety;
mod formats;
mod forwarding;
mod gaps;
mod golden;
mod hostile_evidence;
mod html;
mod hunt;
mod inventory;
mod ipdb;
mod lossless;
mod mmdb_writer;
mod partition;
mod props;
mod real;
mod report_escaping;
mod scope;
mod shapes_rules;
mod shapes_siem;
mod siem;
/// The benchmark's generator of realistic exports, for generated incidents.
#[path = "../../examples/synth.rs"]
#[allow(dead_code)]
mod synth;
mod util;
mod workbook;
