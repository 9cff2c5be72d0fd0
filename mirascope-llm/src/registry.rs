//! Model ids, providers, and which provider serves a model.
//!
//! A model id is `provider/model-name` (`openai/gpt-4o-mini`, `anthropic/claude-haiku-4-5`,
//! `google/gemini-2.5-flash`, `ollama/llama3.2`). OpenAI ids may end in `:responses` (the default
//! API) or `:completions` (Chat Completions). Providers are found by the longest registered scope
//! that prefixes the id; the built-in ones read their key and base URL from the environment.
//!
//! Layer: wire (which provider serves a model id, and how to reach it; the crate docs list the layers).

use std::sync::RwLock;

use crate::error::{Error, Result};
use crate::provider::http::TransportOverrides;

/// The wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Api {
    /// OpenAI Responses (`POST /responses`).
    OpenAiResponses,
    /// OpenAI Chat Completions (`POST /chat/completions`), also spoken by OpenAI-compatible servers.
    OpenAiCompletions,
    /// Anthropic Messages (`POST /v1/messages`).
    Anthropic,
    /// Anthropic Messages on the beta API always (`POST /v1/messages?beta=true`): the
    /// `anthropic-beta/` model ids, as Python Mirascope's `AnthropicBetaProvider`.
    AnthropicBeta,
    /// Google `generateContent` / `streamGenerateContent`.
    Google,
}

pub use crate::secret::ApiKey;

/// How a provider turns a model id into the model name it sends (each rule is the provider
/// class's `_model_name` in Mirascope 2.8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModelName {
    /// `openai/model_id.py::model_name`: the second `/`-segment, without an API suffix
    /// (OpenAI in both APIs, xAI).
    SecondSegment,
    /// `removeprefix("{id}/")`: what follows the provider's own prefix, the whole id under any
    /// other scope (Ollama, OpenRouter, Requesty, Atlas Cloud, Cheaper Inference, API Route,
    /// MiniMax).
    OwnPrefix,
    /// `together/provider.py::TogetherProvider._model_name`: the model id as it is (Together
    /// is meant to be registered on the model family's scope, `meta-llama/`).
    AsIs,
    /// What follows the first `/`: `anthropic/model_id.py::model_name` (without
    /// `anthropic-beta/`, then `anthropic/`) and `google/model_id.py::model_name` (without
    /// `google/`) for the ids they accept. Under another scope Python sends Anthropic the
    /// whole id (which Anthropic rejects) and refuses a Google one (`encode_request`: "Model
    /// ID must start with 'google/'"); we send the name after the scope (README, Differences).
    AfterFirstSegment,
}

/// Which OpenAI model features (strict schemas, reasoning parameters, ...) an OpenAI-compatible
/// provider applies to a model name: each provider class's `_model_feature_info` in 2.8.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenAiFeatures {
    /// OpenAI itself (`OpenAICompletionsProvider._model_feature_info`).
    Always,
    /// Names under `openai/` (OpenRouter, Requesty, Atlas Cloud), read as the OpenAI model
    /// named by their second segment.
    OpenAiScoped,
    /// Unprefixed OpenAI names, `gpt-`, `o1`, `o3`, `o4` (API Route, Cheaper Inference).
    OpenAiNamed,
    /// None (`BaseOpenAICompletionsProvider._model_feature_info`: unknown).
    Never,
}

impl OpenAiFeatures {
    /// The OpenAI model whose features apply to `model_name` (the name on the wire), if any.
    pub(crate) fn openai_model(self, model_name: &str) -> Option<&str> {
        match self {
            OpenAiFeatures::Always => Some(model_name),
            OpenAiFeatures::OpenAiScoped => model_name
                .strip_prefix("openai/")
                .map(|rest| rest.split('/').next().unwrap_or(rest)),
            OpenAiFeatures::OpenAiNamed => ["gpt-", "o1", "o3", "o4"]
                .iter()
                .any(|p| model_name.starts_with(p))
                .then_some(model_name),
            OpenAiFeatures::Never => None,
        }
    }
}

struct BuiltIn {
    id: &'static str,
    api: Api,
    /// The API key's environment variables, the first set one wins (Google's SDK reads
    /// `GOOGLE_API_KEY`, then `GEMINI_API_KEY`: `_api_client.py::get_env_api_key`).
    key_env: &'static [&'static str],
    /// Whether a call without a key fails (`api_key_required`); when not, `key_fallback` is
    /// sent (Ollama's `"ollama"`; the Completions base sends `"not-needed"`).
    key_required: bool,
    key_fallback: Option<&'static str>,
    /// The base URL's environment variable, where the provider reads one.
    base_env: Option<&'static str>,
    default_base: &'static str,
    model_name: ModelName,
    features: OpenAiFeatures,
}

