//! Latencies, kept whole and sorted once for percentiles.

use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub struct Latencies {
    nanos: Vec<u64>,
}

impl Latencies {
    pub fn add(&mut self, latency: Duration) {
        self.add_nanos(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    pub fn add_nanos(&mut self, nanos: u64) {
        self.nanos.push(nanos);
    }

    pub fn merge(&mut self, other: &Latencies) {
        self.nanos.extend_from_slice(&other.nanos);
    }

    /// The `p`-th percentile (0 to 100), in microseconds.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.nanos.is_empty() {
            return 0.0;
        }
        let mut sorted = self.nanos.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
        sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
    }

    /// The worst, in microseconds.
    pub fn max(&self) -> f64 {
        self.nanos.iter().copied().max().unwrap_or(0) as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_set() {
        let mut l = Latencies::default();
        for us in 1..=100 {
            l.add(Duration::from_micros(us));
        }
        assert_eq!(l.percentile(50.0), 51.0);
        assert_eq!(l.percentile(99.0), 99.0);
        assert_eq!(l.max(), 100.0);
        assert_eq!(Latencies::default().percentile(50.0), 0.0);
    }
}
