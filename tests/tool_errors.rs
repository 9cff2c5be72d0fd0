//! A tool call the model got wrong is an output the model can read, as in Python Mirascope
//! 2.8.2 (`Tool.execute`, `Toolkit.execute`): arguments of the wrong type, a tool that fails,
//! and a tool that was not offered each give a tool output carrying the error's text, with the
//! `execute_tool` span failed under the error class Mirascope uses (`ToolExecutionError`,
//! `ToolNotFoundError`); `execute_tools()` fails only for what the model cannot fix. Inside a
//! session, the `execute_tool` spans carry its id.

mod common;

use common::{json_response, serve, Wire};
use mirascope::llm::{self, Part};
use mirascope::ops;
use serde_json::{json, Value};

/// Get the current weather for a city.
#[llm::tool]
fn get_weather(city: String) -> String {
    format!("Weather in {city}: sunny")
}

/// Divide two numbers.
#[llm::tool]
fn divide(a: f64, b: f64) -> Result<f64, String> {
    if b == 0.0 {
        return Err("division by zero".into());
    }
    Ok(a / b)
}

/// A Chat Completions answer calling `calls` (name, arguments).
fn tool_calls_body(calls: &[(&str, &str)]) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (name, args))| {
            json!({"id": format!("call_{i}"), "type": "function", "function": {"name": name, "arguments": args}})
        })
        .collect();
    json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": calls}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
}

fn attr(span: &ops::testing::SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

#[tokio::test]
async fn tool_errors_become_outputs_the_model_can_read() {
    let capture = ops::testing::Capture::new();
    let _guard = capture.enter();
    let _session = ops::session("conv-7");
    let wire = Wire::Completions;
    let body = tool_calls_body(&[
        ("get_weather", r#"{"city": 42}"#),
        ("divide", r#"{"a": 1, "b": 0}"#),
        ("not_offered", "{}"),
        ("get_weather", r#"{"city": "Tokyo"}"#),
    ]);
    let (_server, model) = serve(wire, vec![json_response(200, body)]);
    let response = model
        .call("hi")
        .tools([llm::Tool::of::<get_weather>(), llm::Tool::of::<divide>()])
        .await
        .expect("call");
    // The calls, typed.
    let calls = response.tool_calls();
    assert_eq!(calls.len(), 4);
    assert_eq!((calls[1].id, calls[1].name), ("call_1", "divide"));
    assert_eq!(calls[1].args_json().unwrap(), json!({"a": 1, "b": 0}));
    let outputs = response
        .execute_tools()
        .await
        .expect("no error the model can fix");
    let results: Vec<Value> = outputs
        .iter()
        .map(|p| match p {
            Part::ToolOutput { result, .. } => result.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(results.len(), 4);
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    assert!(
        text(&results[0]).contains("invalid type"),
        "{:?}",
        results[0]
    );
    assert_eq!(text(&results[1]), "division by zero");
    assert_eq!(
        text(&results[2]),
        "Tool 'not_offered' not found in registered tools"
    );
    assert_eq!(results[3], json!("Weather in Tokyo: sunny"));

    let spans = capture.spans();
    let tool_spans: Vec<_> = spans
        .iter()
        .filter(|s| s.name.starts_with("execute_tool "))
        .collect();
    assert_eq!(tool_spans.len(), 4);
    let error_types: Vec<Option<String>> =
        tool_spans.iter().map(|s| attr(s, "error.type")).collect();
    assert_eq!(
        error_types,
        vec![
            Some("ToolExecutionError".to_string()),
            Some("ToolExecutionError".to_string()),
            Some("ToolNotFoundError".to_string()),
            None
        ]
    );
    // Inside a session, every execute_tool span carries its id, as the chat span does.
    for s in spans
        .iter()
        .filter(|s| s.name.starts_with("execute_tool ") || s.name.starts_with("chat "))
    {
        assert_eq!(
            attr(s, "gen_ai.conversation.id").as_deref(),
            Some("conv-7"),
            "{}",
            s.name
        );
    }
}