/// The providers of Mirascope 2.8.2's `provider_registry.py::provider_singleton` that speak
/// HTTP (MLX runs models in-process on macOS and has no Rust counterpart), each as its
/// `<name>/provider.py` class configures it.
const BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        id: "openai",
        api: Api::OpenAiResponses,
        key_env: &["OPENAI_API_KEY"],
        key_required: true,
        key_fallback: None,
        base_env: Some("OPENAI_BASE_URL"),
        default_base: "https://api.openai.com/v1",
        model_name: ModelName::SecondSegment,
        features: OpenAiFeatures::Always,
    },
    BuiltIn {
        id: "anthropic",
        api: Api::Anthropic,
        key_env: &["ANTHROPIC_API_KEY"],
        key_required: true,
        key_fallback: None,
        base_env: Some("ANTHROPIC_BASE_URL"),
        default_base: "https://api.anthropic.com",
        model_name: ModelName::AfterFirstSegment,
        features: OpenAiFeatures::Never,
    },
    BuiltIn {
        id: "anthropic-beta",
        api: Api::AnthropicBeta,
        key_env: &["ANTHROPIC_API_KEY"],
        key_required: true,
        key_fallback: None,
        base_env: Some("ANTHROPIC_BASE_URL"),
        default_base: "https://api.anthropic.com",
        model_name: ModelName::AfterFirstSegment,
        features: OpenAiFeatures::Never,
    },
    BuiltIn {
        id: "google",
        api: Api::Google,
        key_env: &["GOOGLE_API_KEY", "GEMINI_API_KEY"],
        key_required: true,
        key_fallback: None,
        base_env: Some("GOOGLE_BASE_URL"),
        default_base: "https://generativelanguage.googleapis.com",
        model_name: ModelName::AfterFirstSegment,
        features: OpenAiFeatures::Never,
    },
    // `ollama/provider.py::OllamaProvider`: the key is optional, `"ollama"` when unset.
    BuiltIn {
        id: "ollama",
        api: Api::OpenAiCompletions,
        key_env: &["OLLAMA_API_KEY"],
        key_required: false,
        key_fallback: Some("ollama"),
        base_env: Some("OLLAMA_BASE_URL"),
        default_base: "http://localhost:11434/v1",
        model_name: ModelName::OwnPrefix,
        features: OpenAiFeatures::Never,
    },
    BuiltIn {
        id: "together",
        api: Api::OpenAiCompletions,
        key_env: &["TOGETHER_API_KEY"],
        key_required: true,
        key_fallback: None,
        base_env: Some("TOGETHER_BASE_URL"),
        default_base: "https://api.together.xyz/v1",
        model_name: ModelName::AsIs,
        features: OpenAiFeatures::Never,
    },
    // `xai/provider.py::XAIProvider(OpenAIResponsesProvider)`: xAI speaks the Responses API.
    BuiltIn {
        id: "xai",
        api: Api::OpenAiResponses,
        key_env: &["XAI_API_KEY"],
        key_required: true,
        key_fallback: None,
        base_env: Some("XAI_BASE_URL"),
        default_base: "https://api.x.ai/v1",
        model_name: ModelName::SecondSegment,
        features: OpenAiFeatures::Never,
    },
    BuiltIn {
        id: "openrouter",
        api: Api::OpenAiCompletions,
        key_env: &["OPENROUTER_API_KEY"],
        key_required: true,
        key_fallback: None,
        base_env: Some("OPENROUTER_BASE_URL"),
        default_base: "https://openrouter.ai/api/v1",
        model_name: ModelName::OwnPrefix,
        features: OpenAiFeatures::OpenAiScoped,
    },
    BuiltIn {
        id: "requesty",
        api: Api::OpenAiCompletions,
        key_env: &["REQUESTY_API_KEY"],
        key_required: true,
        key_fallback: None,
        base_env: None,
        default_base: "https://router.requesty.ai/v1",
        model_name: ModelName::OwnPrefix,
        features: OpenAiFeatures::OpenAiScoped,
    },
    BuiltIn {
        id: "atlascloud",
        api: Api::OpenAiCompletions,
        key_env: &["ATLASCLOUD_API_KEY"],
        key_required: true,
        key_fallback: None,
        base_env: None,
        default_base: "https://api.atlascloud.ai/v1",
        model_name: ModelName::OwnPrefix,
        features: OpenAiFeatures::OpenAiScoped,
    },
    BuiltIn {
        id: "cheaperinference",
        api: Api::OpenAiCompletions,
        key_env: &["CHEAPER_INFERENCE_API_KEY"],
        key_required: true,
        key_fallback: None,
        base_env: None,
        default_base: "https://api.cheaperinference.com/v1",
        model_name: ModelName::OwnPrefix,
        features: OpenAiFeatures::OpenAiNamed,
    },
    BuiltIn {
        id: "api-route",
        api: Api::OpenAiCompletions,
        key_env: &["API_ROUTE_API_KEY"],
        key_required: true,
        key_fallback: None,
        base_env: None,
        default_base: "https://global.api-route.com/v1",
        model_name: ModelName::OwnPrefix,
        features: OpenAiFeatures::OpenAiNamed,
    },
    BuiltIn {
        id: "minimax",
        api: Api::OpenAiCompletions,
        key_env: &["MINIMAX_API_KEY"],
        key_required: true,
        key_fallback: None,
        base_env: None,
        default_base: "https://api.minimax.io/v1",
        model_name: ModelName::OwnPrefix,
        features: OpenAiFeatures::Never,
    },
];

