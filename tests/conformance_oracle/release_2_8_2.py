"""mirascope-rs additions to the oracle, pinning rules of the 2.8.2 release: the OpenAI-compatible providers of Mirascope 2.8.2
(together, openrouter, ollama, xai over Responses, api-route, requesty, minimax), and the unified
`openai` provider's choice of API (`choose_api_mode`: audio, completions-only models), and an
Anthropic 503 (the SDK's `InternalServerError`, Mirascope's ServerError), JSON-mode
instructions written with `json.dumps(schema, indent=2)`, and a Google prompt blocked by
`promptFeedback` (no candidates), call and stream, and `WebSearchTool` (provider tools: a case's
`call.tools` entry `{"name": "web_search", "provider_tool": "web_search"}`).

How these cases were generated (tests/fixtures/conformance/x_{together,openrouter,ollama,xai,
api_route,requesty,minimax}_*.json): copy ../shared/conformance/oracle somewhere writable, then
1. in run_case.py `main`, after the three `register_provider` lines, register the compatible
   providers on their own prefixes, pointed at the replay server:

       for pid in ("ollama", "together", "openrouter", "xai", "requesty", "atlascloud",
                   "cheaperinference", "api-route", "minimax"):
           llm.register_provider(pid, scope=f"{pid}/", api_key="sk-conformance-test",
                                 base_url=f"{base}/v1")

2. append the SYNTH block below to synth.py, the SCENARIOS block to scenarios.py and the
   CASES entries to the `CASES` list of cases.py;
3. `python generate.py --out-root OUT --only x_together_call_params --only ...` (the twenty names).
"""

# ---------------------------------------------------------------------------------- SYNTH (synth.py)
# --------------------------------------------------------------------- mirascope-rs additions: OpenAI-compatible providers (2.8.2)

