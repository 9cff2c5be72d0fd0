//! What a call cost, in US dollars, from its usage and the price of the model that answered.
//!
//! Prices come from the [`genai-prices`](https://github.com/pydantic/genai-prices) dataset
//! (maintained by the Pydantic team, bundled in the `genai-prices` crate; feature `cost`), looked
//! up by provider and by the model the provider says answered (`gpt-4o-mini-2024-07-18`), else
//! the model asked for. [`set_price`] overrides or adds a price for a Mirascope model id
//! (negotiated rates, private models). A model without a known price has no cost: never a guess.
//!
//! ```
//! use mirascope_llm as llm;
//! llm::set_price("local/my-model", llm::Price::per_million_tokens(0.5, 1.5));
//! let usage = llm::Usage { input_tokens: 1_000_000, output_tokens: 1_000_000, ..Default::default() };
//! assert_eq!(llm::cost::price_of("local/my-model", "local", "my-model", &usage), Some(2.0));
//! ```
//!
//! Layer: data (prices; the call layer prices a response with it; the crate docs list the layers).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use crate::answer::Usage;

/// A price per million tokens, in US dollars. Cache reads and writes default to the input
/// price, reasoning tokens to the output price, when not set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// Uncached input tokens.
    pub input: f64,
    /// Output tokens (reasoning tokens included unless [`Price::reasoning`] is set).
    pub output: f64,
    /// Input tokens read from the provider's cache.
    pub cache_read: Option<f64>,
    /// Input tokens written to the provider's cache.
    pub cache_write: Option<f64>,
    /// Reasoning (thinking) tokens, part of the output tokens.
    pub reasoning: Option<f64>,
}

impl Price {
    /// Input and output prices per million tokens.
    pub fn per_million_tokens(input: f64, output: f64) -> Self {
        Price {
            input,
            output,
            cache_read: None,
            cache_write: None,
            reasoning: None,
        }
    }

    /// The price of cached input reads per million tokens.
    pub fn cache_read(mut self, per_million: f64) -> Self {
        self.cache_read = Some(per_million);
        self
    }

    /// The price of cache writes per million tokens.
    pub fn cache_write(mut self, per_million: f64) -> Self {
        self.cache_write = Some(per_million);
        self
    }

    /// The price of reasoning tokens per million tokens.
    pub fn reasoning(mut self, per_million: f64) -> Self {
        self.reasoning = Some(per_million);
        self
    }

    /// What `usage` costs at this price. Mirascope's usage counts cache reads and writes inside
    /// the input tokens and reasoning tokens inside the output tokens.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let m = 1_000_000.0;
        let cache_read = usage.cache_read_tokens as f64;
        let cache_write = usage.cache_write_tokens as f64;
        let uncached = (usage.input_tokens as f64 - cache_read - cache_write).max(0.0);
        let reasoning = usage.reasoning_tokens as f64;
        let (plain_output, reasoning_price) = match self.reasoning {
            Some(p) => ((usage.output_tokens as f64 - reasoning).max(0.0), p),
            None => (usage.output_tokens as f64, 0.0),
        };
        let reasoning_cost = if self.reasoning.is_some() {
            reasoning * reasoning_price
        } else {
            0.0
        };
        (uncached * self.input
            + cache_read * self.cache_read.unwrap_or(self.input)
            + cache_write * self.cache_write.unwrap_or(self.input)
            + plain_output * self.output
            + reasoning_cost)
            / m
    }
}

static OVERRIDES: RwLock<Option<HashMap<String, Price>>> = RwLock::new(None);

/// Whether [`set_price`] was ever called: until then a call's price skips the overrides' lock
/// and hash lookup.
static HAS_OVERRIDES: AtomicBool = AtomicBool::new(false);

/// Sets the price of a Mirascope model id (`"openai/gpt-4o-mini"`, `"local/llama3"`), over the
/// bundled dataset: negotiated rates, private or fine-tuned models.
pub fn set_price(model_id: impl Into<String>, price: Price) {
    let mut guard = OVERRIDES.write().unwrap_or_else(|e| e.into_inner());
    guard
        .get_or_insert_with(HashMap::new)
        .insert(model_id.into(), price);
    HAS_OVERRIDES.store(true, Ordering::Release);
}

/// Removes a price set with [`set_price`].
pub fn clear_price(model_id: &str) {
    let mut guard = OVERRIDES.write().unwrap_or_else(|e| e.into_inner());
    if let Some(map) = guard.as_mut() {
        map.remove(model_id);
    }
}

fn override_for(model_id: &str) -> Option<Price> {
    if !HAS_OVERRIDES.load(Ordering::Acquire) {
        return None;
    }
    let guard = OVERRIDES.read().unwrap_or_else(|e| e.into_inner());
    guard.as_ref().and_then(|m| m.get(model_id).copied())
}

/// The cost in USD of `usage` for Mirascope model `model_id`, answered by `model` of provider
/// `provider_id`: the price set with [`set_price`] for `model_id`, else the bundled dataset's
/// price of `model` at `provider_id`. `None` when no price is known.
pub fn price_of(model_id: &str, provider_id: &str, model: &str, usage: &Usage) -> Option<f64> {
    if let Some(price) = override_for(model_id) {
        return Some(price.cost(usage));
    }
    dataset_price(provider_id, model, usage)
}

