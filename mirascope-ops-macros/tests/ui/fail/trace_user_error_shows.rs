use mirascope::ops;

#[ops::trace]
fn f() -> i32 {
    let x: i32 = "not a number";
    x
}

fn main() {}