def _compat_completion(cid: str, model: str, message: dict, finish: str, inp: int, out: int) -> dict:
    return {"id": cid, "object": "chat.completion", "created": 1764696000, "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out}}


def compat_together_text() -> list[dict]:
    return [json_response(200, _compat_completion(
        "o9Xq2-together-000001", "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        {"role": "assistant", "content": "Lisbon's Belém Tower guards the Tagus."}, "stop", 31, 11))]


def compat_openrouter_text() -> list[dict]:
    return [json_response(200, _compat_completion(
        "gen-1764696001-openrouter0001", "openai/o3-mini",
        {"role": "assistant", "content": "Two plus two is four."}, "stop", 14, 9))]


def compat_ollama_stream() -> list[dict]:
    def chunk(delta: dict, finish=None, usage=None) -> dict:
        return {"id": "chatcmpl-412", "object": "chat.completion.chunk", "created": 1764696002,
                "model": "llama3.2", "system_fingerprint": "fp_ollama",
                "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}],
                **({"usage": usage} if usage else {})}
    frames = [chunk({"role": "assistant", "content": "Red"}), chunk({"role": "assistant", "content": ", yellow"}),
              chunk({"role": "assistant", "content": " and blue."}), chunk({"role": "assistant", "content": ""}, "stop"),
              chunk({}, usage={"prompt_tokens": 18, "completion_tokens": 7, "total_tokens": 25})]
    text = "".join(f"data: {_compact(f)}\n\n" for f in frames) + "data: [DONE]\n\n"
    return [sse_response(text, "text/event-stream")]


def compat_xai_text() -> list[dict]:
    body = _openai_response(
        rid="resp_xai_0001", created_at=1764696003, completed_at=1764696004, status="completed",
        model="grok-4-0709",
        output=[{"id": "msg_xai_0001", "type": "message", "status": "completed", "role": "assistant",
                 "content": [{"type": "output_text", "annotations": [], "logprobs": [],
                              "text": "The Belém Tower."}]}],
        usage=_openai_usage(25, 5, reasoning=0))
    return [json_response(200, body)]


def compat_xai_tool_then_text() -> list[dict]:
    first = _openai_response(
        rid="resp_xai_0002", created_at=1764696005, completed_at=1764696006, status="completed",
        model="grok-4-0709",
        output=[{"id": "fc_xai_0002", "type": "function_call", "status": "completed", "name": "get_weather",
                 "call_id": "call_xai_weather01", "arguments": "{\"location\":\"Tokyo\"}"}],
        usage=_openai_usage(60, 15))
    second = _openai_response(
        rid="resp_xai_0003", created_at=1764696007, completed_at=1764696008, status="completed",
        model="grok-4-0709",
        output=[{"id": "msg_xai_0003", "type": "message", "status": "completed", "role": "assistant",
                 "content": [{"type": "output_text", "annotations": [], "logprobs": [],
                              "text": "It is 72°F and sunny in Tokyo."}]}],
        usage=_openai_usage(90, 12))
    return [json_response(200, first), json_response(200, second)]


def compat_api_route_text() -> list[dict]:
    return [json_response(200, _compat_completion(
        "chatcmpl-apiroute0001", "gpt-5-mini-2025-08-07",
        {"role": "assistant", "content": "Paris."}, "stop", 12, 40))]


def compat_requesty_tool_call() -> list[dict]:
    return [json_response(200, _compat_completion(
        "chatcmpl-requesty0001", "openai/gpt-4o-mini",
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "call_requesty01", "type": "function",
                         "function": {"name": "get_weather", "arguments": "{\"location\":\"Oslo\"}"}}]},
        "tool_calls", 55, 16))]


def compat_minimax_text() -> list[dict]:
    return [json_response(200, _compat_completion(
        "05b81ba2minimax0001", "MiniMax-M1",
        {"role": "assistant", "content": "Hello! How can I help?"}, "stop", 9, 8))]

# ---------------------------------------------------------------------------------- SCENARIOS (scenarios.py)
# ============================================================================= mirascope-rs additions: OpenAI-compatible providers (2.8.2)

@scenario("x_together_call_params")
def _():
    # Together sends the model id as it is (TogetherProvider._model_name), params as OpenAI's.
    return run("together/meta-llama/Llama-3.3-70B-Instruct-Turbo", "call",
               [S("Answer in one sentence."), U("Name one landmark in Lisbon.")],
               params={"temperature": 0.5, "max_tokens": 100})


@scenario("x_openrouter_openai_reasoning_params")
def _():
    # OpenRouter applies OpenAI's features to openai/ names: o3-mini is a reasoning model.
    return run("openrouter/openai/o3-mini", "call", [U("What is two plus two?")],
               params={"temperature": 0.5, "max_tokens": 200})


@scenario("x_ollama_stream")
def _():
    return run("ollama/llama3.2", "stream", [U("Name the three primary colors.")])


@scenario("x_xai_responses_call")
def _():
    # xAI speaks the Responses API (XAIProvider(OpenAIResponsesProvider)).
    return run("xai/grok-4", "call", [S("Be brief."), U("Name one landmark in Lisbon.")])


@scenario("x_xai_responses_resume")
def _():
    # On resume xAI's assistant message is re-encoded, not replayed raw (_encode_message).
    return run("xai/grok-4", "resume", [U("What's the weather in Tokyo?")], tools=[get_weather])


@scenario("x_api_route_openai_named_params")
def _():
    # API Route applies OpenAI's features to gpt-/o1/o3/o4 names: gpt-5-mini is a reasoning model.
    return run("api-route/gpt-5-mini", "call", [U("What is the capital of France?")],
               params={"max_tokens": 50})


@scenario("x_requesty_openai_tools")
def _():
    return run("requesty/openai/gpt-4o-mini", "call", [U("What's the weather in Oslo?")], tools=[get_weather])


@scenario("x_minimax_call")
def _():
    return run("minimax/MiniMax-M1", "call", [U("Hello!")])

# ---------------------------------------------------------------------------------- CASES (cases.py, inside CASES)
CASES_ADDED = [
    Case("x_together_call_params", "together", "Together (Chat Completions) call with a system message, temperature and max_tokens.",
         "synthesized: synth.compat_together_text", synth.compat_together_text,
         ["2.8.2 sends the model id as it is (`TogetherProvider._model_name`)."]),
    Case("x_openrouter_openai_reasoning_params", "openrouter", "OpenRouter call of openai/o3-mini with temperature and max_tokens.",
         "synthesized: synth.compat_openrouter_text", synth.compat_openrouter_text,
         ["OpenRouter applies OpenAI's model features to `openai/` names (`OpenRouterProvider._model_feature_info`)."]),
    Case("x_ollama_stream", "ollama", "Ollama (Chat Completions) stream.",
         "synthesized: synth.compat_ollama_stream", synth.compat_ollama_stream),
    Case("x_xai_responses_call", "xai", "xAI call over the Responses API.",
         "synthesized: synth.compat_xai_text", synth.compat_xai_text,
         ["`XAIProvider` is an `OpenAIResponsesProvider`."]),
    Case("x_xai_responses_resume", "xai", "xAI tool call, executed, and the call resumed.",
         "synthesized: synth.compat_xai_tool_then_text", synth.compat_xai_tool_then_text,
         ["Only OpenAI's own assistant messages are replayed raw (`_encode_message`)."]),
    Case("x_api_route_openai_named_params", "api-route", "API Route call of gpt-5-mini with max_tokens.",
         "synthesized: synth.compat_api_route_text", synth.compat_api_route_text,
         ["API Route applies OpenAI's features to `gpt-`/`o1`/`o3`/`o4` names."]),
    Case("x_requesty_openai_tools", "requesty", "Requesty call of openai/gpt-4o-mini with a tool.",
         "synthesized: synth.compat_requesty_tool_call", synth.compat_requesty_tool_call),
    Case("x_minimax_call", "minimax", "MiniMax (Chat Completions) call.",
         "synthesized: synth.compat_minimax_text", synth.compat_minimax_text),
]

# ---------------------------------------------------------------------------------- choose_api_mode (synth.py, scenarios.py, cases.py)
def completions_audio_answer() -> list[dict]:
    return [json_response(200, {
        "id": "chatcmpl-Xr2TaudioRoute00000000001", "object": "chat.completion", "created": 1764696100,
        "model": "gpt-4o-audio-preview-2024-12-17",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "It says hello.", "refusal": None,
                                              "annotations": []}, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 5, "total_tokens": 45},
        "service_tier": "default", "system_fingerprint": "fp_audio0001"})]


