#!/usr/bin/env python3
"""mirascope-rs additions to the oracle: the `ops` shapes a single `call` cannot say (issue 22,
item 3), written as a `call.program` (tests/fixtures/conformance/FORMAT.md, "Programs"), and
resume chains of three or more model calls (`call.resumes`).

Classes, five cases or more each (`ops_<class>_*`): nested traces, `ops.span` (attributes,
events, the five log levels, an exception), sessions, traced async functions, resume chains; and
`x_*` cases for 2.8.2 rules an audit of the port found (blank streamed tool arguments, empty ids
on Chat Completions fragments, Google calls without arguments) and for the OpenAI-compatible
providers the earlier cases left out (Atlas Cloud, Cheaper Inference).

Usage (with the oracle venv: mirascope 2.8.2 and its extras):

    python tests/conformance_oracle/ops_shapes.py --oracle ../shared/conformance/oracle \
        --out tests/fixtures/conformance [--only NAME ...]

It copies the shared oracle to a temporary directory, adds this file as a module there, makes
`scenarios.py` import it (which registers the scenarios and their `Case`s), teaches
`run_case.py` to record `call.program`, `call.resumes` and `outcome`, and runs `generate.py`;
the case files are then moved to `--out`.

The same program runs in Python here and in Rust in tests/trace_cases/build.rs (which writes
one Rust function a program, with real `#[ops::trace]`, `ops::span` and `ops::session`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile

MODULE = "conformance"

# ------------------------------------------------------------------------------- the interpreter
# Imported inside the oracle copy only (it needs mirascope and the oracle's modules).


class ProgramError(RuntimeError):
    """What a `raise` step raises (the Rust programs name their error type the same)."""


ProgramError.__module__ = MODULE


def _user_text(messages) -> str:
    from mirascope import llm

    last = messages[-1]
    assert isinstance(last, llm.messages.UserMessage), "a traced call's prompt is one user message"
    return "".join(p.text for p in last.content)


class _Run:
    """One program's state: the case record, the model call, the open spans."""

    def __init__(self, rec: dict, case: dict) -> None:
        self.rec = rec
        self.case = case
        self.spans: list = []
        self.last = None  # the last model call's response

    # ------------------------------------------------------------------ the model call
    def _traced_llm_call(self, is_async: bool):
        from mirascope import llm, ops

        t = self.case["trace"]
        text = _user_text(self.case["messages"])
        params = ", ".join(t["args"])
        ns: dict = {"__name__": MODULE, "_text": text}
        kw = "async def" if is_async else "def"
        exec(f"{kw} {t['function']}({params}):\n    return _text\n", ns)  # noqa: S102
        fn = ns[t["function"]]
        deco = ops.trace(tags=t["tags"], metadata=t["metadata"]) if (t["tags"] or t["metadata"]) else ops.trace
        return deco(llm.call(self.case["model"], tools=self.case.get("tools"), **self.case["params"])(fn))

    def _check_traced(self) -> None:
        """A traced call in a program is `call` or `stream`, without tools (the Rust macros take
        tools from Rust types, so the runner could not rebuild them from the case)."""
        if self.case.get("tools") or self.case["method"] not in ("call", "stream"):
            raise SystemExit("a traced call in a program is `call` or `stream`, without tools")

    def call(self):
        from mirascope import llm

        c = self.case
        method = c["method"]
        if c.get("trace"):
            self._check_traced()
            fn = self._traced_llm_call(False)
            if method == "stream":
                r = fn.stream(**c["trace"]["args"])
                r.finish()
            else:
                r = fn(**c["trace"]["args"])
        else:
            model = llm.Model(c["model"], **c["params"])
            kwargs = {"tools": c["tools"]} if c.get("tools") else {}
            if method.endswith("stream"):
                r = model.stream(c["messages"], **kwargs)
                r.finish()
            else:
                r = model.call(c["messages"], **kwargs)
            while method.startswith("resume") and r.tool_calls:
                outputs = r.execute_tools()
                self.rec.setdefault("resumes", []).append(list(outputs))
                r = r.resume(outputs)
                if method.endswith("stream"):
                    r.finish()
        self.last = r
        return r

    async def call_async(self):
        from mirascope import llm

        c = self.case
        method = c["method"]
        if c.get("trace"):
            self._check_traced()
            fn = self._traced_llm_call(True)
            if method == "stream":
                r = await fn.stream(**c["trace"]["args"])
                await r.finish()
            else:
                r = await fn(**c["trace"]["args"])
        else:
            model = llm.Model(c["model"], **c["params"])
            kwargs = {"tools": c["tools"]} if c.get("tools") else {}
            if method.endswith("stream"):
                r = await model.stream_async(c["messages"], **kwargs)
                await r.finish()
            else:
                r = await model.call_async(c["messages"], **kwargs)
            while method.startswith("resume") and r.tool_calls:
                outputs = await r.execute_tools()
                self.rec.setdefault("resumes", []).append(list(outputs))
                r = await r.resume(outputs)
                if method.endswith("stream"):
                    await r.finish()
        self.last = r
        return r

    # ------------------------------------------------------------------ steps
    def _simple(self, step) -> bool:
        """The steps that are the same in sync and async programs."""
        op = step["op"]
        if op == "event":
            self.spans[-1].event(step["name"], **step["attributes"])
        elif op == "log":
            getattr(self.spans[-1], step["level"])(step["message"], **step["attributes"])
        elif op == "set":
            self.spans[-1].set(**step["attributes"])
        elif op == "raise":
            raise ProgramError(step["message"])
        else:
            return False
        return True

    def _returns(self, step):
        kind = step.get("returns")
        if kind == "text":
            return self.last.text() if self.last is not None else None
        if kind == "response":
            return self.last
        return None

    def _traced(self, step, body, is_async: bool):
        from mirascope import ops

        ns: dict = {"__name__": MODULE, "_body": body}
        params = ", ".join(step["args"])
        if is_async:
            src = f"async def {step['function']}({params}):\n    return await _body()\n"
        else:
            src = f"def {step['function']}({params}):\n    return _body()\n"
        exec(src, ns)  # noqa: S102
        fn = ns[step["function"]]
        if step["tags"] or step["metadata"]:
            return ops.trace(tags=step["tags"], metadata=step["metadata"])(fn)
        return ops.trace(fn)

    def run(self, steps) -> None:
        from mirascope import ops

        for step in steps:
            if self._simple(step):
                continue
            op = step["op"]
            if op == "call":
                self.call()
            elif op == "session":
                with ops.session(id=step["id"], attributes=step["attributes"]):
                    self.run(step["steps"])
            elif op == "span":
                with ops.span(step["name"], **step["attributes"]) as s:
                    self.spans.append(s)
                    try:
                        self.run(step["steps"])
                    finally:
                        self.spans.pop()
            elif op == "trace":
                def body(step=step):
                    self.run(step["steps"])
                    return self._returns(step)
                self._traced(step, body, False)(**step["args"])
            else:  # pragma: no cover
                raise ValueError(op)

    async def run_async(self, steps) -> None:
        from mirascope import ops

        for step in steps:
            if self._simple(step):
                continue
            op = step["op"]
            if op == "call":
                await self.call_async()
            elif op == "session":
                with ops.session(id=step["id"], attributes=step["attributes"]):
                    await self.run_async(step["steps"])
            elif op == "span":
                with ops.span(step["name"], **step["attributes"]) as s:
                    self.spans.append(s)
                    try:
                        await self.run_async(step["steps"])
                    finally:
                        self.spans.pop()
            elif op == "trace":
                async def body(step=step):
                    await self.run_async(step["steps"])
                    return self._returns(step)
                await self._traced(step, body, True)(**step["args"])
            else:  # pragma: no cover
                raise ValueError(op)


