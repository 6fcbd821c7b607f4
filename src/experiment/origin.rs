//! Where each resolved spec value came from (default, spec file, `GOHSP_*` variable, `--set`), and how a problem with a
//! key becomes a `GohspError::Spec` naming that origin.

use crate::error::GohspError;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The layer that supplied a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The built-in default.
    Default,
    /// The spec file.
    File(PathBuf),
    /// A `GOHSP_*` environment variable (its name).
    Env(String),
    /// A `--set` override (its text, `key=value`).
    Set(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => write!(f, "default"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Set(text) => write!(f, "--set {text}"),
        }
    }
}

/// A bad key or value found while resolving a spec, before it is tied to a file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct KeyProblem {
    /// Dotted key path, e.g. `finetune.lr`.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl KeyProblem {
    /// A problem with `key`.
    pub(crate) fn new(key: impl Into<String>, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into(), hint: hint.into() }
    }
}

/// The source of every leaf of the merged spec tree, by dotted key (grid axes as `grid.finetune.lr`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Origins {
    sources: BTreeMap<String, Source>,
}

impl Origins {
    /// Record that the leaf `key` came from `source`.
    pub(crate) fn insert(&mut self, key: String, source: Source) {
        self.sources.insert(key, source);
    }

    /// The source recorded for exactly the leaf `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Source> {
        self.sources.get(key)
    }

    /// The source of `key`: its grid axis if one overrides it, else the key itself, a leaf below it, or its nearest
    /// recorded parent; `Default` when nothing is known.
    pub(crate) fn of(&self, key: &str) -> Source {
        let mut current = key;
        loop {
            for candidate in [format!("grid.{current}"), current.to_string()] {
                if let Some(source) = self.sources.get(&candidate) {
                    return source.clone();
                }
            }
            let below = format!("{current}.");
            if let Some((_, source)) = self.sources.iter().find(|(leaf, _)| leaf.starts_with(&below)) {
                return source.clone();
            }
            match current.rsplit_once('.') {
                Some((parent, _)) => current = parent,
                None => return Source::Default,
            }
        }
    }

    /// The `file` field of an error about `key`: the spec file, plus the variable or `--set` when one supplied it.
    pub(crate) fn label(&self, file: &Path, key: &str) -> String {
        match self.of(key) {
            Source::Env(var) => format!("{} (env {var})", file.display()),
            Source::Set(text) => format!("{} (--set {text})", file.display()),
            Source::Default | Source::File(_) => file.display().to_string(),
        }
    }

    /// Turn `problem` into the spec error it describes, naming the file (and variable or `--set`) behind its key.
    pub(crate) fn error(&self, file: &Path, problem: KeyProblem) -> GohspError {
        GohspError::spec(self.label(file, &problem.key), problem.key, problem.message, problem.hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> Origins {
        let mut origins = Origins::default();
        origins.insert("finetune.lr".into(), Source::Env("GOHSP_FINETUNE__LR".into()));
        origins.insert("grid.rank.damping".into(), Source::Set("grid.rank.damping=[0.8]".into()));
        origins.insert("rank.damping".into(), Source::Default);
        origins.insert("model.preset".into(), Source::File("q.yaml".into()));
        origins
    }

    #[test]
    fn a_grid_axis_overrides_the_plain_key() {
        assert_eq!(origins().of("rank.damping"), Source::Set("grid.rank.damping=[0.8]".into()));
    }

    #[test]
    fn parents_and_children_are_searched() {
        let origins = origins();
        assert_eq!(origins.of("model"), Source::File("q.yaml".into()));
        assert_eq!(origins.of("finetune.lr.extra"), Source::Env("GOHSP_FINETUNE__LR".into()));
        assert_eq!(origins.of("nothing"), Source::Default);
    }

    #[test]
    fn labels_name_the_file_and_the_override() {
        let origins = origins();
        assert_eq!(origins.label(Path::new("q.yaml"), "finetune.lr"), "q.yaml (env GOHSP_FINETUNE__LR)");
        assert_eq!(origins.label(Path::new("q.yaml"), "model.preset"), "q.yaml");
        let error = origins.error(Path::new("q.yaml"), KeyProblem::new("finetune.lr", "bad", "fix it"));
        assert!(error.to_string().contains("key `finetune.lr`"));
    }
}
