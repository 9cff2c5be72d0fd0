"""The `anthropic_instrumentor` case family: what Python Mirascope 2.8.2's
`ops.instrument_anthropic()` records (through `opentelemetry-instrumentation-anthropic` 0.62.4)
for Messages calls made with the official `anthropic` SDK (0.125.0) against the oracle's
loopback replay server. Same format and procedure as `openai_v2.py` (whose `run_one` this uses);
cases go to `tests/fixtures/anthropic_instrumentor/`.

    python tests/conformance_oracle/anthropic_instrumentor.py --oracle ../shared/conformance/oracle
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from openai_v2 import main_for, sdk_family  # noqa: E402

JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}
MODEL = "claude-haiku-4-5"


def _call(base: str, kwargs: dict, consume: str) -> None:
    import anthropic

    client = anthropic.Anthropic(api_key="sk-ant-test-key", base_url=base, max_retries=0)
    result = client.messages.create(**kwargs)
    if kwargs.get("stream"):
        for _ in result:
            pass


AnthropicFamily = sdk_family(
    (
        "synthesized: opentelemetry-instrumentation-anthropic 0.62.4 through mirascope 2.8.2 "
        "ops.instrument_anthropic(), anthropic 0.125.0, opentelemetry-sdk 1.45.2"
    ),
    ("TRACELOOP_TRACE_CONTENT",),
    "instrument_anthropic",
    "uninstrument_anthropic",
    _call,
)


def message(content, stop="end_turn", usage=None):
    return {
        "id": "msg_oracle_0001",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 12, "output_tokens": 5},
    }


def sse(*events):
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)


def stream_events(blocks, stop="end_turn", usage_in=9, usage_out=4, cache_read=0):
    start_usage = {"input_tokens": usage_in, "output_tokens": 1}
    if cache_read:
        start_usage["cache_read_input_tokens"] = cache_read
        start_usage["cache_creation_input_tokens"] = 0
    events = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_oracle_0002", "type": "message", "role": "assistant",
                "model": "claude-haiku-4-5-20251001", "content": [], "stop_reason": None,
                "stop_sequence": None, "usage": start_usage,
            },
        }
    ]
    for i, (start, deltas) in enumerate(blocks):
        events.append({"type": "content_block_start", "index": i, "content_block": start})
        for d in deltas:
            events.append({"type": "content_block_delta", "index": i, "delta": d})
        events.append({"type": "content_block_stop", "index": i})
    events.append({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": usage_out}})
    events.append({"type": "message_stop"})
    return sse(*events)


WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
HISTORY = [
    {"role": "user", "content": "Weather in Lisbon?"},
    {"role": "assistant", "content": [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_oracle_1", "name": "get_weather", "input": {"city": "Lisbon"}},
    ]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_oracle_1", "content": "Sunny, 21C"}]},
]

SCENARIOS = [
    {
        "name": "call_text",
        "kwargs": {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": "Say hi."}]},
        "responses": [{"status": 200, "headers": JSON, "json": message([{"type": "text", "text": "Hi!"}])}],
    },
    {
        "name": "call_params_system",
        "kwargs": {
            "model": MODEL, "max_tokens": 64, "temperature": 0.5, "top_p": 0.9,
            "stop_sequences": ["END"], "system": "Be terse.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Count to three."}]}],
        },
        "responses": [{"status": 200, "headers": JSON, "json": message([{"type": "text", "text": "1 2"}], stop="max_tokens", usage={"input_tokens": 20, "output_tokens": 64})}],
    },
    {
        "name": "call_tools_history",
        "kwargs": {"model": MODEL, "max_tokens": 200, "tools": [WEATHER], "messages": HISTORY,
                   "system": [{"type": "text", "text": "Use tools."}]},
        "responses": [{"status": 200, "headers": JSON, "json": message(
            [{"type": "text", "text": "Checking again."}, {"type": "tool_use", "id": "toolu_oracle_2", "name": "get_weather", "input": {"city": "Porto"}}],
            stop="tool_use", usage={"input_tokens": 50, "output_tokens": 20, "cache_read_input_tokens": 30, "cache_creation_input_tokens": 10})}],
    },
    {
        "name": "call_thinking_and_image",
        "kwargs": {"model": MODEL, "max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024},
                   "messages": [{"role": "user", "content": [
                       {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
                       {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                       {"type": "text", "text": "What is this?"}]}]},
        "responses": [{"status": 200, "headers": JSON, "json": message(
            [{"type": "thinking", "thinking": "A cat, probably.", "signature": "sig"}, {"type": "text", "text": "A cat."}])}],
    },
    {
        "name": "call_unauthorized",
        "kwargs": {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "Hello"}]},
        "responses": [{"status": 401, "headers": JSON, "json": {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}}],
    },
    {
        "name": "call_overloaded",
        "kwargs": {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "Hello"}]},
        "responses": [{"status": 529, "headers": JSON, "json": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}}],
    },
    {
        "name": "stream_text",
        "kwargs": {"model": MODEL, "max_tokens": 100, "stream": True, "messages": [{"role": "user", "content": "Stream hi."}]},
        "responses": [{"status": 200, "headers": SSE, "sse": stream_events(
            [({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Hel"}, {"type": "text_delta", "text": "lo"}])], cache_read=4)}],
    },
    {
        "name": "stream_tool_use",
        "kwargs": {"model": MODEL, "max_tokens": 100, "stream": True, "tools": [WEATHER], "messages": [{"role": "user", "content": "Weather in Lisbon?"}]},
        "responses": [{"status": 200, "headers": SSE, "sse": stream_events(
            [({"type": "thinking", "thinking": ""}, [{"type": "thinking_delta", "thinking": "Need the tool."}]),
             ({"type": "tool_use", "id": "toolu_s1", "name": "get_weather", "input": {}},
              [{"type": "input_json_delta", "partial_json": "{\"city\": "}, {"type": "input_json_delta", "partial_json": "\"Lisbon\"}"}])],
            stop="tool_use")}],
    },
    {
        "name": "stream_unauthorized",
        "kwargs": {"model": MODEL, "max_tokens": 10, "stream": True, "messages": [{"role": "user", "content": "Hi"}]},
        "responses": [{"status": 401, "headers": JSON, "json": {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}}],
    },
]


if __name__ == "__main__":
    main_for(__file__, SCENARIOS, AnthropicFamily, "tests/fixtures/anthropic_instrumentor")
