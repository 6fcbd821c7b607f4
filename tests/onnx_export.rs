//! `gohsp export --format onnx`: the graph's structure and metadata, bad input, the spec's export section, and (with
//! ONNX Runtime) logits equal to `gohsp predict` for dense, heterogeneous, q/k-pruned and distilled models at batch
//! sizes 1, 2 and 7.
//!
//! The ONNX Runtime checks run `scripts/onnx_check.py` with the Python named by `GOHSP_ONNX_PYTHON` (a virtual
//! environment with `onnx`, `onnxruntime` and `numpy`; `.ci/run` makes one). Without it they are skipped with a
//! message, unless `GOHSP_ONNX_EXPECTED=1`, under which a missing Python fails them.

mod common;

use common::{MICRO, crate_dir, fixture, gohsp, results_root};
use gohsp::export::onnx::read_onnx;
use gohsp::model::host::{HostTensor, NamedTensors};
use gohsp::model::init::init_tensors;
use gohsp::model::io::save_tensors;
use gohsp::model::manifest::MANIFEST_KEY;
use gohsp::model::shape::VitShape;
use gohsp::prune::hard::slice_tensors;
use gohsp::prune::mask::StructureMask;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python that runs the ONNX Runtime checks, or `None` (with a note) when this machine has none set up.
fn onnx_python() -> Option<PathBuf> {
    match std::env::var_os("GOHSP_ONNX_PYTHON") {
        Some(python) => Some(PathBuf::from(python)),
        None if std::env::var_os("GOHSP_ONNX_EXPECTED").is_some_and(|v| v == "1") => {
            panic!("GOHSP_ONNX_EXPECTED=1 but GOHSP_ONNX_PYTHON is unset: point it at a Python with onnxruntime")
        }
        None => {
            eprintln!("skipped: set GOHSP_ONNX_PYTHON to a Python with onnx, onnxruntime and numpy to run this check");
            None
        }
    }
}

/// Runs `scripts/onnx_check.py` on `cases`; panics unless every case passes. Returns its report lines.
fn check_in_onnx_runtime(python: &Path, cases: &[PathBuf]) -> String {
    let out = Command::new(python)
        .arg(crate_dir().join("scripts/onnx_check.py"))
        .args(cases)
        .output()
        .expect("the Python of GOHSP_ONNX_PYTHON starts");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ONNX Runtime check failed:\n{stdout}\n{stderr}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("onnx-check: ")).count(), cases.len(), "{stdout}");
    println!("{stdout}");
    stdout
}

/// A seeded input batch [batch, C, S, S] for `shape`.
fn random_input(shape: &VitShape, batch: usize, seed: u64) -> HostTensor {
    let mut rng = StdRng::seed_from_u64(seed);
    let dims = vec![batch, shape.in_chans, shape.image_size, shape.image_size];
    let data = (0..dims.iter().product::<usize>()).map(|_| rng.gen_range(-2.0f32..2.0)).collect();
    HostTensor::new(dims, data)
}

/// A case folder for `onnx_check.py`: `weights` exported to model.onnx, an input batch, and `gohsp predict`'s logits.
fn case(root: &Path, name: &str, weights: &Path, input: &HostTensor, extra: &[&str]) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut tensors = NamedTensors::new();
    tensors.insert("input".into(), input.clone());
    save_tensors(&tensors, &[], &dir.join("input.safetensors")).unwrap();
    let results = root.join("results");
    let (weights, onnx) = (weights.to_str().unwrap(), dir.join("model.onnx"));
    let mut export = vec!["export", "--weights", weights, "--format", "onnx", "--out", onnx.to_str().unwrap()];
    export.extend(extra);
    gohsp(&results, &export).ok();
    let (input, logits) = (dir.join("input.safetensors"), dir.join("logits.safetensors"));
    let mut predict =
        vec!["predict", "--weights", weights, "--input", input.to_str().unwrap(), "--out", logits.to_str().unwrap()];
    predict.extend(extra);
    gohsp(&results, &predict).ok();
    dir
}

/// 3 blocks of 4 heads (head_dim 12), MLP 96, with every value (biases included) non-zero.
fn busy_dense() -> (VitShape, NamedTensors) {
    let shape = VitShape::uniform(28, 7, 1, 10, 48, 3, 4, 2.0);
    let tensors = common::busy_tensors(&shape, 11);
    (shape, tensors)
}

