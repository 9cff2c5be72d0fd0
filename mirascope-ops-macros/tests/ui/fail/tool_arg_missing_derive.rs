// A tool argument type without `Deserialize` and `JsonSchema`: the error is at the type and
// names the derives to add.
use mirascope::llm;

struct Location {
    city: String,
}

/// Get the weather.
#[llm::tool]
fn get_weather(location: Location) -> String {
    location.city
}

fn main() {
    let _ = llm::Tool::of::<get_weather>();
}