def run_shape(model: str, method: str, messages: list, *, params=None, tools=None, trace=None,
              program=None) -> dict:
    """Runs one case: its program (or the bare call) in Python Mirascope 2.8.2; the record
    run_case.py turns into the case's `call`."""
    from mirascope import llm

    rec = {"model": model, "method": method, "params": dict(params or {}), "messages": messages,
           "tools": tools, "format": None, "resume_with": None, "raised": None}
    if trace is not None:
        rec["trace"] = {"decorators": "@ops.trace over @llm.call", "function": trace["function"],
                        "module": MODULE, "args": trace["args"], "tags": trace.get("tags", []),
                        "metadata": trace.get("metadata", {})}
    if program is not None:
        rec["program"] = program
    case = {"model": model, "method": method, "params": rec["params"], "messages": messages,
            "tools": tools, "trace": rec.get("trace")}
    run = _Run(rec, case)
    steps = program["steps"] if program else [{"op": "call"}]
    try:
        if program and program["async"]:
            asyncio.run(run.run_async(steps))
        else:
            run.run(steps)
    except Exception as exc:  # noqa: BLE001 - error cases are expected to raise
        rec["raised"] = exc
    if rec.get("resumes"):
        rec["resume_with"] = rec["resumes"][0]
    r = run.last
    if isinstance(r, (llm.Response, llm.StreamResponse, llm.AsyncResponse, llm.AsyncStreamResponse)):
        fr = r.finish_reason
        rec["outcome"] = {"finish_reason": fr.value if fr is not None else None}
    return rec


