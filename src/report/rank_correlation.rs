//! Rank correlations of two score lists: Spearman's rho (Pearson's r of average ranks) and Kendall's tau-b (tie
//! corrected), as scipy.stats computes them; `None` where a list is constant or too short to correlate.

/// 1-based ranks of `values`, tied values sharing the mean of their ranks.
pub(crate) fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let end = (start..order.len()).find(|&i| values[order[i]] != values[order[start]]).unwrap_or(order.len());
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = mean_rank);
        start = end;
    }
    ranks
}

/// Pearson's r of `x` and `y` (equal lengths); `None` when either has no spread.
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    (vx > 0.0 && vy > 0.0).then(|| cov / (vx * vy).sqrt())
}

/// Spearman's rank correlation of `x` and `y` (equal lengths, at least 2).
pub(crate) fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Kendall's tau-b of `x` and `y` (equal lengths, at least 2): (concordant - discordant) pairs over the geometric mean
/// of the pairs untied in x and untied in y.
pub(crate) fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let (mut score, mut untied_x, mut untied_y) = (0i64, 0i64, 0i64);
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            let (dx, dy) = (sign(x[j] - x[i]), sign(y[j] - y[i]));
            score += dx * dy;
            untied_x += dx.abs();
            untied_y += dy.abs();
        }
    }
    (untied_x > 0 && untied_y > 0).then(|| score as f64 / ((untied_x as f64) * (untied_y as f64)).sqrt())
}

fn sign(v: f64) -> i64 {
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_their_mean_rank() {
        assert_eq!(average_ranks(&[5.0, 6.0, 7.0, 8.0, 7.0]), vec![1.0, 2.0, 3.5, 5.0, 3.5]);
        assert_eq!(average_ranks(&[2.0, 2.0, 2.0]), vec![2.0, 2.0, 2.0]);
    }

    #[test]
    fn correlations_match_hand_computed_values() {
        // x = 1..5, y = [5, 6, 7, 8, 7]. Spearman: ranks of y [1, 2, 3.5, 5, 3.5]; centred products sum to 8, the
        // squares to 10 and 9.5: 8 / sqrt(95). Kendall: 8 concordant pairs, 1 discordant (4, 5), 1 tied in y (3, 5):
        // (8 - 1) / sqrt(10 * 9). scipy.stats gives 0.8207826816681233 and 0.7378647873726218.
        let (x, y) = ([1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 6.0, 7.0, 8.0, 7.0]);
        let rho = spearman(&x, &y).unwrap();
        let tau = kendall_tau_b(&x, &y).unwrap();
        assert!((rho - 8.0 / 95f64.sqrt()).abs() < 1e-12 && (rho - 0.8207826816681233).abs() < 1e-12, "{rho}");
        assert!((tau - 7.0 / 90f64.sqrt()).abs() < 1e-12 && (tau - 0.7378647873726218).abs() < 1e-12, "{tau}");
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[30.0, 20.0, 10.0]), Some(-1.0));
        assert_eq!(kendall_tau_b(&[1.0, 2.0, 3.0], &[30.0, 20.0, 10.0]), Some(-1.0));
        // Kendall counts order only: [0.1, 5, 6] against [1, 2, 3] is perfect, Pearson's r is not.
        assert_eq!(kendall_tau_b(&[0.1, 5.0, 6.0], &[1.0, 2.0, 3.0]), Some(1.0));
    }

    #[test]
    fn constant_or_short_lists_do_not_correlate() {
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
        assert_eq!(kendall_tau_b(&[1.0, 2.0], &[4.0, 4.0]), None);
        assert_eq!(spearman(&[1.0], &[2.0]), None);
        assert_eq!(kendall_tau_b(&[1.0, 2.0], &[1.0]), None);
    }
}
