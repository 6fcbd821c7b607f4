//! Fuzzing of user input: mutations of the shipped specs (proptest) and damaged weights files never panic, and every
//! rejection is a user error (exit 2) that names a spec key or the file. Each test prints how many cases it ran.

mod common;

use common::{MICRO, crate_dir, gohsp, results_root};
use gohsp::error::GohspError;
use gohsp::experiment::load::load_spec_with_env;
use proptest::prelude::*;
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The shipped specs: every experiment and the micro spec of the tests.
fn shipped_specs() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(crate_dir().join("experiments"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    specs.push(crate_dir().join(MICRO));
    specs
}

/// Key paths of every value in a mapping (lists and scalars are leaves); grid keys may contain dots themselves.
fn leaves(value: &Value, prefix: &[String], out: &mut Vec<Vec<String>>) {
    if let Value::Mapping(map) = value {
        for (key, inner) in map {
            let mut path = prefix.to_vec();
            path.push(key.as_str().unwrap_or_default().to_string());
            out.push(path.clone());
            leaves(inner, &path, out);
        }
    }
}

/// The replacement values a mutation may put at a key (`None`: delete the key).
fn replacement(i: usize) -> Option<Value> {
    let yaml = [
        ".nan",
        ".inf",
        "-.inf",
        "-1",
        "0",
        "1.0e30",
        "-0.5",
        "\"text\"",
        "true",
        "null",
        "[]",
        "{}",
        "[1, .nan]",
        "{ bogus: 1 }",
        "9007199254740993",
        "\"\"",
        "0.999",
    ];
    yaml.get(i).map(|text| serde_yaml::from_str(text).unwrap())
}

/// Applies one mutation at `path`: replace its value, delete it, or add an unknown sibling key.
fn mutate(doc: &mut Value, path: &[String], op: usize) {
    let (last, parents) = path.split_last().unwrap();
    let mut node = &mut *doc;
    for segment in parents {
        node = node.get_mut(segment.as_str()).unwrap();
    }
    let map = node.as_mapping_mut().unwrap();
    match op {
        17 => {
            map.remove(last.as_str());
        }
        18 => {
            map.insert(Value::from(format!("{last}_typo")), Value::from(1));
        }
        _ => {
            map.insert(Value::from(last.as_str()), replacement(op).unwrap());
        }
    }
}

fn is_non_finite(op: usize) -> bool {
    matches!(op, 0..=2 | 12)
}

static SPEC_CASES: AtomicUsize = AtomicUsize::new(0);
static SPEC_REJECTED: AtomicUsize = AtomicUsize::new(0);

/// Loads a mutated spec in-process: no panic; a rejection is a spec error naming a key.
fn check_mutation(spec: &Path, pick: usize, op: usize) -> Result<(), TestCaseError> {
    let mut doc: Value = serde_yaml::from_str(&std::fs::read_to_string(spec).unwrap()).unwrap();
    let mut paths = Vec::new();
    leaves(&doc, &[], &mut paths);
    let path = &paths[pick % paths.len()];
    mutate(&mut doc, path, op);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(spec.file_name().unwrap());
    std::fs::write(&file, serde_yaml::to_string(&doc).unwrap()).unwrap();
    let context = format!("{} with {} mutated by op {op}", spec.display(), path.join("."));
    let outcome = std::panic::catch_unwind(|| load_spec_with_env(&file, &[], &[]));
    let outcome = outcome.map_err(|_| TestCaseError::fail(format!("{context}: panicked")))?;
    SPEC_CASES.fetch_add(1, Ordering::Relaxed);
    match outcome {
        Ok(_) => {
            let scalar_value = !matches!(doc_value(&doc, path), Some(Value::Mapping(_)) | None);
            prop_assert!(!(is_non_finite(op) && scalar_value), "{context}: a non-finite number was accepted");
        }
        Err(err) => {
            SPEC_REJECTED.fetch_add(1, Ordering::Relaxed);
            prop_assert_eq!(err.exit_code(), 2, "{}: {}", context, err);
            let names_key = matches!(&err, GohspError::Spec { key, .. } if !key.is_empty());
            prop_assert!(names_key, "{}: the rejection names no key: {}", context, err);
            prop_assert!(!err.to_string().contains("DESIGN.md"), "{}: hint outside the repository: {}", context, err);
        }
    }
    Ok(())
}

fn doc_value<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |node, segment| node.get(segment.as_str()))
}

/// Proptest cases of the spec fuzzer.
const SPEC_FUZZ_CASES: u32 = 600;

