//! Tests that planning from a cached fingerprint reads no data (a change that keeps every stamp goes unseen until a
//! stage opens the data, which then stops), that a changed stamp is a miss, and that the values equal a full open's.

use super::*;
use crate::experiment::types::DeviceKind;
use crate::stages::runtime::Runtime;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// Puts the modification time of `path` (file or folder) at one fixed moment in 2023, settled and repeatable.
fn set_old_time(path: &Path) {
    let old = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    std::fs::File::open(path).unwrap().set_modified(old).unwrap();
}

/// Idx files of `count` 28x28 images (pixel i of image n = (n * step + i) % 256) and labels n % 10.
fn write_idx(dir: &Path, prefix: &str, count: u32, step: usize) {
    let mut images = [0x0000_0803u32, count, 28, 28].iter().flat_map(|w| w.to_be_bytes()).collect::<Vec<u8>>();
    images.extend((0..count as usize * 784).map(|i| ((i / 784) * step + i % 784) as u8));
    let mut labels = [0x0000_0801u32, count].iter().flat_map(|w| w.to_be_bytes()).collect::<Vec<u8>>();
    labels.extend((0..count).map(|n| (n % 10) as u8));
    for (name, bytes) in
        [(format!("{prefix}-images-idx3-ubyte"), images), (format!("{prefix}-labels-idx1-ubyte"), labels)]
    {
        std::fs::write(dir.join(&name), bytes).unwrap();
        set_old_time(&dir.join(name));
    }
}

fn spec(name: &str, root: &Path) -> DatasetSpec {
    DatasetSpec { name: name.into(), root: Some(root.to_path_buf()), ..DatasetSpec::default() }
}

fn open(spec: &DatasetSpec, cache: &Arc<FingerprintCache>) -> Arc<Runtime> {
    Runtime::open_cached(spec, DeviceKind::Cpu, 28, Some(cache.clone())).unwrap()
}

#[test]
fn an_idx_dataset_is_not_read_at_planning_when_its_stamps_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    write_idx(dir.path(), "train", 20, 7);
    write_idx(dir.path(), "t10k", 5, 7);
    let spec = spec("fashion_mnist", dir.path());
    let cache = Arc::new(FingerprintCache::in_memory());
    let first = open(&spec, &cache);
    assert!(first.is_loaded(), "a miss reads the data");
    let full = Runtime::open(&spec, DeviceKind::Cpu, 28).unwrap();
    assert_eq!(first.fingerprint(), full.fingerprint(), "the cached path must give today's fingerprint");
    let second = open(&spec, &cache);
    assert!(!second.is_loaded(), "a hit must not read the data");
    assert_eq!((second.fingerprint(), second.info()), (full.fingerprint(), full.info()));
    // New pixels of the same size with the old time put back: planning does not see it, since it reads nothing...
    write_idx(dir.path(), "train", 20, 11);
    let stale = open(&spec, &cache);
    assert!(!stale.is_loaded());
    assert_eq!(stale.fingerprint(), full.fingerprint());
    // ...but the first stage that reads the data stops before anything is stored under the stale key.
    let err = stale.train_loader(4, 0).err().expect("a changed dataset must not load under the planned fingerprint");
    assert!(err.to_string().contains("changed after it was planned"), "{err}");
    let replanned = open(&spec, &cache);
    assert!(replanned.is_loaded(), "the stale value was dropped");
    assert_ne!(replanned.fingerprint(), full.fingerprint());
    assert_eq!(replanned.fingerprint(), Runtime::open(&spec, DeviceKind::Cpu, 28).unwrap().fingerprint());
}

#[test]
fn an_idx_file_with_a_new_stamp_is_a_miss() {
    let dir = tempfile::tempdir().unwrap();
    write_idx(dir.path(), "train", 20, 7);
    write_idx(dir.path(), "t10k", 5, 7);
    let spec = spec("mnist", dir.path());
    let cache = Arc::new(FingerprintCache::in_memory());
    let before = open(&spec, &cache).fingerprint();
    write_idx(dir.path(), "t10k", 5, 9);
    std::fs::File::open(dir.path().join("t10k-images-idx3-ubyte")).unwrap().set_modified(SystemTime::now()).unwrap();
    let after = open(&spec, &cache);
    assert!(after.is_loaded());
    assert_ne!(after.fingerprint(), before);
}

/// `root/{train,val}/{a,b}/` with `n` empty .png names each (listing, not decoding, makes the fingerprint), old times.
fn folder_tree(n: usize) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for split in ["train", "val"] {
        for class in ["a", "b"] {
            let dir = root.path().join(split).join(class);
            std::fs::create_dir_all(&dir).unwrap();
            (0..n).for_each(|i| std::fs::write(dir.join(format!("{i}.png")), b"").unwrap());
            set_old_time(&dir);
        }
        set_old_time(&root.path().join(split));
    }
    root
}

#[test]
fn an_image_folder_is_not_listed_at_planning_while_its_folders_are_unchanged() {
    let root = folder_tree(3);
    let spec = spec("imagefolder", root.path());
    let cache = Arc::new(FingerprintCache::in_memory());
    let first = open(&spec, &cache);
    assert!(first.is_loaded());
    assert_eq!(first.fingerprint(), Runtime::open(&spec, DeviceKind::Cpu, 28).unwrap().fingerprint());
    let second = open(&spec, &cache);
    assert!(!second.is_loaded(), "a hit must not list the images");
    assert_eq!(second.fingerprint(), first.fingerprint());
    // A renamed image with its folder's time put back goes unseen by planning (it lists nothing), and is caught when
    // a stage reads the data.
    std::fs::rename(root.path().join("train/a/0.png"), root.path().join("train/a/9.png")).unwrap();
    set_old_time(&root.path().join("train/a"));
    let stale = open(&spec, &cache);
    assert!(!stale.is_loaded());
    assert!(stale.test_loader(2).err().unwrap().to_string().contains("changed after it was planned"));
    // An added image changes its class folder's time: a miss, with the fingerprint of a full listing.
    std::fs::write(root.path().join("val/b/extra.png"), b"").unwrap();
    let after = open(&spec, &cache);
    assert!(after.is_loaded());
    assert_eq!(after.fingerprint(), Runtime::open(&spec, DeviceKind::Cpu, 28).unwrap().fingerprint());
    assert_ne!(after.fingerprint(), first.fingerprint());
}

#[test]
fn the_embedded_dataset_is_decoded_once_and_planned_from_the_cache_after() {
    let cache = Arc::new(FingerprintCache::in_memory());
    let spec = DatasetSpec { name: "mnist5k".into(), limit: Some(100), ..DatasetSpec::default() };
    let first = open(&spec, &cache);
    let second = open(&spec, &cache);
    assert!(first.is_loaded() && !second.is_loaded());
    assert_eq!(second.fingerprint(), first.fingerprint());
    assert!(second.fingerprint().contains("limit=100"), "{}", second.fingerprint());
    assert_eq!(second.splits().unwrap().train.len(), 100, "the lazily read splits match the planned ones");
}
