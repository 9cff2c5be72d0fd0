//! What each model supports, as data: the capability tables of Python Mirascope 2.8.2
//! (`providers/openai/model_info.py`, `providers/anthropic/model_info.py`,
//! `providers/google/model_info.py`), copied as sorted lists and looked up by the model name sent
//! on the wire. A model missing from a table is assumed capable, as in Mirascope.
//!
//! Every rule that depends on the model reads one of the functions below; nothing else in the
//! crate matches model names.
//!
//! Layer: wire (the crate docs list the layers: data, wire, call, observation).

/// `MODELS_WITHOUT_AUDIO_SUPPORT` (openai/model_info.py).
const OPENAI_WITHOUT_AUDIO: &[&str] = &[
    "chatgpt-4o-latest",
    "gpt-3.5-turbo",
    "gpt-3.5-turbo-0125",
    "gpt-3.5-turbo-1106",
    "gpt-3.5-turbo-16k",
    "gpt-4",
    "gpt-4-0125-preview",
    "gpt-4-0613",
    "gpt-4-1106-preview",
    "gpt-4-turbo",
    "gpt-4-turbo-2024-04-09",
    "gpt-4-turbo-preview",
    "gpt-4.1",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano",
    "gpt-4.1-nano-2025-04-14",
    "gpt-4o",
    "gpt-4o-2024-05-13",
    "gpt-4o-2024-08-06",
    "gpt-4o-2024-11-20",
    "gpt-4o-mini",
    "gpt-4o-mini-2024-07-18",
    "gpt-4o-mini-search-preview",
    "gpt-4o-mini-search-preview-2025-03-11",
    "gpt-4o-search-preview",
    "gpt-4o-search-preview-2025-03-11",
    "gpt-5",
    "gpt-5-2025-08-07",
    "gpt-5-chat-latest",
    "gpt-5-mini",
    "gpt-5-mini-2025-08-07",
    "gpt-5-nano",
    "gpt-5-nano-2025-08-07",
    "gpt-5-search-api",
    "gpt-5-search-api-2025-10-14",
    "gpt-5.1-chat-latest",
    "gpt-5.2",
    "gpt-5.2-2025-12-11",
    "gpt-5.2-chat-latest",
    "o1",
    "o1-2024-12-17",
    "o3",
    "o3-2025-04-16",
    "o3-mini",
    "o3-mini-2025-01-31",
    "o4-mini",
    "o4-mini-2025-04-16",
];
/// `NON_REASONING_MODELS` (openai/model_info.py).
const OPENAI_NON_REASONING: &[&str] = &[
    "chatgpt-4o-latest",
    "gpt-3.5-turbo",
    "gpt-3.5-turbo-0125",
    "gpt-3.5-turbo-1106",
    "gpt-4",
    "gpt-4-0125-preview",
    "gpt-4-0613",
    "gpt-4-1106-preview",
    "gpt-4-turbo",
    "gpt-4-turbo-2024-04-09",
    "gpt-4-turbo-preview",
    "gpt-4.1",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano",
    "gpt-4.1-nano-2025-04-14",
    "gpt-4o",
    "gpt-4o-2024-05-13",
    "gpt-4o-2024-08-06",
    "gpt-4o-2024-11-20",
    "gpt-4o-mini",
    "gpt-4o-mini-2024-07-18",
    "gpt-5-chat-latest",
];
/// `MODELS_WITHOUT_JSON_SCHEMA_SUPPORT` (openai/model_info.py).
const OPENAI_WITHOUT_JSON_SCHEMA: &[&str] = &[
    "chatgpt-4o-latest",
    "gpt-3.5-turbo",
    "gpt-3.5-turbo-0125",
    "gpt-3.5-turbo-1106",
    "gpt-3.5-turbo-16k",
    "gpt-4",
    "gpt-4-0125-preview",
    "gpt-4-0613",
    "gpt-4-1106-preview",
    "gpt-4-turbo",
    "gpt-4-turbo-2024-04-09",
    "gpt-4-turbo-preview",
    "gpt-4o-2024-05-13",
];
/// `MODELS_WITHOUT_JSON_OBJECT_SUPPORT` (openai/model_info.py).
const OPENAI_WITHOUT_JSON_OBJECT: &[&str] = &[
    "gpt-4",
    "gpt-4-0613",
    "gpt-4o-mini-search-preview",
    "gpt-4o-mini-search-preview-2025-03-11",
    "gpt-4o-search-preview",
    "gpt-4o-search-preview-2025-03-11",
    "gpt-5-search-api",
    "gpt-5-search-api-2025-10-14",
];
/// `MODELS_WITHOUT_STRICT_STRUCTURED_OUTPUTS` (anthropic/model_info.py).
const ANTHROPIC_WITHOUT_STRICT: &[&str] = &[
    "claude-3-5-haiku",
    "claude-3-5-haiku-20241022",
    "claude-3-5-haiku-latest",
    "claude-3-7-sonnet",
    "claude-3-7-sonnet-20250219",
    "claude-3-7-sonnet-latest",
    "claude-3-haiku",
    "claude-3-haiku-20240307",
    "claude-3-haiku-latest",
    "claude-3-opus",
    "claude-3-opus-20240229",
    "claude-3-opus-latest",
    "claude-opus-4",
    "claude-opus-4-0",
    "claude-opus-4-0-20250514",
    "claude-opus-4-0-latest",
    "claude-opus-4-20250514",
    "claude-opus-4-latest",
    "claude-sonnet-4",
    "claude-sonnet-4-0",
    "claude-sonnet-4-0-20250514",
    "claude-sonnet-4-0-latest",
    "claude-sonnet-4-20250514",
    "claude-sonnet-4-latest",
];
/// `MODELS_WITHOUT_STRUCTURED_OUTPUT_AND_TOOLS_SUPPORT` (google/model_info.py).
const GOOGLE_WITHOUT_FORMAT_WITH_TOOLS: &[&str] = &[
    "gemini-2.5-flash",
    "gemini-2.5-flash-image",
    "gemini-2.5-flash-image-preview",
    "gemini-2.5-flash-lite",
    "gemini-2.5-flash-lite-preview-09-2025",
    "gemini-2.5-flash-preview-09-2025",
    "gemini-2.5-pro",
    "gemini-3-pro-image-preview",
    "gemini-flash-latest",
    "gemini-flash-lite-latest",
    "gemini-pro-latest",
    "gemini-robotics-er-1.5-preview",
    "gemma-3-12b-it",
    "gemma-3-1b-it",
    "gemma-3-27b-it",
    "gemma-3-4b-it",
    "gemma-3n-e2b-it",
    "gemma-3n-e4b-it",
    "nano-banana-pro-preview",
];

