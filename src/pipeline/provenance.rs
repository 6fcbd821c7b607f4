//! Facts about the machine and checkout a run happened on: git commit and dirty flag, CPU model, hostname.

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

/// The git commit of a checkout, and whether it had uncommitted changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GitState {
    /// `git rev-parse HEAD`.
    pub commit: String,
    /// Whether `git status --porcelain` listed anything.
    pub dirty: bool,
}

/// The git state of the checkout containing `dir`; `None` without git, outside a repository, or before a commit.
pub(crate) fn git_state(dir: &Path) -> Option<GitState> {
    let commit = git_output(dir, &["rev-parse", "HEAD"])?.trim().to_string();
    let status = git_output(dir, &["status", "--porcelain"])?;
    Some(GitState { commit, dirty: !status.trim().is_empty() })
}

fn git_output(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).current_dir(dir).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The CPU model from /proc/cpuinfo (`None` where there is none, e.g. off Linux).
pub(crate) fn cpu_model() -> Option<String> {
    parse_cpu_model(&std::fs::read_to_string("/proc/cpuinfo").ok()?)
}

/// The first `model name` value of a /proc/cpuinfo text.
fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (field, value) = line.split_once(':')?;
        (field.trim() == "model name").then(|| value.trim().to_string())
    })
}

/// This machine's hostname, from the kernel, `HOSTNAME` or /etc/hostname.
pub(crate) fn hostname() -> Option<String> {
    let from_file = |path: &str| std::fs::read_to_string(path).ok().map(|text| text.trim().to_string());
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| from_file("/etc/hostname"))
        .filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_first_model_name() {
        let text =
            "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) 8480+\nmodel name\t: other\n";
        assert_eq!(parse_cpu_model(text).as_deref(), Some("Intel(R) Xeon(R) 8480+"));
        assert_eq!(parse_cpu_model("processor : 0\n"), None);
    }

    #[test]
    fn git_state_is_none_outside_a_repository() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(git_state(dir.path()), None);
    }

    #[test]
    #[ignore = "needs the git command on PATH: run with --ignored where git is installed"]
    fn git_state_reads_a_fresh_repository_and_sees_new_files() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let out = Command::new("git").args(args).current_dir(dir.path()).output().expect("git on PATH");
            assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        git(&["init", "-q"]);
        git(&["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"]);
        let state = git_state(dir.path()).expect("a repository with a commit");
        assert_eq!((state.commit.len(), state.dirty), (40, false));
        std::fs::write(dir.path().join("new.txt"), b"x").unwrap();
        assert!(git_state(dir.path()).unwrap().dirty);
    }
}