/// Which OpenAI model features provider `provider_id` applies (`openai:completions` and the
/// unified `openai` as OpenAI; unknown ids none).
pub(crate) fn openai_features(provider_id: &str) -> OpenAiFeatures {
    let base_id = base_provider(provider_id);
    BUILT_INS
        .iter()
        .find(|b| b.id == base_id)
        .map_or(OpenAiFeatures::Never, |b| b.features)
}

/// The model name `rule` sends for `model_id` (API suffix already removed), for provider `id`.
fn wire_model_name(rule: ModelName, id: &str, model_id: &str) -> String {
    let without = |prefix: &str| model_id.strip_prefix(prefix).unwrap_or(model_id);
    match rule {
        ModelName::SecondSegment => model_id.split('/').nth(1).unwrap_or(model_id).to_string(),
        ModelName::OwnPrefix => without(&format!("{id}/")).to_string(),
        ModelName::AsIs => model_id.to_string(),
        ModelName::AfterFirstSegment => model_id
            .split_once('/')
            .map_or(model_id, |(_, name)| name)
            .to_string(),
    }
}

/// A provider registered with [`Provider::register`].
#[derive(Debug, Clone)]
struct Registration {
    provider: String,
    scope: String,
    api_key: Option<ApiKey>,
    base_url: Option<String>,
    transport: TransportOverrides,
}

static REGISTRY: RwLock<Vec<Registration>> = RwLock::new(Vec::new());

/// Everything needed to send a call for one model id.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// `gen_ai.provider.name`: the registered provider's id (`openai`, `openai:completions`,
    /// `anthropic`, `google`, `ollama`, ...), as each 2.8.2 provider class's `id`.
    pub provider_id: String,
    pub api: Api,
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    /// The name on the wire (`gpt-4o-mini`).
    pub model_name: String,
    /// The transport settings of the provider registration.
    pub transport: TransportOverrides,
}

impl Resolved {
    /// The provider id a response and its messages carry: `anthropic` for `anthropic-beta/`
    /// models (Python's `AnthropicBetaProvider` answers as `provider_id="anthropic"`), the
    /// provider id otherwise. Spans name the provider as resolved (`anthropic-beta`).
    pub(crate) fn response_provider_id(&self) -> &str {
        match self.api {
            Api::AnthropicBeta => "anthropic",
            _ => &self.provider_id,
        }
    }
}

/// Checks a model id and splits it into provider prefix and model name.
///
/// ```
/// assert!(mirascope_llm::validate_model_id("openai/gpt-4o-mini").is_ok());
/// assert!(mirascope_llm::validate_model_id("gpt-4o-mini").is_err());
/// ```
pub fn validate_model_id(model_id: &str) -> Result<(&str, &str)> {
    let invalid = |reason| Error::InvalidModelId {
        model_id: model_id.to_string(),
        reason,
    };
    if model_id.chars().any(char::is_control) {
        return Err(invalid("control characters are not allowed"));
    }
    if model_id.chars().any(char::is_whitespace) {
        return Err(invalid("whitespace is not allowed"));
    }
    match model_id.split_once('/') {
        // A model name goes into a URL path (Google's `/models/{name}:generateContent`): a `.`
        // or `..` segment would move the request elsewhere on the server, with the API key.
        // Names that hold `/` (OpenRouter's `meta-llama/llama-3-70b`) keep working.
        Some((_, m)) if m.split('/').any(is_dot_segment) => Err(invalid(
            "'.' and '..' path segments are not allowed in a model name",
        )),
        Some((p, m)) if !p.is_empty() && !m.is_empty() && !m.starts_with(':') => Ok((p, m)),
        _ => Err(invalid(
            "expected 'provider/model-name' (e.g. 'openai/gpt-4o-mini')",
        )),
    }
}

