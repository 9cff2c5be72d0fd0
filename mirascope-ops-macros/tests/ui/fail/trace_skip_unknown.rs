use mirascope::ops;

#[ops::trace(skip(pasword))]
fn login(user: &str, password: &str) -> bool {
    !user.is_empty() && !password.is_empty()
}

fn main() {
    login("kai", "hunter2");
}
