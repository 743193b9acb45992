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
    /// Half-width of the 95% interval (0 with one value: no interval can be given).
    pub half_width: f64,
}

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
        Some(Estimate { n, mean, half_width })
    }

    /// Lower end of the interval.
    pub fn low(&self) -> f64 {
        self.mean - self.half_width
    }

    /// Upper end of the interval.
    pub fn high(&self) -> f64 {
        self.mean + self.half_width
    }
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
                e.low() > 0.0 || e.high() < 0.0
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
