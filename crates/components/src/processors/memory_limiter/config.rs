//! `processors: memory_limiter:` configuration, with the Collector's fields and checks.

use std::time::Duration;

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};

/// The memory limiter's config.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryLimiterConfig {
    /// How often memory is measured (required, > 0; 1s is typical).
    #[serde(with = "humantime_serde")]
    pub check_interval: Duration,
    /// Hard limit in MiB (takes precedence over `limit_percentage`).
    pub limit_mib: u32,
    /// Headroom below the hard limit in MiB; the soft limit is `limit - spike` (default 20% of the limit).
    pub spike_limit_mib: u32,
    /// Hard limit as a percentage of the memory available (cgroup limit, else machine total).
    pub limit_percentage: u32,
    /// Headroom as a percentage (default 20% of the limit).
    pub spike_limit_percentage: u32,
    /// Accepted for compatibility (Rust has no garbage collector to force).
    #[serde(with = "humantime_serde")]
    pub min_gc_interval_when_soft_limited: Option<Duration>,
    /// Accepted for compatibility.
    #[serde(with = "humantime_serde")]
    pub min_gc_interval_when_hard_limited: Option<Duration>,
    /// Accepted for compatibility.
    #[serde(with = "humantime_serde")]
    pub max_gc_interval_when_soft_limited: Option<Duration>,
    /// Accepted for compatibility.
    #[serde(with = "humantime_serde")]
    pub max_gc_interval_when_hard_limited: Option<Duration>,
}

impl ComponentConfig for MemoryLimiterConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.check_interval.is_zero() {
            e.push(FieldError::new("check_interval", "must be greater than zero (1s is typical)"));
        }
        if self.limit_mib == 0 && self.limit_percentage == 0 {
            e.push(FieldError::new("limit_mib", "limit_mib or limit_percentage must be greater than zero"));
        }
        if self.limit_mib > 0 && self.spike_limit_mib >= self.limit_mib {
            e.push(FieldError::new("spike_limit_mib", "must be smaller than limit_mib"));
        }
        if self.limit_mib == 0 && self.limit_percentage > 100 {
            e.push(FieldError::new("limit_percentage", "must be at most 100"));
        }
        if self.limit_mib == 0 && self.limit_percentage > 0 && self.spike_limit_percentage >= self.limit_percentage {
            e.push(FieldError::new("spike_limit_percentage", "must be smaller than limit_percentage"));
        }
        e
    }
}

impl MemoryLimiterConfig {
    /// (hard, soft) limits in bytes, given the memory available to the process.
    pub fn limits(&self, total: u64) -> (u64, u64) {
        const MIB: u64 = 1 << 20;
        if self.limit_mib > 0 {
            let hard = self.limit_mib as u64 * MIB;
            let spike = if self.spike_limit_mib > 0 { self.spike_limit_mib as u64 * MIB } else { hard / 5 };
            (hard, hard - spike.min(hard))
        } else {
            let hard = total / 100 * self.limit_percentage as u64;
            let spike = if self.spike_limit_percentage > 0 {
                total / 100 * self.spike_limit_percentage as u64
            } else {
                hard / 5
            };
            (hard, hard - spike.min(hard))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_as_the_collector_computes_them() {
        let c = MemoryLimiterConfig { check_interval: Duration::from_secs(1), limit_mib: 1000, ..Default::default() };
        assert_eq!(c.limits(0), (1000 << 20, 800 << 20), "spike defaults to 20%");
        let c = MemoryLimiterConfig { limit_mib: 1000, spike_limit_mib: 100, ..c };
        assert_eq!(c.limits(0), (1000 << 20, 900 << 20));
        let c = MemoryLimiterConfig { limit_mib: 0, limit_percentage: 80, spike_limit_percentage: 20, ..c };
        assert_eq!(c.limits(1000 << 20), (800 << 20, 600 << 20));
        assert!(MemoryLimiterConfig::default().validate().len() == 2, "check_interval and a limit are required");
    }
}
