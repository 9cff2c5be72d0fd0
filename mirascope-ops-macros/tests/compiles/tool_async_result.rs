use mirascope::llm;

#[derive(Debug)]
struct NotFound;
impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not found")
    }
}

/// Look a user up.
#[llm::tool(strict = false)]
async fn lookup(
    /// The user's id.
    id: u64,
) -> Result<String, NotFound> {
    if id == 1 { Ok("kai".into()) } else { Err(NotFound) }
}

fn main() {
    let tool = llm::Tool::of::<lookup>();
    assert_eq!(tool.schema().strict, Some(false));
    assert_eq!(tool.schema().parameters.required, vec!["id".to_string()]);
}
