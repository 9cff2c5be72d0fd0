use mirascope::ops;

#[ops::version(skip(x))]
fn f(x: u8) -> u8 {
    x
}

fn main() {}
