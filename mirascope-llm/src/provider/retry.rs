//! The retry policy: bounded, exponential backoff with jitter, honouring `Retry-After`.

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
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: None,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
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

/// Reads `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP date).
pub(crate) fn parse_retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let v = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
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
}
