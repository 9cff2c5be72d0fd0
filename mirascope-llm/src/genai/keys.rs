//! Every attribute key, event name and metric name Mirascope writes, in one place. Search for a
//! constant to find where an attribute is computed.
//!
//! - The OpenTelemetry semantic conventions' (GenAI v1.41, `server.*`, `error.*`,
//!   `exception.*`, `openai.*`): the same strings as `opentelemetry-semantic-conventions` 0.33
//!   (feature `semconv_experimental`), which a test here checks constant by constant. They are
//!   written out rather than re-exported because that crate marks every GenAI key deprecated
//!   ("moved to the GenAI semantic conventions repository"), so each use would warn.
//! - Mirascope's own: `mirascope.*`, and the `gen_ai.*` names Python Mirascope adds.
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

// --- OpenTelemetry semantic conventions ---

/// Attribute `error.message` (semantic conventions).
pub const ERROR_MESSAGE: &str = "error.message";
/// Attribute `error.type` (semantic conventions).
pub const ERROR_TYPE: &str = "error.type";
/// Attribute `exception.escaped` (semantic conventions).
pub const EXCEPTION_ESCAPED: &str = "exception.escaped";
/// Attribute `exception.message` (semantic conventions).
pub const EXCEPTION_MESSAGE: &str = "exception.message";
/// Attribute `exception.stacktrace` (semantic conventions).
pub const EXCEPTION_STACKTRACE: &str = "exception.stacktrace";
/// Attribute `exception.type` (semantic conventions).
pub const EXCEPTION_TYPE: &str = "exception.type";
/// Metric `gen_ai.client.operation.duration` (semantic conventions).
pub const GEN_AI_CLIENT_OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
/// Metric `gen_ai.client.operation.time_per_output_chunk` (semantic conventions).
pub const GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK: &str =
    "gen_ai.client.operation.time_per_output_chunk";
/// Metric `gen_ai.client.operation.time_to_first_chunk` (semantic conventions).
pub const GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK: &str =
    "gen_ai.client.operation.time_to_first_chunk";
/// Metric `gen_ai.client.token.usage` (semantic conventions).
pub const GEN_AI_CLIENT_TOKEN_USAGE: &str = "gen_ai.client.token.usage";
/// Attribute `gen_ai.conversation.id` (semantic conventions).
pub const GEN_AI_CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// Attribute `gen_ai.input.messages` (semantic conventions).
pub const GEN_AI_INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// Attribute `gen_ai.operation.name` (semantic conventions).
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// Attribute `gen_ai.output.messages` (semantic conventions).
pub const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
/// Attribute `gen_ai.output.type` (semantic conventions).
pub const GEN_AI_OUTPUT_TYPE: &str = "gen_ai.output.type";
/// Attribute `gen_ai.provider.name` (semantic conventions).
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
/// Attribute `gen_ai.request.choice.count` (semantic conventions).
pub const GEN_AI_REQUEST_CHOICE_COUNT: &str = "gen_ai.request.choice.count";
/// Attribute `gen_ai.request.frequency_penalty` (semantic conventions).
pub const GEN_AI_REQUEST_FREQUENCY_PENALTY: &str = "gen_ai.request.frequency_penalty";
/// Attribute `gen_ai.request.max_tokens` (semantic conventions).
pub const GEN_AI_REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// Attribute `gen_ai.request.model` (semantic conventions).
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
/// Attribute `gen_ai.request.presence_penalty` (semantic conventions).
pub const GEN_AI_REQUEST_PRESENCE_PENALTY: &str = "gen_ai.request.presence_penalty";
/// Attribute `gen_ai.request.seed` (semantic conventions).
pub const GEN_AI_REQUEST_SEED: &str = "gen_ai.request.seed";
/// Attribute `gen_ai.request.stop_sequences` (semantic conventions).
pub const GEN_AI_REQUEST_STOP_SEQUENCES: &str = "gen_ai.request.stop_sequences";
/// Attribute `gen_ai.request.stream` (semantic conventions).
pub const GEN_AI_REQUEST_STREAM: &str = "gen_ai.request.stream";
/// Attribute `gen_ai.request.temperature` (semantic conventions).
pub const GEN_AI_REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
/// Attribute `gen_ai.request.top_k` (semantic conventions).
pub const GEN_AI_REQUEST_TOP_K: &str = "gen_ai.request.top_k";
/// Attribute `gen_ai.request.top_p` (semantic conventions).
pub const GEN_AI_REQUEST_TOP_P: &str = "gen_ai.request.top_p";
/// Attribute `gen_ai.response.finish_reasons` (semantic conventions).
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// Attribute `gen_ai.response.id` (semantic conventions).
pub const GEN_AI_RESPONSE_ID: &str = "gen_ai.response.id";
/// Attribute `gen_ai.response.model` (semantic conventions).
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
/// Attribute `gen_ai.system_instructions` (semantic conventions).
pub const GEN_AI_SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
/// Attribute `gen_ai.token.type` (semantic conventions).
pub const GEN_AI_TOKEN_TYPE: &str = "gen_ai.token.type";
/// Attribute `gen_ai.tool.call.arguments` (semantic conventions).
pub const GEN_AI_TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
/// Attribute `gen_ai.tool.call.id` (semantic conventions).
pub const GEN_AI_TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
/// Attribute `gen_ai.tool.call.result` (semantic conventions).
pub const GEN_AI_TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";
/// Attribute `gen_ai.tool.definitions` (semantic conventions).
pub const GEN_AI_TOOL_DEFINITIONS: &str = "gen_ai.tool.definitions";
/// Attribute `gen_ai.tool.description` (semantic conventions).
pub const GEN_AI_TOOL_DESCRIPTION: &str = "gen_ai.tool.description";
/// Attribute `gen_ai.tool.name` (semantic conventions).
pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
/// Attribute `gen_ai.tool.type` (semantic conventions).
pub const GEN_AI_TOOL_TYPE: &str = "gen_ai.tool.type";
/// Attribute `gen_ai.usage.cache_creation.input_tokens` (semantic conventions).
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str =
    "gen_ai.usage.cache_creation.input_tokens";
