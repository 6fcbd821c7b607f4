use super::*;
use crate::model::build::{build_vit, vit_tensors};
use crate::model::init::init_tensors;
use crate::model::shape::VitShape;
use burn::optim::AdamWConfig;

fn model(seed: u64) -> Vit {
    let shape = VitShape::uniform(28, 7, 1, 10, 16, 1, 2, 2.0);
    build_vit(&shape, &init_tensors(&shape, seed), &Device::flex(), Path::new("<test>")).unwrap()
}

fn progress(epochs: usize) -> Progress {
    Progress { epochs_done: epochs, logs: vec![] }
}

fn save(dir: &CheckpointDir, epochs: usize, extra: &[u8]) {
    let extras = Extras::from([("extra.bin".to_string(), extra.to_vec())]);
    dir.save(&model(epochs as u64), &AdamWConfig::new().init(), &progress(epochs), &extras).unwrap();
}

fn load(dir: &CheckpointDir) -> Option<Restored> {
    dir.load(&Device::flex(), AdamWConfig::new().init()).unwrap()
}

fn names(root: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn the_newest_checkpoint_comes_back_with_its_extras_and_two_are_kept() {
    let root = tempfile::tempdir().unwrap();
    let dir = CheckpointDir::new(root.path());
    for epochs in 1..=3 {
        save(&dir, epochs, &[epochs as u8; 5]);
    }
    assert_eq!(names(root.path()), ["ckpt-000002", "ckpt-000003"]);
    let restored = load(&dir).unwrap();
    assert_eq!(restored.progress.epochs_done, 3);
    assert_eq!(restored.extras["extra.bin"], vec![3u8; 5]);
    assert_eq!(vit_tensors(&restored.model), vit_tensors(&model(3)));
}

#[test]
fn each_kind_of_damage_falls_back_to_the_previous_checkpoint() {
    type Damage = fn(&Path);
    let damages: [(&str, &str, Damage); 5] = [
        ("truncate", MODEL, |p| {
            let len = std::fs::metadata(p).unwrap().len();
            std::fs::OpenOptions::new().write(true).open(p).unwrap().set_len(len / 2).unwrap();
        }),
        ("bit-flip", OPTIMIZER, |p| {
            let mut bytes = std::fs::read(p).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x10;
            std::fs::write(p, bytes).unwrap();
        }),
        ("empty", PROGRESS, |p| std::fs::write(p, b"").unwrap()),
        ("delete", "extra.bin", |p| std::fs::remove_file(p).unwrap()),
        ("delete", CHECKSUMS_FILE, |p| std::fs::remove_file(p).unwrap()),
    ];
    for (what, file, damage) in damages {
        let root = tempfile::tempdir().unwrap();
        let dir = CheckpointDir::new(root.path());
        save(&dir, 1, b"one");
        save(&dir, 2, b"two");
        damage(&root.path().join("ckpt-000002").join(file));
        let restored = load(&dir).unwrap_or_else(|| panic!("{what} {file}: nothing restored"));
        assert_eq!(restored.progress.epochs_done, 1, "{what} {file}");
        assert_eq!(restored.extras["extra.bin"], b"one", "{what} {file}");
        assert_eq!(names(root.path()), ["ckpt-000001"], "{what} {file}: the damaged checkpoint stays");
    }
}

#[test]
fn no_complete_checkpoint_means_a_fresh_start_and_leftovers_are_removed() {
    let root = tempfile::tempdir().unwrap();
    let dir = CheckpointDir::new(root.path());
    assert!(load(&dir).is_none());
    save(&dir, 1, b"one");
    std::fs::write(root.path().join("ckpt-000001").join(MODEL), b"").unwrap();
    std::fs::create_dir(root.path().join(".staging-999")).unwrap();
    std::fs::write(root.path().join(".staging-999").join(PROGRESS), b"{}").unwrap();
    std::fs::write(root.path().join(PROGRESS), br#"{"epochs_done": 9, "logs": []}"#).unwrap();
    assert!(load(&dir).is_none());
    assert!(names(root.path()).is_empty(), "{:?}", names(root.path()));
}
