//! Resource dimensions, their integer units, and exact conversion to and from text and Mesos scalars.
//!
//! Every resource amount in packsim is a `u64` count of a fixed-point unit. A [`Dim`] names a
//! dimension and says how many decimal places its unit keeps: `cpus` with 3 decimals counts
//! milli-cpus, `mem` with 0 decimals counts MiB. Mesos scalars carry exactly 3 decimals, so a
//! dimension with 3 or more decimals converts Mesos values without loss.

use std::fmt;

use crate::Error;

/// Why a piece of text or a Mesos scalar is not a valid resource amount.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text is empty or only whitespace.
    #[error("is empty")]
    Empty,
    /// The amount is below zero.
    #[error("is negative")]
    Negative,
    /// The text is not a plain decimal number.
    #[error("is not a number")]
    NotANumber,
    /// The amount has more decimal places than the dimension's unit keeps.
    #[error("has more than {max} decimal places")]
    TooPrecise {
        /// Decimal places the dimension keeps.
        max: u8,
    },
    /// The amount does not fit the 64-bit fixed-point unit.
    #[error("is too large (out of range for the dimension's 64-bit unit)")]
    TooLarge,
    /// A number, but not written as a plain decimal (`1e3`).
    #[error("is not a plain decimal (write it out, as in 1000 or 0.001)")]
    NotPlain,
}

/// One resource dimension: its name and the decimal places of its integer unit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dim {
    name: String,
    decimals: u8,
}

impl Dim {
    /// The most decimal places a dimension can keep (nano-units).
    pub const MAX_DECIMALS: u8 = 9;
    /// Decimal places of a Mesos scalar: dimensions with this many convert Mesos values exactly.
    pub const MESOS_DECIMALS: u8 = 3;

    /// A dimension named `name` whose unit is `10^-decimals` of the natural unit.
    ///
    /// Names are non-empty and made of ASCII letters, digits, `_`, `-` and `.`, so that they can
    /// appear unquoted in CSV headers and in `--weights cpus=1,mem=1`.
    pub fn new(name: impl Into<String>, decimals: u8) -> Result<Dim, Error> {
        let name = name.into();
        let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        if name.is_empty() || !name.chars().all(valid_char) {
            return Err(Error::DimensionName(name));
        }
        if decimals > Self::MAX_DECIMALS {
            return Err(Error::DimensionDecimals { name, decimals });
        }
        Ok(Dim { name, decimals })
    }

    /// The dimension's name, as it appears in files and on the command line.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Decimal places of the unit: 3 means values count thousandths.
    pub fn decimals(&self) -> u8 {
        self.decimals
    }

    /// Units per natural unit: `10^decimals`.
    pub fn scale(&self) -> u64 {
        10u64.pow(u32::from(self.decimals))
    }

