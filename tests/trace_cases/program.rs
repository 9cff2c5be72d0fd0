//! A case's `call.program` (tests/fixtures/conformance/FORMAT.md, "Programs") as Rust: one
//! module a case, `program_<case>`, with a real `#[ops::trace]` function for each `trace` step,
//! `ops::span` / `ops::session` for `span` / `session` steps, and `run()`. The Python side of
//! the same program is `tests/conformance_oracle/ops_shapes.py`.
//!
//! Each scope's error type is `llm::Error` unless a `raise` step can leave it (then
//! `ProgramError`), so a model call's error keeps its Mirascope class on every span it passes
//! through, as Python's exception does.

use std::fmt::Write as _;

use serde_json::Value;

use crate::{arguments, call_options, ident, trace_options, word};

/// What the generated code of one program needs to know.
struct Ctx<'a> {
    is_async: bool,
    /// The case's traced `#[llm::call]` function and its argument literals, if `call.trace`.
    traced_call: Option<(String, String)>,
    streamed: bool,
    /// Functions written for `trace` steps, each in a module of its own (`step<n>`), so that two
    /// steps may name the same function.
    items: &'a mut String,
    /// The program's module path (`crate::program_<case>`).
    module: String,
    /// `trace` steps written so far.
    traces: usize,
}

/// Whether a `raise` step can leave these steps (also through nested traced functions).
fn raises(steps: &Value) -> bool {
    steps
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["op"] == "raise" || s.get("steps").is_some_and(raises))
}

fn error_type(steps: &Value) -> &'static str {
    if raises(steps) {
        "crate::ProgramError"
    } else {
        "mirascope::llm::Error"
    }
}

/// `[("k", AttributeValue::from(v)), ..]`, or `ops::NO_ATTRIBUTES`.
fn attributes(attrs: &Value) -> String {
    let pairs: Vec<String> = attrs
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("({k:?}, {})", attribute_value(v)))
        .collect();
    if pairs.is_empty() {
        "mirascope::ops::NO_ATTRIBUTES".into()
    } else {
        format!("[{}]", pairs.join(", "))
    }
}

