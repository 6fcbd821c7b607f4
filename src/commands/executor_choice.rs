//! Choosing the executor of a run: the spec's `executor:` section, a `--profile` file laid over it, then `--executor`.

use std::path::Path;

use crate::cli::ExecutorArgs;
use crate::error::{GohspError, IoContext, Result};
use crate::experiment::executor::{ExecutorKind, ExecutorSpec};
use crate::experiment::load::LoadedSpec;
use serde_json::Value;

/// The executor settings of `loaded` with the command line's choices applied; bad values are the user's error.
pub(crate) fn choose_executor(loaded: &LoadedSpec, flags: &ExecutorArgs) -> Result<ExecutorSpec> {
    let mut executor = loaded.points.first().map(|point| point.spec.executor.clone()).unwrap_or_default();
    if let Some(profile) = &flags.profile {
        executor = with_profile(&executor, profile)?;
    }
    if let Some(kind) = flags.executor {
        executor.kind = kind;
    }
    let poll = executor.slurm.poll_seconds;
    if !(poll.is_finite() && poll > 0.0) {
        let file = loaded.file.display().to_string();
        let hint = "seconds between two status queries, e.g. 10";
        return Err(GohspError::spec(file, "executor.slurm.poll_seconds", format!("{poll} is not positive"), hint));
    }
    if flags.detach && executor.kind != ExecutorKind::Slurm {
        return Err(GohspError::usage("--detach needs the slurm executor", "add --executor slurm"));
    }
    Ok(executor)
}

/// `base` with the `executor:` section of the YAML file `profile` laid over it, key by key.
pub(crate) fn with_profile(base: &ExecutorSpec, profile: &Path) -> Result<ExecutorSpec> {
    let text = std::fs::read_to_string(profile).at_path(profile)?;
    let hint = "a profile is YAML with one `executor:` section, as in a spec (see README, Running on a cluster)";
    let tree: Value =
        serde_yaml::from_str(&text).map_err(|e| GohspError::input(profile, format!("not valid YAML: {e}"), hint))?;
    let Some(section) = tree.get("executor").filter(|_| tree.as_object().is_some_and(|top| top.len() == 1)) else {
        return Err(GohspError::input(profile, "the file must hold exactly one top-level key, `executor`", hint));
    };
    let mut merged = serde_json::to_value(base).expect("the executor section serialises");
    lay_over(&mut merged, section);
    serde_json::from_value(merged).map_err(|e| GohspError::input(profile, format!("executor: {e}"), hint))
}

/// Sets every leaf of `top` in `base` (objects are merged, anything else replaced).
fn lay_over(base: &mut Value, top: &Value) {
    match (base, top) {
        (Value::Object(base), Value::Object(top)) => {
            for (key, value) in top {
                match base.get_mut(key) {
                    Some(slot) => lay_over(slot, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (slot, value) => *slot = value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_sets_its_keys_and_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("cluster.yaml");
        std::fs::write(&profile, "executor:\n  kind: slurm\n  slurm:\n    admm: { partition: gpu, gpus: 1 }\n")
            .unwrap();
        let mut base = ExecutorSpec::default();
        base.slurm.poll_seconds = 3.0;
        base.slurm.admm.time = Some("1:00:00".into());
        let merged = with_profile(&base, &profile).unwrap();
        assert_eq!(merged.kind, ExecutorKind::Slurm);
        assert_eq!(merged.slurm.poll_seconds, 3.0);
        assert_eq!(merged.slurm.admm.partition.as_deref(), Some("gpu"));
        assert_eq!(merged.slurm.admm.time.as_deref(), Some("1:00:00"));
    }

    #[test]
    fn a_profile_with_an_unknown_key_is_an_input_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("cluster.yaml");
        std::fs::write(&profile, "executor:\n  slurm: { admm: { partion: gpu } }\n").unwrap();
        let error = with_profile(&ExecutorSpec::default(), &profile).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("cluster.yaml") && error.to_string().contains("partion"), "{error}");
        std::fs::write(&profile, "slurm: {}\n").unwrap();
        assert_eq!(with_profile(&ExecutorSpec::default(), &profile).unwrap_err().exit_code(), 2);
    }
}