fn listed(table: &[&str], model_name: &str) -> bool {
    table.binary_search(&model_name).is_ok()
}

/// What an OpenAI Chat Completions model supports; `None` = unknown (OpenAI-compatible servers).
///
/// Follows `CompletionsModelFeatureInfo` and `feature_info_for_openai_model`
/// (openai/completions/_utils/feature_info.py): OpenAI's own models are looked up in the tables,
/// every other provider speaking the format gets the all-unknown default
/// (`BaseOpenAICompletionsProvider._model_feature_info`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CompletionsFeatures {
    pub audio: Option<bool>,
    pub strict: Option<bool>,
    pub json_object: Option<bool>,
    pub reasoning: Option<bool>,
}

/// `feature_info_for_openai_model` where the provider applies OpenAI's features to the model
/// (each provider class's `_model_feature_info` in 2.8.2: OpenAI always; OpenRouter, Requesty
/// and Atlas Cloud for `openai/...` names; API Route and Cheaper Inference for `gpt-`, `o1`,
/// `o3`, `o4` names), the unknown default otherwise.
pub(crate) fn completions_features(provider_id: &str, model_name: &str) -> CompletionsFeatures {
    let Some(model_name) = crate::registry::openai_features(provider_id).openai_model(model_name)
    else {
        return CompletionsFeatures::default();
    };
    CompletionsFeatures {
        audio: Some(!listed(OPENAI_WITHOUT_AUDIO, model_name)),
        strict: Some(!listed(OPENAI_WITHOUT_JSON_SCHEMA, model_name)),
        json_object: Some(!listed(OPENAI_WITHOUT_JSON_OBJECT, model_name)),
        reasoning: Some(!listed(OPENAI_NON_REASONING, model_name)),
    }
}

/// Whether an OpenAI model takes reasoning params (Responses: `reasoning`; `NON_REASONING_MODELS`).
pub(crate) fn openai_is_reasoning(model_name: &str) -> bool {
    !listed(OPENAI_NON_REASONING, model_name)
}

/// Whether an Anthropic model supports strict structured outputs (and so the beta API's strict
/// tools and `output_format`): `MODELS_WITHOUT_STRICT_STRUCTURED_OUTPUTS`.
pub(crate) fn anthropic_supports_strict(model_name: &str) -> bool {
    !listed(ANTHROPIC_WITHOUT_STRICT, model_name)
}

/// Whether a Google model accepts a response schema together with tools
/// (`MODELS_WITHOUT_STRUCTURED_OUTPUT_AND_TOOLS_SUPPORT`).
pub(crate) fn google_supports_format_with_tools(model_name: &str) -> bool {
    !listed(GOOGLE_WITHOUT_FORMAT_WITH_TOOLS, model_name)
}

