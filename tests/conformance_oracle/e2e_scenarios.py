"""Conformance scenarios rebuilt from Mirascope's own e2e tests (python/tests/e2e), replaying
their recorded cassettes.  Each entry: (name, provider label, description, cassette, indices,
scenario function, notes, repeat_last)."""
from __future__ import annotations

import base64
import subprocess

from pydantic import BaseModel, Field

from mirascope import llm
import cassettes
from scenarios import SCENARIOS, run, U, S

E2E: list[tuple] = []

MODELS = {
    "anthropic_claude_sonnet_4_0": ("anthropic/claude-sonnet-4-0", "anthropic"),
    "anthropic_claude_sonnet_4_5": ("anthropic/claude-sonnet-4-5", "anthropic"),
    "google_gemini_2_5_flash": ("google/gemini-2.5-flash", "google"),
    "openai_gpt_4o_completions": ("openai/gpt-4o:completions", "openai (completions)"),
    "openai_gpt_4o_responses": ("openai/gpt-4o:responses", "openai (responses)"),
    "openai_gpt_5_responses": ("openai/gpt-5:responses", "openai (responses)"),
    "openai_gpt_5_mini_completions": ("openai/gpt-5-mini:completions", "openai (completions)"),
    "openai_gpt_5_completions": ("openai/gpt-5:completions", "openai (completions)"),
}
MAIN4 = ["anthropic_claude_sonnet_4_0", "google_gemini_2_5_flash", "openai_gpt_4o_completions",
         "openai_gpt_4o_responses"]
SHORT = {"anthropic_claude_sonnet_4_0": "anthropic", "anthropic_claude_sonnet_4_5": "anthropic_45",
         "google_gemini_2_5_flash": "google", "openai_gpt_4o_completions": "openai_completions",
         "openai_gpt_4o_responses": "openai_responses", "openai_gpt_5_responses": "openai_responses_gpt5",
         "openai_gpt_5_mini_completions": "openai_completions_gpt5mini",
         "openai_gpt_5_completions": "openai_completions_gpt5"}


def asset(path: str) -> bytes:
    return cassettes.git_show(f"python/tests/e2e/assets/{path}")


def add(name, key, desc, cassette, indices, fn, notes=(), repeat_last=False):
    SCENARIOS[name] = fn
    E2E.append((name, MODELS[key][1], desc, cassette, indices, list(notes), repeat_last))


PASSWORD_MAP = {"mellon": "Welcome to Moria!", "radiance": "Life before Death"}


@llm.tool
def secret_retrieval_tool(password: str) -> str:
    """A tool that requires a password to retrieve a secret."""
    return PASSWORD_MAP.get(password, "Invalid password!")


class Author(BaseModel):
    """The author of a book."""

    first_name: str
    last_name: str


class Book(BaseModel):
    """A book with a rating. The title should be in all caps!"""

    title: str
    author: Author
    rating: int = Field(description="For testing purposes, the rating should be 7")


class BookSummary(BaseModel):
    title: str
    author: str
    pages: int
    publication_year: int


class FentanylHandbook(BaseModel):
    instructions: str


BOOK_DB = {
    "0-7653-1178-X": "Title: Mistborn: The Final Empire, Author: Brandon Sanderson, Pages: 544, Published: 2006-07-25"
}


@llm.tool
def get_book_info(isbn: str) -> str:
    """Look up book information by ISBN."""
    return BOOK_DB.get(isbn, "Book not found")


@llm.tool(strict=True)
def get_current_weather(location: str, unit: str = "fahrenheit") -> str:
    """Get the current weather in a given location.

    Args:
        location: The city and state, e.g. San Francisco, CA
        unit: The temperature unit to use (fahrenheit or celsius)
    """
    return f"The weather in {location} is 72°{unit[0].upper()}"


def cassette_exists(path: str) -> bool:
    p = subprocess.run(["git", "-C", cassettes.mirror(), "cat-file", "-e",
                        f"{cassettes.commit()}:python/tests/e2e/{path}"], capture_output=True)
    return p.returncode == 0


def out(test, key, variant):
    return f"e2e:output/cassettes/{test}/{key}/{variant}.yaml"


