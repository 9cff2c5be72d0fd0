use mirascope::ops;

#[derive(Debug)]
struct MyError;

#[ops::trace]
fn parse(text: &str) -> Result<i64, std::num::ParseIntError> {
    let n: i64 = text.trim().parse()?;
    Ok(n * 2)
}

#[ops::trace]
fn fails() -> Result<(), MyError> {
    Err(MyError)
}

#[ops::trace]
async fn parse_async(text: String) -> Result<i64, std::num::ParseIntError> {
    let n: i64 = text.parse()?;
    Ok(n)
}

fn main() {
    assert_eq!(parse(" 21 ").unwrap(), 42);
    assert!(fails().is_err());
    drop(parse_async("1".into()));
}
