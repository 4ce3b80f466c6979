//! What the fuzz targets share: a plan of read sizes and other choices,
//! drawn from the first bytes of each input, so that libFuzzer varies how
//! the bytes arrive along with the bytes themselves.

/// Bytes at the start of an input that seed its [`Plan`].
pub const PLAN_BYTES: usize = 8;

/// A small deterministic generator (splitmix64) seeded by an input.
pub struct Plan {
    state: u64,
}

impl Plan {
    /// Splits `input` into its plan (the first [`PLAN_BYTES`], fewer if the
    /// input is shorter) and the data that follows.
    pub fn split(input: &[u8]) -> (Plan, &[u8]) {
        let n = input.len().min(PLAN_BYTES);
        let mut seed = [0u8; PLAN_BYTES];
        seed[..n].copy_from_slice(&input[..n]);
        let plan = Plan {
            state: u64::from_le_bytes(seed),
        };
        (plan, &input[n..])
    }

    /// The next pseudo-random number.
    pub fn draw(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True once in `n` draws, about.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.draw().is_multiple_of(n)
    }

    /// A read size, at least 1: mostly a few bytes (sequences and lines
    /// split anywhere), sometimes tens, now and then thousands.
    pub fn chunk(&mut self) -> usize {
        let r = self.draw();
        let size = match r % 8 {
            0..=4 => (r >> 8) % 8,
            5 | 6 => (r >> 8) % 64,
            _ => (r >> 8) % 8192,
        };
        size as usize + 1
    }
}
