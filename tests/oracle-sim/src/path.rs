//! Price paths for the simulator: geometric Brownian motion with Poisson jumps (seeded, so a run
//! can be replayed), or a CSV replay of `seconds,price` rows.

/// The one deterministic generator of the test code (SplitMix64): price paths, the invariant fuzzer,
/// the demo's traders and the math probe's operands replay from their seed, without a dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64().checked_rem(n).unwrap_or(0)
    }
    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1_000) < per_mille
    }
    /// Uniform in lo..=hi (lo <= hi).
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below(hi.abs_diff(lo) + 1) as i64
    }
    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// GBM: dS/S = mu dt + sigma dW, plus jumps arriving at `jumps_per_year` with log-size
/// N(0, jump_sigma).
#[derive(Clone, Debug)]
pub struct Gbm {
    pub price: f64,
    pub drift: f64,
    pub vol: f64,
    pub jumps_per_year: f64,
    pub jump_sigma: f64,
    pub rng: Rng,
}

const YEAR_SECS: f64 = 31_536_000.0;

impl Gbm {
    pub fn new(price: f64, vol: f64, seed: u64) -> Gbm {
        Gbm { price, drift: 0.0, vol, jumps_per_year: 0.0, jump_sigma: 0.0, rng: Rng::new(seed) }
    }

    /// Advances the path by `secs` seconds and returns the new price.
    pub fn step(&mut self, secs: f64) -> f64 {
        let dt = secs / YEAR_SECS;
        let mut log = (self.drift - self.vol * self.vol / 2.0) * dt + self.vol * dt.sqrt() * self.rng.normal();
        if self.jumps_per_year > 0.0 && self.rng.uniform() < self.jumps_per_year * dt {
            log += self.jump_sigma * self.rng.normal();
        }
        self.price *= log.exp();
        self.price
    }
}

/// `seconds,price` rows (a header line and `#` comments are skipped), in time order.
pub fn parse_csv(text: &str) -> anyhow::Result<Vec<(f64, f64)>> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cols = line.split(',').map(str::trim);
        let (Some(t), Some(p)) = (cols.next(), cols.next()) else {
            anyhow::bail!("line {}: expected `seconds,price`", i + 1);
        };
        match (t.parse::<f64>(), p.parse::<f64>()) {
            (Ok(t), Ok(p)) if p > 0.0 && rows.last().is_none_or(|&(last, _)| t >= last) => rows.push((t, p)),
            _ if i == 0 => continue, // header
            _ => anyhow::bail!("line {}: `{line}` is not a later time and a positive price", i + 1),
        }
    }
    anyhow::ensure!(!rows.is_empty(), "no price rows");
    Ok(rows)
}

/// The price in force at time `t` of a replay (the last row at or before `t`).
pub fn replay_at(rows: &[(f64, f64)], t: f64) -> f64 {
    let i = rows.partition_point(|&(rt, _)| rt <= t);
    rows[i.saturating_sub(1)].1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbm_realizes_its_volatility() {
        let mut g = Gbm::new(100.0, 0.8, 42);
        let steps = 20_000;
        let mut sum2 = 0.0;
        let mut last = g.price;
        for _ in 0..steps {
            let p = g.step(60.0);
            sum2 += (p / last).ln().powi(2);
            last = p;
        }
        let realized = (sum2 / steps as f64 * YEAR_SECS / 60.0).sqrt();
        assert!((realized - 0.8).abs() < 0.02, "{realized}");
    }

    #[test]
    fn csv_replay() {
        let rows = parse_csv("seconds,price\n0,100\n# gap\n10,101.5\n20,99\n").unwrap();
        assert_eq!(rows, vec![(0.0, 100.0), (10.0, 101.5), (20.0, 99.0)]);
        assert_eq!(replay_at(&rows, 15.0), 101.5);
        assert_eq!(replay_at(&rows, -1.0), 100.0);
        assert!(parse_csv("0,100\n5,-1\n").is_err());
        assert!(parse_csv("0,100\n5,abc\n").is_err());
        assert!(parse_csv("10,100\n5,100\n").is_err());
    }
}