def completions_search_answer() -> list[dict]:
    return [json_response(200, {
        "id": "chatcmpl-Xr2TsearchRoute0000000001", "object": "chat.completion", "created": 1764696101,
        "model": "gpt-4o-search-preview-2025-03-11",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Lisbon is sunny today.",
                                              "refusal": None, "annotations": []},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18},
        "service_tier": "default", "system_fingerprint": None})]

# A tiny WAV (44-byte header, no samples): its bytes only have to reach the request.
_WAV = (b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80>\x00\x00"
        b"\x02\x00\x10\x00data\x00\x00\x00\x00")


@scenario("x_openai_audio_routes_to_completions")
def _():
    # choose_api_mode: audio in the messages sends the unified openai provider to Completions.
    return run("openai/gpt-4o-audio-preview", "call",
               [U(["What does this say?", llm.Audio.from_bytes(_WAV)])])


@scenario("x_openai_completions_only_model")
def _():
    # choose_api_mode: a model known only with :completions goes to Completions.
    return run("openai/gpt-4o-search-preview", "call", [U("What's the weather in Lisbon?")])

CASES_ADDED_API_MODE = [
    Case("x_openai_audio_routes_to_completions", "openai", "Unified openai provider, no suffix, audio input.",
         "synthesized: synth.completions_audio_answer", synth.completions_audio_answer,
         ["`choose_api_mode`: audio in the messages selects the Completions API."]),
    Case("x_openai_completions_only_model", "openai", "Unified openai provider, no suffix, a completions-only model.",
         "synthesized: synth.completions_search_answer", synth.completions_search_answer,
         ["`choose_api_mode`: a model known only as `:completions` selects the Completions API."]),
]

# ---------------------------------------------------------------------------------- Anthropic 503 (synth.py, scenarios.py, cases.py)
def anthropic_error_503() -> list[dict]:
    return [json_response(503, {"type": "error", "error": {"type": "api_error", "message": "Service unavailable"},
                                "request_id": "req_011CVz0000000000000000AB"})]

@scenario("x_anthropic_error_503")
def _():
    # anthropic SDK `_make_status_error`: 503 is InternalServerError (Mirascope ServerError).
    return run("anthropic/claude-sonnet-4-0", "call", [U("What is 4200 + 42?")])


@scenario("x_anthropic_error_503_stream")
def _():
    return run("anthropic/claude-sonnet-4-0", "stream", [U("What is 4200 + 42?")])

