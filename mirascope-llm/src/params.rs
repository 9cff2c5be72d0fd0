//! Call parameters.
//!
//! Params are kept in the order the user set them, as JSON values, because that is what the
//! instrumentation records (`gen_ai.request.*` attributes and the `gen_ai.request.params.untracked`
//! event list them in the user's order). Known params are type-checked when set; unknown ones
//! (`frequency_penalty`, `presence_penalty`, `stop`, `n`, ...) pass through as extras.
//!
//! Layer: data (the crate docs list the layers: data, wire, call, observation).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// How much a model should think before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThinkingLevel {
    /// Turn thinking off.
    None,
    /// The provider's default.
    Default,
    /// The least thinking the provider allows.
    Minimal,
    /// Little thinking.
    Low,
    /// Moderate thinking.
    Medium,
    /// Much thinking.
    High,
    /// The most thinking.
    Max,
}

/// The `thinking` param.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThinkingConfig {
    /// How much to think.
    pub level: ThinkingLevel,
    /// Whether thoughts come back in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_thoughts: Option<bool>,
    /// Re-send earlier thoughts as plain text when continuing a conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encode_thoughts_as_text: Option<bool>,
}

impl ThinkingConfig {
    /// A config with just a level.
    pub fn level(level: ThinkingLevel) -> Self {
        ThinkingConfig {
            level,
            include_thoughts: None,
            encode_thoughts_as_text: None,
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Number,
    Integer,
    StringList,
    StringOrList,
    Thinking,
}

/// The params Mirascope knows, and the JSON kind each must have.
const KNOWN: &[(&str, Kind)] = &[
    ("temperature", Kind::Number),
    ("max_tokens", Kind::Integer),
    ("top_p", Kind::Number),
    ("top_k", Kind::Integer),
    ("seed", Kind::Integer),
    ("stop_sequences", Kind::StringList),
    ("thinking", Kind::Thinking),
    ("frequency_penalty", Kind::Number),
    ("presence_penalty", Kind::Number),
    ("stop", Kind::StringOrList),
    ("n", Kind::Integer),
    ("choice_count", Kind::Integer),
];

/// The names of the params Mirascope knows (others are accepted as pass-through extras).
pub fn known_param_names() -> impl Iterator<Item = &'static str> {
    KNOWN.iter().map(|(n, _)| *n)
}

/// Call parameters, in the order they were set.
///
/// ```
/// use mirascope_llm::Params;
/// let p = Params::new().temperature(0.5).max_tokens(64).extra("frequency_penalty", 0.2);
/// assert_eq!(p.get_f64("temperature"), Some(0.5));
/// assert_eq!(p.get_i64("max_tokens"), Some(64));
/// assert_eq!(p.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["temperature", "max_tokens", "frequency_penalty"]);
/// assert!(Params::new().set("temperature", "hot".into()).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    entries: Vec<(String, Value)>,
    /// Float params set to NaN or an infinity (which JSON cannot carry), refused at call time.
    non_finite: Vec<(String, String)>,
}

impl Params {
    /// No params.
    pub fn new() -> Self {
        Self::default()
    }

    /// Params from a JSON object (`{"temperature": 0.5, ...}`), checking known ones.
    pub fn from_json(value: &Value) -> Result<Self> {
        let obj = value.as_object().ok_or_else(|| Error::InvalidParam {
            name: "params".into(),
            reason: format!("expected a JSON object, got {value}"),
        })?;
        let mut params = Params::new();
        for (k, v) in obj {
            params.set(k, v.clone())?;
        }
        Ok(params)
    }

    /// Sets a param, checking the type of known ones. `null` records an explicit "unset".
    pub fn set(&mut self, name: &str, value: Value) -> Result<&mut Self> {
        validate(name, &value)?;
        self.insert(name, value);
        Ok(self)
    }

