//! A run killed with SIGKILL during pre-training resumes from its last epoch checkpoint and finishes the rest.

mod common;

use common::{MICRO, entries_of, finish, gohsp, results_root, spawn};
use std::io::{BufRead, BufReader};
use std::sync::mpsc;

const EPOCHS: usize = 12;

/// The `epoch=N` value of a pre-training `epoch done` log line.
fn pretrain_epoch_done(line: &str) -> Option<usize> {
    if !(line.contains("epoch done") && line.contains("run=pretrain ")) {
        return None;
    }
    let rest = &line[line.find(" epoch=")? + " epoch=".len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[test]
fn a_killed_pretrain_resumes_from_its_checkpoint() {
    let results = results_root();
    let epochs = format!("pretrain.epochs={EPOCHS}");
    let args = ["run", MICRO, "--set", &epochs, "--set", "dataset.limit=2048"];

    let mut child = spawn(results.path(), &args);
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The trainer logs an epoch before it saves that epoch's checkpoint, so the line of epoch 3 is the first that
    // guarantees the checkpoint of epoch 2 is on disk.
    let mut seen = Vec::new();
    for line in rx.iter() {
        let done = pretrain_epoch_done(&line);
        seen.push(line);
        assert!(done.is_none_or(|e| e < EPOCHS), "pre-training finished before it was killed:\n{}", seen.join("\n"));
        if done.is_some_and(|e| e >= 3) {
            break;
        }
    }
    assert!(seen.iter().any(|l| pretrain_epoch_done(l) == Some(3)), "no epoch 3 in:\n{}", seen.join("\n"));
    child.kill().unwrap();
    let killed = finish(child);
    assert_ne!(killed.code, 0, "the killed run exited cleanly");
    drop(rx);
    reader.join().unwrap();
    assert!(entries_of(results.path(), "pretrain").is_empty(), "the killed run committed the dense model");

    let second = gohsp(results.path(), &args);
    second.ok();
    let marker = "resuming from the checkpoint of epoch ";
    let line = second.stderr.lines().find(|l| l.contains(marker));
    let line = line.unwrap_or_else(|| panic!("the second run did not resume:\n{}", second.stderr));
    let rest = &line[line.find(marker).unwrap() + marker.len()..];
    let resumed: usize = rest.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap();
    assert!((2..EPOCHS).contains(&resumed), "resumed from epoch {resumed}: {line}");

    let trained: Vec<usize> = second.stderr.lines().filter_map(pretrain_epoch_done).collect();
    assert_eq!(trained, ((resumed + 1)..=EPOCHS).collect::<Vec<_>>(), "stderr:\n{}", second.stderr);
    assert!(trained.len() < EPOCHS);
    let dense = entries_of(results.path(), "pretrain");
    assert_eq!(dense.len(), 1, "the resumed run did not commit the dense model");
    // The committed training log joins the epochs before the kill (from the checkpoint) and those after it.
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dense[0].join("train_log.json")).unwrap()).unwrap();
    let logged: Vec<u64> = log.as_array().unwrap().iter().map(|e| e["epoch"].as_u64().unwrap()).collect();
    assert_eq!(logged, (1..=EPOCHS as u64).collect::<Vec<_>>());
}
