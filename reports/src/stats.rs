//! Means with 95% confidence intervals over seeds, and paired comparisons between policies.

/// Two-sided 97.5% quantiles of Student's t for 1..=30 degrees of freedom.
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
    2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/// The t quantile for a 95% two-sided interval with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T975[df - 1],
        // Beyond the table the quantile falls from 2.042 towards 1.960 roughly as 1/df.
        _ => 1.960 + 2.46 / df as f64,
    }
}

/// A mean and its 95% confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Values.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Half-width of the Student-t 95% interval (0 with one value: no interval can be given).
    pub half_width: f64,
    /// The interval's ends: Student's t, or the bootstrap's when t would cross zero for values
    /// that cannot be negative.
    low: f64,
    high: f64,
}

/// Bootstrap resamples behind an interval of non-negative values.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

impl Estimate {
    /// The estimate of `values` (`None` when empty).
    pub fn of(values: &[f64]) -> Option<Estimate> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let half_width = if n < 2 {
            0.0
        } else {
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            t975(n - 1) * (var / n as f64).sqrt()
        };
        let (mut low, mut high) = (mean - half_width, mean + half_width);
        // A metric that cannot be negative (a wait, a count, a share) gets no interval below
        // zero: where Student's t would cross it (skewed values, few seeds), a percentile
        // bootstrap of the mean, seeded from the values so the report stays a function of them.
        if low < 0.0 && values.iter().all(|&v| v >= 0.0) {
            (low, high) = bootstrap(values);
        }
        Some(Estimate {
            n,
            mean,
            half_width,
            low,
            high,
        })
    }

    /// Lower end of the interval.
    pub fn low(&self) -> f64 {
        self.low
    }

    /// Upper end of the interval.
    pub fn high(&self) -> f64 {
        self.high
    }

    /// True when the interval is Student's t, symmetric about the mean (`mean ± half_width`).
    pub fn is_symmetric(&self) -> bool {
        self.low == self.mean - self.half_width && self.high == self.mean + self.half_width
    }

    /// The estimate for people: `mean ± half-width`, `mean [low – high]` for a bootstrap
    /// interval, the mean alone without an interval; numbers through `fmt`.
    pub fn text(&self, fmt: impl Fn(f64) -> String) -> String {
        if self.half_width == 0.0 {
            fmt(self.mean)
        } else if self.is_symmetric() {
            format!("{} ± {}", fmt(self.mean), fmt(self.half_width))
        } else {
            format!("{} [{} – {}]", fmt(self.mean), fmt(self.low), fmt(self.high))
        }
    }
}

/// The 2.5% and 97.5% percentiles of the means of [`BOOTSTRAP_RESAMPLES`] resamples of
/// `values` with replacement, drawn with SplitMix64 seeded from the values' bits.
fn bootstrap(values: &[f64]) -> (f64, f64) {
    let mut seed = packing::hash::Fnv1a::new();
    for v in values {
        seed.write(&v.to_bits().to_le_bytes());
    }
    let mut rng = packing::hash::SplitMix64::new(seed.finish());
    let n = values.len() as u64;
    let mut means: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| (0..n).map(|_| values[rng.below(n) as usize]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * BOOTSTRAP_RESAMPLES as f64) as usize).min(BOOTSTRAP_RESAMPLES - 1)];
    (at(0.025), at(0.975))
}

/// Whether two policies' values, paired by seed, differ at the 95% level: the interval of the
/// mean paired difference excludes zero. One pair tells nothing; with two or more, differences
/// that are all equal are distinguishable exactly when they are not zero.
pub fn distinguishable(a: &[f64], b: &[f64]) -> bool {
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    match Estimate::of(&diffs) {
        Some(e) if e.n >= 2 => {
            if e.half_width == 0.0 {
                // Every seed gave the same difference: distinguishable iff it is not zero.
                e.mean != 0.0
            } else {
                // The paired t-test: differences may be of either sign, so Student's interval
                // (never the bootstrap that non-negative values get).
                e.mean - e.half_width > 0.0 || e.mean + e.half_width < 0.0
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_of_known_values() {
        // mean 2, sample sd 1, n 3: half width t(2) * 1/sqrt(3) = 4.303 / 1.732 = 2.4843
        let e = Estimate::of(&[1.0, 2.0, 3.0]).unwrap();
        assert!((e.mean - 2.0).abs() < 1e-12);
        assert!((e.half_width - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        assert_eq!(Estimate::of(&[5.0]).unwrap().half_width, 0.0);
        assert!(Estimate::of(&[]).is_none());
    }

    #[test]
    fn intervals_of_non_negative_values_stay_non_negative() {
        // Skewed waits over five seeds: Student's t goes below zero (mean 2.4, half-width 5.3).
        let waits = [0.0, 0.0, 0.0, 0.5, 11.5];
        let e = Estimate::of(&waits).unwrap();
        assert!(e.mean - e.half_width < 0.0);
        assert!(
            e.low() >= 0.0 && e.low() <= e.mean && e.high() >= e.mean && e.high() <= 11.5,
            "{e:?}"
        );
        assert!(!e.is_symmetric());
        assert_eq!(
            Estimate::of(&waits),
            Some(e),
            "seeded: the same interval every time"
        );
        // Values that may be negative keep Student's t.
        let e = Estimate::of(&[-1.0, 0.5, 2.0]).unwrap();
        assert!(e.is_symmetric());
    }

    #[test]
    fn paired_differences_decide_distinguishability() {
        // Always 1 better on each seed, though the seeds vary a lot: distinguishable.
        assert!(distinguishable(&[10.0, 20.0, 30.0], &[9.0, 19.0, 29.0]));
        // Differences of +1 and -1: no.
        assert!(!distinguishable(&[10.0, 20.0], &[9.0, 21.0]));
        // Identical: no. One seed: no.
        assert!(!distinguishable(&[1.0, 2.0], &[1.0, 2.0]));
        assert!(!distinguishable(&[1.0], &[0.0]));
    }
}
