//! Sets `cfg(mirascope_e2e)` when `MIRASCOPE_E2E=1` (as `.ci/run` sets it), so that heavy
//! end-to-end tests (Phoenix, a scratch project built from the README) are reported as
//! `ignored` otherwise, not as passed.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(mirascope_e2e)");
    println!("cargo::rerun-if-env-changed=MIRASCOPE_E2E");
    if std::env::var("MIRASCOPE_E2E").as_deref() == Ok("1") {
        println!("cargo::rustc-cfg=mirascope_e2e");
    }
}