CASES_ADDED_ANTHROPIC_503 = [
    Case("x_anthropic_error_503", "anthropic", "The provider answers HTTP 503 (call).",
         "synthesized: an error body in the provider's documented error format", synth.anthropic_error_503,
         ["503 is the SDK's InternalServerError: Mirascope's ServerError (only 529 is ProviderError)."],
         repeat_last=True),
    Case("x_anthropic_error_503_stream", "anthropic", "The provider answers HTTP 503 (stream).",
         "synthesized: an error body in the provider's documented error format", synth.anthropic_error_503,
         ["503 is the SDK's InternalServerError: Mirascope's ServerError (only 529 is ProviderError)."],
         repeat_last=True),
]

# ---------------------------------------------------------------------------------- JSON-mode instructions (synth.py, scenarios.py, cases.py)
def completions_json_price() -> list[dict]:
    return [json_response(200, {
        "id": "chatcmpl-Xr2TjsonMode000000000001", "object": "chat.completion", "created": 1764696200,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\"name\": \"Café crème\", \"price\": 3.5}",
                                              "refusal": None, "annotations": []},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 80, "completion_tokens": 12, "total_tokens": 92},
        "service_tier": "default", "system_fingerprint": "fp_json0001"})]

from pydantic import BaseModel as _BaseModel, Field as _Field


class MenuItem(_BaseModel):
    """Un article du menu (café, thé, pâtisserie)."""

    name: str = _Field(description="Le nom de l'article, accents compris")
    price: float = _Field(ge=0.00001, description="Prix en €")


@scenario("x_completions_json_mode_non_ascii_schema")
def _():
    # formatting_instructions: json.dumps(schema, indent=2) escapes non-ASCII and writes 1e-05.
    return run("openai/gpt-4o-mini:completions", "call", [U("Propose un café.")],
               format=llm.format(MenuItem, mode="json"))

CASES_ADDED_JSON_MODE = [
    Case("x_completions_json_mode_non_ascii_schema", "openai (completions)",
         "JSON-mode format whose schema has non-ASCII descriptions and a float bound.",
         "synthesized: synth.completions_json_price", synth.completions_json_price,
         ["The instructions hold `json.dumps(schema, indent=2)`: non-ASCII escaped, floats as Python writes them."]),
]

# ---------------------------------------------------------------------------------- Google blocked prompt (synth.py, scenarios.py, cases.py)
_GOOGLE_BLOCKED = {
    "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
    "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9,
                      "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 9}]},
    "modelVersion": "gemini-2.5-flash", "responseId": "blockedPrompt0001",
}


def google_blocked_prompt() -> list[dict]:
    return [json_response(200, _GOOGLE_BLOCKED, GOOGLE_JSON)]


def google_blocked_prompt_stream() -> list[dict]:
    return [sse_response(f"data: {_google_compact(_GOOGLE_BLOCKED)}\r\n\r\n", GOOGLE_SSE)]

@scenario("x_google_blocked_prompt")
def _():
    # decode_response: no candidates is an empty answer with no finish reason, usage kept.
    return run("google/gemini-2.5-flash", "call", [U("Something the safety filter blocks.")])


@scenario("x_google_blocked_prompt_stream")
def _():
    return run("google/gemini-2.5-flash", "stream", [U("Something the safety filter blocks.")])

CASES_ADDED_GOOGLE_BLOCKED = [
    Case("x_google_blocked_prompt", "google", "A prompt blocked by promptFeedback: no candidates (call).",
         "synthesized: synth.google_blocked_prompt", synth.google_blocked_prompt,
         ["`decode_response`: an empty answer, no finish reason, the usage kept."]),
    Case("x_google_blocked_prompt_stream", "google", "A prompt blocked by promptFeedback: no candidates (stream).",
         "synthesized: synth.google_blocked_prompt_stream", synth.google_blocked_prompt_stream,
         ["The stream ends after the one chunk; an empty answer."]),
]

# ---------------------------------------------------------------------------------- WebSearchTool (synth.py, scenarios.py, cases.py; run_case.py's tool_to_fixture)
# run_case.py, at the top of tool_to_fixture:
#     if isinstance(tool, llm.tools.ProviderTool):
#         return {"name": tool.name, "provider_tool": tool.name}
def responses_web_search() -> list[dict]:
    body = _openai_response(
        rid="resp_websearch0001", created_at=1764696300, completed_at=1764696302, status="completed",
        model="gpt-4o-mini-2024-07-18",
        output=[{"id": "ws_websearch0001", "type": "web_search_call", "status": "completed",
                 "action": {"type": "search", "query": "Super Bowl 2024 winner"}},
                {"id": "msg_websearch0001", "type": "message", "status": "completed", "role": "assistant",
                 "content": [{"type": "output_text", "annotations": [], "logprobs": [],
                              "text": "The Kansas City Chiefs won Super Bowl LVIII."}]}],
        usage=_openai_usage(310, 14))
    return [json_response(200, body)]


