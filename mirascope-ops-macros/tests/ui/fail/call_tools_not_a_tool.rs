// `tools = [..]` takes `#[llm::tool]` functions; anything else is an error at its name.
use mirascope::llm;

fn not_a_tool(city: String) -> String {
    city
}

struct NotAToolEither;

#[llm::call("openai/gpt-4o-mini", tools = [not_a_tool])]
fn ask(city: &str) -> String {
    format!("Weather in {city}?")
}

#[llm::call("openai/gpt-4o-mini", tools = [NotAToolEither])]
fn ask_again(city: &str) -> String {
    format!("Weather in {city}?")
}

fn main() {
    let _ = ask("Paris");
    let _ = ask_again("Paris");
}