/// Attribute `gen_ai.usage.cache_read.input_tokens` (semantic conventions).
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// Attribute `gen_ai.usage.input_tokens` (semantic conventions).
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// Attribute `gen_ai.usage.output_tokens` (semantic conventions).
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// Attribute `gen_ai.usage.reasoning.output_tokens` (semantic conventions).
pub const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
/// Attribute `openai.response.service_tier` (semantic conventions).
pub const OPENAI_RESPONSE_SERVICE_TIER: &str = "openai.response.service_tier";
/// Attribute `openai.response.system_fingerprint` (semantic conventions).
pub const OPENAI_RESPONSE_SYSTEM_FINGERPRINT: &str = "openai.response.system_fingerprint";
/// Attribute `server.address` (semantic conventions).
pub const SERVER_ADDRESS: &str = "server.address";
/// Attribute `server.port` (semantic conventions).
pub const SERVER_PORT: &str = "server.port";

// --- Mirascope's own ---

/// Event: request parameters Mirascope does not map to a `gen_ai.request.*` attribute.
pub const GEN_AI_REQUEST_PARAMS_UNTRACKED: &str = "gen_ai.request.params.untracked";
/// On `gen_ai.request.params.untracked`: how many.
pub const GEN_AI_UNTRACKED_PARAMS_COUNT: &str = "gen_ai.untracked_params.count";
/// On `gen_ai.request.params.untracked`: the parameters as JSON.
pub const GEN_AI_UNTRACKED_PARAMS_JSON: &str = "gen_ai.untracked_params.json";
/// On `gen_ai.request.params.untracked`: their names.
pub const GEN_AI_UNTRACKED_PARAMS_KEYS: &str = "gen_ai.untracked_params.keys";
/// Mirascope: `mirascope.call.cancelled`.
pub const MIRASCOPE_CALL_CANCELLED: &str = "mirascope.call.cancelled";
/// Mirascope: `mirascope.client.cost`.
pub const MIRASCOPE_CLIENT_COST: &str = "mirascope.client.cost";
/// Mirascope: `mirascope.fn.is_async`.
pub const MIRASCOPE_FN_IS_ASYNC: &str = "mirascope.fn.is_async";
/// Mirascope: `mirascope.fn.module`.
pub const MIRASCOPE_FN_MODULE: &str = "mirascope.fn.module";
/// Mirascope: `mirascope.fn.qualname`.
pub const MIRASCOPE_FN_QUALNAME: &str = "mirascope.fn.qualname";
/// Mirascope: `mirascope.ops.session.attributes`.
pub const MIRASCOPE_OPS_SESSION_ATTRIBUTES: &str = "mirascope.ops.session.attributes";
/// Mirascope: `mirascope.ops.session.id`.
pub const MIRASCOPE_OPS_SESSION_ID: &str = "mirascope.ops.session.id";
/// Mirascope: `mirascope.response.content`.
pub const MIRASCOPE_RESPONSE_CONTENT: &str = "mirascope.response.content";
/// Mirascope: `mirascope.response.cost`.
pub const MIRASCOPE_RESPONSE_COST: &str = "mirascope.response.cost";
/// Mirascope: `mirascope.response.messages`.
pub const MIRASCOPE_RESPONSE_MESSAGES: &str = "mirascope.response.messages";
/// Mirascope: `mirascope.response.model_id`.
pub const MIRASCOPE_RESPONSE_MODEL_ID: &str = "mirascope.response.model_id";
/// Mirascope: `mirascope.response.provider_id`.
pub const MIRASCOPE_RESPONSE_PROVIDER_ID: &str = "mirascope.response.provider_id";
/// Mirascope: `mirascope.response.usage`.
pub const MIRASCOPE_RESPONSE_USAGE: &str = "mirascope.response.usage";
/// Mirascope: `mirascope.stream.cancelled`.
pub const MIRASCOPE_STREAM_CANCELLED: &str = "mirascope.stream.cancelled";
/// Mirascope: `mirascope.stream.received_parts`.
pub const MIRASCOPE_STREAM_RECEIVED_PARTS: &str = "mirascope.stream.received_parts";
/// Mirascope: `mirascope.trace.arg_types`.
pub const MIRASCOPE_TRACE_ARG_TYPES: &str = "mirascope.trace.arg_types";
/// Mirascope: `mirascope.trace.arg_values`.
pub const MIRASCOPE_TRACE_ARG_VALUES: &str = "mirascope.trace.arg_values";
/// Mirascope: `mirascope.trace.metadata`.
pub const MIRASCOPE_TRACE_METADATA: &str = "mirascope.trace.metadata";
/// Mirascope: `mirascope.trace.output`.
pub const MIRASCOPE_TRACE_OUTPUT: &str = "mirascope.trace.output";
/// Mirascope: `mirascope.trace.tags`.
pub const MIRASCOPE_TRACE_TAGS: &str = "mirascope.trace.tags";
/// Mirascope: `mirascope.truncated`.
pub const MIRASCOPE_TRUNCATED: &str = "mirascope.truncated";
/// Mirascope: `mirascope.type`.
pub const MIRASCOPE_TYPE: &str = "mirascope.type";
/// Mirascope: `mirascope.version.description`.
pub const MIRASCOPE_VERSION_DESCRIPTION: &str = "mirascope.version.description";
/// Mirascope: `mirascope.version.hash`.
pub const MIRASCOPE_VERSION_HASH: &str = "mirascope.version.hash";
/// Mirascope: `mirascope.version.name`.
pub const MIRASCOPE_VERSION_NAME: &str = "mirascope.version.name";
/// Mirascope: `mirascope.version.signature_hash`.
pub const MIRASCOPE_VERSION_SIGNATURE_HASH: &str = "mirascope.version.signature_hash";
/// Mirascope: `mirascope.version.tags`.
pub const MIRASCOPE_VERSION_TAGS: &str = "mirascope.version.tags";
/// Mirascope: `mirascope.version.version`.
pub const MIRASCOPE_VERSION_VERSION: &str = "mirascope.version.version";

