"""The `openai_v2` case family: what Python Mirascope 2.8.2's `ops.instrument_openai()` records
(through `opentelemetry-instrumentation-openai-v2` 2.3b0) for Chat Completions calls made with
the official `openai` SDK (2.54.0) against the oracle's loopback replay server.

Each scenario runs in a process of its own (the instrumentor reads its settings when it is
turned on, and global meter and logger providers can be set once): it starts
`replay_server.py` with the scenario's recorded answers, sends the call, reads the stream to its
end (or stops early and closes it), and writes `tests/fixtures/openai_v2/<name>.json`:

    {"name", "provenance", "capture_content",
     "request": {"method", "path", "body"},          # exactly what the SDK sent
     "responses": [...],                              # the replay server's answers
     "consume": "all" | "first_chunk",                # how much of a stream the caller read
     "expected": {"spans":   [{"name", "kind", "status": {"code", "description"}, "attributes"}],
                  "events":  [{"event_name", "attributes", "body"}],
                  "metrics": [{"name", "unit", "points": [{"attributes", "count", "sum"?}]}]}}

Durations are left out of `sum` (they are timings); token usage keeps it.

Run from the repository root with the oracle's virtualenv (its requirements plus
`opentelemetry-instrumentation-openai-v2==2.3b0`, which `mirascope[ops,openai]` pulls in):

    python tests/conformance_oracle/openai_v2.py --oracle ../shared/conformance/oracle
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

PROVENANCE = (
    "synthesized: opentelemetry-instrumentation-openai-v2 2.3b0 through mirascope 2.8.2 "
    "ops.instrument_openai(), openai 2.54.0, opentelemetry-sdk 1.45.2"
)

JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}


def completion(text=None, tool_calls=None, finish="stop", usage=(12, 5), **extra):
    message = {"role": "assistant", "content": text, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    body = {
        "id": "chatcmpl-oracle-0001",
        "object": "chat.completion",
        "created": 1764696000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "system_fingerprint": "fp_oracle",
    }
    if usage is not None:
        body["usage"] = {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
        }
    body.update(extra)
    return body


def chunk(delta, finish=None, index=0, usage=None, choices=True):
    body = {
        "id": "chatcmpl-oracle-0002",
        "object": "chat.completion.chunk",
        "created": 1764696000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_oracle",
        "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]
        if choices
        else [],
    }
    if usage is not None:
        body["usage"] = {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
        }
    return body


def sse(*chunks, done=True):
    text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    return text + ("data: [DONE]\n\n" if done else "")


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
CALL = {
    "id": "call_oracle_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": "{\n\"city\": \"Lisbon\"}"},
}
HISTORY = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Lisbon?"},
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "call_oracle_1", "content": "Sunny, 21C"},
]

SCENARIOS = [
    {
        "name": "call_text",
        "kwargs": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi."}]},
        "responses": [{"status": 200, "headers": JSON, "json": completion("Hi!")}],
    },
    {
        "name": "call_params",
        "kwargs": {
            "model": "gpt-4o-mini",
            "messages": [{"role": "system", "content": "Terse."}, {"role": "user", "content": "Count."}],
            "temperature": 0,
            "top_p": 0.5,
            "max_tokens": 20,
            "presence_penalty": 0.25,
            "frequency_penalty": 0.5,
            "seed": 7,
            "n": 2,
            "stop": "END",
            "response_format": {"type": "json_object"},
            "service_tier": "default",
        },
        "responses": [
            {
                "status": 200,
                "headers": JSON,
                "json": completion(
                    '{"n": 1}',
                    service_tier="default",
                    choices=[
                        {"index": 0, "message": {"role": "assistant", "content": '{"n": 1}'}, "finish_reason": "stop"},
                        {"index": 1, "message": {"role": "assistant", "content": '{"n": 2}'}, "finish_reason": "length"},
                    ],
                ),
            }
        ],
    },
    {
        "name": "call_tools_history",
        "kwargs": {"model": "gpt-4o-mini", "messages": HISTORY, "tools": [WEATHER_TOOL]},
        "responses": [{"status": 200, "headers": JSON, "json": completion(None, [CALL], "tool_calls", (40, 9))}],
    },
    {
        "name": "call_zero_usage_and_no_model",
        "kwargs": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Nothing."}], "stop": ["a", "b"]},
        "responses": [
            {
                "status": 200,
                "headers": JSON,
                "json": completion("", finish=None, usage=(0, 0), model="", service_tier="auto"),
            }
        ],
    },
    {
        "name": "call_unauthorized",
        "kwargs": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]},
        "responses": [
            {
                "status": 401,
                "headers": JSON,
                "json": {"error": {"message": "Incorrect API key provided: sk-test-key.", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}},
            }
        ],
    },
    {
        "name": "call_server_error_text",
        "kwargs": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]},
        "responses": [{"status": 503, "headers": {"content-type": "text/plain"}, "text": "upstream unavailable"}],
    },
    {
        "name": "call_rate_limited",
        "kwargs": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]},
        "responses": [{"status": 429, "headers": JSON, "json": {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}}],
    },
    {
        "name": "stream_text",
        "kwargs": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Stream hi."}], "stream": True, "stream_options": {"include_usage": True}},
        "responses": [
            {
                "status": 200,
                "headers": SSE,
                "sse": sse(
                    chunk({"role": "assistant", "content": ""}),
                    chunk({"content": "Hel"}),
                    chunk({"content": "lo"}),
                    chunk({}, "stop"),
                    chunk(None, usage=(9, 2), choices=False),
                ),
            }
        ],
    },
    {
        "name": "stream_tool_calls",
        "kwargs": {"model": "gpt-4o-mini", "messages": HISTORY[:2], "tools": [WEATHER_TOOL], "stream": True},
        "responses": [
            {
                "status": 200,
                "headers": SSE,
                "sse": sse(
                    chunk({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
                    chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}),
                    chunk({"tool_calls": [{"index": 0, "function": {"arguments": "\"Lisbon\"}"}}]}),
                    chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]}),
                    chunk({}, "tool_calls"),
                ),
            }
        ],
    },
    {
        "name": "stream_error_event",
        "kwargs": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Stream."}], "stream": True},
        "responses": [
            {
                "status": 200,
                "headers": SSE,
                "sse": sse(chunk({"role": "assistant", "content": "Par"}), {"error": {"message": "The server had an error", "type": "server_error"}}, done=False),
            }
        ],
    },
    {
        "name": "stream_unauthorized",
        "kwargs": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "stream": True},
        "responses": [{"status": 401, "headers": JSON, "json": {"error": {"message": "No key", "type": "invalid_request_error"}}}],
    },
]


def _bytes_as_base64(o):
    """Bytes in a log record's attributes (an inline image), written as the GenAI utilities'
    JSON encoder writes them."""
    import base64

    if isinstance(o, bytes):
        return base64.b64encode(o).decode()
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


def _openai_call(base: str, kwargs: dict, consume: str) -> None:
    import openai

    client = openai.OpenAI(api_key="sk-test-key", base_url=f"{base}/v1", max_retries=0)
    result = client.chat.completions.create(**kwargs)
    if kwargs.get("stream"):
        if consume == "first_chunk":
            next(iter(result))
            result.close()
        else:
            for _ in result:
                pass


def run_one(scenario: dict, capture: bool, oracle: Path, out_dir: Path, family) -> None:
    for var in family.env:
        os.environ.pop(var, None)
    from opentelemetry import _logs, metrics
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    logs = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    _logs.set_logger_provider(logger_provider)

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(scenario["responses"], f)
        responses_file = f.name
    server = subprocess.Popen(
        [sys.executable, str(oracle / "replay_server.py"), "--responses", responses_file],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline().split()[1])
        base = f"http://127.0.0.1:{port}"
        family.instrument(tracer_provider, capture)
        try:
            family.call(base, scenario["kwargs"], scenario.get("consume", "all"))
        except Exception as e:  # noqa: BLE001 - the case records what the span says
            print(f"  ({scenario['name']}: {type(e).__name__})", file=sys.stderr)
        family.uninstrument()
        with urllib.request.urlopen(f"{base}/__replay/requests") as r:
            sent = json.load(r)
    finally:
        server.kill()
        os.unlink(responses_file)

    def attrs(a):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in (a or {}).items()}

    expected_spans = [
        {
            "name": s.name,
            "kind": s.kind.name.lower(),
            "status": {"code": s.status.status_code.name.lower(), "description": s.status.description},
            "attributes": attrs(s.attributes),
            # Span events (the exception an instrumentor records), without the Python traceback.
            "events": [
                {"name": e.name, "attributes": {k: v for k, v in attrs(e.attributes).items() if k != "exception.stacktrace"}}
                for e in s.events
            ],
        }
        for s in spans.get_finished_spans()
    ]
    expected_events = []
    for record in logs.get_finished_logs():
        lr = record.log_record
        expected_events.append({"event_name": lr.event_name, "attributes": attrs(lr.attributes), "body": lr.body})
    expected_metrics = []
    data = reader.get_metrics_data()
    for rm in data.resource_metrics if data else []:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                points = []
                for p in m.data.data_points:
                    if hasattr(p, "count"):
                        point = {"attributes": attrs(p.attributes), "count": p.count}
                        if m.name == "gen_ai.client.token.usage":
                            point["sum"] = p.sum
                    else:  # a counter
                        point = {"attributes": attrs(p.attributes), "value": p.value}
                    points.append(point)
                expected_metrics.append({"name": m.name, "unit": m.unit, "points": points})
    name = f"{scenario['name']}_capture_{'on' if capture else 'off'}"
    case = {
        "name": name,
        "provenance": family.provenance,
        "capture_content": capture,
        "request": {"method": sent[0]["method"], "path": sent[0]["path"], "body": sent[0]["body"]},
        "responses": scenario["responses"],
        "consume": scenario.get("consume", "all"),
        "expected": {"spans": expected_spans, "events": expected_events, "metrics": expected_metrics},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(case, indent=2, ensure_ascii=False, default=_bytes_as_base64) + "\n")
    print(f"wrote {name}")


def sdk_family(provenance: str, env: tuple, instrument: str, uninstrument: str, call):
    """A family whose switch is Mirascope's `ops.<instrument>(tracer_provider=, capture_content=)`
    and `ops.<uninstrument>()`, and whose `call(base, kwargs, consume)` sends one request."""

    class Family:
        pass

    def _instrument(tracer_provider, capture: bool) -> None:
        from mirascope import ops

        getattr(ops, instrument)(tracer_provider=tracer_provider, capture_content="enabled" if capture else "disabled")

    def _uninstrument() -> None:
        from mirascope import ops

        getattr(ops, uninstrument)()

    Family.provenance = provenance
    Family.env = env
    Family.instrument = staticmethod(_instrument)
    Family.uninstrument = staticmethod(_uninstrument)
    Family.call = staticmethod(call)
    return Family


def main_for(script: str, scenarios: list, family, default_out: str) -> None:
    """A generator's command line: every scenario, capture on and off, each in a process of its
    own (`--one` runs one)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle", default="../shared/conformance/oracle")
    ap.add_argument("--out", default=default_out)
    ap.add_argument("--one", help="internal: run one scenario")
    ap.add_argument("--capture", choices=["on", "off"])
    args = ap.parse_args()
    oracle, out = Path(args.oracle).resolve(), Path(args.out)
    if args.one:
        scenario = next(s for s in scenarios if s["name"] == args.one)
        run_one(scenario, args.capture == "on", oracle, out, family)
        return
    for scenario in scenarios:
        for capture in ("on", "off"):
            subprocess.run(
                [sys.executable, script, "--oracle", str(oracle), "--out", str(out), "--one", scenario["name"], "--capture", capture],
                check=True,
            )


OpenAIFamily = sdk_family(
    PROVENANCE, ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",), "instrument_openai", "uninstrument_openai", _openai_call
)

if __name__ == "__main__":
    main_for(__file__, SCENARIOS, OpenAIFamily, "tests/fixtures/openai_v2")