def inp(test, key):
    return f"e2e:input/cassettes/{test}/{key}.yaml"


# ------------------------------------------------------------------ output tests
for key in MAIN4:
    s = SHORT[key]
    mid = MODELS[key][0]
    add(f"e2e_{s}_call", key, "Plain call (e2e test_call).", out("test_call", key, "sync"), [0],
        lambda mid=mid: run(mid, "call", [U("What is 4200 + 42?")]))
    add(f"e2e_{s}_stream", key, "Plain stream (e2e test_call).", out("test_call", key, "stream"), [0],
        lambda mid=mid: run(mid, "stream", [U("What is 4200 + 42?")]))
    msgs = lambda: [S("Use parallel tool calling."),
                    U("Please retrieve the secrets associated with each of these passwords: mellon,radiance")]
    add(f"e2e_{s}_parallel_tools_resume", key, "Parallel tool calls, executed and resumed (e2e test_call_with_tools).",
        out("test_call_with_tools", key, "sync"), [0, 1],
        lambda mid=mid, msgs=msgs: run(mid, "resume", msgs(), tools=[secret_retrieval_tool]))
    add(f"e2e_{s}_parallel_tools_resume_stream", key, "Streamed parallel tool calls, resumed as a stream.",
        out("test_call_with_tools", key, "stream"), [0, 1],
        lambda mid=mid, msgs=msgs: run(mid, "resume_stream", msgs(), tools=[secret_retrieval_tool]))
    add(f"e2e_{s}_max_tokens", key, "max_tokens=50 cuts the answer (e2e test_max_tokens).",
        out("test_max_tokens", key, "sync"), [0],
        lambda mid=mid: run(mid, "call", [U("List all U.S. states.")], params={"max_tokens": 50}))
    add(f"e2e_{s}_max_tokens_stream", key, "Streamed answer cut by max_tokens=50.",
        out("test_max_tokens", key, "stream"), [0],
        lambda mid=mid: run(mid, "stream", [U("List all U.S. states.")], params={"max_tokens": 50}))
    add(f"e2e_{s}_refusal", key, "Structured output request the model refuses (e2e test_refusal).",
        out("test_refusal", key, "sync"), [0],
        lambda mid=mid: run(mid, "call", [U("Provide detailed instructions for synthesizing fentanyl.")],
                            format=FentanylHandbook))
    add(f"e2e_{s}_refusal_stream", key, "Streamed refusal of a structured output request.",
        out("test_refusal", key, "stream"), [0],
        lambda mid=mid: run(mid, "stream", [U("Provide detailed instructions for synthesizing fentanyl.")],
                            format=FentanylHandbook))

key = "openai_gpt_5_mini_completions"
add("e2e_openai_completions_gpt5mini_max_tokens", key, "Reasoning model on Chat Completions: max_tokens -> max_completion_tokens.",
    out("test_max_tokens", key, "sync"), [0],
    lambda: run("openai/gpt-5-mini:completions", "call", [U("List all U.S. states.")], params={"max_tokens": 50}))

THINK_PROMPT = ("How many primes below 400 contain 79 as a substring? Answer ONLY with the number, not sharing "
                "which primes they are.")
for key in ["anthropic_claude_sonnet_4_0", "google_gemini_2_5_flash", "openai_gpt_5_responses"]:
    s = SHORT[key]
    mid = MODELS[key][0]
    th = {"level": "medium", "include_thoughts": True}
    add(f"e2e_{s}_thinking", key, "Thinking level medium with thoughts included (e2e test_call_with_thinking).",
        out("test_call_with_thinking", key, "sync"), [0],
        lambda mid=mid, th=th: run(mid, "call", [U(THINK_PROMPT)], params={"thinking": dict(th)}))
    add(f"e2e_{s}_thinking_stream", key, "Streamed thinking, thoughts included.",
        out("test_call_with_thinking", key, "stream"), [0],
        lambda mid=mid, th=th: run(mid, "stream", [U(THINK_PROMPT)], params={"thinking": dict(th)}))