/// The busy model sliced to heads [1, 0, 3] and neurons [40, 77, 0] (a block without attention and one without
/// an MLP), with every kept head keeping `pairs` q/k dimensions of 12 when given. Saved with its manifest.
fn sliced_model(dir: &Path, name: &str, pairs: Option<usize>) -> (PathBuf, VitShape) {
    let (shape, dense) = busy_dense();
    let mut rng = StdRng::seed_from_u64(5);
    let heads = [1, 0, 3].iter().map(|&k| common::random_keep(&mut rng, 4, k)).collect();
    let neurons = [40, 77, 0].iter().map(|&k| common::random_keep(&mut rng, 96, k)).collect();
    let qk_pairs =
        pairs.map(|p| (0..3).map(|_| (0..4).map(|_| common::random_keep(&mut rng, 12, p)).collect()).collect());
    let (tensors, manifest) = slice_tensors(&shape, &dense, &StructureMask { heads, neurons, qk_pairs });
    let path = dir.join(format!("{name}.safetensors"));
    save_tensors(&tensors, &[(MANIFEST_KEY, serde_json::to_string(&manifest).unwrap())], &path).unwrap();
    (path, manifest.shape)
}

/// A distilled DeiT under Hugging Face's names (`deit.embeddings.distillation_token`, separate query/key/value,
/// `cls_classifier` and `distillation_classifier`), with its config.json.
fn hugging_face_distilled(dir: &Path) -> (PathBuf, VitShape) {
    let mut shape = VitShape::uniform(32, 8, 3, 5, 48, 2, 4, 2.0);
    shape.distilled = true;
    shape.eps = 1e-12;
    let timm = init_tensors(&shape, 21);
    let mut hf = NamedTensors::new();
    for (name, t) in &timm {
        let renamed = match name.as_str() {
            "cls_token" => "deit.embeddings.cls_token".to_string(),
            "dist_token" => "deit.embeddings.distillation_token".to_string(),
            "pos_embed" => "deit.embeddings.position_embeddings".to_string(),
            "norm.weight" | "norm.bias" => format!("deit.layernorm.{}", name.rsplit('.').next().unwrap()),
            n if n.starts_with("patch_embed.proj.") => {
                format!("deit.embeddings.patch_embeddings.projection.{}", n.rsplit('.').next().unwrap())
            }
            n if n.starts_with("head_dist.") => format!("distillation_classifier.{}", n.rsplit('.').next().unwrap()),
            n if n.starts_with("head.") => format!("cls_classifier.{}", n.rsplit('.').next().unwrap()),
            n => {
                let hf_layer = hf_layer_names(n, t);
                hf.extend(hf_layer);
                continue;
            }
        };
        hf.insert(renamed, t.clone());
    }
    let path = dir.join("model.safetensors");
    save_tensors(&hf, &[], &path).unwrap();
    let config = r#"{"model_type": "deit", "num_attention_heads": 4, "layer_norm_eps": 1e-12, "image_size": 32, "patch_size": 8, "image_mean": [0.5, 0.5, 0.5]}"#;
    std::fs::write(dir.join("config.json"), config).unwrap();
    let preprocessor = r#"{"image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}"#;
    std::fs::write(dir.join("preprocessor_config.json"), preprocessor).unwrap();
    (path, shape)
}

/// One block tensor of timm's under transformers 4's DeiT names (qkv split into query, key and value).
fn hf_layer_names(name: &str, tensor: &HostTensor) -> NamedTensors {
    let rest = name.strip_prefix("blocks.").unwrap();
    let (layer, rest) = rest.split_once('.').unwrap();
    let prefix = format!("deit.encoder.layer.{layer}");
    let mut out = NamedTensors::new();
    if let Some(suffix) = rest.strip_prefix("attn.qkv.") {
        let third = tensor.shape[0] / 3;
        for (i, part) in ["query", "key", "value"].iter().enumerate() {
            let rows: Vec<usize> = (i * third..(i + 1) * third).collect();
            out.insert(format!("{prefix}.attention.attention.{part}.{suffix}"), tensor.select_rows(&rows));
        }
        return out;
    }
    let hf = [
        ("norm1.", "layernorm_before."),
        ("attn.proj.", "attention.output.dense."),
        ("norm2.", "layernorm_after."),
        ("mlp.fc1.", "intermediate.dense."),
        ("mlp.fc2.", "output.dense."),
    ]
    .iter()
    .find_map(|(timm, hf)| rest.strip_prefix(timm).map(|s| format!("{hf}{s}")))
    .unwrap();
    out.insert(format!("{prefix}.{hf}"), tensor.clone());
    out
}

