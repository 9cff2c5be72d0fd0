use mirascope::ops;

#[ops::trace(name = "login", skip(password))]
fn login(user: &str, password: &str) -> bool {
    !user.is_empty() && password.len() > 3
}

fn main() {
    assert!(login("kai", "secret"));
}
