use mirascope::ops;

#[ops::trace]
const fn f() -> u8 {
    1
}

fn main() {}