/// The version of a `claude-<family>-<major>[-<minor>]...` model name: `(family, major, minor)`.
fn claude_version(model_name: &str) -> Option<(&str, u32, Option<u32>)> {
    let rest = model_name.strip_prefix("claude-")?;
    let mut parts = rest.split('-');
    let family = parts
        .next()
        .filter(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_lowercase()))?;
    // As the patterns spell a major version: one or two digits, no sign, no leading zero.
    let major = parts
        .next()
        .filter(|m| {
            (1..=2).contains(&m.len())
                && m.bytes().all(|b| b.is_ascii_digit())
                && !m.starts_with('0')
        })?
        .parse()
        .ok()?;
    let minor = parts
        .next()
        .and_then(|m| (m.len() == 1).then(|| m.parse().ok()).flatten());
    Some((family, major, minor))
}

/// Anthropic models that reject a manual thinking budget and take only adaptive thinking:
/// `_ADAPTIVE_THINKING_ONLY_MODEL` (anthropic/_utils/encode.py),
/// `^claude-[a-z]+-(?:4-[7-9]|[5-9]|[1-9]\d)(?:-|$)`: Claude 4.7 and later.
pub(crate) fn anthropic_adaptive_thinking_only(model_name: &str) -> bool {
    match claude_version(model_name) {
        Some((_, 4, Some(minor))) => (7..=9).contains(&minor),
        Some((_, major, _)) => major >= 5,
        None => false,
    }
}

/// Anthropic models whose thinking cannot be turned off: `_ALWAYS_ON_THINKING_MODEL`
/// (anthropic/_utils/encode.py), `^claude-(?:opus-5-5|sonnet-5-5|(?:fable|mythos)-5(?:-|$))`.
pub(crate) fn anthropic_always_thinks(model_name: &str) -> bool {
    let Some(rest) = model_name.strip_prefix("claude-") else {
        return false;
    };
    rest.starts_with("opus-5-5")
        || rest.starts_with("sonnet-5-5")
        || ["fable-5", "mythos-5"]
            .iter()
            .any(|p| rest == *p || rest.starts_with(&format!("{p}-")))
}

#[cfg(test)]
mod tests {
    use super::anthropic_adaptive_thinking_only;

    /// `_ADAPTIVE_THINKING_ONLY_MODEL`, `^claude-[a-z]+-(?:4-[7-9]|[5-9]|[1-9]\d)(?:-|$)`, on
    /// each side of its edges.
    #[test]
    fn adaptive_thinking_only_follows_the_pattern() {
        for yes in [
            "claude-opus-4-7",
            "claude-opus-5",
            "claude-sonnet-5-1",
            "claude-x-10",
            "claude-x-99-1",
        ] {
            assert!(anthropic_adaptive_thinking_only(yes), "{yes}");
        }
        for no in [
            "claude-opus-4-6",
            "claude-opus-4-70",
            "claude-opus-4",
            "claude-x-100",
            "claude-x-05",
            "claude-x-+5",
            "claude-X-5",
            "claude--5",
            "claude-x-5x",
        ] {
            assert!(!anthropic_adaptive_thinking_only(no), "{no}");
        }
    }

    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        for t in [
            OPENAI_WITHOUT_AUDIO,
            OPENAI_NON_REASONING,
            OPENAI_WITHOUT_JSON_SCHEMA,
            OPENAI_WITHOUT_JSON_OBJECT,
            ANTHROPIC_WITHOUT_STRICT,
            GOOGLE_WITHOUT_FORMAT_WITH_TOOLS,
        ] {
            assert!(t.windows(2).all(|w| w[0] < w[1]), "{t:?}");
        }
    }

    #[test]
    fn lookups_follow_mirascope() {
        assert_eq!(
            completions_features("openai", "gpt-5-mini").reasoning,
            Some(true)
        );
        assert_eq!(
            completions_features("openai", "gpt-4o").reasoning,
            Some(false)
        );
        assert_eq!(
            completions_features("openai", "gpt-4o-2024-05-13").strict,
            Some(false)
        );
        assert_eq!(
            completions_features("ollama", "gpt-4o"),
            CompletionsFeatures::default()
        );
        assert!(anthropic_supports_strict("claude-sonnet-4-5"));
        assert!(!anthropic_supports_strict("claude-sonnet-4-0"));
        assert!(!google_supports_format_with_tools("gemini-2.5-flash"));
        assert!(google_supports_format_with_tools("gemini-3-pro-preview"));
        for (m, adaptive) in [
            ("claude-sonnet-4-5", false),
            ("claude-opus-4-6", false),
            ("claude-opus-4-7", true),
            ("claude-sonnet-5", true),
            ("claude-haiku-10-1", true),
            ("claude-sonnet-4-20250514", false),
            ("claude-3-7-sonnet-latest", false),
        ] {
            assert_eq!(anthropic_adaptive_thinking_only(m), adaptive, "{m}");
        }
        assert!(anthropic_always_thinks("claude-opus-5-5-20270101"));
        assert!(anthropic_always_thinks("claude-fable-5"));
        assert!(!anthropic_always_thinks("claude-fable-50"));
        assert!(!anthropic_always_thinks("claude-opus-5"));
    }
}
