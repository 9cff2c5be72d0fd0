use mirascope::{llm, ops};

// An `async fn` prompt function returns the lazy call at once; its prompt is built when the
// call runs, so `summarize(..).await` is the response. Its arguments may borrow.
#[llm::call("openai/gpt-4o-mini")]
async fn summarize(text: &str, style: &String) -> String {
    format!("Summarize ({style}): {text}")
}

// Traced: the same type and methods.
#[ops::trace]
#[llm::call("openai/gpt-4o-mini")]
async fn translate<'a, T: std::fmt::Display + Sync>(text: &'a str, into: &T) -> String {
    format!("Translate into {into}: {text}")
}

// Bounds in a where clause stay there.
#[llm::call("openai/gpt-4o-mini")]
async fn describe<T>(thing: &T) -> String
where
    T: std::fmt::Debug + Sync,
{
    format!("Describe {thing:?}")
}

fn main() {
    let _: llm::LazyCall<'_> = describe(&[1, 2, 3]);
    let style = String::from("short");
    let text = String::from("a long text");
    let call: llm::LazyCall<'_> = summarize(&text, &style);
    assert!(call.prompt().is_none());
    let _: llm::LazyCall<'_> = translate(&text, &"French");
    // The futures are Send: they run on a multi-threaded runtime.
    fn is_send<T: Send>(_: &T) {}
    is_send(&summarize(&text, &style).call());
    is_send(&translate(&text, &"French").stream());
}
