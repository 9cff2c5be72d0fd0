use mirascope::ops;

#[derive(Debug, Default)]
struct Counter {
    n: i64,
}

impl Counter {
    #[ops::trace]
    fn get(&self) -> i64 {
        self.n
    }

    #[ops::trace]
    fn bump(&mut self, by: i64) -> i64 {
        self.n += by;
        self.n
    }

    #[ops::trace]
    fn into_inner(self) -> i64 {
        self.n
    }

    #[ops::trace]
    fn new() -> Self {
        Counter { n: 0 }
    }
}

fn main() {
    let mut c = Counter::new();
    c.bump(2);
    assert_eq!(c.get(), 2);
    assert_eq!(c.into_inner(), 2);
}
