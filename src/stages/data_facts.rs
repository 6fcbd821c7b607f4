//! A dataset's planning facts (its info, and the fingerprint in every cache key): from the fingerprint cache while
//! the metadata of its sources is unchanged, else by opening it; and the check that the data opened for a run still
//! has the facts it was planned with, so that a stale cache value never becomes a wrong key.

use crate::data::dataset::{DatasetInfo, Splits};
use crate::data::open::{DatasetRequest, open_splits};
use crate::data::sources::{Source, dataset_sources};
use crate::error::{GohspError, Result};
use crate::experiment::types::DatasetSpec;
use crate::pipeline::file_stamp::FileStamp;
use crate::pipeline::fingerprint_cache::FingerprintCache;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// What planning needs of a dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataFacts {
    /// The training split's facts (classes, channels, native size, statistics).
    pub info: DatasetInfo,
    /// The stable identity of the data as the model sees it: part of every cache key.
    pub fingerprint: String,
}

impl DataFacts {
    /// The facts of opened splits, as read with `dataset`'s augmentation at model side `side`.
    pub(crate) fn of(splits: &Splits, dataset: &DatasetSpec, side: usize) -> Self {
        let fingerprint = format!(
            "train={};test={};augment={};side={}",
            splits.train.fingerprint(),
            splits.test.fingerprint(),
            dataset.augment,
            side
        );
        Self { info: splits.train.info().clone(), fingerprint }
    }
}

/// The facts, with the splits when they had to be opened for them.
pub(crate) struct Resolved {
    /// The dataset's facts.
    pub facts: DataFacts,
    /// The opened splits (`None` when the facts came from the cache).
    pub splits: Option<Splits>,
}

/// The facts of `dataset` at model side `side`: remembered in `cache` while its sources' stamps are unchanged, else
/// computed by opening it (and remembered when its sources are settled).
pub(crate) fn resolve_facts(dataset: &DatasetSpec, side: usize, cache: Option<&FingerprintCache>) -> Result<Resolved> {
    let key = cache_key(dataset, side);
    let read_at = SystemTime::now();
    let stamps = cache.and_then(|_| source_stamps(dataset));
    if let (Some(cache), Some(stamps)) = (cache, &stamps)
        && let Some(facts) = cache.dataset(&key, stamps).and_then(|value| serde_json::from_value(value).ok())
    {
        tracing::debug!(dataset = %dataset.name, "dataset fingerprint from the cache (sources unchanged)");
        return Ok(Resolved { facts, splits: None });
    }
    let splits = open_splits(&dataset_request(dataset), side)?;
    let facts = DataFacts::of(&splits, dataset, side);
    if let (Some(cache), Some(stamps)) = (cache, stamps) {
        cache.record_dataset(&key, stamps, serde_json::to_value(&facts).expect("plain data serialises"), read_at);
    }
    Ok(Resolved { facts, splits: Some(splits) })
}

/// Opens `dataset` for a run and checks that it still has the facts it was planned with; when not, the cache value is
/// dropped and the run stops before anything is stored under a key that does not describe the data.
pub(crate) fn load_checked(
    dataset: &DatasetSpec,
    side: usize,
    planned: &DataFacts,
    cache: Option<&FingerprintCache>,
) -> Result<Splits> {
    let splits = open_splits(&dataset_request(dataset), side)?;
    let found = DataFacts::of(&splits, dataset, side);
    if &found == planned {
        return Ok(splits);
    }
    if let Some(cache) = cache {
        cache.forget_dataset(&cache_key(dataset, side));
        cache.save_or_warn();
    }
    let message = format!(
        "dataset `{}` changed after it was planned (fingerprint {} when planned, {} now)",
        dataset.name, planned.fingerprint, found.fingerprint
    );
    let place = dataset.root.clone().unwrap_or_else(|| dataset.name.clone().into());
    Err(GohspError::input(place, message, "run the command again: the stale fingerprint was dropped from the cache"))
}

/// The cache key of a dataset's facts: everything they depend on besides the data (every dataset key and the side).
fn cache_key(dataset: &DatasetSpec, side: usize) -> String {
    format!("{}|side={side}", serde_json::to_string(dataset).expect("plain data serialises"))
}

/// The stamps of the dataset's sources, or `None` when they cannot all be found (opening reports why).
fn source_stamps(dataset: &DatasetSpec) -> Option<Vec<FileStamp>> {
    let sources = dataset_sources(&dataset_request(dataset)).ok()?;
    sources
        .iter()
        .map(|source| match source {
            Source::Path(path) => FileStamp::of(path).ok(),
            Source::Embedded(name, bytes) => Some(FileStamp::embedded(name, bytes)),
        })
        .collect()
}

/// data/'s request for the dataset a spec names.
pub(crate) fn dataset_request(dataset: &DatasetSpec) -> DatasetRequest {
    DatasetRequest {
        name: dataset.name.clone(),
        root: dataset.root.clone(),
        limit: dataset.limit,
        test_limit: dataset.test_limit,
        holdout: dataset.holdout,
    }
}

#[cfg(test)]
#[path = "data_facts_tests.rs"]
mod tests;
