//! The documented ranges of numeric params, per API, as data in one place. A param outside its
//! range is an `InvalidParam` error before any network traffic (the call builder's
//! `unchecked_params()` sends it anyway). Python Mirascope leaves these checks to the provider,
//! which answers with a 400 after a round trip; this is a deliberate difference (README).
//!
//! Layer: wire (the crate docs list the layers: data, wire, call, observation).

use crate::error::{Error, Result};
use crate::params::Params;
use crate::registry::Api;

/// An inclusive range (`None`: unbounded on that side).
#[derive(Debug, Clone, Copy)]
struct Range {
    param: &'static str,
    min: Option<f64>,
    max: Option<f64>,
}

const fn between(param: &'static str, min: f64, max: f64) -> Range {
    Range {
        param,
        min: Some(min),
        max: Some(max),
    }
}

const fn at_least(param: &'static str, min: f64) -> Range {
    Range {
        param,
        min: Some(min),
        max: None,
    }
}

/// OpenAI's API reference (Responses and Chat Completions): temperature 0-2, top_p 0-1, at
/// least one output token.
const OPENAI: &[Range] = &[
    between("temperature", 0.0, 2.0),
    between("top_p", 0.0, 1.0),
    at_least("max_tokens", 1.0),
];

/// Anthropic's Messages API reference: temperature 0-1, top_p 0-1, top_k at least 0, at least
/// one output token.
const ANTHROPIC: &[Range] = &[
    between("temperature", 0.0, 1.0),
    between("top_p", 0.0, 1.0),
    at_least("top_k", 0.0),
    at_least("max_tokens", 1.0),
];

/// Google's Gemini API reference: temperature 0-2, topP 0-1, topK at least 1, at least one
/// output token.
const GOOGLE: &[Range] = &[
    between("temperature", 0.0, 2.0),
    between("top_p", 0.0, 1.0),
    at_least("top_k", 1.0),
    at_least("max_tokens", 1.0),
];

fn ranges(api: Api) -> &'static [Range] {
    match api {
        Api::OpenAiResponses | Api::OpenAiCompletions => OPENAI,
        Api::Anthropic | Api::AnthropicBeta => ANTHROPIC,
        Api::Google => GOOGLE,
    }
}

/// Checks `params` against `api`'s documented ranges, except those in `dropped` (params the
/// API drops for the model, which never reach the provider).
pub(crate) fn check(api: Api, provider_id: &str, params: &Params, dropped: &[&str]) -> Result<()> {
    for r in ranges(api).iter().filter(|r| !dropped.contains(&r.param)) {
        let Some(v) = params.get_f64(r.param) else {
            continue;
        };
        let low = r.min.is_some_and(|m| v < m);
        let high = r.max.is_some_and(|m| v > m);
        if low || high || v.is_nan() {
            let range = match (r.min, r.max) {
                (Some(a), Some(b)) => format!("between {a} and {b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => "a number".to_string(),
            };
            return Err(Error::InvalidParam {
                name: r.param.to_string(),
                reason: format!(
                    "{v} is outside what {provider_id} accepts ({range}); \
                     call `.unchecked_params()` to send it anyway"
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_per_api() {
        let p = Params::new().temperature(1.5);
        assert!(check(Api::OpenAiResponses, "openai", &p, &[]).is_ok());
        let err = check(Api::Anthropic, "anthropic", &p, &[]).unwrap_err();
        assert!(err.to_string().contains("between 0 and 1"), "{err}");
        assert!(check(Api::Google, "google", &Params::new().max_tokens(0), &[]).is_err());
        assert!(check(Api::Google, "google", &Params::new().top_k(0), &[]).is_err());
        assert!(check(Api::Anthropic, "anthropic", &Params::new().top_k(0), &[]).is_ok());
        assert!(check(
            Api::OpenAiCompletions,
            "openai",
            &Params::new().top_p(-0.1),
            &[]
        )
        .is_err());
        // A param the API drops for the model (temperature on an OpenAI reasoning model over
        // Chat Completions) is warned about and dropped, as Python does, not refused.
        let w = crate::provider::wire(Api::OpenAiCompletions);
        let dropped = w.dropped_params("openai", "o3");
        assert!(check(
            Api::OpenAiCompletions,
            "openai",
            &Params::new().temperature(3.0),
            dropped
        )
        .is_ok());
        let kept = w.dropped_params("openai", "gpt-4o");
        assert!(check(
            Api::OpenAiCompletions,
            "openai",
            &Params::new().temperature(3.0),
            kept
        )
        .is_err());
    }
}