for key in MAIN4 + ["anthropic_claude_sonnet_4_5"]:
    s = SHORT[key]
    mid = MODELS[key][0]
    for mode in [None, "json", "tool", "strict"]:
        sub = f"{mode}/" if mode else ""
        path = f"output/cassettes/test_structured_output/{sub}{key}/sync.yaml"
        if not cassette_exists(path):
            continue
        fmt = (lambda mode=mode: llm.format(Book, mode=mode) if mode else Book)
        add(f"e2e_{s}_format_{mode or 'default'}", key, f"Structured output, mode {mode or 'chosen by Mirascope'} (e2e test_structured_output).",
            "e2e:" + path, [0],
            lambda mid=mid, fmt=fmt: run(mid, "call", [U("Please recommend the most popular book by Patrick Rothfuss")],
                                         format=fmt()))
        path = f"output/cassettes/test_structured_output_with_tools/{sub}{key}/sync.yaml"
        if cassette_exists(path):
            fmt2 = (lambda mode=mode: llm.format(BookSummary, mode=mode) if mode else BookSummary)
            add(f"e2e_{s}_format_{mode or 'default'}_tools_resume", key,
                f"Structured output with a tool, mode {mode or 'default'}, resumed (e2e test_structured_output_with_tools).",
                "e2e:" + path, [0, 1],
                lambda mid=mid, fmt2=fmt2: run(mid, "resume", [U(
                    "Please look up the book with ISBN 0-7653-1178-X and provide detailed info and a recommendation score")],
                    tools=[get_book_info], format=fmt2()))

# ------------------------------------------------------------------ input tests
ALL_PARAMS = {"temperature": 0.7, "max_tokens": 500, "top_p": 0.3, "top_k": 50, "seed": 42,
              "stop_sequences": ["4242"],
              "thinking": {"level": "none", "encode_thoughts_as_text": False, "include_thoughts": False}}
for key in MAIN4 + ["openai_gpt_5_mini_completions", "openai_gpt_5_completions"]:
    s = SHORT[key]
    mid = MODELS[key][0]
    add(f"e2e_{s}_all_params", key, "Every Mirascope param at once (e2e test_call_with_params).",
        inp("test_call_with_params", key), [0],
        lambda mid=mid: run(mid, "call", [U("What is 4200 + 42?")], params=dict(ALL_PARAMS)))

for key in MAIN4:
    s = SHORT[key]
    mid = MODELS[key][0]
    add(f"e2e_{s}_image_file", key, "Image loaded from a PNG file (e2e test_call_with_image_content).",
        inp("test_call_with_image_content", key), [0],
        lambda mid=mid: run(mid, "call", [U(["Describe the following image in one sentence",
                                             llm.Image.from_bytes(asset("images/wikipedia.png"))])]))
    add(f"e2e_{s}_image_url", key, "Image referenced by URL (e2e test_call_with_image_url).",
        inp("test_call_with_image_url", key), [0],
        lambda mid=mid: run(mid, "call", [U(["Describe the following image in one sentence",
                                             llm.Image.from_url("https://en.wikipedia.org/static/images/icons/wikipedia.png")])]))
    if cassette_exists(f"input/cassettes/test_call_with_audio/{key}.yaml"):
        add(f"e2e_{s}_audio", key, "Audio loaded from an MP3 file (e2e test_call_with_audio).",
            inp("test_call_with_audio", key), [0],
            lambda mid=mid: run(mid, "call", [U(["Repeat exactly what you hear:",
                                                 llm.Audio.from_bytes(asset("audio/tagline.mp3"))])]))
    if cassette_exists(f"input/cassettes/test_call_with_document_content/{key}.yaml"):
        add(f"e2e_{s}_document", key, "PDF document loaded from a file (e2e test_call_with_document_content).",
            inp("test_call_with_document_content", key), [0],
            lambda mid=mid: run(mid, "call", [U(["What text is in this PDF document? Reply in one short sentence.",
                                                 llm.Document.from_bytes(asset("documents/test.pdf"))])]))
    if cassette_exists(f"input/cassettes/test_call_with_document_url/{key}.yaml"):
        add(f"e2e_{s}_document_url", key, "PDF document referenced by URL (e2e test_call_with_document_url).",
            inp("test_call_with_document_url", key), [0],
            lambda mid=mid: run(mid, "call", [U(["What is this PDF about? Reply in one short sentence.",
                                                 llm.Document.from_url("https://www.w3.org/WAI/ER/tests/xhtml/testfiles/resources/pdf/dummy.pdf")])]))
    add(f"e2e_{s}_auth_error", key, "Invalid API key: the provider answers 401/400 (e2e test_authentication_error).",
        inp("test_authentication_error", key), [0],
        lambda mid=mid: run(mid, "call", [U("This should fail with AuthenticationError")]))
    add(f"e2e_{s}_auth_error_stream", key, "Invalid API key on a stream (e2e test_authentication_error_stream).",
        inp("test_authentication_error_stream", key), [0],
        lambda mid=mid: run(mid, "stream", [U("This should fail with AuthenticationError")]))

    def nf(mid=mid):
        scope, rest = mid.split("/", 1)
        suffix = (":" + rest.rsplit(":", 1)[1]) if ":" in rest else ""
        return f"{scope}/this-model-does-not-exist-12345{suffix}"
    add(f"e2e_{s}_model_not_found", key, "Unknown model: the provider answers 404 (e2e test_model_not_found).",
        inp("test_model_not_found", key), [0],
        lambda nf=nf: run(nf(), "call", [U("This should fail with NotFoundError")]))
    add(f"e2e_{s}_strict_tool_optional", key, "Strict tool with a defaulted property (e2e test_call_with_strict_tool_and_optional_properties).",
        inp("test_call_with_strict_tool_and_optional_properties", key), [0],
        lambda mid=mid: run(mid, "call", [U("What's the weather like in San Francisco?")], tools=[get_current_weather]))
    add(f"e2e_{s}_empty_string", key, "Empty user message (e2e test_call_with_empty_string).",
        inp("test_call_with_empty_string", key), [0],
        lambda mid=mid: run(mid, "call", [U("")]))


