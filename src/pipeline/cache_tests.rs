//! Tests of the cache store: commit, verified lookup, corrupt entries, replacement.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde_json::json;

use super::*;
use crate::pipeline::key::CacheKeyParts;

fn record(label: &str, lr: f64) -> EntryRecord {
    let parts = CacheKeyParts::new(StageKind::Finetune, &json!({ "lr": lr }), vec![], "fp");
    EntryRecord::new(label, &parts, SystemTime::now(), 0.5)
}

fn commit_with(cache: &Cache, record: &EntryRecord, content: &[u8]) -> PathBuf {
    let out = cache.new_temp_dir().unwrap();
    std::fs::write(out.join("model.bin"), content).unwrap();
    cache.commit(&out, record).unwrap()
}

/// Log lines written while `f` runs on this thread.
fn capture_logs(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
    tracing::subscriber::with_default(subscriber, f);
    String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn a_committed_entry_is_a_verified_hit_with_its_record() {
    let root = tempfile::tempdir().unwrap();
    let cache = Cache::open(root.path()).unwrap();
    let rec = record("finetune", 1e-3);
    assert_eq!(cache.lookup(StageKind::Finetune, &rec.key).unwrap(), Lookup::Missing);
    let dir = commit_with(&cache, &rec, b"weights");
    assert_eq!(dir, root.path().join("cache/finetune").join(rec.key.as_str()));
    assert_eq!(cache.lookup(StageKind::Finetune, &rec.key).unwrap(), Lookup::Hit(dir.clone()));
    assert_eq!(EntryRecord::read(&dir).unwrap().label, "finetune");
    assert_eq!(std::fs::read_dir(cache.tmp_dir()).unwrap().count(), 0, "nothing left in tmp");
}

#[test]
fn a_truncated_artifact_is_corrupt_warned_about_and_removed() {
    let root = tempfile::tempdir().unwrap();
    let cache = Cache::open(root.path()).unwrap();
    let rec = record("finetune[s=0.3]", 1e-3);
    let dir = commit_with(&cache, &rec, b"0123456789");
    std::fs::write(dir.join("model.bin"), b"01234").unwrap();
    let Lookup::Corrupt(corruption) = cache.lookup(StageKind::Finetune, &rec.key).unwrap() else {
        panic!("a truncated file must make the entry corrupt");
    };
    assert_eq!(corruption.file, "model.bin");
    let logs = capture_logs(|| cache.discard_corrupt(StageKind::Finetune, &rec.key, &rec.label, &corruption).unwrap());
    assert!(logs.contains("WARN") && logs.contains("model.bin") && logs.contains(rec.key.as_str()), "{logs}");
    assert!(!dir.exists());
    assert_eq!(cache.lookup(StageKind::Finetune, &rec.key).unwrap(), Lookup::Missing);
}

#[test]
fn a_missing_checksum_list_or_record_is_corrupt() {
    let root = tempfile::tempdir().unwrap();
    let cache = Cache::open(root.path()).unwrap();
    let rec = record("a", 1e-3);
    let dir = commit_with(&cache, &rec, b"x");
    std::fs::remove_file(dir.join("stage.json")).unwrap();
    assert!(
        matches!(cache.lookup(StageKind::Finetune, &rec.key).unwrap(), Lookup::Corrupt(c) if c.file == "stage.json")
    );
    std::fs::remove_file(dir.join("checksums.json")).unwrap();
    assert!(
        matches!(cache.lookup(StageKind::Finetune, &rec.key).unwrap(), Lookup::Corrupt(c) if c.file == "checksums.json")
    );
}

#[test]
fn commit_replaces_an_existing_entry_and_rejects_reserved_names() {
    let root = tempfile::tempdir().unwrap();
    let cache = Cache::open(root.path()).unwrap();
    let rec = record("a", 1e-3);
    commit_with(&cache, &rec, b"old");
    let dir = commit_with(&cache, &rec, b"new");
    assert_eq!(std::fs::read(dir.join("model.bin")).unwrap(), b"new");
    assert!(matches!(cache.lookup(StageKind::Finetune, &rec.key).unwrap(), Lookup::Hit(_)));
    let out = cache.new_temp_dir().unwrap();
    std::fs::write(out.join("stage.json"), b"{}").unwrap();
    let err = cache.commit(&out, &rec).unwrap_err();
    assert!(err.to_string().contains("reserves"), "{err}");
}