/// Checks a base URL: `http` or `https`, a host, no whitespace.
fn check_base_url(url: &str, source_name: &str) -> Result<()> {
    let invalid = |reason: &str| Error::InvalidBaseUrl {
        url: url.to_string(),
        source_name: source_name.to_string(),
        reason: reason.to_string(),
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains whitespace or control characters"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(&format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    Ok(())
}

/// Whether a path segment is `.` or `..`, plainly or percent-encoded (URL parsers resolve
/// `%2e%2e` as `..`), ignoring what follows a `:` (`..:generateContent`).
fn is_dot_segment(segment: &str) -> bool {
    let segment = segment.split(':').next().unwrap_or_default();
    let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
    decoded == "." || decoded == ".."
}

/// A provider registration: which API serves the model ids under a scope, with which key, base
/// URL and transport settings. Nothing changes until [`Provider::register`].
///
/// `id` is a provider id: `openai`, `openai:responses`, `openai:completions`, `anthropic`,
/// `google`, `ollama`, `together`, `xai`, `openrouter`, `requesty`, `atlascloud`,
/// `cheaperinference`, `api-route`, `minimax` (Mirascope 2.8.2's registry). Spans and responses
/// name the provider as registered (`openai:completions` registered is `openai:completions`, as
/// Python's `OpenAICompletionsProvider.id`). Use `openai:completions` with a base URL
/// for any OpenAI-compatible server. The scope defaults to `"{provider}/"`; the longest matching
/// scope wins; registering a scope again replaces the earlier registration. Transport settings
/// apply to every model of the scope; a model's own `with_timeout` etc. win over them.
///
/// ```
/// use std::time::Duration;
/// use mirascope_llm as llm;
/// llm::Provider::new("openai:completions")
///     .scope("local/")
///     .base_url("http://127.0.0.1:8080/v1")
///     .timeout(Duration::from_secs(30))
///     .register()
///     .unwrap();
/// let model = llm::model("local/llama3").unwrap();
/// assert_eq!(model.id(), "local/llama3");
/// ```
#[derive(Debug, Clone)]
#[must_use = "a provider is used only once `register()` is called"]
pub struct Provider {
    provider: String,
    scope: Option<String>,
    api_key: Option<ApiKey>,
    base_url: Option<String>,
    transport: TransportOverrides,
}

impl Provider {
    /// A registration of provider `id` (see the type's docs for the ids).
    pub fn new(id: impl Into<String>) -> Self {
        Provider {
            provider: id.into(),
            scope: None,
            api_key: None,
            base_url: None,
            transport: TransportOverrides::default(),
        }
    }

    /// The model-id prefix this registration serves (default `"{provider}/"`).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The API key (default: the provider's environment variable, read at call time).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
        self
    }

    /// The base URL (default: the provider's environment variable, then its public endpoint).
    /// Checked by [`Provider::register`]: an `http` or `https` URL with a host and no whitespace,
    /// else `Error::InvalidBaseUrl` naming it.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into().trim_end_matches('/').to_string());
        self
    }

    /// The deadline of the whole answer for this provider's calls and streams (see
    /// `Model::with_timeout`).
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.transport.timeout = Some(timeout);
        self
    }

    /// The deadline of a whole stream of this provider's models (default 30 min; `None`: none).
    pub fn stream_deadline(mut self, deadline: impl Into<Option<std::time::Duration>>) -> Self {
        self.transport.stream_deadline = Some(deadline.into());
        self
    }

    /// The longest silence between an answer's bytes or events (default 120 s).
    pub fn idle_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.transport.idle_timeout = Some(timeout);
        self
    }

    /// The retry policy for this provider's calls (default: 2 retries, 15 min in all).
    pub fn retry(mut self, retry: crate::RetryPolicy) -> Self {
        self.transport.retry = Some(retry);
        self
    }

    /// The most bytes one answer may have (default 64 MiB).
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.transport.max_response_bytes = Some(limit);
        self
    }

    /// Registers it; fails on an unknown provider id or an empty scope.
    pub fn register(self) -> Result<()> {
        let provider = self.provider.as_str();
        let base_id = base_provider(provider);
        if !matches!(provider, "openai:responses" | "openai:completions")
            && !BUILT_INS.iter().any(|b| b.id == provider)
        {
            return Err(Error::InvalidRequest(format!(
                "unknown provider id {provider:?}; known: openai, openai:responses, openai:completions, {}",
                BUILT_INS.iter().skip(1).map(|b| b.id).collect::<Vec<_>>().join(", ")
            )));
        }
        let scope = self.scope.unwrap_or_else(|| format!("{base_id}/"));
        if scope.is_empty() {
            return Err(Error::InvalidRequest(
                "provider scope must not be empty".into(),
            ));
        }
        if let Some(url) = &self.base_url {
            check_base_url(url, "Provider::base_url")?;
        }
        // The HTTP client and its TLS roots are built now, at set-up, so that no call (and no
        // call's span or duration) pays for them.
        crate::provider::http::warm_up();
        let reg = Registration {
            provider: self.provider,
            scope,
            api_key: self.api_key,
            base_url: self.base_url,
            transport: self.transport,
        };
        let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        registry.retain(|r| r.scope != reg.scope);
        registry.push(reg);
        Ok(())
    }
}

