// Traced async functions and (traced) model calls are `Send` futures, as axum handlers and
// `tokio::spawn` need.
use mirascope::{llm, ops};

fn assert_send<T: Send>(_: T) {}

#[ops::trace]
async fn handler(user: String, n: u32) -> Result<String, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(format!("{user} {n}"))
}

#[ops::trace]
#[llm::call("openai/gpt-4o-mini")]
fn ask(question: &str) -> String {
    question.to_string()
}

fn main() {
    assert_send(handler("kai".into(), 1));
    assert_send(ask("hi").call());
    assert_send(std::future::IntoFuture::into_future(ask("hi")));
    let model = llm::model("openai/gpt-4o-mini").unwrap();
    assert_send(std::future::IntoFuture::into_future(model.call("hi")));
    assert_send(model.stream("hi").into_future_send());
}

trait IntoFutureSend {
    fn into_future_send(self) -> impl std::future::Future + Send;
}

impl<T: std::future::IntoFuture> IntoFutureSend for T
where
    T::IntoFuture: Send,
{
    fn into_future_send(self) -> impl std::future::Future + Send {
        self.into_future()
    }
}
