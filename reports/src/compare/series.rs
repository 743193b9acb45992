//! The runs' stored time series, read back for the plots, and the curves drawn from them.

use std::path::Path;

use crate::Error;
use crate::plot::Line;
use crate::run::RunResult;
use crate::stats::Estimate;

/// A run's stored series: header and rows of numbers (empty cells are NaN).
pub(crate) struct Series {
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<Vec<f64>>,
}

impl Series {
    pub(crate) fn read(dir: &Path, id: &str) -> Result<(Series, String), Error> {
        let path = dir.join("runs").join(format!("{id}.csv"));
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap_or("")
            .split(',')
            .map(str::to_string)
            .collect();
        let rows = lines
            .map(|l| {
                l.split(',')
                    .map(|v| v.parse::<f64>().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        Ok((Series { header, rows }, text))
    }

    pub(crate) fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    pub(crate) fn points(&self, x: &str, y: &str, scale: f64) -> Vec<(f64, f64)> {
        let (Some(xi), Some(yi)) = (self.col(x), self.col(y)) else {
            return Vec::new();
        };
        self.rows
            .iter()
            .filter(|r| r[xi].is_finite() && r[yi].is_finite())
            .map(|r| (r[xi], r[yi] * scale))
            .collect()
    }
}

/// Points (x, y) of one line.
type Curve = Vec<(f64, f64)>;

/// An interval around a line: (x, low, high).
type Band = Vec<(f64, f64, f64)>;

/// The grid step of averaged curves, in x units (the arrive-only curves' x is arrived demand in
/// % of capacity: every half per cent).
pub(crate) const GRID_STEP: f64 = 0.5;

/// y of the piecewise-linear curve through `points` (in x order) at `x`, inside its x range.
fn interpolate(points: &[(f64, f64)], x: f64) -> f64 {
    let i = points.partition_point(|p| p.0 < x);
    if i == 0 {
        return points[0].1;
    }
    if i == points.len() {
        return points[i - 1].1;
    }
    let (a, b) = (points[i - 1], points[i]);
    if b.0 == a.0 {
        b.1
    } else {
        a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0)
    }
}

/// The mean over seeds of curves y(x) sampled at different x: each curve is interpolated
/// linearly on a common grid (every `step`, from the latest start to the earliest end, so no
/// curve is extrapolated), then averaged point by point. Returns the mean line and its 95%
/// interval `(x, low, high)` (empty with one curve).
pub(crate) fn mean_curve(curves: &[Curve], step: f64) -> (Curve, Band) {
    let curves: Vec<&Vec<(f64, f64)>> = curves.iter().filter(|c| !c.is_empty()).collect();
    let Some(first) = curves.first() else {
        return (Vec::new(), Vec::new());
    };
    if curves.len() == 1 {
        return (first.to_vec(), Vec::new());
    }
    let start = curves.iter().map(|c| c[0].0).fold(f64::NEG_INFINITY, f64::max);
    let end = curves
        .iter()
        .map(|c| c[c.len() - 1].0)
        .fold(f64::INFINITY, f64::min);
    let mut grid = Vec::new();
    let mut k = (start / step).ceil() as i64;
    if (k as f64) * step > start {
        grid.push(start);
    }
    while (k as f64) * step <= end {
        grid.push(k as f64 * step);
        k += 1;
    }
    if grid.last().is_some_and(|&x| x < end) {
        grid.push(end);
    }
    let mut mean = Vec::with_capacity(grid.len());
    let mut band = Vec::with_capacity(grid.len());
    for x in grid {
        let ys: Vec<f64> = curves.iter().map(|c| interpolate(c, x)).collect();
        let e = Estimate::of(&ys).expect("two curves or more");
        mean.push((x, e.mean));
        band.push((x, e.low(), e.high()));
    }
    (mean, band)
}

pub(crate) fn hours(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    points.into_iter().map(|(t, v)| (t / 3600.0, v)).collect()
}

/// Per policy, a line of the mean over its seeds of the curve y(x), with its colour index.
pub(crate) fn curves_by_policy(
    runs: &[RunResult],
    series: &[(usize, Series)],
    x: &str,
    y: &str,
    scale: f64,
) -> Vec<(Line, usize)> {
    let mut out: Vec<(String, usize, Vec<Curve>)> = Vec::new();
    for (r, (c, s)) in runs.iter().zip(series) {
        let pts = s.points(x, y, scale);
        match out.iter_mut().find(|(p, _, _)| p == &r.spec.policy) {
            Some(e) => e.2.push(pts),
            None => out.push((r.spec.policy.clone(), *c, vec![pts])),
        }
    }
    out.into_iter()
        .map(|(name, c, curves)| {
            let (points, band) = mean_curve(&curves, GRID_STEP);
            (
                Line {
                    name,
                    points,
                    dashed: false,
                    band,
                    muted: false,
                },
                c,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_averaged_on_a_common_grid_not_where_their_samples_happen_to_coincide() {
        // Seed A rises straight to 10; seed B jumps to 8 at x = 4 and stays. They share no x but
        // 0 and 10, so averaging at equal x alternated between one seed and the other.
        let a = vec![(0.0, 0.0), (10.0, 10.0)];
        let b = vec![(0.0, 0.0), (4.0, 8.0), (10.0, 8.0)];
        let (mean, band) = mean_curve(&[a, b], 5.0);
        // x = 5: A is 5, B is 8 (flat after 4): 6.5. x = 10: (10 + 8) / 2 = 9.
        assert_eq!(mean, vec![(0.0, 0.0), (5.0, 6.5), (10.0, 9.0)]);
        // Two values 5 and 8: Student's t (half-width 12.706 · 2.1213 / √2 = 19.06) would reach
        // below zero for an allocation that cannot be negative, so the band is the bootstrap's,
        // inside the values' range.
        let (x, low, high) = band[1];
        assert_eq!(x, 5.0);
        assert!(
            (5.0..=6.5).contains(&low) && (6.5..=8.0).contains(&high),
            "{band:?}"
        );
    }

    #[test]
    fn curves_are_not_extrapolated() {
        let a = vec![(0.0, 1.0), (3.0, 1.0)];
        let b = vec![(1.0, 3.0), (7.0, 3.0)];
        let (mean, _) = mean_curve(&[a, b], 2.0);
        // The common range is [1, 3]: 1 (the later start), 2 (on the grid), 3 (the earlier end).
        assert_eq!(mean, vec![(1.0, 2.0), (2.0, 2.0), (3.0, 2.0)]);
    }
}
