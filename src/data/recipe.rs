//! Which transforms each dataset gets for training and for evaluation, given the model's input side.

use super::augment::{PadRandomCrop, RandomHorizontalFlip, RandomResizedCrop, RandomShift};
use super::dataset::DatasetInfo;
use super::resize::{Resize, ResizeCenterCrop};
use super::transform::{Compose, Transform};
use std::sync::Arc;

/// Training transforms: light augmentation suited to the dataset, then a resize to the model's side if needed.
pub fn train_transform(info: &DatasetInfo, model_side: usize, augment: bool) -> Arc<dyn Transform> {
    let mut steps: Vec<Box<dyn Transform>> = Vec::new();
    match info.name.as_str() {
        "imagefolder" => {
            if augment {
                steps.push(Box::new(RandomResizedCrop::new(model_side)));
                steps.push(Box::new(RandomHorizontalFlip { probability: 0.5 }));
            } else {
                steps.push(Box::new(ResizeCenterCrop::new(model_side)));
            }
            return Arc::new(Compose(steps));
        }
        "cifar10" | "cifar100" if augment => {
            steps.push(Box::new(PadRandomCrop { padding: 4 }));
            steps.push(Box::new(RandomHorizontalFlip { probability: 0.5 }));
        }
        _ if augment && info.channels == 1 => steps.push(Box::new(RandomShift { max_shift: 2 })),
        _ => {}
    }
    if info.image_size != model_side {
        steps.push(Box::new(Resize { size: model_side }));
    }
    Arc::new(Compose(steps))
}

/// Evaluation transforms: deterministic resize (and centre crop for photo folders).
pub fn eval_transform(info: &DatasetInfo, model_side: usize) -> Arc<dyn Transform> {
    let steps: Vec<Box<dyn Transform>> = if info.name == "imagefolder" {
        vec![Box::new(ResizeCenterCrop::new(model_side))]
    } else if info.image_size != model_side {
        vec![Box::new(Resize { size: model_side })]
    } else {
        vec![]
    };
    Arc::new(Compose(steps))
}
