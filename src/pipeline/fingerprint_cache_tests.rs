//! Tests of the fingerprint cache: reuse only under equal stamps, no recording of unsettled sources, atomic saving,
//! and a corrupt file ignored.

use super::*;
use std::time::Duration;

/// A file with `bytes`, last modified long ago (settled).
fn aged_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    age(&path);
    path
}

/// Sets the modification time to one fixed moment in 2023, so that a rewritten file can get its old time back.
fn age(path: &Path) {
    let old = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    std::fs::File::options().write(true).open(path).unwrap().set_modified(old).unwrap();
}

#[test]
fn a_dataset_value_is_reused_only_while_every_stamp_is_equal() {
    let dir = tempfile::tempdir().unwrap();
    let file = aged_file(dir.path(), "data.bin", b"abc");
    let cache = FingerprintCache::in_memory();
    let stamps = vec![FileStamp::of(&file).unwrap()];
    cache.record_dataset("k", stamps.clone(), serde_json::json!({"fp": 1}), SystemTime::now());
    assert_eq!(cache.dataset("k", &stamps), Some(serde_json::json!({"fp": 1})));
    assert_eq!(cache.dataset("other", &stamps), None);
    std::fs::write(&file, b"abcd").unwrap();
    assert_eq!(cache.dataset("k", &[FileStamp::of(&file).unwrap()]), None);
    cache.forget_dataset("k");
    assert_eq!(cache.dataset("k", &stamps), None);
}

#[test]
fn nothing_is_recorded_from_a_source_modified_just_before_it_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.bin");
    std::fs::write(&fresh, b"abc").unwrap();
    let cache = FingerprintCache::in_memory();
    let stamps = vec![FileStamp::of(&fresh).unwrap()];
    cache.record_dataset("k", stamps.clone(), serde_json::json!(1), SystemTime::now());
    assert_eq!(cache.dataset("k", &stamps), None);
    cache.file_digest(&fresh).unwrap();
    assert!(cache.lock().0.files.is_empty(), "a fresh file's digest was remembered");
}

#[test]
fn file_digests_are_the_streamed_blake3_and_are_not_reread_while_the_stamp_holds() {
    let dir = tempfile::tempdir().unwrap();
    let file = aged_file(dir.path(), "w.safetensors", b"weights");
    let cache = FingerprintCache::in_memory();
    let digest = cache.file_digest(&file).unwrap();
    assert_eq!(digest, blake3::hash(b"weights").to_hex().to_string());
    // Same size, time put back: only the stamp is compared, so the remembered digest comes back (the run verifies it).
    std::fs::write(&file, b"WEIGHTS").unwrap();
    age(&file);
    assert_eq!(cache.file_digest(&file).unwrap(), digest);
    cache.forget_file(&file);
    assert_eq!(cache.file_digest(&file).unwrap(), blake3::hash(b"WEIGHTS").to_hex().to_string());
    std::fs::write(&file, b"longer weights").unwrap();
    assert_eq!(cache.file_digest(&file).unwrap(), blake3::hash(b"longer weights").to_hex().to_string());
}

#[test]
fn a_saved_cache_loads_back_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = aged_file(dir.path(), "w.bin", b"w");
    let path = FingerprintCache::path_under(dir.path());
    let cache = FingerprintCache::load(&path);
    let stamps = vec![FileStamp::of(&file).unwrap()];
    cache.record_dataset("k", stamps.clone(), serde_json::json!("facts"), SystemTime::now());
    let digest = cache.file_digest(&file).unwrap();
    cache.save().unwrap();
    let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [FILE_NAME]);
    let again = FingerprintCache::load(&path);
    assert_eq!(again.dataset("k", &stamps), Some(serde_json::json!("facts")));
    assert_eq!(again.lock().0.files[&canonical(&file)].blake3, digest);
}

#[test]
fn a_corrupt_or_foreign_cache_file_is_ignored_not_half_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let file = aged_file(dir.path(), "w.bin", b"w");
    let path = FingerprintCache::path_under(dir.path());
    let cache = FingerprintCache::load(&path);
    cache.record_dataset("k", vec![FileStamp::of(&file).unwrap()], serde_json::json!(1), SystemTime::now());
    cache.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let stamps = [FileStamp::of(&file).unwrap()];
    for damaged in [text[..text.len() / 2].to_string(), String::new(), text.replace("\"format\": 1", "\"format\": 99")]
    {
        std::fs::write(&path, &damaged).unwrap();
        let loaded = FingerprintCache::load(&path);
        assert_eq!(loaded.dataset("k", &stamps), None, "trusted a damaged file: {damaged:?}");
    }
    // A damaged file is replaced by a whole one at the next save.
    let rebuilt = FingerprintCache::load(&path);
    rebuilt.record_dataset("k", stamps.to_vec(), serde_json::json!(2), SystemTime::now());
    rebuilt.save().unwrap();
    assert_eq!(FingerprintCache::load(&path).dataset("k", &stamps), Some(serde_json::json!(2)));
}
