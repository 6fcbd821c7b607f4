//! `dataset.holdout`: a seeded, fixed part of the training set set aside to evaluate on while choosing
//! hyperparameters, so that the test split is never used for selection.

use super::dataset::{Dataset, Splits, Subset};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::sync::Arc;

/// With `fraction` > 0: train on the training set minus a seeded `fraction` of it, and evaluate on that part instead
/// of the test split (at least one sample each side). With 0 the splits are returned unchanged.
pub(crate) fn hold_out(splits: Splits, fraction: f64) -> Splits {
    let n = splits.train.len();
    if fraction <= 0.0 || n < 2 {
        return splits;
    }
    let held = ((n as f64 * fraction).round() as usize).clamp(1, n - 1);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(0x686f_6c64));
    let (mut held_out, mut rest) = (order[..held].to_vec(), order[held..].to_vec());
    held_out.sort_unstable();
    rest.sort_unstable();
    let part = |indices: Vec<usize>, name: &str| -> Arc<dyn Dataset> {
        Arc::new(Subset::new(splits.train.clone(), indices, format!("holdout={fraction}:{name}")))
    };
    Splits { train: part(rest, "train"), test: part(held_out, "eval") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::mnist5k::load_mnist5k;
    use std::collections::BTreeSet;

    #[test]
    fn the_held_out_part_comes_from_the_training_set_and_never_overlaps_it() {
        let splits = load_mnist5k().unwrap();
        let (train, test) = (splits.train.clone(), splits.test.clone());
        let held = hold_out(Splits { train: train.clone(), test }, 0.1);
        assert_eq!((held.train.len(), held.test.len()), (train.len() - 400, 400));
        let image = |set: &Arc<dyn Dataset>, i: usize| set.get(i).unwrap().0.pixels;
        let eval_images: BTreeSet<Vec<u32>> =
            (0..held.test.len()).map(|i| image(&held.test, i).iter().map(|p| p.to_bits()).collect()).collect();
        let train_images: BTreeSet<Vec<u32>> =
            (0..train.len()).map(|i| image(&train, i).iter().map(|p| p.to_bits()).collect()).collect();
        assert!(eval_images.is_subset(&train_images), "the held-out part is training data");
        let overlap = (0..held.train.len())
            .filter(|&i| eval_images.contains(&image(&held.train, i).iter().map(|p| p.to_bits()).collect::<Vec<_>>()))
            .count();
        assert_eq!(overlap, 0, "no held-out image is trained on");
        let labels: BTreeSet<usize> = (0..held.test.len()).map(|i| held.test.get(i).unwrap().1).collect();
        assert_eq!(labels.len(), 10, "the held-out part mixes every class");
        assert_ne!(held.train.fingerprint(), train.fingerprint());
        assert_ne!(held.test.fingerprint(), held.train.fingerprint());
        let again = hold_out(load_mnist5k().unwrap(), 0.1);
        assert_eq!(again.test.get(17).unwrap(), held.test.get(17).unwrap(), "the split is fixed");
    }

    #[test]
    fn no_holdout_leaves_the_splits_alone() {
        let splits = load_mnist5k().unwrap();
        let fingerprints = (splits.train.fingerprint(), splits.test.fingerprint());
        let same = hold_out(splits, 0.0);
        assert_eq!((same.train.fingerprint(), same.test.fingerprint()), fingerprints);
    }
}
