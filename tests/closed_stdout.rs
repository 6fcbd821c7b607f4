//! A reader that goes away (`gohsp inspect --json | head -1`) ends gohsp quietly with exit status 0, as ripgrep
//! does: no panic and no backtrace about a broken pipe.

mod common;

use common::{fixture, results_root};
use std::process::Stdio;

#[test]
fn a_closed_stdout_ends_the_command_quietly_with_status_0() {
    let results = results_root();
    let weights = fixture("timm_vit_micro/model.safetensors");
    let args = ["inspect", "--weights", weights.to_str().unwrap(), "--heads", "3", "--json"];
    let mut child = common::command(results.path(), &args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gohsp starts");
    // Close the read end before gohsp has loaded the weights, so that its first write finds no reader.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("gohsp finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
}