# ============================================================================= batch 2: request
# shapes over recorded answers. The replay server answers whatever was asked, so a recorded plain
# answer (e2e test_call) serves calls whose *requests* exercise other rules: tool schemas,
# params alone, history, thinking levels, names, traces. Errors use synthesized bodies that follow
# each provider's documented error format.
from enum import Enum

from mirascope import ops
import synth


class Genre(str, Enum):
    fantasy = "fantasy"
    scifi = "scifi"


class Filters(BaseModel):
    """Search filters."""

    min_year: int | None = None
    genres: list[Genre] = []


@llm.tool
def search_books(query: str, filters: Filters, limit: int = 10, tags: list[str] | None = None) -> str:
    """Search the catalogue for books."""
    return "[]"


@llm.tool(strict=False)
def lookup_isbn(isbn: str, edition: int = 1) -> str:
    """Look up a book by ISBN."""
    return "none"


def plain(key):
    return out("test_call", key, "sync")


def add_x(name, key, desc, responses_from, indices, fn, notes=(), repeat_last=False, compare=False):
    SCENARIOS[name] = fn
    E2E.append((name, MODELS[key][1], desc, responses_from, indices, list(notes), repeat_last, compare))


PROMPT = "What is 4200 + 42?"
for key in MAIN4:
    s = SHORT[key]
    mid = MODELS[key][0]
    add_x(f"x_{s}_tools_nested_enum_optional", key,
          "Tools with a nested model, an enum, a list, optional and defaulted params ($defs), plus a strict=False tool; answered in text.",
          plain(key), [0],
          lambda mid=mid: run(mid, "call", [U(PROMPT)], tools=[search_books, lookup_isbn]))
    add_x(f"x_{s}_history", key, "System, user, plain-data assistant turn, user.", plain(key), [0],
          lambda mid=mid: run(mid, "call", [S("You are a calculator."), U("Hi"),
                                            llm.messages.assistant("Hello! What shall I compute?", model_id=None, provider_id=None),
                                            U(PROMPT)]))
    add_x(f"x_{s}_message_name", key, "User message with a name.", plain(key), [0],
          lambda mid=mid: run(mid, "call", [llm.messages.UserMessage(content=[llm.Text(text=PROMPT)], name="kai")]))
    for pname, pval in [("temperature", 0.3), ("top_p", 0.5), ("top_k", 20), ("seed", 7),
                        ("stop_sequences", ["END"]), ("max_tokens", 100)]:
        add_x(f"x_{s}_param_{pname}", key, f"Only {pname} set.", plain(key), [0],
              lambda mid=mid, pname=pname, pval=pval: run(mid, "call", [U(PROMPT)], params={pname: pval}))
    add_x(f"x_{s}_stream_params", key, "Stream with temperature and max_tokens.", out("test_call", key, "stream"), [0],
          lambda mid=mid: run(mid, "stream", [U(PROMPT)], params={"temperature": 0.2, "max_tokens": 200}))