#[test]
fn heterogeneous_and_qk_pruned_graphs_have_each_blocks_shapes_and_describe_their_input() {
    let work = tempfile::tempdir().unwrap();
    let (weights, shape) = sliced_model(work.path(), "pruned_qk", Some(5));
    assert_eq!(
        shape.blocks.iter().map(|b| (b.heads, b.qk_dim, b.mlp)).collect::<Vec<_>>(),
        [(1, 5, 40), (0, 12, 77), (3, 5, 0)]
    );
    let onnx = work.path().join("pruned.onnx");
    let out = gohsp(
        &work.path().join("results"),
        &[
            "export",
            "--weights",
            weights.to_str().unwrap(),
            "--out",
            onnx.to_str().unwrap(),
            "--mean",
            "0.1307",
            "--std",
            "0.3081",
        ],
    );
    out.ok();
    assert!(out.stdout.contains("heads per block [1, 0, 3], MLP widths [40, 77, 0]"), "{}", out.stdout);
    let info = read_onnx(&onnx).unwrap();
    assert_eq!(info.opset, Some(20));
    assert_eq!(info.inputs, vec![("images".to_string(), vec!["batch".into(), "1".into(), "28".into(), "28".into()])]);
    assert_eq!(info.outputs, vec![("logits".to_string(), vec!["batch".into(), "10".into()])]);
    let meta = |key: &str| info.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(meta("input_name"), "images");
    assert_eq!(meta("input_layout"), "NCHW float32 [batch, 1, 28, 28]");
    assert_eq!(meta("input_normalization"), "mean=[0.1307] std=[0.3081]");
    assert!(meta(MANIFEST_KEY).contains("\"qk_dim\":5"), "{}", meta(MANIFEST_KEY));
    // Block 1 has no heads (no attention nodes) and block 2 no MLP (no GELU): 2 attention softmaxes, 2 GELUs.
    let text = std::fs::read(&onnx).unwrap();
    let count = |op: &str| text.windows(op.len() + 2).filter(|w| w[1..=op.len()] == *op.as_bytes()).count();
    assert!(count("Softmax") >= 2 && count("Gelu") >= 2, "Softmax {} Gelu {}", count("Softmax"), count("Gelu"));
    let inspected = gohsp(&work.path().join("results"), &["inspect", "--weights", onnx.to_str().unwrap()]);
    inspected.ok();
    assert!(inspected.stdout.contains("input   images [batch, 1, 28, 28]"), "{}", inspected.stdout);
    assert!(inspected.stdout.contains("input_normalization: mean=[0.1307] std=[0.3081]"), "{}", inspected.stdout);
}

#[test]
fn onnx_runtime_gives_gohsps_logits_for_dense_pruned_qk_pruned_and_distilled_models() {
    let Some(python) = onnx_python() else { return };
    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    let timm = fixture("timm_vit_micro/model.safetensors");
    let timm_shape = VitShape::uniform(28, 7, 1, 10, 48, 2, 3, 2.0);
    let (pruned, pruned_shape) = sliced_model(root, "pruned", None);
    let (qk, qk_shape) = sliced_model(root, "pruned_qk", Some(5));
    let hf_dir = root.join("hf_deit_distilled");
    std::fs::create_dir_all(&hf_dir).unwrap();
    let (distilled, distilled_shape) = hugging_face_distilled(&hf_dir);
    let cases = vec![
        case(root, "timm_micro_b2", &timm, &random_input(&timm_shape, 2, 1), &["--heads", "3"]),
        case(root, "pruned_b1", &pruned, &random_input(&pruned_shape, 1, 2), &[]),
        case(root, "pruned_b7", &pruned, &random_input(&pruned_shape, 7, 3), &[]),
        case(root, "qk_pruned_b1", &qk, &random_input(&qk_shape, 1, 4), &[]),
        case(root, "qk_pruned_b7", &qk, &random_input(&qk_shape, 7, 5), &[]),
        case(root, "hf_deit_distilled_b7", &distilled, &random_input(&distilled_shape, 7, 6), &[]),
    ];
    check_in_onnx_runtime(&python, &cases);
    let info = read_onnx(&cases[5].join("model.onnx")).unwrap();
    let normalization = info.metadata.iter().find(|(k, _)| k == "input_normalization").unwrap();
    assert!(
        normalization.1.starts_with("mean=[0.485, 0.456, 0.406]"),
        "from preprocessor_config.json: {normalization:?}"
    );
}