    /// Parses a plain decimal such as `2048`, `0.5` or ` 1.250 ` into units, exactly.
    ///
    /// Trailing zeros beyond the unit's decimals are accepted; any other extra digit is
    /// [`QuantityError::TooPrecise`], never silently rounded.
    pub fn parse(&self, text: &str) -> Result<u64, QuantityError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(QuantityError::Empty);
        }
        let unsigned = match text.strip_prefix('-') {
            Some(rest) => {
                // "-0" and "-0.000" are zero, not negative.
                return if !rest.is_empty() && rest.bytes().all(|b| b == b'0' || b == b'.') {
                    self.parse(rest)
                } else if self.parse(rest).is_ok() {
                    Err(QuantityError::Negative)
                } else {
                    Err(QuantityError::NotANumber)
                };
            }
            None => text.strip_prefix('+').unwrap_or(text),
        };
        let (whole, frac) = match unsigned.split_once('.') {
            Some((w, f)) => (w, f),
            None => (unsigned, ""),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
            // A number in another notation (`1e30`, `inf`) is named for what it is.
            return Err(match unsigned.parse::<f64>() {
                Ok(v) if v.is_finite() && v * self.scale() as f64 >= (1u64 << 63) as f64 => {
                    QuantityError::TooLarge
                }
                Ok(v) if v.is_finite() => QuantityError::NotPlain,
                Ok(v) if v.is_infinite() => QuantityError::TooLarge,
                _ => QuantityError::NotANumber,
            });
        }
        let keep = usize::from(self.decimals);
        let (kept, dropped) = frac.split_at(frac.len().min(keep));
        if dropped.bytes().any(|b| b != b'0') {
            return Err(QuantityError::TooPrecise { max: self.decimals });
        }
        let mut value: u64 = 0;
        let padding = keep - kept.len();
        for b in whole
            .bytes()
            .chain(kept.bytes())
            .chain(std::iter::repeat_n(b'0', padding))
        {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .ok_or(QuantityError::TooLarge)?;
        }
        Ok(value)
    }

    /// Formats units as the shortest exact decimal: 500 milli-cpus is `0.5`, 2048 MiB is `2048`.
    pub fn format(&self, value: u64) -> String {
        let scale = self.scale();
        let (whole, frac) = (value / scale, value % scale);
        if frac == 0 {
            return whole.to_string();
        }
        let digits = format!("{frac:0width$}", width = usize::from(self.decimals));
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }

    /// The amount in natural units as a float, for scores and plots only.
    pub fn to_natural(&self, value: u64) -> f64 {
        value as f64 / self.scale() as f64
    }

    /// Converts a Mesos scalar to units, the way the Mesos master reads it: rounded to 3 decimals.
    ///
    /// Exact for every dimension with at least 3 decimals; a dimension with fewer decimals rejects
    /// a scalar it cannot hold exactly.
    pub fn from_mesos_scalar(&self, scalar: f64) -> Result<u64, QuantityError> {
        if !scalar.is_finite() {
            return Err(QuantityError::NotANumber);
        }
        let milli = (scalar * 1000.0).round();
        if milli < 0.0 {
            return Err(QuantityError::Negative);
        }
        // 2^63 is exact as an f64; anything at or above it cannot become a u64 count of milli-units.
        if milli >= (1u64 << 63) as f64 {
            return Err(QuantityError::TooLarge);
        }
        let milli = milli as u64;
        let mesos = u32::from(Self::MESOS_DECIMALS);
        let ours = u32::from(self.decimals);
        if ours >= mesos {
            milli
                .checked_mul(10u64.pow(ours - mesos))
                .ok_or(QuantityError::TooLarge)
        } else {
            let divisor = 10u64.pow(mesos - ours);
            if milli % divisor == 0 {
                Ok(milli / divisor)
            } else {
                Err(QuantityError::TooPrecise { max: self.decimals })
            }
        }
    }

    /// Converts units to a Mesos scalar (3 decimals), rounding to the nearest thousandth.
    ///
    /// For dimensions with 3 or fewer decimals this is exact: `from_mesos_scalar` gives the value
    /// back.
    pub fn to_mesos_scalar(&self, value: u64) -> f64 {
        let mesos = u32::from(Self::MESOS_DECIMALS);
        let ours = u32::from(self.decimals);
        let milli = if ours >= mesos {
            let divisor = 10u64.pow(ours - mesos);
            (value + divisor / 2) / divisor
        } else {
            value.saturating_mul(10u64.pow(mesos - ours))
        };
        milli as f64 / 1000.0
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The ordered, named dimensions of a resource vector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Schema {
    dims: Vec<Dim>,
}

impl Schema {
    /// A schema of the given dimensions: at least one, names unique.
    pub fn new(dims: Vec<Dim>) -> Result<Schema, Error> {
        if dims.is_empty() {
            return Err(Error::EmptySchema);
        }
        for (i, dim) in dims.iter().enumerate() {
            if dims[..i].iter().any(|d| d.name == dim.name) {
                return Err(Error::DuplicateDimension(dim.name.clone()));
            }
        }
        Ok(Schema { dims })
    }

    /// A schema of `names`, every dimension with the same number of decimals.
    pub fn uniform<S: AsRef<str>>(names: &[S], decimals: u8) -> Result<Schema, Error> {
        let dims = names
            .iter()
            .map(|n| Dim::new(n.as_ref(), decimals))
            .collect::<Result<Vec<_>, _>>()?;
        Schema::new(dims)
    }

    /// Number of dimensions.
    pub fn len(&self) -> usize {
        self.dims.len()
    }

    /// Always false: a schema has at least one dimension.
    pub fn is_empty(&self) -> bool {
        self.dims.is_empty()
    }

    /// The dimensions, in vector order.
    pub fn dims(&self) -> &[Dim] {
        &self.dims
    }

    /// The dimension at position `index`.
    pub fn dim(&self, index: usize) -> &Dim {
        &self.dims[index]
    }

    /// The position of the dimension called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.dims.iter().position(|d| d.name == name)
    }

    /// The dimension names, comma-separated, for messages.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.dims.iter().map(Dim::name).collect();
        names.join(", ")
    }
}

/// Conventional dimension names and their units in traces and the simulator: the one list every
/// crate names its dimensions from (the live adapter keeps Mesos's 3 decimals for all of them).
pub mod dims {
    /// CPU, in milli-cores (3 decimals).
    pub const CPUS: &str = "cpus";
    /// Memory, in MiB (0 decimals).
    pub const MEM: &str = "mem";
    /// GPU, in milli-GPU summed over a machine's devices (3 decimals).
    pub const GPUS: &str = "gpus";
    /// Disk, in MiB (0 decimals).
    pub const DISK: &str = "disk";
    /// RDMA network bandwidth, in milli-NIC (3 decimals).
    pub const RDMA: &str = "rdma";
    /// Mesos ports, counted (the live adapter's only range resource).
    pub const PORTS: &str = "ports";
}

