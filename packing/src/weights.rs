//! Per-dimension weights: how much each resource counts in a policy's sizes and scores.

use crate::{Error, Schema};

/// One non-negative, finite weight per dimension, not all zero.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    values: Vec<f64>,
    /// `values` divided by their sum, precomputed for scores.
    normalised: Vec<f64>,
}

impl Weights {
    /// Weights from one value per dimension, validated.
    pub fn new(values: Vec<f64>) -> Result<Weights, Error> {
        if let Some(&bad) = values.iter().find(|w| !w.is_finite() || **w < 0.0) {
            return Err(Error::Weight(format!(
                "weight {bad} is not a finite non-negative number"
            )));
        }
        let sum: f64 = values.iter().sum();
        if sum <= 0.0 {
            return Err(Error::Weight("at least one weight must be above zero".into()));
        }
        let normalised = values.iter().map(|w| w / sum).collect();
        Ok(Weights { values, normalised })
    }

    /// Weight 1 on every one of `dims` dimensions.
    pub fn uniform(dims: usize) -> Weights {
        Weights::new(vec![1.0; dims.max(1)]).expect("uniform weights are valid")
    }

    /// Weight 1 on the named dimensions that the schema has and 0 elsewhere; `None` if it has none.
    pub fn on(schema: &Schema, names: &[&str]) -> Option<Weights> {
        let values: Vec<f64> = schema
            .dims()
            .iter()
            .map(|d| f64::from(u8::from(names.contains(&d.name()))))
            .collect();
        Weights::new(values).ok()
    }

    /// Parses `cpus=1,mem=1.5`: dimensions not named get weight 0.
    pub fn parse(schema: &Schema, text: &str) -> Result<Weights, Error> {
        let mut values = vec![0.0; schema.len()];
        let mut seen = vec![false; schema.len()];
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, value)) = part.split_once('=') else {
                return Err(Error::Weight(format!("`{part}` is not of the form name=number")));
            };
            let (name, value) = (name.trim(), value.trim());
            let d = schema.index_of(name).ok_or_else(|| {
                Error::Weight(format!(
                    "`{name}` is not a dimension (the dimensions are {})",
                    schema.names()
                ))
            })?;
            if std::mem::replace(&mut seen[d], true) {
                return Err(Error::Weight(format!("`{name}` is weighted twice")));
            }
            values[d] = value
                .parse::<f64>()
                .map_err(|_| Error::Weight(format!("`{value}` (for {name}) is not a number")))?;
        }
        if !seen.contains(&true) {
            return Err(Error::Weight(format!(
                "no weights given in `{text}` (write e.g. {}=1)",
                schema.dim(0).name()
            )));
        }
        Weights::new(values)
    }

    /// The weights in dimension order.
    #[inline]
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The weights divided by their sum (they add up to 1).
    #[inline]
    pub fn normalised(&self) -> &[f64] {
        &self.normalised
    }

    /// Number of dimensions.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Always false: weights cover at least one dimension.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The weights as `cpus=1,mem=1`, naming only dimensions with a non-zero weight.
    pub fn describe(&self, schema: &Schema) -> String {
        let parts: Vec<String> = schema
            .dims()
            .iter()
            .zip(&self.values)
            .filter(|(_, w)| **w != 0.0)
            .map(|(d, w)| format!("{}={w}", d.name()))
            .collect();
        parts.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::uniform(&["cpus", "mem", "disk"], 3).unwrap()
    }

    #[test]
    fn parses_named_weights_and_zeroes_the_rest() {
        let w = Weights::parse(&schema(), "cpus=4, mem=1.5").unwrap();
        assert_eq!(w.values(), &[4.0, 1.5, 0.0]);
        assert_eq!(w.describe(&schema()), "cpus=4,mem=1.5");
        let total: f64 = w.normalised().iter().sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rejects_invalid_weights() {
        let s = schema();
        for bad in [
            "gpus=1",
            "cpus=-1",
            "cpus=inf",
            "cpus=NaN",
            "cpus=0,mem=0",
            "cpus",
            "cpus=x",
            "cpus=1,cpus=2",
            "",
        ] {
            assert!(Weights::parse(&s, bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Weights::new(vec![]).is_err());
    }

    #[test]
    fn weights_on_named_dimensions() {
        let w = Weights::on(&schema(), &["cpus", "mem", "gpus"]).unwrap();
        assert_eq!(w.values(), &[1.0, 1.0, 0.0]);
        assert!(Weights::on(&schema(), &["gpus"]).is_none());
    }
}