/// Opt-in where the fixture is absent: `GOHSP_DEIT_TINY_FIXTURE=/path/to/timm_deit_tiny_random` (CI sets it). The
/// fixture's dense DeiT-Tiny and the same model GOHSP-pruned at 30% by the paper spec's pipeline (on a tiny
/// ImageNet-style folder of real images) run in ONNX Runtime with gohsp's logits.
#[test]
fn onnx_runtime_gives_gohsps_logits_for_deit_tiny_dense_and_gohsp_pruned_at_30_percent() {
    let Some(fixture_dir) = std::env::var_os("GOHSP_DEIT_TINY_FIXTURE").map(PathBuf::from) else {
        eprintln!("skipped: set GOHSP_DEIT_TINY_FIXTURE to the timm_deit_tiny_random folder to run this check");
        return;
    };
    let Some(python) = onnx_python() else { return };
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("imagenet");
    common::tiny_imagenet(&root);
    let weights = fixture_dir.join("model.safetensors");
    let results = work.path().join("results");
    let extra = ["model.heads=3", "report.plots=[]", "export.formats=[onnx]"];
    let sets = common::deit_tiny_micro_sets(&root, &weights, &extra);
    let mut args = vec!["run", "experiments/deit_tiny_30.yaml", "--device", "cpu"];
    sets.iter().for_each(|s| args.extend(["--set", s.as_str()]));
    gohsp(&results, &args).ok();
    let shape = VitShape::uniform(224, 16, 3, 1000, 192, 12, 3, 4.0);
    let cases = exported_cases(work.path(), &results, "deit_tiny_30", &weights, &shape, &[2]);
    check_in_onnx_runtime(&python, &cases);
    let metadata = read_onnx(&cases[1].join("model.onnx")).unwrap().metadata;
    let normalization = &metadata.iter().find(|(k, _)| k == "input_normalization").unwrap().1;
    assert!(normalization.contains("0.485"), "ImageNet statistics from the dataset: {normalization}");
}

/// Opt-in (about 2 minutes): `cargo test --release --test onnx_export -- --ignored` (CI runs it). The quickstart as
/// the README runs it, whose spec exports its dense and pruned models; both run in ONNX Runtime with gohsp's logits at
/// batch sizes 1 and 7.
#[test]
#[ignore = "runs the whole quickstart (about 2 minutes on 2 cores)"]
fn onnx_runtime_gives_gohsps_logits_for_the_quickstarts_models() {
    let Some(python) = onnx_python() else { return };
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    gohsp(&results, &["run", "experiments/quickstart.yaml"]).ok();
    let shape = VitShape::uniform(28, 7, 1, 10, 96, 6, 4, 2.0);
    let dense = common::entries_of(&results, "pretrain")[0].join("model.safetensors");
    let cases = exported_cases(work.path(), &results, "quickstart", &dense, &shape, &[1, 7]);
    assert_eq!(cases.len(), 4, "dense and pruned, at two batch sizes");
    check_in_onnx_runtime(&python, &cases);
}

/// One case per exported model of experiment `name` and batch size: the file, a seeded input, and `gohsp predict`'s
/// logits from the checkpoint it came from (`dense` for the dense row, the run's one fine-tuned model otherwise).
fn exported_cases(
    work: &Path,
    results: &Path,
    name: &str,
    dense: &Path,
    shape: &VitShape,
    batches: &[usize],
) -> Vec<PathBuf> {
    let exported = results.join(name).join("export");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&exported).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 2, "the dense and the pruned model: {files:?}");
    let mut cases = Vec::new();
    for onnx in &files {
        let stem = onnx.file_stem().unwrap().to_str().unwrap();
        let model = if stem.starts_with("dense") { dense.to_path_buf() } else { finetuned_model(results) };
        for &batch in batches {
            let dir = work.join(format!("{stem}_b{batch}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(onnx, dir.join("model.onnx")).unwrap();
            let mut input = NamedTensors::new();
            input.insert("input".into(), random_input(shape, batch, 40 + batch as u64));
            save_tensors(&input, &[], &dir.join("input.safetensors")).unwrap();
            let (input, logits) = (dir.join("input.safetensors"), dir.join("logits.safetensors"));
            let (model, input, logits) = (model.to_str().unwrap(), input.to_str().unwrap(), logits.to_str().unwrap());
            gohsp(results, &["predict", "--weights", model, "--input", input, "--out", logits]).ok();
            cases.push(dir);
        }
    }
    cases
}

/// The one fine-tuned model of a run's cache.
fn finetuned_model(results: &Path) -> PathBuf {
    let entries = common::entries_of(results, "finetune");
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].join("model.safetensors")
}

