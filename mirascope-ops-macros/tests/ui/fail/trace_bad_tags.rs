use mirascope::ops;

#[ops::trace(tags = "books")]
fn f() {}

fn main() {}
