//! Experiment specs: typed settings, layered loading (defaults < file < env < --set), grid expansion and validation.

pub mod checks;
pub mod defaults;
pub mod document;
pub mod executor;
pub mod grid;
pub mod interval;
pub mod keys;
pub mod layers;
pub mod load;
pub mod origin;
pub mod overrides;
pub mod provenance;
pub mod translate;
pub mod types;
pub mod validate;
pub mod yaml_text;
