use mirascope::ops;

#[ops::trace(label = "x")]
fn f() {}

fn main() {}