# ------------------------------------------------------------------------------- provider answers
def _answers():
    import synth

    def oa_text(n: int, text: str, inp=20, out=8) -> dict:
        return synth.json_response(200, synth._openai_response(
            rid=f"resp_ops{n:04d}", created_at=1765000000 + n, completed_at=1765000001 + n,
            status="completed", model="gpt-4o-mini-2024-07-18",
            output=[{"id": f"msg_ops{n:04d}", "type": "message", "status": "completed", "role": "assistant",
                     "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}]}],
            usage=synth._openai_usage(inp, out)))

    def oa_tool(n: int, call_id: str, args: str) -> dict:
        return synth.json_response(200, synth._openai_response(
            rid=f"resp_ops{n:04d}", created_at=1765000000 + n, completed_at=1765000001 + n,
            status="completed", model="gpt-4o-mini-2024-07-18",
            output=[{"id": f"fc_ops{n:04d}", "type": "function_call", "status": "completed",
                     "name": "get_weather", "call_id": call_id, "arguments": args}],
            usage=synth._openai_usage(60, 15)))

    def cc(n: int, message: dict, finish: str, inp=20, out=8) -> dict:
        return synth.json_response(200, {
            "id": f"chatcmpl-ops{n:04d}", "object": "chat.completion", "created": 1765000000 + n,
            "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_ops",
            "choices": [{"index": 0, "message": {"refusal": None, "annotations": [], **message},
                         "logprobs": None, "finish_reason": finish}],
            "usage": {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out}})

    def cc_text(n: int, text: str) -> dict:
        return cc(n, {"role": "assistant", "content": text}, "stop")

    def cc_tool(n: int, call_id: str, args: str) -> dict:
        return cc(n, {"role": "assistant", "content": None, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": args}}]},
            "tool_calls", 60, 15)

    def cc_stream(n: int, pieces: list[str]) -> dict:
        def chunk(delta, finish=None, usage=None):
            return {"id": f"chatcmpl-ops{n:04d}", "object": "chat.completion.chunk", "created": 1765000000 + n,
                    "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_ops",
                    "choices": [] if usage else [{"index": 0, "delta": delta, "logprobs": None,
                                                  "finish_reason": finish}],
                    **({"usage": usage} if usage else {})}
        frames = [chunk({"role": "assistant", "content": "", "refusal": None})]
        frames += [chunk({"content": p}) for p in pieces]
        frames += [chunk({}, "stop"), chunk({}, usage={"prompt_tokens": 18, "completion_tokens": 7,
                                                       "total_tokens": 25})]
        text = "".join(f"data: {synth._compact(f)}\n\n" for f in frames) + "data: [DONE]\n\n"
        return synth.sse_response(text, "text/event-stream; charset=utf-8")

    def an(n: int, content: list, stop: str, inp=30, out=10) -> dict:
        return synth.json_response(200, synth._anthropic_message(
            f"msg_01Ops{n:04d}", "claude-sonnet-4-20250514", content, stop, synth._anthropic_usage(inp, out)))

    def an_text(n: int, text: str) -> dict:
        return an(n, [{"type": "text", "text": text}], "end_turn")

    def an_tool(n: int, tool_id: str, location: str) -> dict:
        return an(n, [{"type": "tool_use", "id": tool_id, "name": "get_weather",
                       "input": {"location": location}}], "tool_use", 80, 20)

    def gg(n: int, parts: list, inp=12, out=6) -> dict:
        return synth.json_response(200, {
            "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": inp, "candidatesTokenCount": out, "totalTokenCount": inp + out},
            "modelVersion": "gemini-2.5-flash", "responseId": f"ops-gg-{n:04d}"})

    def gg_text(n: int, text: str) -> dict:
        return gg(n, [{"text": text}])

    def gg_tool(n: int, location: str) -> dict:
        return gg(n, [{"functionCall": {"name": "get_weather", "args": {"location": location}}}], 40, 9)

    return locals()


# ------------------------------------------------------------------------------- the cases
# (name, provider label, description, answers(A) -> [responses], scenario() -> record, notes)
SHAPES: list[tuple] = []

OA = "openai/gpt-4o-mini"
CC = "openai/gpt-4o-mini:completions"
AN = "anthropic/claude-sonnet-4-20250514"
GG = "google/gemini-2.5-flash"
LABEL = {OA: "openai (responses)", CC: "openai (completions)", AN: "anthropic", GG: "google"}


def _U(text):
    from mirascope import llm

    return llm.messages.user(text)


def shape(name, model, desc, answers, *, method="call", prompt="Recommend a fantasy book.", trace=None,
          program=None, params=None, tools=False, notes=()):
    def scenario():
        from scenarios import get_weather

        if program and program["async"]:
            get_weather = _async_get_weather()
        return run_shape(model, method, [_U(prompt)], params=params, trace=trace, program=program,
                         tools=[get_weather] if tools else None)
    SHAPES.append((name, LABEL[model], desc, answers, scenario, list(notes)))


def _async_get_weather():
    """`scenarios.get_weather` as an async tool (an async call takes async tools): the same
    name, schema and output."""
    from mirascope import llm

    @llm.tool
    async def get_weather(location: str) -> str:
        """Get the current weather for a location."""
        return f"Weather in {location}: 72°F, sunny"

    return get_weather


def P(steps, is_async=False):
    return {"async": is_async, "steps": steps}


def T(function, args, steps, *, tags=(), metadata=None, returns="text"):
    return {"op": "trace", "function": function, "args": args, "tags": list(tags),
            "metadata": dict(metadata or {}), "returns": returns, "steps": steps}


def SPAN(name, steps, **attributes):
    return {"op": "span", "name": name, "attributes": attributes, "steps": steps}


def SESSION(id, steps, attributes=None):
    return {"op": "session", "id": id, "attributes": attributes, "steps": steps}


def LOG(level, message, **attributes):
    return {"op": "log", "level": level, "message": message, "attributes": attributes}


def EVENT(name, **attributes):
    return {"op": "event", "name": name, "attributes": attributes}


def SET(**attributes):
    return {"op": "set", "attributes": attributes}


CALL = {"op": "call"}
RECOMMEND = {"function": "recommend", "args": {"genre": "fantasy"}}

# ------------------------------------------------------------------ nested traces
shape("ops_nested_trace_call", OA, "@ops.trace function calling an @ops.trace @llm.call function.",
      lambda A: [A["oa_text"](1, "Read The Hobbit.")], trace=RECOMMEND,
      program=P([T("plan_reading", {"reader": "Kai"}, [CALL])]))
shape("ops_nested_trace_three_levels", AN, "Three nested traced functions around a traced call.",
      lambda A: [A["an_text"](2, "Try Mistborn.")], trace=RECOMMEND,
      program=P([T("weekend", {"days": 2}, [T("plan_reading", {"reader": "Kai"}, [CALL])])]))
shape("ops_nested_trace_tags_metadata", GG, "The outer traced function has tags and metadata; the inner call none.",
      lambda A: [A["gg_text"](3, "Read Piranesi.")], trace=RECOMMEND,
      program=P([T("plan_reading", {"reader": "Kai"}, [CALL], tags=("books", "weekend", "books"),
                   metadata={"user_id": "u-7", "session_id": "s-7", "team": "reco"})]))
shape("ops_nested_trace_returns_response", CC, "The outer traced function returns the inner call's response.",
      lambda A: [A["cc_text"](4, "Read Earthsea.")], trace=RECOMMEND,
      program=P([T("plan_reading", {"reader": "Kai", "limit": 3}, [CALL], returns="response")]))
shape("ops_nested_trace_stream", CC, "An outer traced function around a traced streamed call.",
      lambda A: [A["cc_stream"](5, ["Read ", "Uprooted."])], trace=RECOMMEND,
      program=P([T("plan_reading", {"reader": "Kai"}, [CALL])]), method="stream")
shape("ops_nested_trace_raises", AN, "The outer traced function raises after its traced call returned.",
      lambda A: [A["an_text"](6, "Try Elantris.")], trace=RECOMMEND,
      program=P([T("plan_reading", {"reader": "Kai"}, [CALL, {"op": "raise", "message": "no shelf space"}])]),
      notes=["The outer span records the exception and ends in ERROR; the inner spans are unaffected."])
shape("ops_nested_trace_untraced_call", GG, "A traced function around a plain model call (no @llm.call).",
      lambda A: [A["gg_text"](7, "Read Circe.")],
      program=P([T("plan_reading", {"reader": "Kai"}, [CALL])]))

# ------------------------------------------------------------------ ops.span
shape("ops_span_attributes", OA, "ops.span with initial and later attributes around a call.",
      lambda A: [A["oa_text"](11, "The Name of the Wind.")],
      program=P([SPAN("retrieve", [SET(hits=2, ratio=0.5, cached=False), CALL], k=3, source="wiki",
                      tags=["a", "b"])]))
shape("ops_span_events", AN, "ops.span with events (with and without attributes) around a call.",
      lambda A: [A["an_text"](12, "Try Jade City.")],
      program=P([SPAN("rank", [EVENT("candidates", count=4), CALL, EVENT("ranked")])]))
shape("ops_span_log_levels", GG, "debug, info and warning messages on an ops.span (status stays unset).",
      lambda A: [A["gg_text"](13, "Read Babel.")],
      program=P([SPAN("pipeline", [LOG("debug", "starting"), LOG("info", "found documents", count=3),
                                   CALL, LOG("warning", "slow answer", seconds=2.5)])]))
shape("ops_span_error_log", CC, "An error message on an ops.span: status ERROR, the call's span unaffected.",
      lambda A: [A["cc_text"](14, "Read Dune.")],
      program=P([SPAN("pipeline", [CALL, LOG("error", "ranking failed", stage="rank")])]))
shape("ops_span_critical_log", OA, "A critical message (level error) on an ops.span.",
      lambda A: [A["oa_text"](15, "Read Kindred.")],
      program=P([SPAN("pipeline", [LOG("critical", "index unavailable"), CALL])]))
shape("ops_span_raises", AN, "An exception escapes an ops.span after the call.",
      lambda A: [A["an_text"](16, "Try The Fifth Season.")],
      program=P([SPAN("pipeline", [CALL, {"op": "raise", "message": "ranking failed"}])]))
shape("ops_span_nested_in_trace", GG, "ops.span inside a traced function, around a traced call.",
      lambda A: [A["gg_text"](17, "Read Annihilation.")], trace=RECOMMEND,
      program=P([T("plan_reading", {"reader": "Kai"}, [SPAN("retrieve", [CALL], k=5)])]))

# ------------------------------------------------------------------ sessions
shape("ops_session_span", OA, "A session with attributes around an ops.span and a call.",
      lambda A: [A["oa_text"](21, "Read Hyperion.")],
      program=P([SESSION("sess-21", [SPAN("turn", [CALL])], {"channel": "web", "turn": 3})]))
shape("ops_session_trace", AN, "A session (no attributes) around a traced call.",
      lambda A: [A["an_text"](22, "Try Gideon the Ninth.")], trace=RECOMMEND,
      program=P([SESSION("sess-22", [CALL])]))
shape("ops_session_nested_override", GG, "An inner session overrides the outer one, then the outer applies again.",
      lambda A: [A["gg_text"](23, "Read Station Eleven."), A["gg_text"](24, "Read Klara and the Sun.")],
      program=P([SESSION("outer", [SPAN("first", [SESSION("inner", [SPAN("second", [CALL])], {"depth": 2})]),
                                   SPAN("third", [CALL])], {"depth": 1})]))
shape("ops_session_nested_trace", CC, "A session around nested traced functions.",
      lambda A: [A["cc_text"](25, "Read Sabriel.")], trace=RECOMMEND,
      program=P([SESSION("sess-25", [T("plan_reading", {"reader": "Kai"}, [CALL])],
                         {"user": {"id": 7, "tier": "gold"}})]))
shape("ops_session_trace_metadata", OA, "A session and a traced function whose metadata also names a session.",
      lambda A: [A["oa_text"](26, "Read Middlemarch.")],
      trace={**RECOMMEND, "metadata": {"session_id": "from-metadata", "user_id": "u-26"}},
      program=P([SESSION("sess-26", [CALL])]))
shape("ops_session_stream", CC, "A session around a traced stream.",
      lambda A: [A["cc_stream"](27, ["Read ", "Beloved."])],
      trace=RECOMMEND, method="stream", program=P([SESSION("sess-27", [CALL])]))

# ------------------------------------------------------------------ traced async functions
shape("ops_async_trace_call", OA, "An async @ops.trace @llm.call function, awaited.",
      lambda A: [A["oa_text"](31, "Read Neuromancer.")], trace=RECOMMEND,
      program=P([CALL], is_async=True))
shape("ops_async_trace_stream", CC, "An async traced call, streamed.",
      lambda A: [A["cc_stream"](32, ["Read ", "Solaris."])], trace=RECOMMEND, method="stream",
      program=P([CALL], is_async=True))
shape("ops_async_nested_trace", AN, "An async traced function awaiting an async traced call.",
      lambda A: [A["an_text"](33, "Try Blindsight.")], trace=RECOMMEND,
      program=P([T("plan_reading", {"reader": "Kai"}, [CALL])], is_async=True))
shape("ops_async_span_session", GG, "A session and an ops.span around an async traced call.",
      lambda A: [A["gg_text"](34, "Read Embassytown.")], trace=RECOMMEND,
      program=P([SESSION("sess-34", [SPAN("turn", [LOG("info", "asking"), CALL], k=1)])], is_async=True))
shape("ops_async_trace_error", OA, "An async traced call that the provider refuses (HTTP 400).",
      lambda A: [__import__("synth").json_response(400, {"error": {
          "message": "Invalid value for 'temperature'.", "type": "invalid_request_error",
          "param": "temperature", "code": "invalid_value"}})],
      trace=RECOMMEND, program=P([T("plan_reading", {"reader": "Kai"}, [CALL])], is_async=True))
shape("ops_async_trace_raises", GG, "An async traced function raising after its call.",
      lambda A: [A["gg_text"](36, "Read Ubik.")], trace=RECOMMEND,
      program=P([T("plan_reading", {"reader": "Kai"}, [CALL, {"op": "raise", "message": "late"}])],
                is_async=True))

# ------------------------------------------------------------------ resume chains (3+ model calls)
WEATHER = "What is the weather in Tokyo, then in Paris? Ask for one city at a time."
shape("ops_resume_chain_responses", OA, "Three model calls: two tool calls, each resumed, then text.",
      lambda A: [A["oa_tool"](41, "call_ops41a", '{"location":"Tokyo"}'),
                 A["oa_tool"](42, "call_ops41b", '{"location":"Paris"}'),
                 A["oa_text"](43, "Tokyo and Paris are both sunny.")],
      method="resume", prompt=WEATHER, tools=True)
shape("ops_resume_chain_completions", CC, "Three Chat Completions calls chained by tool outputs.",
      lambda A: [A["cc_tool"](44, "call_ops44a", '{"location":"Tokyo"}'),
                 A["cc_tool"](45, "call_ops44b", '{"location":"Paris"}'),
                 A["cc_text"](46, "Both are sunny.")],
      method="resume", prompt=WEATHER, tools=True)
shape("ops_resume_chain_anthropic", AN, "Three Anthropic calls chained by tool outputs.",
      lambda A: [A["an_tool"](47, "toolu_ops47a", "Tokyo"), A["an_tool"](48, "toolu_ops47b", "Paris"),
                 A["an_text"](49, "Sunny in both.")],
      method="resume", prompt=WEATHER, tools=True)
shape("ops_resume_chain_google", GG, "Four Google calls: three tool calls, then text.",
      lambda A: [A["gg_tool"](50, "Tokyo"), A["gg_tool"](51, "Paris"), A["gg_tool"](52, "Lima"),
                 A["gg_text"](53, "All three are sunny.")],
      method="resume", prompt="What is the weather in Tokyo, Paris and Lima? One city at a time.", tools=True)
shape("ops_resume_chain_stream", CC, "Three streamed calls chained by tool outputs (resume_stream).",
      lambda A: [A["cc_tool_stream"](54, "call_ops54a", "Tokyo"), A["cc_tool_stream"](55, "call_ops54b", "Paris"),
                 A["cc_stream"](56, ["Both ", "sunny."])],
      method="resume_stream", prompt=WEATHER, tools=True)
shape("ops_resume_chain_in_span", OA, "A resume chain inside an ops.span and a session.",
      lambda A: [A["oa_tool"](57, "call_ops57a", '{"location":"Tokyo"}'),
                 A["oa_tool"](58, "call_ops57b", '{"location":"Paris"}'),
                 A["oa_text"](59, "Sunny twice.")],
      method="resume", prompt=WEATHER, tools=True,
      program=P([SESSION("sess-57", [SPAN("weather", [CALL])])]))

# ------------------------------------------------------------------ mixed: each class with another
shape("ops_async_resume_chain_anthropic", AN, "An async program: a resume chain of three Anthropic calls.",
      lambda A: [A["an_tool"](61, "toolu_ops61a", "Tokyo"), A["an_tool"](62, "toolu_ops61b", "Paris"),
                 A["an_text"](63, "Sunny in both.")],
      method="resume", prompt=WEATHER, tools=True, program=P([CALL], is_async=True))
shape("ops_async_resume_stream_chain", CC, "An async program: three streamed calls chained by tool outputs.",
      lambda A: [A["cc_tool_stream"](64, "call_ops64a", "Tokyo"), A["cc_tool_stream"](65, "call_ops64b", "Paris"),
                 A["cc_stream"](66, ["Both ", "sunny."])],
      method="resume_stream", prompt=WEATHER, tools=True,
      program=P([SPAN("weather", [CALL])], is_async=True))
shape("ops_trace_returns_nothing", OA, "A traced function returning None, with a span and its attributes inside.",
      lambda A: [A["oa_text"](67, "Read Persuasion.")],
      program=P([T("log_reading", {"reader": "Kai", "count": 2, "ratio": 0.25, "urgent": True},
                   [SPAN("fetch", [CALL, SET(sizes=[1, 2, 3], weights=[0.5, 1.5], flags=[True, False])])],
                   returns=None)]))
shape("ops_span_event_values", GG, "Events and messages with int, float, bool and list attributes.",
      lambda A: [A["gg_text"](68, "Read Kim.")],
      program=P([SPAN("score", [EVENT("scored", score=0.75, rank=2, kept=True, ids=["a", "b"]),
                                LOG("info", "kept", n=1), CALL, LOG("critical", "overflow", limit=10)])]))
shape("ops_nested_trace_params", AN, "Nested traced functions around a traced call with params.",
      lambda A: [A["an_text"](69, "Try Jonathan Strange.")],
      trace=RECOMMEND, params={"temperature": 0.5, "max_tokens": 300},
      program=P([T("plan_reading", {"reader": "Kai"}, [CALL], tags=("b", "a"))]))
shape("ops_async_trace_stream_google", GG, "An async traced Google stream inside a session.",
      lambda A: __import__("synth").google_stream_text(), trace=RECOMMEND, method="stream",
      program=P([SESSION("sess-70", [CALL])], is_async=True))
shape("ops_span_anthropic_stream", AN, "An Anthropic stream inside an ops.span with a message.",
      lambda A: __import__("synth").anthropic_stream_text(), method="stream",
      program=P([SPAN("pipeline", [LOG("info", "streaming"), CALL])]))
shape("ops_async_session_two_calls", OA, "Two traced calls in one async session, each inside its own span.",
      lambda A: [A["oa_text"](71, "Read Emma."), A["oa_text"](72, "Read Evelina.")],
      trace=RECOMMEND,
      program=P([SESSION("sess-71", [SPAN("first", [CALL]), SPAN("second", [CALL])], {"k": [1, 2]})],
                is_async=True))
shape("ops_trace_structured_args", OA, "Traced functions with list, object, null and no arguments.",
      lambda A: [A["oa_text"](73, "Read Lolly Willowes.")],
      program=P([T("no_args", {}, [T("shelve", {"titles": ["A", "B"], "filters": {"year": 1926, "tags": ["x"]},
                                                "note": None}, [CALL])])]))
shape("ops_trace_keyword_arguments", GG, "Traced functions whose arguments are Rust keywords (`type`, `match`).",
      lambda A: [A["gg_text"](77, "Read Howl's Moving Castle.")],
      trace={"function": "recommend", "args": {"type": "fantasy"}},
      program=P([T("shelve", {"match": 1, "loop": True}, [CALL])]))
shape("ops_span_failed_call", AN, "A provider error (HTTP 400) leaves an ops.span: the span records its class.",
      lambda A: [__import__("synth").json_response(400, {"type": "error", "error": {
          "type": "invalid_request_error", "message": "max_tokens: must be at least 1"},
          "request_id": "req_011OpsSpanFailed0001"})],
      program=P([SPAN("pipeline", [LOG("info", "asking"), CALL])]))
shape("ops_trace_stream_error_event", OA, "A traced stream that breaks with an error event, inside a span.",
      lambda A: __import__("synth").openai_responses_stream_error_event(), trace=RECOMMEND, method="stream",
      program=P([SPAN("pipeline", [CALL])]))
shape("ops_span_in_span_logs", GG, "Spans two deep, with messages at both levels and the call in the inner one.",
      lambda A: [A["gg_text"](78, "Read Titus Groan.")],
      program=P([SPAN("outer", [LOG("info", "outer starts"),
                                SPAN("inner", [LOG("debug", "inner starts"), CALL, SET(done=True)], depth=2),
                                LOG("warning", "outer ends")], depth=1)]))
shape("ops_two_sessions_in_turn", CC, "Two sessions one after the other, each around a traced call.",
      lambda A: [A["cc_text"](79, "Read Ivanhoe."), A["cc_text"](80, "Read Rob Roy.")], trace=RECOMMEND,
      program=P([SESSION("first", [CALL], {"n": 1}), SESSION("second", [CALL])]))
shape("ops_span_attribute_set_again", OA, "An ops.span attribute set at the start, then set again twice.",
      lambda A: [A["oa_text"](98, "Read Orlando.")],
      program=P([SPAN("retrieve", [SET(k=5), CALL, SET(k=7, source="cache")], k=3, source="wiki")]))
shape("ops_trace_returns_stream_response", CC, "A traced function returning the response of a traced stream.",
      lambda A: [A["cc_stream"](99, ["Read ", "Flatland."])], trace=RECOMMEND, method="stream",
      program=P([T("plan_reading", {"reader": "Kai"}, [CALL], returns="response")]))
shape("ops_trace_four_levels_metadata", OA, "Four nested traced functions; metadata and non-ASCII tags on the outer ones.",
      lambda A: [A["oa_text"](100, "Read Kristin Lavransdatter.")],
      program=P([T("a", {}, [T("b", {}, [T("c", {}, [T("d", {}, [CALL])])], tags=("ünï", "b"))],
                   metadata={"n": "3", "team": "reco"})]))
shape("ops_async_span_raises", AN, "An async program: an exception leaves an ops.span after an event and a call.",
      lambda A: [A["an_text"](101, "Try The Left Hand of Darkness.")],
      program=P([SPAN("pipeline", [EVENT("start", step=1), CALL, {"op": "raise", "message": "ranking failed"}])],
                is_async=True))
shape("ops_async_sessions_nested", GG, "An async program: an inner session overrides the outer one around a traced call.",
      lambda A: [A["gg_text"](102, "Read A Wizard of Earthsea.")], trace=RECOMMEND,
      program=P([SESSION("outer", [SPAN("turn", [SESSION("inner", [CALL], {"depth": 2})])], {"depth": 1})],
                is_async=True))
shape("ops_span_google_stream_error", GG, "A Google stream the provider refuses (HTTP 500), inside an ops.span.",
      lambda A: [__import__("synth").json_response(500, {"error": {"code": 500, "message": "Internal error encountered.",
                                                                   "status": "INTERNAL"}})],
      method="stream", program=P([SPAN("pipeline", [CALL])]))
shape("ops_nested_trace_two_calls_stream", CC, "A traced function making the same traced streamed call twice.",
      lambda A: [A["cc_stream"](74, ["One ", "book."]), A["cc_stream"](75, ["Another ", "book."])],
      trace=RECOMMEND, method="stream",
      program=P([T("plan_reading", {"reader": "Kai"}, [CALL, CALL])]))
shape("ops_span_unicode_names", AN, "Spans and a session with non-ASCII names, ids and values.",
      lambda A: [A["an_text"](76, "Lisez Proust.")],
      program=P([SESSION("séance-✓", [SPAN("récupérer les données", [CALL, EVENT("trouvé ✓", titre="Swann")],
                                           langue="français", vide="")], {"ville": "Zürich"})]))

# ------------------------------------------------------------------ 2.8.2 rules an audit found (x_*)
# Blank streamed tool arguments become "{}" when the call ends
# (`BaseStreamResponse._handle_chunk`, tool_call_end_chunk); an empty id on a Chat Completions
# fragment continues the call (`_OpenAIChunkProcessor._tool_call_index` tests truthiness); a
# Google function call without arguments, or with `"args": null`, records "{}"
# (`json.dumps(args or {})`).


def _an_tool_stream(partials: list[str]) -> list[dict]:
    import synth

    text = synth._anthropic_stream(
        "msg_01OpsBlankArgs0001", "claude-sonnet-4-20250514", 40,
        [({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Checking."}]),
         ({"type": "tool_use", "id": "toolu_ops_blank01", "name": "get_weather", "input": {}},
          [{"type": "input_json_delta", "partial_json": p} for p in partials])],
        "tool_use", 12)
    return [synth.sse_response(text, "text/event-stream; charset=utf-8")]


def _cc_tool_fragments(n: int, fragments: list[dict]) -> list[dict]:
    import synth

    def chunk(delta, finish=None, usage=None):
        return {"id": f"chatcmpl-ops{n:04d}", "object": "chat.completion.chunk", "created": 1765000000 + n,
                "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_ops",
                "choices": [] if usage else [{"index": 0, "delta": delta, "logprobs": None,
                                              "finish_reason": finish}],
                **({"usage": usage} if usage else {})}
    frames = [chunk({"role": "assistant", "content": None})]
    frames += [chunk({"tool_calls": [f]}) for f in fragments]
    frames += [chunk({}, "tool_calls"), chunk({}, usage={"prompt_tokens": 50, "completion_tokens": 9,
                                                        "total_tokens": 59})]
    text = "".join(f"data: {synth._compact(f)}\n\n" for f in frames) + "data: [DONE]\n\n"
    return [synth.sse_response(text, "text/event-stream; charset=utf-8")]


def _gg_stream(parts: list[dict]) -> list[dict]:
    import synth

    chunk = {"candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}],
             "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 5, "totalTokenCount": 35},
             "modelVersion": "gemini-2.5-flash", "responseId": "ops-gg-blank-stream"}
    return [synth.sse_response(f"data: {synth._google_compact(chunk)}\r\n\r\n", "text/event-stream")]


def _fn(name="get_weather", **extra):
    return {"type": "function", "function": {"name": name, **extra}}


WEATHER1 = "What is the weather?"
shape("x_anthropic_stream_blank_tool_args", AN, "A streamed tool call whose arguments are empty.",
      lambda A: _an_tool_stream([""]), method="stream", prompt=WEATHER1, tools=True)
shape("x_anthropic_stream_whitespace_tool_args", AN, "A streamed tool call whose arguments are whitespace.",
      lambda A: _an_tool_stream([" ", "\n"]), method="stream", prompt=WEATHER1, tools=True)
shape("x_completions_stream_blank_tool_args", CC, "A streamed Chat Completions tool call with empty arguments.",
      lambda A: _cc_tool_fragments(81, [{"index": 0, "id": "call_ops81", **_fn(arguments="")}]),
      method="stream", prompt=WEATHER1, tools=True)
shape("x_completions_stream_empty_id_continues", CC,
      "Chat Completions fragments after the first carry an empty id: they continue the call.",
      lambda A: _cc_tool_fragments(82, [{"index": 0, "id": "call_ops82", **_fn(arguments="")},
                                        {"index": 0, "id": "", "function": {"arguments": '{"location":'}},
                                        {"index": 0, "id": "", "function": {"arguments": '"Oslo"}'}}]),
      method="stream", prompt=WEATHER1, tools=True)
shape("x_google_tool_call_args_null", GG, "A Google function call with `args: null`.",
      lambda A: [A["gg"](83, [{"functionCall": {"name": "get_weather", "args": None}}])],
      prompt=WEATHER1, tools=True)
shape("x_google_tool_call_without_args", GG, "A Google function call without `args`.",
      lambda A: [A["gg"](84, [{"functionCall": {"name": "get_weather"}}])], prompt=WEATHER1, tools=True)
shape("x_google_stream_tool_call_without_args", GG, "A streamed Google function call without `args`.",
      lambda A: _gg_stream([{"functionCall": {"name": "get_weather"}}]), method="stream", prompt=WEATHER1,
      tools=True)

# ------------------------------------------------------------------ OpenAI-compatible providers (x_*)
# Registered by the generator on their own prefixes (REGISTER_PATCH), as release_2_8_2.py does.
AT_DS = "atlascloud/deepseek-ai/deepseek-v4-flash"
AT_OA = "atlascloud/openai/gpt-4o-mini"
CI_OA = "cheaperinference/gpt-4o-mini"
LABEL.update({AT_DS: "atlascloud (completions)", AT_OA: "atlascloud (completions)",
              CI_OA: "cheaperinference (completions)"})
shape("x_atlascloud_call", AT_DS, "Atlas Cloud, a model outside OpenAI's (no OpenAI feature info).",
      lambda A: [A["cc_text"](91, "Read The Dispossessed.")], params={"temperature": 0.4})
shape("x_atlascloud_openai_model_tool", AT_OA,
      "Atlas Cloud serving an `openai/` model (OpenAI feature info: strict tools), with a tool call.",
      lambda A: [A["cc_tool"](92, "call_ops92", '{"location":"Lima"}')], prompt=WEATHER1, tools=True)
shape("x_cheaperinference_stream", CI_OA, "Cheaper Inference, an OpenAI model name, streamed.",
      lambda A: [A["cc_stream"](93, ["Read ", "Lud-in-the-Mist."])], method="stream")
shape("x_cheaperinference_resume_chain", CI_OA, "Cheaper Inference, three calls chained by tool outputs.",
      lambda A: [A["cc_tool"](94, "call_ops94a", '{"location":"Tokyo"}'),
                 A["cc_tool"](95, "call_ops94b", '{"location":"Paris"}'), A["cc_text"](96, "Sunny.")],
      method="resume", prompt=WEATHER, tools=True)


def _register() -> None:
    """Adds the scenarios and their Cases to the oracle (inside the oracle copy)."""
    import cases
    import scenarios

    answers = _answers()

    def cc_tool_stream(n: int, call_id: str, location: str) -> dict:
        import synth

        def chunk(delta, finish=None, usage=None):
            return {"id": f"chatcmpl-ops{n:04d}", "object": "chat.completion.chunk", "created": 1765000000 + n,
                    "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_ops",
                    "choices": [] if usage else [{"index": 0, "delta": delta, "logprobs": None,
                                                  "finish_reason": finish}],
                    **({"usage": usage} if usage else {})}
        frames = [chunk({"role": "assistant", "content": None, "tool_calls": [
            {"index": 0, "id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"location":'}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": f'"{location}"}}'}}]}),
            chunk({}, "tool_calls"),
            chunk({}, usage={"prompt_tokens": 60, "completion_tokens": 15, "total_tokens": 75})]
        text = "".join(f"data: {synth._compact(f)}\n\n" for f in frames) + "data: [DONE]\n\n"
        return synth.sse_response(text, "text/event-stream; charset=utf-8")

    answers["cc_tool_stream"] = cc_tool_stream
    for name, label, desc, make, scenario, notes in SHAPES:
        scenarios.SCENARIOS[name] = scenario
        cases.CASES.append(cases.Case(name, label, desc,
                                      "synthesized: the ops shapes of issue 22 (tests/conformance_oracle/ops_shapes.py)",
                                      lambda make=make: make(answers), notes))


# ------------------------------------------------------------------------------- the generator
RUN_CASE_PATCH = (
    '    if rec.get("trace"):\n        call["trace"] = rec["trace"]\n',
    '    if rec.get("trace"):\n        call["trace"] = rec["trace"]\n'
    '    if rec.get("program"):\n        call["program"] = rec["program"]\n'
    '    if len(rec.get("resumes") or []) > 1:\n'
    '        call["resumes"] = [json.loads(serialize_mirascope_content(r)) for r in rec["resumes"]]\n',
)
REGISTER_PATCH = (
    '    llm.register_provider("google", scope="google/", api_key="conformance-test-key", base_url=base)\n',
    '    llm.register_provider("google", scope="google/", api_key="conformance-test-key", base_url=base)\n'
    '    for pid in ("ollama", "together", "openrouter", "xai", "requesty", "atlascloud", "cheaperinference",\n'
    '                "api-route", "minimax"):\n'
    '        llm.register_provider(pid, scope=f"{pid}/", api_key="sk-conformance-test", base_url=f"{base}/v1")\n',
)
OUTCOME_PATCH = (
    '        "spans": [span_to_fixture(s, by_id) for s in spans],\n',
    '        "spans": [span_to_fixture(s, by_id) for s in spans],\n        "outcome": rec.get("outcome"),\n',
)
GENERATE_PATCH = (
    '        "expected_spans": result["spans"],\n',
    '        "expected_spans": result["spans"],\n'
    '        **({"outcome": result["outcome"]} if result.get("outcome") else {}),\n',
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--oracle", required=True, help="the shared oracle directory (copied, not changed)")
    ap.add_argument("--out", required=True, help="where the case files go")
    ap.add_argument("--only", action="append", default=[])
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ops-shapes-")
    oracle = os.path.join(work, "oracle")
    shutil.copytree(args.oracle, oracle)
    shutil.copy(os.path.abspath(__file__), os.path.join(oracle, "ops_shapes.py"))
    with open(os.path.join(oracle, "scenarios.py"), "a", encoding="utf-8") as f:
        f.write("\n\nimport ops_shapes as _ops_shapes  # noqa: E402\n")
    with open(os.path.join(oracle, "cases.py"), "a", encoding="utf-8") as f:
        f.write("\n\nimport scenarios as _scenarios  # noqa: E402,F401 (registers the ops shapes)\n")
    for file, (old, new) in [("run_case.py", RUN_CASE_PATCH), ("run_case.py", OUTCOME_PATCH),
                             ("run_case.py", REGISTER_PATCH),
                             ("generate.py", GENERATE_PATCH)]:
        path = os.path.join(oracle, file)
        text = open(path, encoding="utf-8").read()
        if old not in text:
            sys.exit(f"{file}: the oracle changed; cannot patch {old.strip()!r}")
        open(path, "w", encoding="utf-8").write(text.replace(old, new, 1))
    names = args.only or [s[0] for s in SHAPES]
    cmd = [sys.executable, "generate.py", "--out-root", os.path.join(work, "out")]
    for n in names:
        cmd += ["--only", n]
    subprocess.run(cmd, cwd=oracle, check=True)
    for n in names:
        shutil.move(os.path.join(work, "out", "cases", f"{n}.json"), os.path.join(args.out, f"{n}.json"))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
else:
    try:
        import cases as _cases  # noqa: F401
    except ImportError:  # pragma: no cover
        pass
    else:
        if not any(c.name == SHAPES[0][0] for c in _cases.CASES):
            _register()
