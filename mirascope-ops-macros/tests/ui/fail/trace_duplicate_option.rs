use mirascope::ops;

#[ops::trace(tags = ["a"], tags = ["b"])]
fn f() {}

fn main() {}
