//! The retry policy: bounded, exponential backoff with jitter, honouring `Retry-After`.
//!
//! Layer: wire (the crate docs list the layers: data, wire, call, observation).

use std::time::Duration;

/// When and how often a failed request is sent again.
///
/// Only failures that a retry may fix are retried: HTTP 408, 409, 429 and 5xx (Anthropic's 529
/// `overloaded_error` included), timeouts and connection failures. The wait doubles from
/// `initial_backoff` up to `max_backoff`, with jitter; a provider's `Retry-After` /
/// `retry-after-ms` header replaces it when present (capped at `max_retry_after`; a longer
/// requested wait ends the retries). The defaults match the official SDKs Python Mirascope
/// calls through: 2 retries for OpenAI and Anthropic (and OpenAI-compatible servers), none for
/// Google (`google-genai` does not retry); waits of 0.5 s doubling to at most 8 s.
///
/// ```
/// use std::time::Duration;
/// use mirascope_llm::RetryPolicy;
/// let p = RetryPolicy::default().max_retries(5).initial_backoff(Duration::from_millis(100));
/// assert_eq!(p.max_retries_value(), Some(5));
/// assert_eq!(RetryPolicy::default().max_retries_value(), None, "the provider's default");
/// assert_eq!(RetryPolicy::none().max_retries_value(), Some(0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub(crate) max_retries: Option<usize>,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) max_retry_after: Duration,
    pub(crate) jitter: bool,
    pub(crate) total_deadline: Duration,
}

/// The default [`RetryPolicy::total_deadline`]: 15 minutes, so `attempt timeout x retries` can
/// never reach the half hour that 600 s x 3 attempts would allow.
pub const DEFAULT_TOTAL_DEADLINE: Duration = Duration::from_secs(15 * 60);

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: None,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            total_deadline: DEFAULT_TOTAL_DEADLINE,
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: Some(0),
            ..Default::default()
        }
    }
    /// How many times a request may be sent again.
    pub fn max_retries(mut self, n: usize) -> Self {
        self.max_retries = Some(n);
        self
    }
    /// The first wait.
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }
    /// The longest computed wait.
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }
    /// The longest `Retry-After` honoured; a longer one stops retrying.
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }
    /// The most time all attempts and waits of one call may take together (default 15 min); past
    /// it the call fails with `Error::Timeout`. For streams it bounds the wait for the answer's
    /// head; the events are bounded by the idle timeout.
    pub fn total_deadline(mut self, d: Duration) -> Self {
        self.total_deadline = d;
        self
    }
    /// Whether waits are randomized.
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }
    /// The configured number of retries (`None`: the provider's default).
    pub fn max_retries_value(&self) -> Option<usize> {
        self.max_retries
    }

    pub(crate) fn backoff(&self, provider_default: usize) -> backon::ExponentialBuilder {
        let b = backon::ExponentialBuilder::default()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff)
            .with_max_times(self.max_retries.unwrap_or(provider_default));
        if self.jitter {
            b.with_jitter()
        } else {
            b
        }
    }
}

/// A wait in seconds sent by a server, as a `Duration`: negative, NaN and unparsable values are
/// ignored (`None`); values too large for a `Duration` (`1e300`, infinity) saturate to
/// `Duration::MAX`, which every policy cap then rejects. Never panics.
fn server_seconds(secs: f64) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

/// Reads `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP date), as the
/// OpenAI and Anthropic SDKs' `_calculate_retry_timeout` do.
pub(crate) fn parse_retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        if let Some(d) = server_seconds(ms / 1000.0) {
            return Some(d);
        }
    }
    let v = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<f64>() {
        return server_seconds(secs);
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = http::HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(parse_retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = http::HeaderMap::new();
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(parse_retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(parse_retry_after(&h), None);
    }

    #[test]
    fn hostile_retry_after_values_never_panic() {
        for (header, value, expected) in [
            ("retry-after", "1e300", Some(Duration::MAX)),
            ("retry-after", "18446744073709551616", Some(Duration::MAX)),
            ("retry-after", "inf", Some(Duration::MAX)),
            ("retry-after", "NaN", None),
            ("retry-after", "-5", None),
            ("retry-after", "0.25", Some(Duration::from_millis(250))),
            ("retry-after-ms", "1e300", Some(Duration::MAX)),
            ("retry-after-ms", "-1", None),
            ("retry-after-ms", "2.5", Some(Duration::from_micros(2500))),
        ] {
            let mut h = http::HeaderMap::new();
            h.insert(header, value.parse().unwrap());
            assert_eq!(parse_retry_after(&h), expected, "{header}: {value}");
        }
    }
}