def anthropic_web_search() -> list[dict]:
    body = _anthropic_message(
        "msg_01WebSearch000000000001", "claude-sonnet-4-5-20250929",
        [{"type": "server_tool_use", "id": "srvtoolu_01WebSearch0001", "name": "web_search",
          "input": {"query": "Super Bowl 2024 winner"}},
         {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01WebSearch0001",
          "content": [{"type": "web_search_result", "url": "https://example.com/super-bowl-lviii",
                       "title": "Super Bowl LVIII", "encrypted_content": "EqgfCioIARgBIiQ3", "page_age": None}]},
         {"type": "text", "text": "The Kansas City Chiefs won Super Bowl LVIII.", "citations": None}],
        "end_turn", {**_anthropic_usage(2100, 40), "server_tool_use": {"web_search_requests": 1}})
    return [json_response(200, body)]


def google_web_search() -> list[dict]:
    body = {"candidates": [{"content": {"parts": [{"text": "The Kansas City Chiefs won Super Bowl LVIII."}],
                                        "role": "model"},
                            "finishReason": "STOP", "index": 0,
                            "groundingMetadata": {"webSearchQueries": ["Super Bowl 2024 winner"],
                                                  "groundingChunks": [{"web": {"uri": "https://example.com/sb",
                                                                               "title": "example.com"}}]}}],
            "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 12, "totalTokenCount": 23,
                              "toolUsePromptTokenCount": 60},
            "modelVersion": "gemini-2.5-flash", "responseId": "webSearch0001"}
    return [json_response(200, body, GOOGLE_JSON)]

_SEARCH_PROMPT = "Who won the 2024 Super Bowl?"


@scenario("x_openai_responses_web_search")
def _():
    # WebSearchTool on the Responses API: {"type": "web_search"}; an "extension" definition.
    return run("openai/gpt-4o-mini", "call", [U(_SEARCH_PROMPT)], tools=[llm.WebSearchTool()])


@scenario("x_openai_responses_web_search_with_tool")
def _():
    return run("openai/gpt-4o-mini", "call", [U(_SEARCH_PROMPT)], tools=[llm.WebSearchTool(), get_weather])


@scenario("x_anthropic_web_search")
def _():
    # web_search_20250305; server_tool_use and web_search_tool_result are not content.
    return run("anthropic/claude-sonnet-4-5", "call", [U(_SEARCH_PROMPT)], tools=[llm.WebSearchTool()])


@scenario("x_google_web_search")
def _():
    # google_search as a tool of its own.
    return run("google/gemini-2.5-flash", "call", [U(_SEARCH_PROMPT)], tools=[llm.WebSearchTool(), get_weather])


@scenario("x_completions_web_search_refused")
def _():
    # Chat Completions has no web search: FeatureNotSupportedError before any request.
    return run("openai/gpt-4o-mini:completions", "call", [U(_SEARCH_PROMPT)], tools=[llm.WebSearchTool()])

CASES_ADDED_WEB_SEARCH = [
    Case("x_openai_responses_web_search", "openai (responses)", "WebSearchTool on the Responses API.",
         "synthesized: synth.responses_web_search", synth.responses_web_search,
         ["Sent as `{\"type\": \"web_search\"}`; recorded in `gen_ai.tool.definitions` as an `extension`."]),
    Case("x_openai_responses_web_search_with_tool", "openai (responses)", "WebSearchTool beside a function tool.",
         "synthesized: synth.responses_web_search", synth.responses_web_search),
    Case("x_anthropic_web_search", "anthropic", "WebSearchTool on Anthropic.",
         "synthesized: synth.anthropic_web_search", synth.anthropic_web_search,
         ["Sent as `web_search_20250305`; server tool blocks are not content."]),
    Case("x_google_web_search", "google", "WebSearchTool beside a function tool on Google.",
         "synthesized: synth.google_web_search", synth.google_web_search,
         ["`google_search` is a tool of its own, before the merged function declarations."]),
    Case("x_completions_web_search_refused", "openai (completions)", "WebSearchTool on Chat Completions.",
         "synthesized: none (the call fails before any request)", lambda: [],
         ["`_convert_tool_to_tool_param` raises FeatureNotSupportedError."]),
]
