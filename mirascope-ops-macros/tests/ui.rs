//! Macro UI tests (trybuild): every misuse of a macro is a compile error with a useful message
//! (committed `.stderr`). Regenerate with `TRYBUILD=overwrite`. The forms that must compile
//! (and run) are ordinary tests: `tests/compiles.rs`.
//!
//! trybuild checks its cases in a project of its own (`target/tests/trybuild`, with its own
//! flags), so nothing it compiles is shared with the workspace's build. What keeps it fast:
//! - the cases live in this crate, whose dev-dependencies are only what they use (the facade
//!   without optional features, tokio, serde, schemars), not the facade's test stack (gRPC,
//!   criterion, genai: about 216 crates);
//! - with no `pass` case, trybuild only type-checks (`cargo check`): no code generation, no
//!   linking of one binary per case.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/fail/*.rs");
}