#[test]
fn a_spec_with_export_formats_writes_every_model_beside_the_report_and_caches_it() {
    let results = results_root();
    let run = ["run", MICRO, "--set", "export.formats=[onnx]"];
    gohsp(results.path(), &run).ok();
    let exported = results.path().join("micro/export");
    let mut names: Vec<String> =
        std::fs::read_dir(&exported).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["dense.onnx", "gohsp.onnx"]);
    let dense = read_onnx(&exported.join("dense.onnx")).unwrap();
    let pruned = read_onnx(&exported.join("gohsp.onnx")).unwrap();
    assert!(pruned.metadata.iter().any(|(k, v)| k == MANIFEST_KEY && v.contains("kept_heads")), "pruned manifest");
    assert!(dense.metadata.iter().any(|(k, v)| k == "input_normalization" && v.starts_with("mean=[")));
    let again = gohsp(results.path(), &run);
    again.ok();
    assert!(common::labels_with(&again.stderr, "ran").is_empty(), "{}", again.stderr);
    assert!(exported.join("gohsp.onnx").is_file(), "republished from the cache");
    let sweep = gohsp(results.path(), &["run", MICRO, "--set", "export.formats=[onnx]", "--set", "sparsity=[0.3,0.5]"]);
    sweep.ok();
    let mut names: Vec<String> =
        std::fs::read_dir(&exported).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["dense.onnx", "gohsp_sparsity-0.3.onnx", "gohsp_sparsity-0.5.onnx"]);
    let typo = gohsp(results.path(), &["plan", MICRO, "--set", "export.formats=[onx]"]);
    typo.expect_code(2);
    assert!(typo.stderr.contains("export.formats") && typo.stderr.contains("`onnx`"), "{}", typo.stderr);
}

#[test]
fn bad_export_input_exits_2_naming_it_and_leaves_no_file() {
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    let out = work.path().join("model.onnx");
    let out_arg = out.to_str().unwrap();
    let unknown = gohsp(&results, &["export", "--weights", "w.safetensors", "--format", "tflite", "--out", out_arg]);
    unknown.expect_code(2);
    assert!(unknown.stderr.contains("tflite") && unknown.stderr.contains("onnx"), "{}", unknown.stderr);
    let missing = gohsp(&results, &["export", "--weights", "absent.safetensors", "--out", out_arg]);
    missing.expect_code(2);
    assert!(missing.stderr.contains("absent.safetensors"), "{}", missing.stderr);
    let corrupt = work.path().join("corrupt.safetensors");
    std::fs::write(&corrupt, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json").unwrap();
    let bad = gohsp(&results, &["export", "--weights", corrupt.to_str().unwrap(), "--out", out_arg]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("corrupt.safetensors"), "{}", bad.stderr);
    let timm = fixture("timm_vit_micro/model.safetensors");
    let channels =
        ["export", "--weights", timm.to_str().unwrap(), "--heads", "3", "--out", out_arg, "--mean", "0.5,0.5,0.5"];
    let wrong = gohsp(&results, &[&channels[..], &["--std", "0.2,0.2,0.2"]].concat());
    wrong.expect_code(2);
    assert!(wrong.stderr.contains("1-channel"), "{}", wrong.stderr);
    assert!(!out.exists(), "no export wrote a file");
    let not_onnx = gohsp(&results, &["inspect", "--weights", corrupt.with_extension("onnx").to_str().unwrap()]);
    not_onnx.expect_code(2);
    std::fs::copy(&corrupt, corrupt.with_extension("onnx")).unwrap();
    let not_onnx = gohsp(&results, &["inspect", "--weights", corrupt.with_extension("onnx").to_str().unwrap()]);
    not_onnx.expect_code(2);
    assert!(not_onnx.stderr.contains("not an ONNX model"), "{}", not_onnx.stderr);
    let nowhere = work.path().join("no/such/folder/model.onnx");
    let unwritable = gohsp(
        &results,
        &["export", "--weights", timm.to_str().unwrap(), "--heads", "3", "--out", nowhere.to_str().unwrap()],
    );
    unwritable.expect_code(1);
    let error_lines: Vec<&str> = unwritable.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "{}", unwritable.stderr);
    assert!(error_lines[0].contains("no/such/folder/model.onnx"), "{}", unwritable.stderr);
    assert!(!work.path().join("no").exists());
    let leftovers: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