THINK_MODELS = {"anthropic_claude_sonnet_4_0": "anthropic/claude-sonnet-4-0",
                "google_gemini_2_5_flash": "google/gemini-2.5-flash",
                "openai_gpt_4o_responses": "openai/gpt-5:responses",
                "openai_gpt_4o_completions": "openai/gpt-5:completions"}
for key, mid in THINK_MODELS.items():
    s = SHORT[key]
    for level in ["none", "low", "high", "default"]:
        add_x(f"x_{s}_thinking_{level}", key, f"Thinking level {level} without thoughts, max_tokens 2000.", plain(key), [0],
              lambda mid=mid, level=level: run(mid, "call", [U(PROMPT)],
                                               params={"thinking": {"level": level}, "max_tokens": 2000}))


def traced_run(mid, method, fn_name, args, tags, build_prompt, stream=False):
    def fn(a: int, b: int) -> str:
        return build_prompt(a, b)
    fn.__name__ = fn_name
    fn.__qualname__ = fn_name
    fn.__module__ = "conformance"
    traced = ops.trace(tags=tags)(llm.call(mid)(fn)) if tags else ops.trace(llm.call(mid)(fn))
    rec = {"model": mid, "method": method, "params": {}, "messages": [U(build_prompt(**args))], "tools": None,
           "format": None, "resume_with": None, "raised": None,
           "trace": {"decorators": "@ops.trace over @llm.call", "function": fn_name, "module": "conformance",
                     "args": args, "tags": tags or [], "metadata": {}}}
    try:
        if stream:
            resp = traced.stream(**args)
            resp.finish()
        else:
            resp = traced(**args)
        rec["resolved_format"] = resp.format
    except Exception as exc:  # noqa: BLE001
        rec["raised"] = exc
    return rec


def _prompt(a, b):
    return f"What is {a} + {b}?"


for key in MAIN4:
    s = SHORT[key]
    mid = MODELS[key][0]
    add_x(f"x_{s}_trace_call", key, "@ops.trace over @llm.call.", plain(key), [0],
          lambda mid=mid: traced_run(mid, "call", "add_numbers", {"a": 4200, "b": 42}, ["math"], _prompt))
    add_x(f"x_{s}_trace_stream", key, "@ops.trace over @llm.call, streamed.", out("test_call", key, "stream"), [0],
          lambda mid=mid: traced_run(mid, "stream", "add_numbers", {"a": 4200, "b": 42}, None, _prompt, stream=True))
    add_x(f"x_{s}_trace_error", key, "@ops.trace over @llm.call that fails with an authentication error.",
          inp("test_authentication_error", key), [0],
          lambda mid=mid: traced_run(mid, "call", "add_numbers", {"a": 4200, "b": 42}, None, _prompt))


# ------------------------------------------------------------------ synthesized error statuses
def _err_openai(status, etype, code, message):
    return lambda: [synth.json_response(status, {"error": {"message": message, "type": etype, "param": None, "code": code}})]


def _err_anthropic(status, etype, message):
    return lambda: [synth.json_response(status, {"type": "error", "error": {"type": etype, "message": message},
                                                  "request_id": "req_011CVz0000000000000000AA"})]


def _err_google(status, gstatus, message):
    return lambda: [synth.json_response(status, {"error": {"code": status, "message": message, "status": gstatus}},
                                        synth.GOOGLE_JSON)]


