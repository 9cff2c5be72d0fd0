//! Macro UI tests (trybuild): every supported form compiles and runs; every misuse is a compile
//! error with a useful message (committed `.stderr`). Regenerate with `TRYBUILD=overwrite`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
