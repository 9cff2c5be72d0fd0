use mirascope::ops;
use std::fmt::Debug;

#[ops::trace]
fn first<T: Clone + Debug>(items: &[T]) -> Option<T> {
    items.first().cloned()
}

#[ops::trace]
fn opaque<T>(value: T) -> T {
    value
}

fn main() {
    assert_eq!(first(&[1, 2]), Some(1));
    assert_eq!(opaque("x"), "x");
}