/// Decodes the bundled price data now (it takes tens of milliseconds, which would otherwise
/// fall inside the first call's trace): `configure` calls it at set-up, once.
pub fn warm_up() {
    #[cfg(feature = "cost")]
    {
        let _ = genai_prices::Calculator::bundled();
    }
}

/// Per-token rates of one model, read from the dataset once a day, valid while the price is
/// linear: checked at 1,000 and 100,000 tokens of each kind, so a tier (a higher rate past some
/// input size) inside that range is detected and such calls are priced by the dataset itself.
#[cfg(feature = "cost")]
#[derive(Debug, Clone, Copy)]
struct Rates {
    input: f64,
    output: f64,
    cache_read: f64,
    cache_write: f64,
}

/// How a model is priced, as found on `day` (days since the epoch; prices have dates).
#[cfg(feature = "cost")]
#[derive(Debug, Clone, Copy)]
enum Pricing {
    /// Linear up to [`LINEAR_UP_TO`] tokens: priced with these rates there.
    Linear(Rates),
    /// Tiered or otherwise not linear: every call is priced by the dataset.
    Exact,
    /// No price at this provider: no cost.
    Unpriced,
}

/// Up to this many input tokens, a call is priced with the cached [`Rates`].
#[cfg(feature = "cost")]
const LINEAR_UP_TO: u64 = 100_000;

#[cfg(feature = "cost")]
type RateTable =
    std::collections::HashMap<String, std::collections::HashMap<String, (Pricing, u64)>>;

#[cfg(feature = "cost")]
static RATES: RwLock<Option<RateTable>> = RwLock::new(None);

#[cfg(feature = "cost")]
fn today() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0)
}

/// The dataset's price of `usage` for `model` at `provider_id` (`None`: not priced there).
#[cfg(feature = "cost")]
fn exact_price(provider_id: &str, model: &str, usage: &Usage) -> Option<f64> {
    use genai_prices::{PriceRequest, Usage as PriceUsage, UsageKey};
    let nonneg = |v: u64| v as f64;
    let mut u = PriceUsage::new();
    u.insert(UsageKey::INPUT_TOKENS, nonneg(usage.input_tokens));
    u.insert(UsageKey::OUTPUT_TOKENS, nonneg(usage.output_tokens));
    if usage.cache_read_tokens > 0 {
        u.insert(UsageKey::CACHE_READ_TOKENS, nonneg(usage.cache_read_tokens));
    }
    if usage.cache_write_tokens > 0 {
        u.insert(
            UsageKey::CACHE_WRITE_TOKENS,
            nonneg(usage.cache_write_tokens),
        );
    }
    let request = PriceRequest::new(model, &u).with_provider_id(provider_id);
    let calc = genai_prices::Calculator::bundled()
        .calculate(&request)
        .ok()?;
    // A model found only at another provider is not this call's price.
    (calc.provider_id == provider_id && calc.total_price.is_finite()).then_some(calc.total_price)
}

/// The per-token rates of `model`, if its price is linear over the checked range.
#[cfg(feature = "cost")]
fn derive_rates(provider_id: &str, model: &str) -> Option<Rates> {
    let at = |input: u64, output: u64, read: u64, write: u64| {
        exact_price(
            provider_id,
            model,
            &Usage {
                input_tokens: input,
                output_tokens: output,
                cache_read_tokens: read,
                cache_write_tokens: write,
                reasoning_tokens: 0,
            },
        )
    };
    let k = 1_000.0;
    let input = at(1_000, 0, 0, 0)? / k;
    let output = at(0, 1_000, 0, 0)? / k;
    // Cache tokens are part of the input tokens.
    let cache_read = at(1_000, 0, 1_000, 0)? / k;
    let cache_write = at(1_000, 0, 0, 1_000)? / k;
    let n = LINEAR_UP_TO;
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-12);
    let linear = close(at(n, 0, 0, 0)?, input * n as f64)
        && close(at(0, n, 0, 0)?, output * n as f64)
        && close(at(n, 0, n, 0)?, cache_read * n as f64)
        && close(at(n, 0, 0, n)?, cache_write * n as f64);
    linear.then_some(Rates {
        input,
        output,
        cache_read,
        cache_write,
    })
}

/// How many of the pricings last looked up each thread keeps (a call looks up the answering
/// model, and the requested one when the first is not priced).
#[cfg(feature = "cost")]
const RECENT: usize = 2;

/// A pricing found: `(provider, model, day, pricing)`.
#[cfg(feature = "cost")]
type Found = (String, String, u64, Pricing);

#[cfg(feature = "cost")]
thread_local! {
    /// This thread's last pricings, `(provider, model, day, pricing)`: a program's calls go to
    /// a few models, and this spares each call the shared table's lock and two hash lookups.
    static RECENT_PRICINGS: std::cell::RefCell<[Option<Found>; RECENT]> =
        const { std::cell::RefCell::new([None, None]) };
}

