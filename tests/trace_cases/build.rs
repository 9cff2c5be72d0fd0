//! Writes `$OUT_DIR/trace_cases.rs` for `tests/conformance.rs`: for every conformance case
//! made with `@ops.trace` over `@llm.call` (in `tests/fixtures/conformance/` and in
//! `$MIRASCOPE_CONFORMANCE_DIR`, as the runner reads them), a real `#[ops::trace]` +
//! `#[llm::call]` function with the case's name, arguments, tags and metadata, whose prompt is
//! the case's messages, and `run(case, streamed)`, which calls it. So what the macros record is
//! what the runner compares.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

mod program;

fn main() {
    trace_cases();
}

/// The case files the conformance runner reads.
fn case_files() -> Vec<PathBuf> {
    println!("cargo::rerun-if-env-changed=MIRASCOPE_CONFORMANCE_DIR");
    let mut dirs = vec![PathBuf::from("../fixtures/conformance")];
    if let Ok(extra) = std::env::var("MIRASCOPE_CONFORMANCE_DIR") {
        dirs.push(PathBuf::from(extra));
    }
    let mut files = Vec::new();
    for dir in dirs {
        for d in [dir.clone(), dir.join("cases")] {
            println!("cargo::rerun-if-changed={}", d.display());
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            files.extend(
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json")),
            );
        }
    }
    files.sort();
    files
}

/// A Rust identifier from any text (letters, digits and `_`; not starting with a digit; a
/// keyword written raw).
pub(crate) fn ident(text: &str) -> String {
    let out = word(text);
    // A keyword is written raw (`r#type`), as a user would; these five cannot be.
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern",
        "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
        "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use",
        "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro", "override",
        "priv", "try", "typeof", "unsized", "virtual", "yield",
    ];
    if ["self", "Self", "super", "crate", "_"].contains(&out.as_str()) {
        format!("{out}_")
    } else if KEYWORDS.contains(&out.as_str()) {
        format!("r#{out}")
    } else {
        out
    }
}

