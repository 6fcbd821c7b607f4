//! The batch script of one node: `exec gohsp run-node ...`, so that Slurm's USR2 reaches gohsp itself.

use std::path::{Path, PathBuf};

use crate::error::{IoContext, Result};

/// How a job calls gohsp: the binary, the (absolute) results root and spec, and the run's `--set` overrides.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeCommand {
    /// The gohsp executable.
    pub program: PathBuf,
    /// The results root every job shares.
    pub results: PathBuf,
    /// The spec file.
    pub spec: PathBuf,
    /// The `--set` overrides of the run (the device included).
    pub sets: Vec<String>,
}

impl NodeCommand {
    /// The command line that builds the node with key `key`.
    pub(crate) fn argv(&self, key: &str) -> Vec<String> {
        let mut argv = vec![path_text(&self.program), "--results".into(), path_text(&self.results)];
        argv.extend(["run-node".into(), path_text(&self.spec)]);
        for set in &self.sets {
            argv.extend(["--set".into(), set.clone()]);
        }
        argv.extend(["--key".into(), key.to_string()]);
        argv
    }
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// `text` quoted for a POSIX shell.
pub(crate) fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c)) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The script text of node `label`.
pub(crate) fn script_text(label: &str, argv: &[String]) -> String {
    let line: Vec<String> = argv.iter().map(|arg| shell_quote(arg)).collect();
    let comment: String = label.chars().filter(|c| !c.is_control()).collect();
    format!("#!/bin/sh\n# gohsp node {comment}\nexec {}\n", line.join(" "))
}

/// Writes the script of node `label` to `path`.
pub(crate) fn write_script(path: &Path, label: &str, argv: &[String]) -> Result<()> {
    std::fs::write(path, script_text(label, argv)).at_path(path)
}

/// `label` as a file name: letters, digits, `.`, `_`, `-` and `=` kept, everything else `_`.
pub(crate) fn file_label(label: &str) -> String {
    label.chars().map(|c| if c.is_ascii_alphanumeric() || "._-=".contains(c) { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_execs_run_node_with_every_override_quoted() {
        let command = NodeCommand {
            program: "/opt/gohsp".into(),
            results: "/shared/results".into(),
            spec: "/home/me/sweep.yaml".into(),
            sets: vec!["sparsity=[0.3,0.5]".into(), "name=it's".into()],
        };
        let text = script_text("admm[sparsity=0.3]", &command.argv("abc123"));
        let want = "exec /opt/gohsp --results /shared/results run-node /home/me/sweep.yaml --set 'sparsity=[0.3,0.5]' \
                    --set 'name=it'\\''s' --key abc123\n";
        assert!(text.starts_with("#!/bin/sh\n"), "{text}");
        assert!(text.ends_with(want), "{text}");
    }

    #[test]
    fn labels_become_safe_file_names() {
        assert_eq!(file_label("finetune[method=gohsp,sparsity=0.3]"), "finetune_method=gohsp_sparsity=0.3_");
    }
}
