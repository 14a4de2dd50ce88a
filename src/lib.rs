//! mailscope: which mail did the attacker see? Reads Microsoft 365 / Exchange mailbox-audit
//! exports offline into one normalized columnar frame and computes the compromise scope.
//!
//! Pipeline: `input` (files, bytes, text) → `detect` (format) → `parse` (per format, parallel)
//! → `ingest` (merge, de-duplicate) → `frame` (polars) → `scope` (pure rules) → `report`
//! (struct) → renderers (`report::text`, `report::csv`, JSON via serde).

pub mod alloc;
pub mod case;
pub mod context;
pub mod copies;
pub mod detect;
pub mod error;
pub mod escape;
pub mod frame;
pub mod hunt;
pub mod ingest;
pub mod input;
pub mod inspect;
pub mod ip;
pub mod ipdb;
pub mod mapguard;
pub mod model;
pub mod outfile;
pub mod parse;
pub mod progress;
pub mod provenance;
pub mod report;
pub mod scope;
pub mod time;
pub mod timing;
pub mod unkept;
pub mod verify;
pub mod warning;
pub mod workbook;
pub mod zone;
