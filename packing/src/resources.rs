//! Resource vectors stored row by row in one contiguous table.
//!
//! Machines and tasks are rows of a [`ResourceTable`]: one `u64` per dimension, in the units of the
//! [`Schema`](crate::Schema) the caller uses. Contiguous rows keep the placement scans cache
//! friendly and free of per-vector allocations, whatever the number of dimensions.

/// A table of resource vectors with a fixed number of dimensions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResourceTable {
    dims: usize,
    values: Vec<u64>,
}

impl ResourceTable {
    /// An empty table of vectors with `dims` dimensions.
    ///
    /// # Panics
    /// If `dims` is zero: a resource vector has at least one dimension.
    pub fn new(dims: usize) -> ResourceTable {
        assert!(dims > 0, "a resource vector has at least one dimension");
        ResourceTable {
            dims,
            values: Vec::new(),
        }
    }

    /// An empty table with room for `rows` vectors.
    pub fn with_capacity(dims: usize, rows: usize) -> ResourceTable {
        let mut table = ResourceTable::new(dims);
        table.values.reserve(dims * rows);
        table
    }

    /// A table built from rows, all of length `dims`.
    ///
    /// # Panics
    /// If a row's length is not `dims`.
    pub fn from_rows<R: AsRef<[u64]>>(dims: usize, rows: impl IntoIterator<Item = R>) -> Self {
        let mut table = ResourceTable::new(dims);
        for row in rows {
            table.push(row.as_ref());
        }
        table
    }

    /// Appends a vector and returns its row index.
    ///
    /// # Panics
    /// If `row.len()` differs from the table's number of dimensions.
    pub fn push(&mut self, row: &[u64]) -> usize {
        assert_eq!(row.len(), self.dims, "row has the wrong number of dimensions");
        self.values.extend_from_slice(row);
        self.len() - 1
    }

    /// Number of dimensions of every row.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.values.len().checked_div(self.dims).unwrap_or(0)
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Row `index`.
    pub fn row(&self, index: usize) -> &[u64] {
        &self.values[index * self.dims..(index + 1) * self.dims]
    }

    /// The rows in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[u64]> + '_ {
        self.values.chunks_exact(self.dims.max(1))
    }

    /// Per-dimension sums over all rows (128-bit, so they cannot overflow).
    pub fn sums(&self) -> Vec<u128> {
        let mut sums = vec![0u128; self.dims];
        for row in self.rows() {
            for (s, &v) in sums.iter_mut().zip(row) {
                *s += u128::from(v);
            }
        }
        sums
    }
}

/// True when `demand` fits into `free` in every dimension (an exact fit fits).
#[inline]
pub fn fits(demand: &[u64], free: &[u64]) -> bool {
    debug_assert_eq!(demand.len(), free.len());
    demand.iter().zip(free).all(|(d, f)| d <= f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip() {
        let t = ResourceTable::from_rows(2, [[1, 2], [3, 4], [5, 6]]);
        assert_eq!(t.len(), 3);
        assert_eq!(t.row(1), &[3, 4]);
        assert_eq!(t.rows().count(), 3);
        assert_eq!(t.sums(), vec![9, 12]);
    }

    #[test]
    fn satyr_vector_comparisons() {
        // (cpus, mem, disk) in milli-cpus and MiB, from satyr's own tests.
        let o1 = [1000, 128, 0];
        let o2 = [2000, 256, 1024];
        let t1 = [500, 128, 0];
        let t2 = [1000, 256, 512];
        let t3 = [500, 256, 512];
        assert!(fits(&t1, &o1) && fits(&t1, &o2));
        assert!(fits(&t2, &o2) && !fits(&t2, &o1));
        assert!(fits(&t3, &t2));
    }
}
