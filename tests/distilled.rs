//! DeiT's distilled variant: a distillation token and a second head, averaged at evaluation, loaded from timm names.

use burn::tensor::{Device, Distribution, Tensor};
use gohsp::model::host::HostTensor;
use gohsp::model::init::init_tensors;
use gohsp::model::io::{load_vit, save_tensors};
use gohsp::model::shape::VitShape;

fn logits(path: &std::path::Path, input: &Tensor<4>) -> HostTensor {
    let (model, _) = load_vit(path, Some(2), &Device::flex()).unwrap();
    HostTensor::from_tensor(model.forward(input.clone()))
}

#[test]
fn distilled_checkpoints_load_with_their_token_and_average_both_heads() {
    let mut shape = VitShape::uniform(28, 7, 1, 5, 16, 2, 2, 2.0);
    shape.distilled = true;
    let dir = tempfile::tempdir().unwrap();
    let mut tensors = init_tensors(&shape, 3);
    let path = dir.path().join("deit_distilled.safetensors");
    save_tensors(&tensors, &[], &path).unwrap();
    let (model, _) = load_vit(&path, Some(2), &Device::flex()).unwrap();
    assert!(model.shape().distilled, "the dist token marks the file as distilled");
    assert_eq!(model.shape().tokens(), 18);
    let input = Tensor::<4>::random([3, 1, 28, 28], Distribution::Normal(0.0, 1.0), &Device::flex());
    let both = logits(&path, &input);
    // Adding 2 to the distillation head's bias moves every logit by exactly 1: the heads are averaged.
    tensors.get_mut("head_dist.bias").unwrap().data.iter_mut().for_each(|b| *b += 2.0);
    save_tensors(&tensors, &[], &path).unwrap();
    let shifted = logits(&path, &input);
    for (a, b) in both.data.iter().zip(&shifted.data) {
        assert!((b - a - 1.0).abs() < 1e-5, "{a} -> {b}");
    }
}