#[cfg(test)]
mod tests {
    /// Each semantic-convention constant is the crate's string.
    #[test]
    #[allow(deprecated)]
    fn the_same_strings_as_opentelemetry_semantic_conventions() {
        use opentelemetry_semantic_conventions::{attribute, metric};
        let pairs: &[(&str, &str)] = &[
            (super::ERROR_MESSAGE, attribute::ERROR_MESSAGE),
            (super::ERROR_TYPE, attribute::ERROR_TYPE),
            (super::EXCEPTION_ESCAPED, attribute::EXCEPTION_ESCAPED),
            (super::EXCEPTION_MESSAGE, attribute::EXCEPTION_MESSAGE),
            (super::EXCEPTION_STACKTRACE, attribute::EXCEPTION_STACKTRACE),
            (super::EXCEPTION_TYPE, attribute::EXCEPTION_TYPE),
            (
                super::GEN_AI_CLIENT_OPERATION_DURATION,
                metric::GEN_AI_CLIENT_OPERATION_DURATION,
            ),
            (
                super::GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
                metric::GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
            ),
            (
                super::GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
                metric::GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
            ),
            (
                super::GEN_AI_CLIENT_TOKEN_USAGE,
                metric::GEN_AI_CLIENT_TOKEN_USAGE,
            ),
            (
                super::GEN_AI_CONVERSATION_ID,
                attribute::GEN_AI_CONVERSATION_ID,
            ),
            (
                super::GEN_AI_INPUT_MESSAGES,
                attribute::GEN_AI_INPUT_MESSAGES,
            ),
            (
                super::GEN_AI_OPERATION_NAME,
                attribute::GEN_AI_OPERATION_NAME,
            ),
            (
                super::GEN_AI_OUTPUT_MESSAGES,
                attribute::GEN_AI_OUTPUT_MESSAGES,
            ),
            (super::GEN_AI_OUTPUT_TYPE, attribute::GEN_AI_OUTPUT_TYPE),
            (super::GEN_AI_PROVIDER_NAME, attribute::GEN_AI_PROVIDER_NAME),
            (
                super::GEN_AI_REQUEST_CHOICE_COUNT,
                attribute::GEN_AI_REQUEST_CHOICE_COUNT,
            ),
            (
                super::GEN_AI_REQUEST_FREQUENCY_PENALTY,
                attribute::GEN_AI_REQUEST_FREQUENCY_PENALTY,
            ),
            (
                super::GEN_AI_REQUEST_MAX_TOKENS,
                attribute::GEN_AI_REQUEST_MAX_TOKENS,
            ),
            (super::GEN_AI_REQUEST_MODEL, attribute::GEN_AI_REQUEST_MODEL),
            (
                super::GEN_AI_REQUEST_PRESENCE_PENALTY,
                attribute::GEN_AI_REQUEST_PRESENCE_PENALTY,
            ),
            (super::GEN_AI_REQUEST_SEED, attribute::GEN_AI_REQUEST_SEED),
            (
                super::GEN_AI_REQUEST_STOP_SEQUENCES,
                attribute::GEN_AI_REQUEST_STOP_SEQUENCES,
            ),
            (
                super::GEN_AI_REQUEST_STREAM,
                attribute::GEN_AI_REQUEST_STREAM,
            ),
            (
                super::GEN_AI_REQUEST_TEMPERATURE,
                attribute::GEN_AI_REQUEST_TEMPERATURE,
            ),
            (super::GEN_AI_REQUEST_TOP_K, attribute::GEN_AI_REQUEST_TOP_K),
            (super::GEN_AI_REQUEST_TOP_P, attribute::GEN_AI_REQUEST_TOP_P),
            (
                super::GEN_AI_RESPONSE_FINISH_REASONS,
                attribute::GEN_AI_RESPONSE_FINISH_REASONS,
            ),
            (super::GEN_AI_RESPONSE_ID, attribute::GEN_AI_RESPONSE_ID),
            (
                super::GEN_AI_RESPONSE_MODEL,
                attribute::GEN_AI_RESPONSE_MODEL,
            ),
            (
                super::GEN_AI_SYSTEM_INSTRUCTIONS,
                attribute::GEN_AI_SYSTEM_INSTRUCTIONS,
            ),
            (super::GEN_AI_TOKEN_TYPE, attribute::GEN_AI_TOKEN_TYPE),
            (
                super::GEN_AI_TOOL_CALL_ARGUMENTS,
                attribute::GEN_AI_TOOL_CALL_ARGUMENTS,
            ),
            (super::GEN_AI_TOOL_CALL_ID, attribute::GEN_AI_TOOL_CALL_ID),
            (
                super::GEN_AI_TOOL_CALL_RESULT,
                attribute::GEN_AI_TOOL_CALL_RESULT,
            ),
            (
                super::GEN_AI_TOOL_DEFINITIONS,
                attribute::GEN_AI_TOOL_DEFINITIONS,
            ),
            (
                super::GEN_AI_TOOL_DESCRIPTION,
                attribute::GEN_AI_TOOL_DESCRIPTION,
            ),
            (super::GEN_AI_TOOL_NAME, attribute::GEN_AI_TOOL_NAME),
            (super::GEN_AI_TOOL_TYPE, attribute::GEN_AI_TOOL_TYPE),
            (
                super::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
                attribute::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
            ),
            (
                super::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
                attribute::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
            ),
            (
                super::GEN_AI_USAGE_INPUT_TOKENS,
                attribute::GEN_AI_USAGE_INPUT_TOKENS,
            ),
            (
                super::GEN_AI_USAGE_OUTPUT_TOKENS,
                attribute::GEN_AI_USAGE_OUTPUT_TOKENS,
            ),
            (
                super::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
                attribute::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
            ),
            (
                super::OPENAI_RESPONSE_SERVICE_TIER,
                attribute::OPENAI_RESPONSE_SERVICE_TIER,
            ),
            (
                super::OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
                attribute::OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
            ),
            (super::SERVER_ADDRESS, attribute::SERVER_ADDRESS),
            (super::SERVER_PORT, attribute::SERVER_PORT),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours, theirs);
        }
    }
}
