//! A seeded random source for the generated-input tests and the benchmark, so that a failing
//! seed can be replayed.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng};

pub struct Rng(StdRng);

#[allow(dead_code)] // each user needs a different subset
impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(StdRng::seed_from_u64(seed))
    }

    pub fn next(&mut self) -> u64 {
        self.0.random()
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    /// True with `pct` percent probability.
    pub fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }

    pub fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }
}