/// The registration of exactly `scope`, to restore later with [`restore_scope`].
#[cfg(feature = "replay")]
#[derive(Debug, Clone)]
pub(crate) struct ScopeSnapshot(Option<Registration>, String);

#[cfg(feature = "replay")]
pub(crate) fn snapshot_scope(scope: &str) -> ScopeSnapshot {
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    ScopeSnapshot(
        registry.iter().find(|r| r.scope == scope).cloned(),
        scope.to_string(),
    )
}

#[cfg(feature = "replay")]
pub(crate) fn restore_scope(snapshot: ScopeSnapshot) {
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    registry.retain(|r| r.scope != snapshot.1);
    if let Some(r) = snapshot.0 {
        registry.push(r);
    }
}

/// Removes every registration (built-in providers stay).
pub fn reset_providers() {
    REGISTRY.write().unwrap_or_else(|e| e.into_inner()).clear();
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Splits off an OpenAI API suffix.
fn api_suffix(model_id: &str) -> (&str, Option<Api>) {
    if let Some(base) = model_id.strip_suffix(":completions") {
        (base, Some(Api::OpenAiCompletions))
    } else if let Some(base) = model_id.strip_suffix(":responses") {
        (base, Some(Api::OpenAiResponses))
    } else {
        (model_id, None)
    }
}

/// OpenAI models that 2.8.2's `OPENAI_KNOWN_MODELS` lists with `:completions` and not with
/// `:responses` (`openai/model_info.py`): the unified `openai` provider calls them over Chat
/// Completions.
const OPENAI_COMPLETIONS_ONLY: &[&str] = &[
    "openai/gpt-3.5-turbo-16k",
    "openai/gpt-4o-mini-search-preview",
    "openai/gpt-4o-mini-search-preview-2025-03-11",
    "openai/gpt-4o-search-preview",
    "openai/gpt-4o-search-preview-2025-03-11",
    "openai/gpt-5-search-api",
    "openai/gpt-5-search-api-2025-10-14",
];

/// The API the unified `openai` provider calls for `model_id` (without suffix) when no suffix
/// names one: Mirascope 2.8.2 `openai/provider.py::choose_api_mode`. Chat Completions when
/// the messages hold audio (the Responses API takes none), or the model is known only there;
/// else Responses for `openai/` ids and Chat Completions for ids under another scope (other
/// models routed through an OpenAI-compatible endpoint).
fn choose_api_mode(model_id: &str, has_audio: bool) -> Api {
    if has_audio || OPENAI_COMPLETIONS_ONLY.contains(&model_id) {
        Api::OpenAiCompletions
    } else if model_id.starts_with("openai/") {
        Api::OpenAiResponses
    } else {
        Api::OpenAiCompletions
    }
}

/// Finds the provider for a model id, with its key and base URL.
#[cfg(test)]
pub(crate) fn resolve(model_id: &str) -> Result<Resolved> {
    resolve_for(model_id, false)
}

/// A provider id without its API (`openai:completions` -> `openai`): the provider the id
/// names. One byte scan (it runs on every call).
pub(crate) fn base_provider(provider_id: &str) -> &str {
    let end = provider_id
        .bytes()
        .position(|b| b == b':')
        .unwrap_or(provider_id.len());
    &provider_id[..end]
}

/// Finds the provider for a model id, with its key and base URL; `has_audio`: whether the
/// call's (non-system) messages hold audio, which decides the unified `openai` provider's API.
pub(crate) fn resolve_for(model_id: &str, has_audio: bool) -> Result<Resolved> {
    let (prefix, _) = validate_model_id(model_id)?;
    let (base_model_id, suffix_api) = api_suffix(model_id);

    let registered = {
        let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
        registry
            .iter()
            .filter(|r| model_id.starts_with(&r.scope))
            .max_by_key(|r| r.scope.len())
            .cloned()
    };

    let (provider, api_key, base_url, transport) = match registered {
        Some(r) => (r.provider, r.api_key, r.base_url, r.transport),
        None => (
            prefix.to_string(),
            None,
            None,
            TransportOverrides::default(),
        ),
    };
    let base_id = base_provider(&provider).to_string();
    let built_in =
        BUILT_INS
            .iter()
            .find(|b| b.id == base_id)
            .ok_or_else(|| Error::UnknownProvider {
                model_id: model_id.to_string(),
                known: BUILT_INS
                    .iter()
                    .map(|b| format!("{}/", b.id))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;

    let api = match provider.as_str() {
        "openai:completions" => Api::OpenAiCompletions,
        "openai:responses" => Api::OpenAiResponses,
        "openai" => suffix_api.unwrap_or_else(|| choose_api_mode(base_model_id, has_audio)),
        _ => built_in.api,
    };
    if suffix_api.is_some() && built_in.id != "openai" {
        return Err(Error::InvalidModelId {
            model_id: model_id.to_string(),
            reason: "the ':responses' / ':completions' suffix only applies to OpenAI models",
        });
    }
    let model_name = wire_model_name(built_in.model_name, built_in.id, base_model_id);

    let api_key = match api_key {
        Some(k) => Some(k),
        None => match (
            built_in.key_env.iter().find_map(|var| env(var)),
            built_in.key_env.first(),
        ) {
            (Some(key), _) => Some(ApiKey::new(key)),
            (None, Some(var))
                if built_in.key_required
                    && !(provider == "openai:completions" && base_url.is_some()) =>
            {
                return Err(Error::MissingApiKey {
                    provider: base_id.clone(),
                    env_var: var.to_string(),
                })
            }
            // `BaseOpenAICompletionsProvider.__init__`: without a key, a registration with its
            // own base URL (a local OpenAI-compatible server) sends `"not-needed"`.
            (None, _) if provider == "openai:completions" && base_url.is_some() => {
                Some(ApiKey::new("not-needed"))
            }
            (None, _) => built_in.key_fallback.map(ApiKey::new),
        },
    };
    let base_url = match (base_url, built_in.base_env.and_then(env)) {
        (Some(url), _) => url,
        // Surrounding whitespace in an environment value is a copy-paste artefact, not part of
        // the URL; anything else wrong with it is an error naming the variable.
        (None, Some(url)) => {
            let url = url.trim().trim_end_matches('/').to_string();
            check_base_url(&url, built_in.base_env.unwrap_or_default())?;
            url
        }
        (None, None) => built_in.default_base.to_string(),
    };
    #[cfg(not(feature = "rustls"))]
    if base_url.starts_with("https://") {
        return Err(Error::InvalidBaseUrl {
            url: base_url,
            source_name: format!("the {base_id} provider"),
            reason: "HTTPS needs mirascope's `rustls` feature (on by default); without it \
                     only http:// base URLs work"
                .into(),
        });
    }
    Ok(Resolved {
        // A registered `openai:completions` or `openai:responses` answers under that id, as
        // Python's `OpenAICompletionsProvider` / `OpenAIResponsesProvider` do; the unified
        // `openai` provider as `openai`, whichever API it routes to.
        provider_id: provider,
        api,
        base_url,
        api_key,
        model_name,
        transport,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_id_rules() {
        assert!(validate_model_id("openai/gpt-4o").is_ok());
        for bad in ["gpt-4o", "/gpt", "openai/", "", "openai/:completions"] {
            let err = validate_model_id(bad).unwrap_err();
            assert!(
                err.to_string().contains("provider/model-name"),
                "{bad}: {err}"
            );
        }
    }

    /// No model name can change a request URL's path, query or fragment (Google puts the name
    /// in the path), while names that hold `/` keep working.
    #[test]
    fn model_names_cannot_leave_their_path_segment() {
        for bad in [
            "google/../../escape",
            "google/..",
            "google/.",
            "google/a/../b",
            "google/%2e%2E/escape",
            "google/..:generateContent",
        ] {
            let err = validate_model_id(bad).unwrap_err();
            assert!(err.to_string().contains("'..'"), "{bad}: {err}");
        }
        for bad in [
            "google/gemini pro",
            "google/gemini\t",
            "openai/gpt-4o\n",
            " openai/x",
        ] {
            let err = validate_model_id(bad).unwrap_err();
            assert!(
                matches!(err, Error::InvalidModelId { .. }),
                "{bad:?}: {err}"
            );
        }
        for good in [
            "openrouter/meta-llama/llama-3-70b-instruct",
            "together/meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "google/gemini-2.5-flash",
            "google/tunedModels/my-model.v2",
            "ollama/llama3.2:1b",
        ] {
            assert!(validate_model_id(good).is_ok(), "{good}");
        }
        // `?` and `#` stay inside the path segment.
        let segment = crate::provider::model_path_segment("gemini?key=x#frag");
        assert_eq!(segment, "gemini%3Fkey=x%23frag");
    }

    /// A base URL is checked when it is set: a typed error naming it, before any request.
    #[test]
    fn base_urls_are_checked_when_set() {
        for (bad, why) in [
            ("127.0.0.1:18080/v1", "not a URL"),
            ("ftp://example.com/v1", "scheme"),
            ("http://exa mple.com/v1", "whitespace"),
            ("http://example.com/v1 ", "whitespace"),
            ("file:///etc", "scheme"),
        ] {
            let err = Provider::new("openai:completions")
                .scope("base-url-test/")
                .base_url(bad)
                .register()
                .unwrap_err();
            match &err {
                Error::InvalidBaseUrl { url, reason, .. } => {
                    assert_eq!(url, bad.trim_end_matches('/'));
                    assert!(reason.contains(why), "{bad}: {reason}");
                }
                other => panic!("{bad}: {other:?}"),
            }
            assert!(err.to_string().contains(bad.trim()), "{err}");
        }
        assert!(Provider::new("openai:completions")
            .scope("base-url-test-ok/")
            .base_url("http://127.0.0.1:18080/v1/")
            .register()
            .is_ok());
    }

    #[test]
    fn suffix_picks_api_and_is_stripped() {
        assert_eq!(
            api_suffix("openai/gpt-4o:completions"),
            ("openai/gpt-4o", Some(Api::OpenAiCompletions))
        );
        assert_eq!(api_suffix("openai/gpt-4o"), ("openai/gpt-4o", None));
    }

    #[test]
    fn longest_scope_wins_and_keys_are_redacted() {
        Provider::new("openai")
            .scope("zz-test/")
            .api_key("sk-outer")
            .base_url("http://outer/v1/")
            .register()
            .unwrap();
        Provider::new("anthropic")
            .scope("zz-test/inner/")
            .api_key("sk-inner")
            .base_url("http://inner")
            .register()
            .unwrap();
        let r = resolve("zz-test/inner/model").unwrap();
        assert_eq!(r.api, Api::Anthropic);
        assert_eq!(r.base_url, "http://inner");
        let r = resolve("zz-test/gpt:completions").unwrap();
        assert_eq!(
            (r.api, r.model_name.as_str(), r.base_url.as_str()),
            (Api::OpenAiCompletions, "gpt", "http://outer/v1")
        );
        assert!(!format!("{r:?}").contains("sk-outer"));
        assert!(Provider::new("nope").register().is_err());
    }

    #[test]
    fn unknown_prefix_is_a_typed_error() {
        match resolve("mystery/model") {
            Err(Error::UnknownProvider { known, .. }) => assert!(known.contains("openai/")),
            other => panic!("{other:?}"),
        }
    }

    /// The providers of Mirascope 2.8.2's registry, as their classes configure them: the wire,
    /// the model name sent, the provider id recorded, the key, the OpenAI feature rule.
    #[test]
    fn release_2_8_2_providers() {
        let register = |provider: &str, scope: &str| {
            Provider::new(provider)
                .scope(scope)
                .api_key("k")
                .base_url("http://127.0.0.1:9/v1")
                .register()
                .unwrap()
        };
        // (registered provider, scope, model id) -> (api, model name sent, provider id). Scopes
        // of their own: the registry is shared by this binary's tests.
        let cases = [
            (
                "xai",
                "zz-282-xai/",
                "zz-282-xai/grok-4",
                Api::OpenAiResponses,
                "grok-4",
                "xai",
            ),
            // Together sends the id as it is (`TogetherProvider._model_name`).
            (
                "together",
                "zz-282-meta-llama/",
                "zz-282-meta-llama/Llama-3.3-70B",
                Api::OpenAiCompletions,
                "zz-282-meta-llama/Llama-3.3-70B",
                "together",
            ),
            // The others strip their own prefix only (`removeprefix`): under another scope,
            // the whole id.
            (
                "openrouter",
                "zz-282-or/",
                "zz-282-or/gpt-4o",
                Api::OpenAiCompletions,
                "zz-282-or/gpt-4o",
                "openrouter",
            ),
            (
                "minimax",
                "zz-282-mm/",
                "zz-282-mm/MiniMax-M1",
                Api::OpenAiCompletions,
                "zz-282-mm/MiniMax-M1",
                "minimax",
            ),
            // OpenAI takes the second segment; a registered API names itself.
            (
                "openai:completions",
                "zz-282-oc/",
                "zz-282-oc/gpt-4o",
                Api::OpenAiCompletions,
                "gpt-4o",
                "openai:completions",
            ),
            (
                "openai:responses",
                "zz-282-or2/",
                "zz-282-or2/gpt-4o",
                Api::OpenAiResponses,
                "gpt-4o",
                "openai:responses",
            ),
            (
                "openai",
                "zz-282-o/",
                "zz-282-o/gpt-4o:completions",
                Api::OpenAiCompletions,
                "gpt-4o",
                "openai",
            ),
        ];
        for (provider, scope, model_id, api, name, id) in cases {
            register(provider, scope);
            let r = resolve(model_id).unwrap_or_else(|e| panic!("{model_id}: {e}"));
            assert_eq!(
                (r.api, r.model_name.as_str(), r.provider_id.as_str()),
                (api, name, id),
                "{model_id}"
            );
        }
        assert!(matches!(
            resolve("zz-282-xai/grok-4:completions"),
            Err(Error::InvalidModelId { .. })
        ));
        // Under a provider's own prefix (the default scopes).
        for (rule, id, model_id, name) in [
            (
                ModelName::AsIs,
                "together",
                "together/meta-llama/L",
                "together/meta-llama/L",
            ),
            (
                ModelName::OwnPrefix,
                "openrouter",
                "openrouter/openai/gpt-4o",
                "openai/gpt-4o",
            ),
            (
                ModelName::OwnPrefix,
                "requesty",
                "requesty/openai/gpt-4o",
                "openai/gpt-4o",
            ),
            (
                ModelName::OwnPrefix,
                "ollama",
                "ollama/llama3.2:1b",
                "llama3.2:1b",
            ),
            (
                ModelName::OwnPrefix,
                "api-route",
                "api-route/o3-mini",
                "o3-mini",
            ),
            (
                ModelName::SecondSegment,
                "openai",
                "openai/gpt-4o/extra",
                "gpt-4o",
            ),
            (
                ModelName::AfterFirstSegment,
                "anthropic-beta",
                "anthropic-beta/claude-x",
                "claude-x",
            ),
            (
                ModelName::AfterFirstSegment,
                "google",
                "google/gemini-2.5-flash",
                "gemini-2.5-flash",
            ),
        ] {
            assert_eq!(wire_model_name(rule, id, model_id), name, "{model_id}");
        }
    }

    /// Which OpenAI model features each OpenAI-compatible provider applies
    /// (`_model_feature_info` of each provider class).
    #[test]
    fn openai_features_per_provider() {
        let model = |provider: &str, name: &str| {
            openai_features(provider)
                .openai_model(name)
                .map(str::to_string)
        };
        assert_eq!(model("openai", "gpt-4o").as_deref(), Some("gpt-4o"));
        assert_eq!(
            model("openai:completions", "gpt-4o").as_deref(),
            Some("gpt-4o")
        );
        assert_eq!(
            model("openrouter", "openai/gpt-5-mini").as_deref(),
            Some("gpt-5-mini")
        );
        assert_eq!(model("openrouter", "meta-llama/llama-3"), None);
        assert_eq!(model("requesty", "openai/o3").as_deref(), Some("o3"));
        assert_eq!(model("atlascloud", "gpt-4o"), None);
        assert_eq!(model("api-route", "o3-mini").as_deref(), Some("o3-mini"));
        assert_eq!(
            model("cheaperinference", "gpt-4o").as_deref(),
            Some("gpt-4o")
        );
        assert_eq!(model("cheaperinference", "llama-3"), None);
        for provider in ["ollama", "together", "minimax", "xai", "mystery"] {
            assert_eq!(model(provider, "gpt-4o"), None, "{provider}");
        }
    }

    /// Keys: Ollama's is optional (`"ollama"` when unset); a registered `openai:completions`
    /// with its own base URL and no key sends `"not-needed"`.
    /// `choose_api_mode`: audio and completions-only models go to Chat Completions, unknown
    /// `openai/` models to Responses, other scopes to Chat Completions; a suffix decides alone.
    #[test]
    fn the_unified_openai_provider_chooses_its_api() {
        assert_eq!(
            choose_api_mode("openai/gpt-4o", false),
            Api::OpenAiResponses
        );
        assert_eq!(
            choose_api_mode("openai/gpt-4o", true),
            Api::OpenAiCompletions
        );
        assert_eq!(
            choose_api_mode("openai/gpt-4o-search-preview", false),
            Api::OpenAiCompletions
        );
        assert_eq!(
            choose_api_mode("openai/gpt-9-unknown", false),
            Api::OpenAiResponses
        );
        assert_eq!(
            choose_api_mode("zz-scope/llama3", false),
            Api::OpenAiCompletions
        );
        Provider::new("openai")
            .scope("zz-282-unified/")
            .api_key("k")
            .register()
            .unwrap();
        assert_eq!(
            resolve_for("zz-282-unified/m", false).unwrap().api,
            Api::OpenAiCompletions
        );
        assert_eq!(
            resolve_for("zz-282-unified/m:responses", true).unwrap().api,
            Api::OpenAiResponses
        );
    }

    #[test]
    fn keys_that_may_be_absent() {
        Provider::new("ollama")
            .scope("zz-282-ollama/")
            .base_url("http://127.0.0.1:9/v1")
            .register()
            .unwrap();
        if std::env::var_os("OLLAMA_API_KEY").is_none() {
            let r = resolve("zz-282-ollama/llama3").unwrap();
            assert_eq!(r.api_key.as_ref().map(|k| k.expose()), Some("ollama"));
        }
        Provider::new("openai:completions")
            .scope("zz-282-local/")
            .base_url("http://127.0.0.1:9/v1")
            .register()
            .unwrap();
        let r = resolve("zz-282-local/llama3").unwrap();
        assert_eq!(r.api_key.as_ref().map(|k| k.expose()), Some("not-needed"));
    }
}
