//! The one error type of gohsp: user mistakes (exit code 2) carry the file, key or tensor and a hint; bugs and I/O exit 1.

use std::path::{Path, PathBuf};

/// Every failure the library reports. Variants that describe a user's mistake carry a hint.
#[derive(thiserror::Error, Debug)]
#[allow(missing_docs, reason = "each variant's fields are what its #[error] message prints")]
pub enum GohspError {
    /// A bad value or key in an experiment spec (or a `--set` override).
    #[error("{file}: {}{message} (hint: {hint})", key_prefix(.key))]
    Spec { file: String, key: String, message: String, hint: String },
    /// A bad or missing input file: data, weights, fixtures.
    #[error("{path}: {message} (hint: {hint})")]
    Input { path: PathBuf, message: String, hint: String },
    /// A tensor in a checkpoint that is missing or has the wrong shape.
    #[error("{path}: tensor `{tensor}`: {message} (hint: {hint})")]
    Tensor { path: PathBuf, tensor: String, message: String, hint: String },
    /// A bad command-line flag or argument.
    #[error("{message} (hint: {hint})")]
    Usage { message: String, hint: String },
    /// Scores that tie exactly where the budget must choose between the tied groups: the choice would fall to their
    /// index, so the run stops and the user picks settings that separate them.
    #[error("{message} (hint: {hint})")]
    Tie { message: String, hint: String },
    /// A stage of the pipeline failed for a reason that is not the user's input.
    #[error("stage {stage}: {message}")]
    Stage { stage: String, message: String },
    /// A file-system failure, with the path it concerned: one line with the OS reason and a hint.
    #[error("{}", io_line(.path, .source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Anything else (a bug).
    #[error("{0}")]
    Internal(String),
}

/// "key `a.b`: " before a spec message, or nothing for errors about the whole file.
fn key_prefix(key: &str) -> String {
    if key.is_empty() { String::new() } else { format!("key `{key}`: ") }
}

/// "cannot access PATH: REASON (hint: ...)": what failed, where, the OS reason (without Rust's `(os error N)`) and
/// what to do about it.
fn io_line(path: &Path, source: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let reason = source.to_string();
    let reason = reason.split(" (os error").next().unwrap_or(&reason).to_string();
    let hint = match source.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge => {
            "free space under the results folder or pass --results DIR"
        }
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => "make the folder writable or pass --results DIR",
        ErrorKind::NotFound => "check that the path exists",
        _ => "check the disk and the path, then rerun (finished stages are cached)",
    };
    format!("cannot access {}: {reason} (hint: {hint})", path.display())
}

/// Result with [`GohspError`].
pub type Result<T, E = GohspError> = std::result::Result<T, E>;

impl GohspError {
    /// The process exit code for this error: 2 for the user's mistakes, 1 for the rest.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Spec { .. } | Self::Input { .. } | Self::Tensor { .. } | Self::Usage { .. } | Self::Tie { .. } => 2,
            Self::Stage { .. } | Self::Io { .. } | Self::Internal(_) => 1,
        }
    }

    /// Whether this error is the user's mistake (bad spec, data, weights or flags).
    pub fn is_user_error(&self) -> bool {
        self.exit_code() == 2
    }

    /// A spec error for `key` in `file`.
    pub fn spec(
        file: impl Into<String>,
        key: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::Spec { file: file.into(), key: key.into(), message: message.into(), hint: hint.into() }
    }

    /// An input error for `path`.
    pub fn input(path: impl AsRef<Path>, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Input { path: path.as_ref().to_path_buf(), message: message.into(), hint: hint.into() }
    }

    /// A tensor error for `tensor` in the checkpoint at `path`.
    pub fn tensor(
        path: impl AsRef<Path>,
        tensor: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::Tensor {
            path: path.as_ref().to_path_buf(),
            tensor: tensor.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// A usage error (bad flag).
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Usage { message: message.into(), hint: hint.into() }
    }

    /// Scores tied where the budget must choose (exit 2).
    pub fn tie(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Tie { message: message.into(), hint: hint.into() }
    }

    /// A stage failure that is not the user's fault.
    pub fn stage(stage: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Stage { stage: stage.into(), message: message.into() }
    }
}

/// Attach a path to an I/O error.
pub trait IoContext<T> {
    /// Turn an `std::io::Error` into [`GohspError::Io`] naming `path`.
    fn at_path(self, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoContext<T> for std::result::Result<T, std::io::Error> {
    fn at_path(self, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|source| GohspError::Io { path: path.as_ref().to_path_buf(), source })
    }
}