#[test]
fn mutated_shipped_specs_never_panic_and_rejections_name_a_key() {
    let specs = shipped_specs();
    let config = ProptestConfig { cases: SPEC_FUZZ_CASES, failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let strategy = (0..specs.len(), 0usize..1000, 0usize..19);
    let result = runner.run(&strategy, |(spec, pick, op)| check_mutation(&specs[spec], pick, op));
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let (cases, rejected) = (SPEC_CASES.load(Ordering::Relaxed), SPEC_REJECTED.load(Ordering::Relaxed));
    assert!(cases >= SPEC_FUZZ_CASES as usize, "only {cases} cases ran");
    assert!(rejected > 0 && rejected < cases, "{rejected} of {cases} rejected: the mutations do not discriminate");
    println!(
        "fuzz: spec mutations: {cases} cases over {} shipped specs, {rejected} rejected (exit 2, key named)",
        specs.len()
    );
}

#[test]
fn mutated_specs_through_the_binary_exit_2_with_one_error_line() {
    let results = results_root();
    let cases = [
        ("model.mlp_ratio", ".nan"),
        ("admm.rho", ".inf"),
        ("model.heads", "3"),
        ("pretrain.lr", "-1"),
        ("sparsity", "\"lots\""),
        ("rank.damping", "1.5"),
        ("evaluate.latency_batches", "[]"),
        ("evaluate.latency_seconds", "-1"),
        ("finetune.batch", "0"),
    ];
    for (key, value) in cases {
        let set = format!("{key}={value}");
        let out = gohsp(results.path(), &["plan", MICRO, "--set", &set]);
        let errors: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(out.code, 2, "{set}: exit {}:\n{}", out.code, out.stderr);
        assert_eq!(errors.len(), 1, "{set}:\n{}", out.stderr);
        assert!(errors[0].contains(key), "{set}: the error does not name `{key}`: {}", errors[0]);
        assert!(!out.stderr.contains("panicked"), "{set}:\n{}", out.stderr);
    }
    println!("fuzz: spec mutations through the binary: {} (each exit 2 naming its key)", cases.len());
}

/// A valid weights file to damage.
fn weights() -> Vec<u8> {
    std::fs::read(common::fixture("timm_vit_micro/model.safetensors")).unwrap()
}

fn header_len(bytes: &[u8]) -> usize {
    u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
}

/// Damaged variants of a weights file, named: truncations, bad header lengths, broken JSON, wrong dtypes.
fn damaged_weights() -> Vec<(String, Vec<u8>)> {
    let good = weights();
    let header = header_len(&good);
    let mut cases = Vec::new();
    let mut cut = |at: usize| cases.push((format!("truncated at {at}"), good[..at].to_vec()));
    for at in [0, 1, 7, 8, 9, header / 2, header + 7, header + 8, good.len() / 2, good.len() - 1] {
        cut(at);
    }
    for step in 1..=40 {
        cut((good.len() - 1) * step / 41);
    }
    for (name, len) in [("zero", 0u64), ("huge", u64::MAX), ("past the end", good.len() as u64), ("odd", 3)] {
        let mut bytes = good.clone();
        bytes[..8].copy_from_slice(&len.to_le_bytes());
        cases.push((format!("header length {name}"), bytes));
    }
    let text = String::from_utf8_lossy(&good[8..8 + header]).into_owned();
    let json_breaks = [("{", "["), ("\"dtype\"", "\"dtipe\""), ("\"shape\"", "\"shap\""), ("]", "}"), (":", ",")];
    for (from, to) in json_breaks {
        cases.push((format!("JSON with `{from}` -> `{to}`"), with_header(&good, &text.replacen(from, to, 1))));
    }
    for (from, to) in [("F32", "I64"), ("F32", "U32"), ("F32", "I32"), ("F32", "U8"), ("F32", "BOOL")] {
        cases.push((format!("dtype {to}"), with_header(&good, &text.replacen(from, to, 1))));
        cases.push((format!("every dtype {to}"), with_header(&good, &text.replace(from, to))));
    }
    cases
}

/// `good` with its header replaced by `text` (padded with spaces to the same length, or longer).
fn with_header(good: &[u8], text: &str) -> Vec<u8> {
    let header = header_len(good);
    let mut text = text.to_string();
    while text.len() < header {
        text.push(' ');
    }
    let mut bytes = (text.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(text.as_bytes());
    bytes.extend_from_slice(&good[8 + header..]);
    bytes
}

#[test]
fn damaged_weights_files_are_input_errors_naming_the_file_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let device = burn::tensor::Device::flex();
    let cases = damaged_weights();
    for (i, (what, bytes)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.safetensors"));
        std::fs::write(&path, bytes).unwrap();
        let outcome = std::panic::catch_unwind(|| gohsp::model::io::load_vit(&path, Some(3), &device).map(|_| ()));
        let outcome = outcome.unwrap_or_else(|_| panic!("{what}: panicked"));
        let err = outcome.err().unwrap_or_else(|| panic!("{what}: a damaged file loaded"));
        assert_eq!(err.exit_code(), 2, "{what}: {err}");
        assert!(err.to_string().contains(&format!("case{i}.safetensors")), "{what}: the file is not named: {err}");
    }
    let results = results_root();
    let through_binary = [0, 8, cases.len() - 1, cases.len() - 6];
    for i in through_binary {
        let path = dir.path().join(format!("case{i}.safetensors"));
        let out = gohsp(results.path(), &["inspect", "--weights", path.to_str().unwrap(), "--heads", "3"]);
        assert_eq!(out.code, 2, "{}: exit {}:\n{}", cases[i].0, out.code, out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}:\n{}", cases[i].0, out.stderr);
        assert!(
            out.stderr.contains(&format!("case{i}.safetensors")),
            "{}: file not named:\n{}",
            cases[i].0,
            out.stderr
        );
    }
    println!(
        "fuzz: damaged weights files: {} in-process, {} through `gohsp inspect`, all exit 2 without a panic",
        cases.len(),
        through_binary.len()
    );
}