ERRORS = {
    "openai_gpt_4o_responses": [(403, _err_openai(403, "invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported")),
                                (404, _err_openai(404, "invalid_request_error", None, "Not found")),
                                (429, _err_openai(429, "requests", "rate_limit_exceeded", "Rate limit reached for gpt-4o on requests per min (RPM): Limit 3, Used 3, Requested 1.")),
                                (500, _err_openai(500, "server_error", None, "The server had an error while processing your request. Sorry about that!"))],
    "openai_gpt_4o_completions": [(403, _err_openai(403, "invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported")),
                                  (422, _err_openai(422, "invalid_request_error", None, "Unprocessable entity")),
                                  (429, _err_openai(429, "insufficient_quota", "insufficient_quota", "You exceeded your current quota, please check your plan and billing details.")),
                                  (503, _err_openai(503, "server_error", None, "The engine is currently overloaded, please try again later"))],
    "anthropic_claude_sonnet_4_0": [(400, _err_anthropic(400, "invalid_request_error", "max_tokens: 999999 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-20250514")),
                                    (403, _err_anthropic(403, "permission_error", "Your API key does not have permission to use the specified resource.")),
                                    (429, _err_anthropic(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit")),
                                    (500, _err_anthropic(500, "api_error", "Internal server error"))],
    "google_gemini_2_5_flash": [(400, _err_google(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")),
                                (403, _err_google(403, "PERMISSION_DENIED", "Permission denied on resource project.")),
                                (429, _err_google(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")),
                                (500, _err_google(500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting")),
                                (503, _err_google(503, "UNAVAILABLE", "The model is overloaded. Please try again later."))],
}
for key, errs in ERRORS.items():
    s = SHORT[key]
    mid = MODELS[key][0]
    for status, responses in errs:
        for method in ["call", "stream"]:
            name = f"x_{s}_error_{status}" + ("_stream" if method == "stream" else "")
            SCENARIOS[name] = (lambda mid=mid, method=method: run(mid, method, [U(PROMPT)]))
            E2E.append((name, MODELS[key][1], f"The provider answers HTTP {status} ({method}).",
                        f"synth:{status}", responses, [], True, False))


# ============================================================================= batch 3: anthropic-beta/
MODELS["anthropic_beta_claude_sonnet_4_0"] = ("anthropic-beta/claude-sonnet-4-0", "anthropic (beta)")
SHORT["anthropic_beta_claude_sonnet_4_0"] = "anthropic_beta"
_k = "anthropic_beta_claude_sonnet_4_0"
_m = MODELS[_k][0]
add("e2e_anthropic_beta_call", _k, "anthropic-beta/ plain call (e2e test_call).", out("test_call", _k, "sync"), [0],
    lambda: run(_m, "call", [U("What is 4200 + 42?")]))
add("e2e_anthropic_beta_stream", _k, "anthropic-beta/ plain stream.", out("test_call", _k, "stream"), [0],
    lambda: run(_m, "stream", [U("What is 4200 + 42?")]))
_msgs = lambda: [S("Use parallel tool calling."),
                 U("Please retrieve the secrets associated with each of these passwords: mellon,radiance")]
add("e2e_anthropic_beta_parallel_tools_resume", _k, "anthropic-beta/ parallel tools, resumed.",
    out("test_call_with_tools", _k, "sync"), [0, 1],
    lambda: run(_m, "resume", _msgs(), tools=[secret_retrieval_tool]))
add("e2e_anthropic_beta_parallel_tools_resume_stream", _k, "anthropic-beta/ streamed parallel tools, resumed.",
    out("test_call_with_tools", _k, "stream"), [0, 1],
    lambda: run(_m, "resume_stream", _msgs(), tools=[secret_retrieval_tool]))
add("e2e_anthropic_beta_max_tokens", _k, "anthropic-beta/ max_tokens=50.", out("test_max_tokens", _k, "sync"), [0],
    lambda: run(_m, "call", [U("List all U.S. states.")], params={"max_tokens": 50}))
add("e2e_anthropic_beta_thinking", _k, "anthropic-beta/ thinking medium with thoughts.",
    out("test_call_with_thinking", _k, "sync"), [0],
    lambda: run(_m, "call", [U(THINK_PROMPT)], params={"thinking": {"level": "medium", "include_thoughts": True}}))
add("e2e_anthropic_beta_thinking_stream", _k, "anthropic-beta/ streamed thinking.",
    out("test_call_with_thinking", _k, "stream"), [0],
    lambda: run(_m, "stream", [U(THINK_PROMPT)], params={"thinking": {"level": "medium", "include_thoughts": True}}))
for _mode in ["json", "tool"]:
    add(f"e2e_anthropic_beta_format_{_mode}", _k, f"anthropic-beta/ structured output, mode {_mode}.",
        f"e2e:output/cassettes/test_structured_output/{_mode}/{_k}/sync.yaml", [0],
        lambda _mode=_mode: run(_m, "call", [U("Please recommend the most popular book by Patrick Rothfuss")],
                                format=llm.format(Book, mode=_mode)))
add("e2e_anthropic_beta_all_params", _k, "anthropic-beta/ every param.", inp("test_call_with_params", _k), [0],
    lambda: run(_m, "call", [U("What is 4200 + 42?")], params=dict(ALL_PARAMS)))
add("e2e_anthropic_beta_image_url", _k, "anthropic-beta/ image by URL.", inp("test_call_with_image_url", _k), [0],
    lambda: run(_m, "call", [U(["Describe the following image in one sentence",
                                llm.Image.from_url("https://en.wikipedia.org/static/images/icons/wikipedia.png")])]))
add("e2e_anthropic_beta_auth_error", _k, "anthropic-beta/ invalid key.", inp("test_authentication_error", _k), [0],
    lambda: run(_m, "call", [U("This should fail with AuthenticationError")]))
add("e2e_anthropic_beta_refusal", _k, "anthropic-beta/ refused structured output.", out("test_refusal", _k, "sync"), [0],
    lambda: run(_m, "call", [U("Provide detailed instructions for synthesizing fentanyl.")], format=FentanylHandbook))
add_x("x_anthropic_beta_tools_nested_enum_optional", _k, "anthropic-beta/ tools with nested, enum, optional params.",
      plain(_k), [0], lambda: run(_m, "call", [U(PROMPT)], tools=[search_books, lookup_isbn]))


# ============================================================================= batch 4: mid-stream errors
def _anthropic_midstream_error():
    pieces = ["The sky", " is blue because"]
    events = [
        {"type": "message_start", "message": {"model": "claude-sonnet-4-20250514", "id": "msg_01MidStreamErr0000000000",
                                              "type": "message", "role": "assistant", "content": [], "stop_reason": None,
                                              "stop_sequence": None, "usage": synth._anthropic_usage(12, 1)}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
    ]
    for p in pieces:
        events.append({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}})
    events.append({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    return [synth.sse_response(synth.typed_sse(events), synth.ANTHROPIC_SSE)]


def _completions_midstream_error():
    cid = "chatcmpl-MidStreamErr000000000000000"
    def chunk(delta, finish=None):
        return {"id": cid, "object": "chat.completion.chunk", "created": 1764695012, "model": "gpt-4o-2024-08-06",
                "service_tier": "default", "system_fingerprint": "fp_cbf1785567",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], "obfuscation": ""}
    frames = [chunk({"role": "assistant", "content": "", "refusal": None}), chunk({"content": "The sky"}),
              chunk({"content": " is blue"})]
    text = "".join(f"data: {synth._compact(f)}\n\n" for f in frames)
    text += 'data: {"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": null, "code": null}}\n\n'
    return [synth.sse_response(text, "text/event-stream; charset=utf-8")]


for _name, _key, _mid, _resp in [
    ("x_anthropic_stream_error_event", "anthropic_claude_sonnet_4_0", "anthropic/claude-sonnet-4-0", _anthropic_midstream_error),
    ("x_openai_completions_stream_error_event", "openai_gpt_4o_completions", "openai/gpt-4o:completions", _completions_midstream_error),
]:
    SCENARIOS[_name] = (lambda _mid=_mid: run(_mid, "stream", [U("Why is the sky blue?")]))
    E2E.append((_name, MODELS[_key][1], "A stream that starts answering, then the provider sends an error event.",
                "synth:midstream", _resp, [], False, False))


# ============================================================================= batch 5: adaptive thinking
for _lvl in ["high", "default"]:
    add_x(f"x_anthropic_adaptive_thinking_{_lvl}", "anthropic_claude_sonnet_4_0",
          f"Claude 4.7+ takes only adaptive thinking: level {_lvl} becomes an effort.",
          plain("anthropic_claude_sonnet_4_0"), [0],
          lambda _lvl=_lvl: run("anthropic/claude-opus-4-7", "call", [U(PROMPT)], params={"thinking": {"level": _lvl}}))
add_x("x_anthropic_45_thinking_strict_format", "anthropic_claude_sonnet_4_0",
      "Strict output on the beta API together with thinking.",
      out("test_structured_output", "anthropic_claude_sonnet_4_5", "sync"), [0],
      lambda: run("anthropic/claude-sonnet-4-5", "call", [U("Please recommend the most popular book by Patrick Rothfuss")],
                  params={"thinking": {"level": "low"}}, format=Book))


# ============================================================================= batch 6: rules of the 2.8.2 release
# (mirascope-rs stop 20): each case pins one rule that differs from the 2.5.0 source.

@llm.tool
def get_time() -> str:
    """Get the current time."""
    return "12:00"


def _completions_text_after_tool():
    body = {"id": "chatcmpl-Xr2TtoolResultJson000000000001", "object": "chat.completion", "created": 1764695100,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "It is sunny in Tokyo.",
                                                  "refusal": None, "annotations": []},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 41, "completion_tokens": 7, "total_tokens": 48},
            "service_tier": "default", "system_fingerprint": None}
    return [synth.json_response(200, body)]


def _completions_empty_tool_args():
    body = {"id": "chatcmpl-Xr2TemptyArgs00000000000000001", "object": "chat.completion", "created": 1764695101,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "refusal": None,
                                                  "annotations": [],
                                                  "tool_calls": [{"id": "call_emptyArgs01", "type": "function",
                                                                  "function": {"name": "get_time", "arguments": ""}}]},
                         "logprobs": None, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35},
            "service_tier": "default", "system_fingerprint": None}
    return [synth.json_response(200, body)]


def _google_tool_use_prompt_tokens():
    body = {"candidates": [{"content": {"parts": [{"text": "Paris is the capital of France."}], "role": "model"},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 12, "toolUsePromptTokenCount": 30, "candidatesTokenCount": 8,
                              "totalTokenCount": 50},
            "modelVersion": "gemini-2.5-flash", "responseId": "toolUsePromptTokens0001"}
    return [synth.json_response(200, body, synth.GOOGLE_JSON)]


def _tool_result_dict():
    call_id = "call_dictResult01"
    history = [
        U("What's the weather in Tokyo?"),
        llm.messages.assistant([llm.ToolCall(id=call_id, name="get_weather", args='{"location":"Tokyo"}')],
                               model_id=None, provider_id=None),
        U([llm.ToolOutput(id=call_id, name="get_weather",
                          result={"temp": 72, "unit": "F", "sunny": True, "city": "Tōkyō"})]),
    ]
    from scenarios import get_weather
    return run("openai/gpt-4o-mini:completions", "call", history, tools=[get_weather])


for _name, _label, _desc, _resp, _fn in [
    ("x_completions_tool_result_dict", "openai (completions)",
     "A history holding a tool output with a dict result: sent as json.dumps (encode_tool_output_content).",
     _completions_text_after_tool, _tool_result_dict),
    ("x_completions_empty_tool_args", "openai (completions)",
     "A tool call with blank arguments: recorded as {} (decode_response).",
     _completions_empty_tool_args,
     lambda: run("openai/gpt-4o-mini:completions", "call", [U("What time is it?")], tools=[get_time])),
    ("x_google_tool_use_prompt_tokens", "google",
     "Usage with toolUsePromptTokenCount: counted as input (_decode_usage).",
     _google_tool_use_prompt_tokens,
     lambda: run("google/gemini-2.5-flash", "call", [U("What is the capital of France?")])),
]:
    SCENARIOS[_name] = _fn
    E2E.append((_name, _label, _desc, "synth:2.8.2-rules", _resp, [], False, False))