    fn insert(&mut self, name: &str, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((name.to_string(), value)),
        }
    }

    fn with(mut self, name: &str, value: Value) -> Self {
        self.non_finite.retain(|(k, _)| k != name);
        self.insert(name, value);
        self
    }

    /// A float param: NaN and infinities are kept aside and refused when the call is made
    /// (serialized, they would silently become `null`).
    fn with_f64(mut self, name: &str, v: f64) -> Self {
        if v.is_finite() {
            return self.with(name, v.into());
        }
        self.entries.retain(|(k, _)| k != name);
        self.non_finite.retain(|(k, _)| k != name);
        self.non_finite.push((name.to_string(), v.to_string()));
        self
    }

    /// `Err(InvalidParam)` if a float param was set to NaN or an infinity.
    pub(crate) fn check_finite(&self) -> Result<()> {
        match self.non_finite.first() {
            Some((name, v)) => Err(Error::InvalidParam {
                name: name.clone(),
                reason: format!("{v} is not a finite number, which no provider accepts"),
            }),
            None => Ok(()),
        }
    }

    /// Sampling temperature.
    pub fn temperature(self, v: f64) -> Self {
        self.with_f64("temperature", v)
    }
    /// Maximum output tokens.
    pub fn max_tokens(self, v: i64) -> Self {
        self.with("max_tokens", v.into())
    }
    /// Nucleus sampling.
    pub fn top_p(self, v: f64) -> Self {
        self.with_f64("top_p", v)
    }
    /// Top-k sampling.
    pub fn top_k(self, v: i64) -> Self {
        self.with("top_k", v.into())
    }
    /// Sampling seed.
    pub fn seed(self, v: i64) -> Self {
        self.with("seed", v.into())
    }
    /// Stop sequences.
    pub fn stop_sequences<I, S>(self, seqs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let list: Vec<Value> = seqs.into_iter().map(|s| Value::String(s.into())).collect();
        self.with("stop_sequences", Value::Array(list))
    }
    /// Thinking configuration.
    pub fn thinking(self, config: ThinkingConfig) -> Self {
        let v = serde_json::to_value(config).unwrap_or(Value::Null);
        self.with("thinking", v)
    }
    /// A pass-through param (`frequency_penalty`, `presence_penalty`, `stop`, `n`, ...). It is
    /// recorded on spans; providers send only what their API maps.
    pub fn extra(self, name: &str, value: impl Into<Value>) -> Self {
        self.with(name, value.into())
    }

    /// The params in order, including explicit nulls.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Whether no params are set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A param's value, `None` when unset or null.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    /// A numeric param.
    pub fn get_f64(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(Value::as_f64)
    }

    /// An integer param.
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_i64)
    }

    /// A list-of-strings param (a bare string becomes a one-element list).
    pub fn get_str_list(&self, name: &str) -> Option<Vec<String>> {
        match self.get(name)? {
            Value::String(s) => Some(vec![s.clone()]),
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The thinking config.
    pub fn get_thinking(&self) -> Option<ThinkingConfig> {
        self.get("thinking")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Params from `other` override these (the model's defaults merged with a call's params).
    pub fn merged(&self, other: &Params) -> Params {
        let mut out = self.clone();
        for (k, v) in &other.entries {
            out.non_finite.retain(|(n, _)| n != k);
            out.insert(k, v.clone());
        }
        for (k, v) in &other.non_finite {
            out.entries.retain(|(n, _)| n != k);
            out.non_finite.retain(|(n, _)| n != k);
            out.non_finite.push((k.clone(), v.clone()));
        }
        out
    }
}

fn validate(name: &str, value: &Value) -> Result<()> {
    if value.is_null() {
        return Ok(());
    }
    let Some((_, kind)) = KNOWN.iter().find(|(n, _)| *n == name) else {
        return Ok(());
    };
    let bad = |expected: &str| {
        Err(Error::InvalidParam {
            name: name.to_string(),
            reason: format!("expected {expected}, got {value}"),
        })
    };
    let is_str_list =
        |v: &Value| matches!(v, Value::Array(items) if items.iter().all(Value::is_string));
    match kind {
        Kind::Number if !value.is_number() => bad("a number"),
        Kind::Integer if !(value.is_i64() || value.is_u64()) => bad("an integer"),
        Kind::StringList if !is_str_list(value) => bad("a list of strings"),
        Kind::StringOrList if !(value.is_string() || is_str_list(value)) => {
            bad("a string or a list of strings")
        }
        Kind::Thinking => match serde_json::from_value::<ThinkingConfig>(value.clone()) {
            Ok(_) => Ok(()),
            Err(e) => bad(&format!(
                "an object {{\"level\": \"none|default|minimal|low|medium|high|max\", ...}} ({e})"
            )),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_is_kept_and_overwrite_keeps_position() {
        let mut p = Params::new().temperature(0.1).max_tokens(5);
        p.set("temperature", json!(0.9)).unwrap();
        let keys: Vec<_> = p.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["temperature", "max_tokens"]);
        assert_eq!(p.get_f64("temperature"), Some(0.9));
    }

    #[test]
    fn null_is_explicit_unset() {
        let p = Params::from_json(&json!({"temperature": null, "max_tokens": 64})).unwrap();
        assert_eq!(p.get("temperature"), None);
        assert_eq!(p.iter().count(), 2);
    }

    #[test]
    fn known_params_are_type_checked() {
        let err = Params::new().set("max_tokens", json!("many")).unwrap_err();
        assert!(err.to_string().contains("max_tokens"), "{err}");
        assert!(Params::new()
            .set("thinking", json!({"level": "loud"}))
            .is_err());
        assert!(Params::new().set("stop", json!("END")).is_ok());
        assert!(Params::new().set("custom", json!({"x": 1})).is_ok());
    }

    #[test]
    fn bare_stop_string_becomes_list() {
        let p = Params::new().extra("stop", "END");
        assert_eq!(p.get_str_list("stop"), Some(vec!["END".to_string()]));
    }

    #[test]
    fn thinking_round_trips() {
        let p = Params::new().thinking(ThinkingConfig {
            level: ThinkingLevel::Medium,
            include_thoughts: Some(true),
            encode_thoughts_as_text: None,
        });
        assert_eq!(
            p.get("thinking").unwrap().to_string(),
            r#"{"level":"medium","include_thoughts":true}"#
        );
        assert_eq!(p.get_thinking().unwrap().level, ThinkingLevel::Medium);
    }
}