fn attribute_value(v: &Value) -> String {
    let inner = match v {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_i64() => format!("{n}_i64"),
        Value::Number(n) => format!("{:?}_f64", n.as_f64().unwrap_or_default()),
        Value::String(s) => format!("{s:?}"),
        // Arrays are homogeneous in OpenTelemetry (and in Python's `AttributeValue`).
        Value::Array(items) => format!(
            "vec![{}]",
            items
                .iter()
                .map(|i| match i {
                    Value::String(s) => format!("{s:?}"),
                    Value::Number(n) if n.is_i64() => format!("{n}_i64"),
                    Value::Number(n) => format!("{:?}_f64", n.as_f64().unwrap_or_default()),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("{:?}", other.to_string()),
    };
    format!("mirascope::ops::AttributeValue::from({inner})")
}

/// The statements of `steps`; `span` is the innermost open span's variable, `err` the error type
/// of the enclosing scope.
fn statements(ctx: &mut Ctx, steps: &Value, span: Option<&str>, depth: usize, err: &str) -> String {
    let mut out = String::new();
    let aw = if ctx.is_async { ".await" } else { "" };
    for step in steps.as_array().into_iter().flatten() {
        let on = span.unwrap_or("mirascope::ops::current_span()");
        match step["op"].as_str().unwrap_or_default() {
            "call" => {
                let call = match (&ctx.traced_call, ctx.is_async, ctx.streamed) {
                    (Some((f, lits)), true, false) => format!("{f}({lits}).call().await"),
                    (Some((f, lits)), true, true) => format!(
                        "match {f}({lits}).stream().await {{ Ok(s) => s.finish().await, Err(e) => Err(e) }}"
                    ),
                    (Some((f, lits)), false, false) => format!("{f}({lits}).call_blocking()"),
                    (Some((f, lits)), false, true) => {
                        format!("{f}({lits}).stream_blocking().and_then(|s| s.finish())")
                    }
                    (None, true, _) => "crate::runner_call().await".into(),
                    (None, false, _) => "crate::block_on(crate::runner_call())".into(),
                };
                let _ = writeln!(out, "crate::record({call})?;");
            }
            "session" => {
                let id = step["id"].as_str().unwrap_or_default();
                let attrs = match &step["attributes"] {
                    Value::Null => String::new(),
                    a => format!(".attributes(serde_json::json!({a}))"),
                };
                let body = statements(ctx, &step["steps"], span, depth, err);
                if ctx.is_async {
                    let _ = writeln!(
                        out,
                        "mirascope::ops::in_session(mirascope::ops::SessionContext::new({id:?}){attrs}, async {{\n{body}Ok::<(), {err}>(())\n}}).await?;"
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "{{\nlet _session = mirascope::ops::session({id:?}){attrs};\n{body}}}"
                    );
                }
            }
            "span" => {
                let var = format!("span{depth}");
                let name = step["name"].as_str().unwrap_or_default();
                let body = statements(ctx, &step["steps"], Some(&var), depth + 1, err);
                let run = if ctx.is_async {
                    format!("{var}.instrument(async {{\n{body}Ok::<(), {err}>(())\n}}).await")
                } else {
                    format!("{var}.in_scope(|| -> Result<(), {err}> {{\n{body}Ok(())\n}})")
                };
                let _ = writeln!(
                    out,
                    "{{\nlet {var} = mirascope::ops::span({name:?}).attrs({attrs});\n\
                     let result = {run};\n\
                     if let Err(e) = &result {{ {var}.record_error(e); }}\n\
                     {var}.finish();\nresult?;\n}}",
                    attrs = attributes(&step["attributes"]),
                );
            }
            "event" => {
                let _ = writeln!(
                    out,
                    "{on}.event({:?}, {});",
                    step["name"].as_str().unwrap_or_default(),
                    attributes(&step["attributes"])
                );
            }
            "log" => {
                let _ = writeln!(
                    out,
                    "{on}.{}({:?}, {});",
                    ident(step["level"].as_str().unwrap_or("info")),
                    step["message"].as_str().unwrap_or_default(),
                    attributes(&step["attributes"])
                );
            }
            "set" => {
                let _ = writeln!(out, "{on}.set({});", attributes(&step["attributes"]));
            }
            "raise" => {
                let _ = writeln!(
                    out,
                    "return Err(crate::ProgramError({:?}.into()).into());",
                    step["message"].as_str().unwrap_or_default()
                );
            }
            "trace" => {
                let function = ident(step["function"].as_str().unwrap_or("function"));
                let args = arguments(&step["args"]);
                let inner_err = error_type(&step["steps"]);
                let body = statements(ctx, &step["steps"], None, depth, inner_err);
                let (ret, value) = match step["returns"].as_str() {
                    Some("text") => ("String", "crate::last_text()"),
                    Some("response") => ("mirascope::llm::Response", "crate::last_response()"),
                    _ => ("()", "()"),
                };
                let params: Vec<String> =
                    args.iter().map(|(n, ty, _)| format!("{n}: {ty}")).collect();
                ctx.traces += 1;
                let step_module = format!("step{}", ctx.traces);
                let _ = write!(
                    ctx.items,
                    "pub mod {step_module} {{\nuse mirascope::ops;\n\
                     #[ops::trace{options}]\npub {kw}fn {function}({params}) -> Result<{ret}, {inner_err}> {{\n{body}Ok({value})\n}}\n}}\n\n",
                    options = trace_options(step),
                    kw = if ctx.is_async { "async " } else { "" },
                    params = params.join(", "),
                );
                let literals: Vec<String> = args.iter().map(|(_, _, l)| l.clone()).collect();
                let _ = writeln!(
                    out,
                    "{}::{step_module}::{function}({}){aw}?;",
                    ctx.module,
                    literals.join(", ")
                );
            }
            _ => unreachable!("`invalid` admits only the steps above"),
        }
    }
    out
}

/// Why these steps are not a program the format defines (FORMAT.md, "Programs"), if they are
/// not: an unknown `op`, or a step without the keys its `op` needs.
pub(crate) fn invalid(steps: &Value) -> Option<String> {
    let Some(steps) = steps.as_array() else {
        return Some("`steps` is not a list".into());
    };
    for step in steps {
        let op = step["op"].as_str().unwrap_or_default();
        let needs: &[&str] = match op {
            "call" => &[],
            "session" => &["id", "steps"],
            "span" => &["name", "attributes", "steps"],
            "event" => &["name", "attributes"],
            "log" => &["level", "message", "attributes"],
            "set" => &["attributes"],
            "raise" => &["message"],
            "trace" => &["function", "args", "steps"],
            _ => return Some(format!("unknown program step {op:?}")),
        };
        if let Some(missing) = needs.iter().find(|k| step.get(**k).is_none()) {
            return Some(format!("a `{op}` step without `{missing}`"));
        }
        if op == "log"
            && !["debug", "info", "warning", "error", "critical"]
                .contains(&step["level"].as_str().unwrap_or_default())
        {
            return Some(format!("unknown log level {}", step["level"]));
        }
        if let Some(why) = step.get("steps").and_then(invalid) {
            return Some(why);
        }
    }
    None
}

/// The module of a case whose program cannot be written: its `run()` fails with the reason, so
/// the runner reports that case, not a build error for all of them.
fn failing(name: &str, why: &str) -> String {
    format!(
        "pub mod program_{module} {{\n/// Fails: {name} cannot run.\n\
         pub fn run() -> Result<(), crate::ProgramError> {{\n\
         Err(crate::ProgramError({message:?}.into()))\n}}\n}}\n\n",
        module = word(name),
        message = format!("{name}: {why}"),
    )
}

/// The module `program_<case>` of one case's program ([`failing`] if it cannot be written).
pub(crate) fn module(name: &str, call: &Value, program: &Value) -> String {
    if let Some(why) = invalid(&program["steps"]) {
        return failing(name, &format!("not a program: {why}"));
    }
    let traced = call.get("trace").is_some_and(Value::is_object);
    let method = call["method"].as_str().unwrap_or_default();
    let tools = call["tools"].as_array().is_some_and(|t| !t.is_empty());
    if traced && (tools || method.starts_with("resume")) {
        // The macros take tools from Rust types (TRACE_FALLBACK); a traced call resumes nothing.
        return failing(
            name,
            "a traced call in a program takes no tools and is not resumed",
        );
    }
    let is_async = program["async"].as_bool().unwrap_or(false);
    let mut items = String::new();
    let mut traced_call = None;
    if let Some(trace) = call.get("trace").filter(|t| t.is_object()) {
        let function = ident(trace["function"].as_str().unwrap_or("function"));
        let args = arguments(&trace["args"]);
        let params: Vec<String> = args.iter().map(|(n, ty, _)| format!("{n}: {ty}")).collect();
        let messages = serde_json::to_string(&call["messages"]).unwrap_or_default();
        let model = call["model"].as_str().unwrap_or_default();
        let Some(call_options) = call_options(&call["params"]) else {
            return failing(name, "params #[llm::call] cannot take");
        };
        let _ = write!(
            items,
            "#[ops::trace{options}]\n#[llm::call({model:?}{call_options})]\n\
             {kw}fn {function}({params}) -> Vec<llm::Message> {{\n\
             serde_json::from_str({messages:?}).expect(\"the case's messages\")\n}}\n\n",
            options = trace_options(trace),
            kw = if is_async { "async " } else { "" },
            params = params.join(", "),
        );
        let literals: Vec<String> = args.iter().map(|(_, _, l)| l.clone()).collect();
        traced_call = Some((
            format!("crate::program_{}::{function}", word(name)),
            literals.join(", "),
        ));
    }
    let mut ctx = Ctx {
        is_async,
        traced_call,
        streamed: call["method"]
            .as_str()
            .is_some_and(|m| m.contains("stream")),
        items: &mut items,
        module: format!("crate::program_{}", word(name)),
        traces: 0,
    };
    let err = error_type(&program["steps"]);
    let body = statements(&mut ctx, &program["steps"], None, 0, err);
    let run = if is_async {
        format!(
            "crate::block_on(async {{\n{body}Ok::<(), {err}>(())\n}}).map_err(crate::ProgramError::from)"
        )
    } else {
        format!(
            "(|| -> Result<(), {err}> {{\n{body}Ok(())\n}})().map_err(crate::ProgramError::from)"
        )
    };
    format!(
        "pub mod program_{module} {{\n#[allow(unused_imports)]\nuse mirascope::{{llm, ops}};\n\n{items}\
         /// Runs the program.\npub fn run() -> Result<(), crate::ProgramError> {{\n{run}\n}}\n}}\n\n",
        module = word(name),
    )
}
