//! How failed requests are retried: a value the caller can inspect and change.
//!
//! What is retried (see [`RetryPolicy`]):
//! - `GET` and `DELETE`: 429, 502, 503, 504, connection failures, timeouts and broken connections.
//! - The create `POST`: only when the request provably was not processed: 429, or a connection
//!   that could not be made (refused, DNS failure). Never after a timeout or a 5xx once the request
//!   was sent, because Runway has no idempotency key: a retry could create, and bill, a second
//!   task. [`RetryPolicy::retry_create_after_ambiguous_failure`] opts in to that risk.

use std::time::Duration;

use rand::Rng;

/// Retry settings. The default: 2 retries, exponential backoff from 500 ms to 10 s with up to 50%
/// jitter (Runway's advice), `Retry-After` honoured up to 60 s.
///
/// ```
/// use std::time::Duration;
/// use lowcodeapi_runwayml::RetryPolicy;
/// let policy = RetryPolicy::default()
///     .max_retries(4)
///     .initial_backoff(Duration::from_millis(200));
/// assert_eq!(policy.get_max_retries(), 4);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    retry_create_after_ambiguous_failure: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            retry_create_after_ambiguous_failure: false,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::RetryPolicy;
    /// assert_eq!(RetryPolicy::none().get_max_retries(), 0);
    /// ```
    pub fn none() -> Self {
        Self::default().max_retries(0)
    }

    /// How many times a request may be retried after its first attempt.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::RetryPolicy;
    /// assert_eq!(RetryPolicy::default().max_retries(5).get_max_retries(), 5);
    /// ```
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The backoff before the first retry; it doubles for each retry after that.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::RetryPolicy;
    /// let policy = RetryPolicy::default().initial_backoff(Duration::from_millis(100));
    /// let first = policy.backoff(0);
    /// assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(150));
    /// ```
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest backoff between two attempts (jitter included).
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::RetryPolicy;
    /// let policy = RetryPolicy::default().max_backoff(Duration::from_secs(1));
    /// assert!(policy.backoff(10) <= Duration::from_secs(1));
    /// ```
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest `Retry-After` the client waits for. When the server asks for more, the error
    /// is returned at once, with [`crate::Error::retry_after`] telling how long it asked for.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::RetryPolicy;
    /// let policy = RetryPolicy::default().max_retry_after(Duration::from_secs(5));
    /// assert_eq!(policy.get_max_retry_after(), Duration::from_secs(5));
    /// ```
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// Also retry the create `POST` after a timeout, a broken connection or a 502/503/504 once it
    /// was sent. **This risks a duplicate task, billed twice**: Runway may have accepted the first
    /// attempt. Off by default.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::RetryPolicy;
    /// assert!(!RetryPolicy::default().retries_create_after_ambiguous_failure());
    /// let risky = RetryPolicy::default().retry_create_after_ambiguous_failure(true);
    /// assert!(risky.retries_create_after_ambiguous_failure());
    /// ```
    pub fn retry_create_after_ambiguous_failure(mut self, yes: bool) -> Self {
        self.retry_create_after_ambiguous_failure = yes;
        self
    }

    /// How many retries are allowed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::RetryPolicy;
    /// assert_eq!(RetryPolicy::default().get_max_retries(), 2);
    /// ```
    pub fn get_max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The `Retry-After` cap.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::RetryPolicy;
    /// assert_eq!(RetryPolicy::default().get_max_retry_after(), Duration::from_secs(60));
    /// ```
    pub fn get_max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// Whether ambiguous create failures are retried.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::RetryPolicy;
    /// assert!(!RetryPolicy::none().retries_create_after_ambiguous_failure());
    /// ```
    pub fn retries_create_after_ambiguous_failure(&self) -> bool {
        self.retry_create_after_ambiguous_failure
    }

    /// The pause before retry number `retry` (0-based): `initial × 2^retry`, plus up to 50%
    /// jitter, at most the max backoff.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::RetryPolicy;
    /// let policy = RetryPolicy::default(); // 500 ms doubling, 10 s cap
    /// let second = policy.backoff(1);
    /// assert!(second >= Duration::from_secs(1) && second <= Duration::from_millis(1500));
    /// ```
    pub fn backoff(&self, retry: u32) -> Duration {
        let base = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
            .min(self.max_backoff);
        let jitter = base.mul_f64(rand::rng().random_range(0.0..=0.5));
        (base + jitter).min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let policy = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_secs(1));
        for _ in 0..200 {
            let first = policy.backoff(0);
            assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(150));
            let third = policy.backoff(2);
            assert!(third >= Duration::from_millis(400) && third <= Duration::from_millis(600));
            assert!(policy.backoff(30) <= Duration::from_secs(1));
        }
    }
}
