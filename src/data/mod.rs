//! Datasets: the trait, the embedded MNIST 5k, idx, CIFAR and image folders, transforms, batching and fetching.

pub(crate) mod augment;
pub(crate) mod cifar;
pub mod dataset;
pub(crate) mod decode_pool;
pub(crate) mod download;
pub(crate) mod fetch;
pub mod folder;
pub(crate) mod holdout;
pub(crate) mod idx;
pub mod loader;
pub(crate) mod locate;
pub(crate) mod memory;
pub mod mnist5k;
pub(crate) mod open;
pub mod recipe;
pub(crate) mod resize;
pub(crate) mod sources;
pub(crate) mod transform;