/// Letters, digits and `_` from any text, not starting with a digit: a suffix of an identifier.
pub(crate) fn word(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The Rust type and literal of an argument value, as a user would write the function.
pub(crate) fn argument(v: &serde_json::Value) -> (&'static str, String) {
    match v {
        serde_json::Value::String(s) => ("&str", format!("{s:?}")),
        serde_json::Value::Bool(b) => ("bool", b.to_string()),
        serde_json::Value::Number(n) if n.is_i64() => ("i64", n.to_string()),
        serde_json::Value::Number(n) => ("f64", format!("{:?}", n.as_f64().unwrap_or(0.0))),
        other => ("serde_json::Value", format!("serde_json::json!({})", other)),
    }
}

fn trace_cases() {
    let mut code = String::from(
        "// Written by build.rs from the conformance cases with a `trace` object.\n\n",
    );
    let mut arms = String::new();
    let (mut programs, mut program_arms) = (String::new(), String::new());
    let mut seen = std::collections::HashSet::new();
    for file in case_files() {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(case) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let call = &case["call"];
        let name = case["name"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| stem(&file));
        if let Some(program) = call.get("program").filter(|p| p.is_object()) {
            if seen.insert(name.clone()) {
                programs.push_str(&program::module(&name, call, program));
                let _ = writeln!(
                    program_arms,
                    "        {name:?} => program_{}::run(),",
                    word(&name)
                );
            }
            continue;
        }
        let Some(trace) = call.get("trace").filter(|t| t.is_object()) else {
            continue;
        };
        if !seen.insert(name.clone()) {
            continue;
        }
        let (Some(model), Ok(messages)) = (
            call["model"].as_str(),
            serde_json::to_string(&call["messages"]),
        ) else {
            continue;
        };
        // Tools and formats come from Rust types in the macros: such a case runs through the
        // runtime instead (the runner's `TRACE_FALLBACK`).
        let has = |k: &str| {
            call.get(k)
                .is_some_and(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
        };
        if has("tools") || has("format") {
            continue;
        }
        let Some(call_options) = call_options(&call["params"]) else {
            continue;
        };
        let module = format!("case_{}", word(&name));
        let function = ident(trace["function"].as_str().unwrap_or("function"));
        let args = arguments(&trace["args"]);
        let options = trace_options(trace);
        let params: Vec<String> = args.iter().map(|(n, ty, _)| format!("{n}: {ty}")).collect();
        let _ = write!(
            code,
            "pub mod {module} {{\n    use mirascope::{{llm, ops}};\n\n    \
             #[ops::trace{options}]\n    #[llm::call({model:?}{call_options})]\n    \
             pub fn {function}({params}) -> Vec<llm::Message> {{\n        \
             serde_json::from_str({messages:?}).expect(\"the case's messages\")\n    }}\n}}\n\n",
            params = params.join(", "),
        );
        let literals: Vec<String> = args.iter().map(|(_, _, l)| l.clone()).collect();
        let _ = write!(
            arms,
            "        {name:?} => {{\n            let traced = {module}::{function}({literals});\n            \
             Some(if streamed {{\n                match traced.stream().await {{\n                    \
             Ok(s) => s.finish().await,\n                    Err(e) => Err(e),\n                }}\n            \
             }} else {{\n                traced.call().await\n            }})\n        }}\n",
            literals = literals.join(", "),
        );
    }
    let _ = write!(
        code,
        "/// Calls the generated function of the case `name` (`None` if it has none).\n\
         pub async fn run(name: &str, streamed: bool) -> Option<mirascope::llm::Result<mirascope::llm::Response>> {{\n    \
         match name {{\n{arms}        _ => None,\n    }}\n}}\n"
    );
    code.push_str(&programs);
    let _ = write!(
        code,
        "/// Runs the program of the case `name` (`None` if it has none).\n\
         pub fn program(name: &str) -> Option<Result<(), ProgramError>> {{\n    \
         Some(match name {{\n{program_arms}        _ => return None,\n    }})\n}}\n"
    );
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("trace_cases.rs");
    std::fs::write(out, code).expect("trace_cases.rs");
}

/// A traced function's arguments: name, Rust type and literal, in the case's order.
pub(crate) fn arguments(args: &serde_json::Value) -> Vec<(String, &'static str, String)> {
    args.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let (ty, literal) = argument(v);
            (ident(k), ty, literal)
        })
        .collect()
}

/// A `trace` object's tags and metadata as `#[ops::trace]` options (`(tags = [..], metadata =
/// {..})`), or nothing.
pub(crate) fn trace_options(trace: &serde_json::Value) -> String {
    let mut options = Vec::new();
    let tags: Vec<String> = trace["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(|t| format!("{t:?}")))
        .collect();
    if !tags.is_empty() {
        options.push(format!("tags = [{}]", tags.join(", ")));
    }
    let metadata: Vec<String> = trace["metadata"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let v = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            format!("{k:?}: {v:?}")
        })
        .collect();
    if !metadata.is_empty() {
        options.push(format!("metadata = {{{}}}", metadata.join(", ")));
    }
    if options.is_empty() {
        String::new()
    } else {
        format!("({})", options.join(", "))
    }
}

/// The case's params as `#[llm::call]` options (`, temperature = 0.5, stop_sequences = ["x"]`),
/// or `None` for a value the macro cannot take as a literal.
pub(crate) fn call_options(params: &serde_json::Value) -> Option<String> {
    let mut out = String::new();
    for (k, v) in params.as_object().into_iter().flatten() {
        let literal = match v {
            serde_json::Value::Null => continue,
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) if n.is_f64() => format!("{:?}", n.as_f64()?),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => format!("{s:?}"),
            serde_json::Value::Array(items) => {
                let items: Option<Vec<String>> = items
                    .iter()
                    .map(|i| i.as_str().map(|s| format!("{s:?}")))
                    .collect();
                format!("[{}]", items?.join(", "))
            }
            serde_json::Value::Object(_) => return None,
        };
        let _ = write!(out, ", {} = {literal}", ident(k));
    }
    Some(out)
}

fn stem(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
