use mirascope::ops;

#[ops::trace]
fn evens(n: u32) -> impl Iterator<Item = u32> {
    (0..n).filter(|x| x % 2 == 0)
}

#[ops::trace]
async fn later(n: u32) -> impl std::fmt::Display {
    n * 2
}

fn main() {
    assert_eq!(evens(5).count(), 3);
    drop(later(1));
}
