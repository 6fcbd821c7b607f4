//! Tests of the ImageNet-style folder loader on a tiny tree of the sample images made in a temporary folder.

use super::*;
use rayon::prelude::*;

/// The fixture image `file` (label = last number of its name).
fn fixture(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images").join(file)
}

/// Copy `file` into `root/<split>/<label as 4 digits>/`.
fn place(root: &Path, split: &str, file: &str) {
    let label: u32 = file.rsplit('_').next().unwrap().split('.').next().unwrap().parse().unwrap();
    let class_dir = root.join(split).join(format!("{label:04}"));
    std::fs::create_dir_all(&class_dir).unwrap();
    std::fs::copy(fixture(file), class_dir.join(file)).unwrap();
}

/// train: three JPEG classes plus a PNG class and a stray text file; val: two of the classes.
fn tree() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for file in ["imagenet_14_129.jpg", "imagenet_17_22.jpg", "imagenet_11_630.jpg", "cifar10_00_3.png"] {
        place(root.path(), "train", file);
    }
    std::fs::write(root.path().join("train/0022/notes.txt"), "not an image").unwrap();
    place(root.path(), "val", "imagenet_17_22.jpg");
    place(root.path(), "val", "cifar10_00_3.png");
    root
}

#[test]
fn classes_are_sorted_folder_names_and_labels_index_them() {
    let root = tree();
    let splits = load_folder_splits(root.path(), 224).unwrap();
    assert_eq!((splits.train.len(), splits.test.len()), (4, 2));
    let info = splits.train.info();
    assert_eq!((info.classes, info.channels, info.image_size), (4, 3, 224));
    assert_eq!(info.mean, vec![0.485, 0.456, 0.406]);
    let train = ImageFolder::open(&root.path().join("train"), None, 224).unwrap();
    assert_eq!(train.classes(), ["0003", "0022", "0129", "0630"]);
    for index in 0..train.len() {
        let (path, label) = train.file(index).unwrap();
        let name_label = path.file_stem().unwrap().to_str().unwrap().rsplit('_').next().unwrap();
        assert_eq!(train.classes()[*label].trim_start_matches('0'), name_label);
    }
    assert_eq!(splits.test.get(1).unwrap().1, 1, "val uses the train class list: 0022 is class 1");
}

#[test]
fn get_returns_the_decoded_rgb_image_at_native_size() {
    let root = tree();
    let train = ImageFolder::open(&root.path().join("train"), None, 224).unwrap();
    let (image, label) = train.get(0).unwrap();
    assert_eq!((image.channels, image.height, image.width, label), (3, 32, 32, 0));
    let expected = image::open(fixture("cifar10_00_3.png")).unwrap().to_rgb8();
    let pixel = expected.get_pixel(5, 9).0;
    assert_eq!(image.at(2, 9, 5), f32::from(pixel[2]) / 255.0);
    let (jpeg, _) = train.get(1).unwrap();
    assert_eq!((jpeg.height, jpeg.width), (512, 512));
}

#[test]
fn parallel_reads_match_sequential_reads() {
    let root = tree();
    let val = ImageFolder::open(&root.path().join("val"), None, 224).unwrap();
    let sequential: Vec<_> = (0..val.len()).map(|i| val.get(i).unwrap()).collect();
    let parallel: Vec<_> = (0..val.len()).into_par_iter().map(|i| val.get(i).unwrap()).collect();
    assert_eq!(sequential, parallel);
    assert_eq!(val.fingerprint(), ImageFolder::open(&root.path().join("val"), None, 224).unwrap().fingerprint());
}

#[test]
fn missing_root_names_the_path_the_layout_and_where_to_get_imagenet() {
    let root = tempfile::tempdir().unwrap();
    let err = load_folder_splits(&root.path().join("imagenet"), 224).err().unwrap();
    assert!(err.is_user_error());
    let text = err.to_string();
    assert!(text.contains("imagenet/train") && text.contains("train/<class>"), "{text}");
    assert!(text.contains("image-net.org") && text.contains("cannot be downloaded automatically"), "{text}");
}

#[test]
fn unknown_val_class_and_undecodable_file_are_input_errors() {
    let root = tree();
    place(root.path(), "val", "cifar10_01_8.png");
    let text = load_folder_splits(root.path(), 224).err().unwrap().to_string();
    assert!(text.contains("0008") && text.contains("absent from train"), "{text}");

    let broken = root.path().join("train/0003/broken.png");
    std::fs::write(&broken, b"not a png").unwrap();
    let train = ImageFolder::open(&root.path().join("train"), None, 224).unwrap();
    let index = (0..train.len()).find(|&i| train.file(i).unwrap().0 == broken).unwrap();
    let err = train.get(index).err().unwrap();
    assert!(err.is_user_error() && err.to_string().contains("broken.png"), "{err}");
}
