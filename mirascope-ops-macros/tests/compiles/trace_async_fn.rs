use mirascope::ops;

#[ops::trace]
async fn fetch(id: u32) -> String {
    format!("item {id}")
}

fn main() {
    let out = pollster_like(fetch(7));
    assert_eq!(out, "item 7");
}

fn pollster_like<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
}
