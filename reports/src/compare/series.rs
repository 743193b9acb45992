//! The runs' stored time series, read back for the plots, and the curves drawn from them.

use std::collections::BTreeMap;
use std::path::Path;

use crate::Error;
use crate::plot::Line;
use crate::run::RunResult;

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

/// Means of y over runs at equal x (x rounded to 3 decimals), in x order.
pub(crate) fn mean_curve(curves: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
    let mut acc: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
    for c in curves {
        for &(x, y) in c {
            let e = acc.entry((x * 1000.0).round() as i64).or_insert((0.0, 0));
            e.0 += y;
            e.1 += 1;
        }
    }
    acc.into_iter()
        .map(|(x, (s, n))| (x as f64 / 1000.0, s / n as f64))
        .collect()
}

pub(crate) fn hours(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    points.into_iter().map(|(t, v)| (t / 3600.0, v)).collect()
}

/// Points (x, y) of one line.
type Curve = Vec<(f64, f64)>;

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
            (
                Line {
                    name,
                    points: mean_curve(&curves),
                    dashed: false,
                },
                c,
            )
        })
        .collect()
}
