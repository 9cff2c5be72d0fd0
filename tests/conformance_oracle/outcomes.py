#!/usr/bin/env python3
"""Adds `outcome` (Python's `response.finish_reason`) to the conformance cases written before the
oracle recorded it (tests/fixtures/conformance/FORMAT.md, `outcome`).

The finish reason is what Python Mirascope 2.8.2 decodes from the call's last answer, so for each
case whose call returned, this runs Python Mirascope once more against a loopback replay server
that serves that answer (the case's last exchange) to a call of the same model id and method
(`call`, or `stream` consumed with `finish()`), over the API the case's last request went to, and
records `response.finish_reason`. Cases whose call raised get no `outcome` (nor do cases that
already have one). Everything else in a case file is left byte for byte.

    python tests/conformance_oracle/outcomes.py --oracle ../shared/conformance/oracle \
        [--cases tests/fixtures/conformance] [--check]

`--check` changes nothing and fails if a recorded `outcome` differs from what Python decodes now.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

COMPATIBLE = ("ollama", "together", "openrouter", "xai", "requesty", "atlascloud", "cheaperinference",
              "api-route", "minimax")


def finish_reason(model: str, streamed: bool, response: dict, oracle: str) -> str | None:
    """Python Mirascope's `response.finish_reason` for `response` answering a call of `model`."""
    from mirascope import llm

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump([response], f, ensure_ascii=False)
    server = subprocess.Popen([sys.executable, os.path.join(oracle, "replay_server.py"), "--responses", f.name,
                               "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline().split()[1])
        base = f"http://127.0.0.1:{port}"
        llm.register_provider("openai", scope="openai/", api_key="sk-outcome", base_url=f"{base}/v1")
        anthropic = llm.register_provider("anthropic", scope="anthropic/", api_key="sk-ant-outcome",
                                          base_url=base)
        llm.register_provider(anthropic._beta_provider, "anthropic-beta/")
        llm.register_provider("google", scope="google/", api_key="outcome-key", base_url=base)
        for pid in COMPATIBLE:
            llm.register_provider(pid, scope=f"{pid}/", api_key="sk-outcome", base_url=f"{base}/v1")
        m = llm.Model(model)
        if streamed:
            r = m.stream([llm.messages.user("x")])
            r.finish()
        else:
            r = m.call([llm.messages.user("x")])
        return r.finish_reason.value if r.finish_reason is not None else None
    finally:
        server.terminate()
        server.wait(timeout=10)
        os.unlink(f.name)


def model_for(case: dict) -> str:
    """The case's model id, with the API its last request went to made explicit (a case whose
    messages made `openai/` pick Chat Completions is answered in that API's format)."""
    model = case["call"]["model"]
    path = case["exchanges"][-1]["request"]["path"]
    provider, _, rest = model.partition("/")
    if provider == "openai":
        base = rest.split(":")[0]
        if path.endswith("/chat/completions"):
            return f"openai/{base}:completions"
        if path.endswith("/responses"):
            return f"openai/{base}:responses"
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--cases", default=os.path.join(os.path.dirname(__file__), "..", "fixtures", "conformance"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "GOOGLE_API_KEY",
                "GEMINI_API_KEY", "MIRASCOPE_API_KEY"):
        os.environ.pop(var, None)
    changed, mismatched = 0, []
    for path in sorted(glob.glob(os.path.join(args.cases, "*.json"))):
        text = open(path, encoding="utf-8").read()
        case = json.loads(text)
        if "Python Mirascope raised" in case["notes"]:
            continue
        streamed = "stream" in case["call"]["method"]
        try:
            reason = finish_reason(model_for(case), streamed, case["exchanges"][-1]["response"], args.oracle)
        except Exception as exc:  # noqa: BLE001
            sys.exit(f"{case['name']}: {type(exc).__name__}: {exc}")
        if "outcome" in case:
            if case["outcome"] != {"finish_reason": reason}:
                mismatched.append(f"{case['name']}: recorded {case['outcome']}, decoded {reason!r}")
            continue
        if args.check:
            continue
        out = {}
        for k, v in case.items():
            out[k] = v
            if k == "expected_spans":
                out["outcome"] = {"finish_reason": reason}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2, ensure_ascii=False)
            f.write("\n")
        changed += 1
    print(f"outcome added to {changed} cases")
    if mismatched:
        sys.exit("\n".join(mismatched))


if __name__ == "__main__":
    main()