/// The decimal places of a conventional dimension: 3 for cpus, gpus and rdma, 0 otherwise.
pub fn decimals_of(name: &str) -> u8 {
    match name {
        dims::CPUS | dims::GPUS | dims::RDMA => 3,
        _ => 0,
    }
}

/// A schema of conventional dimensions, each with its conventional unit.
///
/// # Panics
/// If `names` is empty or repeats a name (a programming error: callers pass constants).
pub fn conventional(names: &[&str]) -> Schema {
    let dims = names
        .iter()
        .map(|&n| Dim::new(n, decimals_of(n)).expect("valid name"))
        .collect();
    Schema::new(dims).expect("distinct names")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpus() -> Dim {
        Dim::new("cpus", 3).unwrap()
    }

    #[test]
    fn parses_decimals_exactly() {
        let d = cpus();
        assert_eq!(d.parse("0.5"), Ok(500));
        assert_eq!(d.parse(" 1.25 "), Ok(1250));
        assert_eq!(d.parse("2"), Ok(2000));
        assert_eq!(d.parse("2."), Ok(2000));
        assert_eq!(d.parse(".125"), Ok(125));
        assert_eq!(d.parse("1.5000"), Ok(1500));
        assert_eq!(d.parse("+3"), Ok(3000));
        assert_eq!(d.parse("-0"), Ok(0));
        assert_eq!(d.parse("-0.000"), Ok(0));
    }

    #[test]
    fn rejects_bad_quantities_with_a_reason() {
        let d = cpus();
        assert_eq!(d.parse(""), Err(QuantityError::Empty));
        assert_eq!(d.parse("-1"), Err(QuantityError::Negative));
        assert_eq!(d.parse("abc"), Err(QuantityError::NotANumber));
        assert_eq!(d.parse("-abc"), Err(QuantityError::NotANumber));
        assert_eq!(d.parse("1e3"), Err(QuantityError::NotPlain));
        assert_eq!(d.parse("1e30"), Err(QuantityError::TooLarge));
        assert_eq!(d.parse("inf"), Err(QuantityError::TooLarge));
        assert_eq!(d.parse("NaN"), Err(QuantityError::NotANumber));
        assert_eq!(d.parse("."), Err(QuantityError::NotANumber));
        assert_eq!(d.parse("1.2.3"), Err(QuantityError::NotANumber));
        assert_eq!(d.parse("NaN"), Err(QuantityError::NotANumber));
        assert_eq!(d.parse("0.0005"), Err(QuantityError::TooPrecise { max: 3 }));
        assert_eq!(d.parse("99999999999999999999"), Err(QuantityError::TooLarge));
        let mib = Dim::new("mem", 0).unwrap();
        assert_eq!(mib.parse("128.5"), Err(QuantityError::TooPrecise { max: 0 }));
    }

    #[test]
    fn formats_shortest_exact_decimal() {
        let d = cpus();
        assert_eq!(d.format(500), "0.5");
        assert_eq!(d.format(1250), "1.25");
        assert_eq!(d.format(2000), "2");
        assert_eq!(d.format(1), "0.001");
        assert_eq!(Dim::new("mem", 0).unwrap().format(2048), "2048");
    }

    #[test]
    fn mesos_scalars_round_to_thousandths_like_the_master() {
        let d = cpus();
        assert_eq!(d.from_mesos_scalar(0.1), Ok(100));
        assert_eq!(d.from_mesos_scalar(1.1), Ok(1100));
        assert_eq!(d.from_mesos_scalar(0.0004), Ok(0));
        assert_eq!(d.from_mesos_scalar(-1.0), Err(QuantityError::Negative));
        assert_eq!(d.from_mesos_scalar(f64::NAN), Err(QuantityError::NotANumber));
        assert_eq!(d.from_mesos_scalar(1e300), Err(QuantityError::TooLarge));
        let mib = Dim::new("mem", 0).unwrap();
        assert_eq!(mib.from_mesos_scalar(128.0), Ok(128));
        assert_eq!(
            mib.from_mesos_scalar(128.5),
            Err(QuantityError::TooPrecise { max: 0 })
        );
        let nano = Dim::new("x", 9).unwrap();
        assert_eq!(nano.from_mesos_scalar(0.25), Ok(250_000_000));
        assert_eq!(nano.to_mesos_scalar(250_000_400), 0.25);
    }

    #[test]
    fn dimension_names_and_schemas_are_validated() {
        assert!(Dim::new("", 0).is_err());
        assert!(Dim::new("a b", 0).is_err());
        assert!(Dim::new("cpus=1", 0).is_err());
        assert!(Dim::new("x", 10).is_err());
        assert!(Schema::new(vec![]).is_err());
        assert!(Schema::uniform(&["cpus", "cpus"], 3).is_err());
        let s = Schema::uniform(&["cpus", "mem", "disk"], 3).unwrap();
        assert_eq!(s.index_of("mem"), Some(1));
        assert_eq!(s.index_of("gpus"), None);
        assert_eq!(s.names(), "cpus, mem, disk");
    }
}
