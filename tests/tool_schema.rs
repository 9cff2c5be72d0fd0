//! The JSON schema `#[llm::tool]` derives for its arguments: optional arguments are not
//! required, doc comments describe, nested types go to `$defs`.

use mirascope::llm;
use serde::Deserialize;

/// Where to look.
#[derive(Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Place {
    /// The city.
    city: String,
    country: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
enum Unit {
    Celsius,
    Fahrenheit,
}

/// Get the forecast.
#[llm::tool]
fn forecast(
    /// Where.
    place: Place,
    days: Option<u32>,
    unit: Unit,
    tags: Vec<String>,
) -> String {
    format!("{} {days:?} {}", place.city, tags.len())
        + match unit {
            Unit::Celsius => "C",
            Unit::Fahrenheit => "F",
        }
}

#[test]
fn derived_schema() {
    let tool = llm::Tool::of::<forecast>();
    let schema = tool.schema();
    assert_eq!(schema.name, "forecast");
    assert_eq!(schema.description, "Get the forecast.");
    let params = serde_json::to_string(&schema.parameters.to_wire_json()).unwrap();
    println!("{params}");
    assert_eq!(
        params,
        include_str!("fixtures/tool_schema_forecast.json").trim()
    );
}

#[tokio::test]
async fn optional_arguments_may_be_left_out() {
    let tool = llm::Tool::of::<forecast>();
    let out = tool
        .execute(
            "call_1",
            r#"{"place": {"city": "Oslo"}, "unit": "Celsius", "tags": ["a", "b"]}"#,
        )
        .await
        .unwrap();
    let llm::Part::ToolOutput { result, .. } = out else {
        panic!("{out:?}")
    };
    assert_eq!(result, serde_json::json!("Oslo None 2C"));
}

/// A tool's schema serializes (to store, log or compare it), `$defs` under that name.
#[test]
fn schemas_serialize() {
    let tool = llm::Tool::of::<forecast>();
    let v = serde_json::to_value(tool.schema()).expect("serializes");
    assert_eq!(v["name"], "forecast");
    assert_eq!(v["description"], "Get the forecast.");
    assert!(v["parameters"]["properties"]["place"].is_object(), "{v}");
    assert!(v["parameters"]["$defs"].is_object(), "{v}");
}
