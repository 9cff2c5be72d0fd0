use mirascope::ops;

#[ops::trace]
struct NotAFunction;

fn main() {}
