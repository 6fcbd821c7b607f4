//! Datasets: the trait, the embedded MNIST 5k, idx, CIFAR and image folders, transforms, batching and fetching.

pub mod augment;
pub mod cifar;
pub mod dataset;
pub mod decode_pool;
pub mod download;
pub mod fetch;
pub mod folder;
pub mod holdout;
pub mod idx;
pub mod loader;
pub mod locate;
pub mod memory;
pub mod mnist5k;
pub mod open;
pub mod recipe;
pub mod resize;
pub mod sources;
pub mod transform;
