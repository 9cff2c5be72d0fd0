use mirascope::ops;

#[ops::trace(tags = ["b", "a", "a"], metadata = {"owner": "team", "user_id": "u1"})]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[ops::trace]
fn unit() {}

fn main() {
    assert_eq!(add(1, 2), 3);
    unit();
}
