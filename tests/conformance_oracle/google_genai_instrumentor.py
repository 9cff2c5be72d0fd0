"""The `google_genai_instrumentor` case family: what Python Mirascope 2.8.2's
`ops.instrument_google_genai()` records (through `opentelemetry-instrumentation-google-genai`
0.7b2, in the `gen_ai_latest_experimental` mode Mirascope opts into) for `generate_content` calls
made with the official `google-genai` SDK (1.75.0) against the oracle's loopback replay server.
Same format and procedure as `openai_v2.py` (whose `run_one` this uses); cases go to
`tests/fixtures/google_genai_instrumentor/`.

Read by `tests/sdk_instrumentation_conformance.rs` against `ops::ReqwestMiddleware` with
`ops::instrument_google_genai()`.

    python tests/conformance_oracle/google_genai_instrumentor.py --oracle ../shared/conformance/oracle
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from openai_v2 import main_for, sdk_family  # noqa: E402

JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}
MODEL = "gemini-2.5-flash"


def _call(base: str, kwargs: dict, consume: str) -> None:
    from google import genai

    client = genai.Client(api_key="google-test-key", http_options={"base_url": base, "retry_options": {"attempts": 1}})
    kwargs = dict(kwargs)
    stream = kwargs.pop("stream", False)
    if stream:
        for _ in client.models.generate_content_stream(**kwargs):
            pass
    else:
        client.models.generate_content(**kwargs)


GoogleFamily = sdk_family(
    (
        "synthesized: opentelemetry-instrumentation-google-genai 0.7b2 through mirascope 2.8.2 "
        "ops.instrument_google_genai(), google-genai 1.75.0, opentelemetry-sdk 1.45.2"
    ),
    ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "OTEL_SEMCONV_STABILITY_OPT_IN"),
    "instrument_google_genai",
    "uninstrument_google_genai",
    _call,
)


def answer(parts, finish="STOP", usage=(12, 5), **extra):
    body = {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
        "usageMetadata": {"promptTokenCount": usage[0], "candidatesTokenCount": usage[1], "totalTokenCount": usage[0] + usage[1]},
        "modelVersion": "gemini-2.5-flash-001",
        "responseId": "resp-oracle-0001",
    }
    body.update(extra)
    return body


def sse(*chunks):
    import json

    return "".join(f"data: {json.dumps(c)}\r\n\r\n" for c in chunks)


SCENARIOS = [
    {
        "name": "call_text",
        "kwargs": {"model": MODEL, "contents": "Say hi."},
        "responses": [{"status": 200, "headers": JSON, "json": answer([{"text": "Hi!"}])}],
    },
    {
        "name": "call_config_system",
        "kwargs": {"model": MODEL, "contents": [{"role": "user", "parts": [{"text": "Count."}]}],
                   "config": {"system_instruction": "Be terse.", "temperature": 0.5, "top_p": 0.9, "top_k": 20,
                              "max_output_tokens": 64, "stop_sequences": ["END"], "seed": 7,
                              "candidate_count": 1, "presence_penalty": 0.1, "frequency_penalty": 0.2}},
        "responses": [{"status": 200, "headers": JSON, "json": answer([{"text": "1 2"}], finish="MAX_TOKENS", usage=(20, 64))}],
    },
    {
        "name": "call_tools",
        "kwargs": {"model": MODEL, "contents": "Weather in Lisbon?",
                   "config": {"tools": [{"function_declarations": [{"name": "get_weather", "description": "The weather.",
                                                                    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}]}],
                              "automatic_function_calling": {"disable": True}}},
        "responses": [{"status": 200, "headers": JSON, "json": answer([{"functionCall": {"name": "get_weather", "args": {"city": "Lisbon"}}}])}],
    },
    {
        "name": "call_history_and_tool_response",
        "kwargs": {"model": MODEL, "contents": [
            {"role": "user", "parts": [{"text": "Weather in Lisbon?"}]},
            {"role": "model", "parts": [{"function_call": {"name": "get_weather", "args": {"city": "Lisbon"}}}]},
            {"role": "user", "parts": [{"function_response": {"name": "get_weather", "response": {"result": "Sunny"}}}]},
        ], "config": {"tools": [{"function_declarations": [{"name": "get_weather", "description": "The weather.",
                                                            "parameters": {"type": "OBJECT", "properties": {"cityName": {"type": "STRING", "max_length": 40}}, "required": ["cityName"]}}]},
                                {"google_search": {}}],
                      "automatic_function_calling": {"disable": True}, "response_mime_type": "text/plain"}},
        "responses": [{"status": 200, "headers": JSON, "json": answer([{"text": "Sunny in Lisbon."}])}],
    },
    {
        "name": "call_inline_image_json",
        "kwargs": {"model": MODEL, "contents": [{"role": "user", "parts": [
            {"inline_data": {"mime_type": "image/png", "data": b"\x89PNG"}},
            {"file_data": {"mime_type": "application/pdf", "file_uri": "gs://bucket/doc.pdf"}},
            {"text": "Describe as JSON."}]}],
                   "config": {"response_mime_type": "application/json"}},
        "responses": [{"status": 200, "headers": JSON, "json": answer([{"text": "{\"kind\": \"png\"}"}])}],
    },
    {
        "name": "call_blocked_prompt",
        "kwargs": {"model": MODEL, "contents": "Something blocked."},
        "responses": [{"status": 200, "headers": JSON, "json": {"promptFeedback": {"blockReason": "SAFETY"},
                                                               "usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 4},
                                                               "modelVersion": "gemini-2.5-flash-001"}}],
    },
    {
        "name": "call_server_error",
        "kwargs": {"model": MODEL, "contents": "Hello"},
        "responses": [{"status": 500, "headers": JSON, "json": {"error": {"code": 500, "message": "Internal error.", "status": "INTERNAL"}}}],
    },
    {
        "name": "call_unauthorized",
        "kwargs": {"model": MODEL, "contents": "Hello"},
        "responses": [{"status": 400, "headers": JSON, "json": {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}}],
    },
    {
        "name": "stream_text",
        "kwargs": {"model": MODEL, "contents": "Stream hi.", "stream": True},
        "responses": [{"status": 200, "headers": SSE, "sse": sse(
            {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}, "index": 0}], "modelVersion": "gemini-2.5-flash-001", "responseId": "r2"},
            {"candidates": [{"content": {"role": "model", "parts": [{"text": "lo"}]}, "finishReason": "STOP", "index": 0}],
             "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 2, "totalTokenCount": 11}, "modelVersion": "gemini-2.5-flash-001", "responseId": "r2"})}],
    },
    {
        "name": "stream_tool_call",
        "kwargs": {"model": MODEL, "contents": "Weather?", "stream": True,
                   "config": {"tools": [{"function_declarations": [{"name": "get_weather"}]}],
                              "automatic_function_calling": {"disable": True}}},
        "responses": [{"status": 200, "headers": SSE, "sse": sse(
            {"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {}}}]}, "finishReason": "STOP", "index": 0}],
             "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3, "totalTokenCount": 8}, "modelVersion": "gemini-2.5-flash-001"})}],
    },
]


if __name__ == "__main__":
    main_for(__file__, SCENARIOS, GoogleFamily, "tests/fixtures/google_genai_instrumentor")
