//! Experiment specs: typed settings, layered loading (defaults < file < env < --set), grid expansion and validation.

pub(crate) mod checks;
pub(crate) mod defaults;
pub(crate) mod document;
pub(crate) mod executor;
pub(crate) mod grid;
pub(crate) mod interval;
pub(crate) mod keys;
pub(crate) mod layers;
pub mod load;
pub(crate) mod origin;
pub(crate) mod overrides;
pub(crate) mod provenance;
pub(crate) mod translate;
pub mod types;
pub(crate) mod validate;
pub(crate) mod yaml_text;
