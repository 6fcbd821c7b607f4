//! Averages tidy metrics rows over seeds: one row per (model, dataset, method, target sparsity, latency batch).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::report::metrics::MetricsRow;

/// The seed-averaged metrics of one method at one target sparsity and latency batch size.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct AggregatedRow {
    /// Model preset or name.
    pub model: String,
    /// Dataset name.
    pub dataset: String,
    /// Pruning method (`dense` for the unpruned model).
    pub method: String,
    /// Requested fraction of the dense parameters to remove.
    pub target_sparsity: f64,
    /// Batch size of the latency measurement.
    pub latency_batch: usize,
    /// Number of distinct seeds averaged.
    pub n_seeds: usize,
    /// Mean top-1 accuracy in percent.
    pub top1_mean: f64,
    /// Sample standard deviation of top-1 over seeds (None with one seed).
    pub top1_std: Option<f64>,
    /// Mean top-5 accuracy over the seeds that report it.
    pub top5_mean: Option<f64>,
    /// Mean top-1 before fine-tuning, when the rows carry it.
    pub one_shot_mean: Option<f64>,
    /// Mean achieved sparsity (fraction).
    pub achieved_sparsity: f64,
    /// Mean parameter count.
    pub params: f64,
    /// Mean multiply-accumulates per image.
    pub macs: f64,
    /// Mean parameter count of the dense model.
    pub dense_params: f64,
    /// Mean multiply-accumulates per image of the dense model.
    pub dense_macs: f64,
    /// Mean top-1 of the dense model over the same seeds, in percent.
    pub dense_top1: f64,
    /// Mean median latency in milliseconds.
    pub latency_ms: f64,
    /// Mean dense latency in milliseconds.
    pub dense_latency_ms: f64,
    /// Mean speedup over the dense model.
    pub speedup: f64,
    /// Mean throughput in images per second.
    pub throughput_ips: f64,
    /// Mean thread count of the latency measurements.
    pub threads: f64,
}

/// Group `rows` by (model, dataset, method, target sparsity, latency batch) and average over seeds.
///
/// Groups come out in the order of their first row. A seed reported twice in one group (say, the dense
/// model listed by two runs) counts once: its first row is kept.
pub(crate) fn aggregate(rows: &[MetricsRow]) -> Vec<AggregatedRow> {
    let mut groups: Vec<Vec<&MetricsRow>> = Vec::new();
    for row in rows {
        match groups.iter_mut().find(|group| same_group(group[0], row)) {
            Some(group) if group.iter().any(|r| r.seed == row.seed) => {}
            Some(group) => group.push(row),
            None => groups.push(vec![row]),
        }
    }
    groups.iter().map(|group| average(group)).collect()
}

/// Whether two rows belong to the same aggregation group.
fn same_group(a: &MetricsRow, b: &MetricsRow) -> bool {
    a.model == b.model
        && a.dataset == b.dataset
        && a.method == b.method
        && a.target_sparsity.to_bits() == b.target_sparsity.to_bits()
        && a.latency_batch == b.latency_batch
}

/// Average one non-empty group of rows with distinct seeds.
fn average(group: &[&MetricsRow]) -> AggregatedRow {
    let first = group[0];
    let mean_of = |value: fn(&MetricsRow) -> f64| mean(&group.iter().map(|r| value(r)).collect::<Vec<_>>());
    let top1: Vec<f64> = group.iter().map(|r| r.top1).collect();
    let top5: Vec<f64> = group.iter().filter_map(|r| r.top5).collect();
    let one_shot: Vec<f64> = group.iter().filter_map(|r| r.one_shot_top1).collect();
    AggregatedRow {
        model: first.model.clone(),
        dataset: first.dataset.clone(),
        method: first.method.clone(),
        target_sparsity: first.target_sparsity,
        latency_batch: first.latency_batch,
        n_seeds: group.iter().map(|r| r.seed).collect::<BTreeSet<_>>().len(),
        top1_mean: mean(&top1),
        top1_std: sample_std(&top1),
        top5_mean: (!top5.is_empty()).then(|| mean(&top5)),
        one_shot_mean: (!one_shot.is_empty()).then(|| mean(&one_shot)),
        achieved_sparsity: mean_of(|r| r.achieved_sparsity),
        params: mean_of(|r| r.params as f64),
        macs: mean_of(|r| r.macs as f64),
        dense_params: mean_of(|r| r.dense_params as f64),
        dense_macs: mean_of(|r| r.dense_macs as f64),
        dense_top1: mean_of(|r| r.dense_top1),
        latency_ms: mean_of(|r| r.latency_ms),
        dense_latency_ms: mean_of(|r| r.dense_latency_ms),
        speedup: mean_of(|r| r.speedup),
        throughput_ips: mean_of(|r| r.throughput_ips),
        threads: mean_of(|r| r.threads as f64),
    }
}

/// Arithmetic mean of a non-empty slice.
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample standard deviation (n - 1 in the denominator); None for fewer than two values.
fn sample_std(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values);
    let squares: f64 = values.iter().map(|v| (v - m).powi(2)).sum();
    Some((squares / (values.len() - 1) as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::metrics::sample_row;

    #[test]
    fn averages_over_seeds_with_sample_std() {
        let mut rows: Vec<MetricsRow> = (0..3).map(|seed| sample_row("gohsp", 0.3, seed, 1)).collect();
        [80.0, 82.0, 84.0].iter().zip(&mut rows).for_each(|(top1, row)| row.top1 = *top1);
        [700_000, 700_000, 700_003].iter().zip(&mut rows).for_each(|(params, row)| row.params = *params);
        let out = aggregate(&rows);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].n_seeds, out[0].top1_mean, out[0].top1_std), (3, 82.0, Some(2.0)));
        assert_eq!(out[0].params, 700_001.0);
        assert!((out[0].dense_top1 - 90.1).abs() < 1e-12);
    }

    #[test]
    fn one_seed_has_no_std_and_groups_split_by_key() {
        let rows = vec![
            sample_row("gohsp", 0.3, 0, 1),
            sample_row("gohsp", 0.3, 0, 64),
            sample_row("gohsp", 0.5, 0, 1),
            sample_row("random", 0.3, 0, 1),
            sample_row("gohsp", 0.3, 0, 1),
        ];
        let out = aggregate(&rows);
        assert_eq!(out.len(), 4);
        assert!(out.iter().all(|r| r.n_seeds == 1 && r.top1_std.is_none()));
        assert_eq!((out[1].latency_batch, out[2].target_sparsity, out[3].method.as_str()), (64, 0.5, "random"));
    }

    #[test]
    fn top5_mean_uses_the_seeds_that_report_it() {
        let mut rows: Vec<MetricsRow> = (0..2).map(|seed| sample_row("taylor", 0.4, seed, 1)).collect();
        rows[0].top5 = Some(95.0);
        assert_eq!(aggregate(&rows)[0].top5_mean, Some(95.0));
        rows[0].top5 = None;
        assert_eq!(aggregate(&rows)[0].top5_mean, None);
    }
}