#[cfg(feature = "cost")]
fn pricing_of(provider_id: &str, model: &str) -> Pricing {
    let day = today();
    let recent = RECENT_PRICINGS.with(|r| {
        r.borrow().iter().flatten().find_map(|(p, m, d, pricing)| {
            (*d == day && p == provider_id && m == model).then_some(*pricing)
        })
    });
    if let Some(pricing) = recent {
        return pricing;
    }
    let pricing = shared_pricing_of(provider_id, model, day);
    RECENT_PRICINGS.with(|r| {
        let mut r = r.borrow_mut();
        r.rotate_right(1);
        r[0] = Some((provider_id.to_string(), model.to_string(), day, pricing));
    });
    pricing
}

#[cfg(feature = "cost")]
fn shared_pricing_of(provider_id: &str, model: &str, day: u64) -> Pricing {
    let cached = RATES
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|t| t.get(provider_id))
        .and_then(|m| m.get(model))
        .copied();
    if let Some((pricing, d)) = cached {
        if d == day {
            return pricing;
        }
    }
    let pricing = match derive_rates(provider_id, model) {
        Some(r) => Pricing::Linear(r),
        None if exact_price(provider_id, model, &Usage::default()).is_some() => Pricing::Exact,
        None => Pricing::Unpriced,
    };
    let mut table = RATES.write().unwrap_or_else(|e| e.into_inner());
    let table = table.get_or_insert_with(Default::default);
    // Model names come from the provider's answers too: the table is bounded, and starts over
    // when full (a program's real models are found again at their next call).
    if table.values().map(|m| m.len()).sum::<usize>() >= MAX_CACHED_MODELS {
        table.clear();
    }
    table
        .entry(provider_id.to_string())
        .or_default()
        .insert(model.to_string(), (pricing, day));
    pricing
}

/// The most models whose pricing is kept (see `pricing_of`).
#[cfg(feature = "cost")]
pub const MAX_CACHED_MODELS: usize = 1024;

/// How many models' pricing is kept now (for tests of the bound).
#[cfg(feature = "cost")]
#[doc(hidden)]
pub fn cached_models() -> usize {
    RATES
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map_or(0, |t| t.values().map(|m| m.len()).sum())
}

#[cfg(feature = "cost")]
fn dataset_price(provider_id: &str, model: &str, usage: &Usage) -> Option<f64> {
    // The dataset prices OpenAI as `openai`, whichever API a registration names.
    let provider_id = crate::registry::base_provider(provider_id);
    match pricing_of(provider_id, model) {
        Pricing::Unpriced => None,
        Pricing::Linear(r)
            if usage.input_tokens <= LINEAR_UP_TO && usage.output_tokens <= LINEAR_UP_TO =>
        {
            let nonneg = |v: u64| v as f64;
            let read = nonneg(usage.cache_read_tokens);
            let write = nonneg(usage.cache_write_tokens);
            let uncached = (nonneg(usage.input_tokens) - read - write).max(0.0);
            Some(
                uncached * r.input
                    + read * r.cache_read
                    + write * r.cache_write
                    + nonneg(usage.output_tokens) * r.output,
            )
        }
        _ => exact_price(provider_id, model, usage),
    }
}

#[cfg(not(feature = "cost"))]
fn dataset_price(_provider_id: &str, _model: &str, _usage: &Usage) -> Option<f64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            ..Default::default()
        }
    }

    #[test]
    fn overrides_win_and_split_cache_and_reasoning() {
        let price = Price::per_million_tokens(2.0, 8.0)
            .cache_read(0.5)
            .reasoning(10.0);
        let u = Usage {
            input_tokens: 1_000_000,
            cache_read_tokens: 400_000,
            output_tokens: 1_000_000,
            reasoning_tokens: 500_000,
            ..Default::default()
        };
        // 600k x 2 + 400k x 0.5 + 500k x 8 + 500k x 10 = 1.2 + 0.2 + 4 + 5
        assert!((price.cost(&u) - 10.4).abs() < 1e-9);
        set_price("zz-cost/model", price);
        assert_eq!(
            price_of("zz-cost/model", "openai", "gpt-4o", &u),
            Some(price.cost(&u))
        );
        clear_price("zz-cost/model");
    }

    #[cfg(feature = "cost")]
    #[test]
    fn the_dataset_prices_known_models_and_only_those() {
        let c = price_of(
            "openai/gpt-4o-mini",
            "openai",
            "gpt-4o-mini",
            &usage(1_000_000, 1_000_000),
        )
        .expect("gpt-4o-mini is priced");
        assert!((c - 0.75).abs() < 1e-6, "0.15 + 0.60 per million: {c}");
        let answered = price_of(
            "openai/gpt-4o-mini",
            "openai",
            "gpt-4o-mini-2024-07-18",
            &usage(1_000_000, 0),
        );
        assert!(answered.is_some(), "the dated snapshot is priced too");
        assert_eq!(
            price_of("x/y", "openai", "no-such-model-xyz", &usage(10, 10)),
            None
        );
        assert_eq!(price_of("x/y", "ollama", "llama3.2", &usage(10, 10)), None);
    }
}
