//! Parity with peer implementations: our forward pass on timm's and Hugging Face's random-weight fixtures.

use burn::tensor::{Device, Tensor};
use gohsp::model::host::HostTensor;
use gohsp::model::io::{load_vit, read_checkpoint};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn max_abs_diff(a: &HostTensor, b: &HostTensor) -> f32 {
    assert_eq!(a.shape, b.shape);
    a.data.iter().zip(&b.data).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn check_logits_and_maps(dir: &Path, heads: usize, check_maps: bool) {
    let device = Device::flex();
    let (model, _) = load_vit(&dir.join("model.safetensors"), Some(heads), &device).unwrap();
    let expected = read_checkpoint(&dir.join("expected.safetensors")).unwrap().tensors;
    let input: Tensor<4> = expected["input"].to_tensor(&device);
    let (logits, traces) = model.forward_traced(input, true);
    let logits_diff = max_abs_diff(&HostTensor::from_tensor(logits), &expected["logits"]);
    assert!(logits_diff < 1e-4, "{}: logits differ by {logits_diff}", dir.display());
    if check_maps {
        for (i, trace) in traces.into_iter().enumerate() {
            let diff = max_abs_diff(&HostTensor::from_tensor(trace.attention), &expected[&format!("attn.{i}")]);
            assert!(diff < 1e-5, "block {i}: attention maps differ by {diff}");
        }
    }
}

#[test]
fn timm_micro_logits_and_attention_maps_match() {
    check_logits_and_maps(&fixture("timm_vit_micro"), 3, true);
}

#[test]
fn hugging_face_micro_logits_match() {
    check_logits_and_maps(&fixture("hf_vit_micro"), 4, false);
}

/// Opt-in: `GOHSP_DEIT_TINY_FIXTURE=/path/to/timm_deit_tiny_random cargo test --release --test parity -- --ignored`.
#[test]
#[ignore = "needs GOHSP_DEIT_TINY_FIXTURE: the timm_deit_tiny_random folder (not in the repository)"]
fn deit_tiny_logits_match_the_fixture() {
    let dir = std::env::var_os("GOHSP_DEIT_TINY_FIXTURE")
        .expect("set GOHSP_DEIT_TINY_FIXTURE to the timm_deit_tiny_random folder to run this test");
    check_logits_and_maps(Path::new(&dir), 3, true);
}
