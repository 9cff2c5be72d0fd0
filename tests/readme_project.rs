//! The README's "Add it to your project" lines are enough for a first program: a scratch
//! project made of exactly those `[dependencies]` (with `mirascope` pointed at this checkout) and
//! exactly that program builds. Heavy (a new project's build): it runs when `MIRASCOPE_E2E=1`,
//! as `.ci/run` sets, and is reported as ignored otherwise.

use std::path::Path;
use std::process::Command;

/// The first fenced block of `lang` after the heading `## {heading}`.
fn block_after(readme: &str, heading: &str, lang: &str) -> String {
    let start = readme
        .find(&format!("## {heading}"))
        .unwrap_or_else(|| panic!("README has a section {heading:?}"));
    let rest = &readme[start..];
    let open = format!("```{lang}\n");
    let from = rest.find(&open).expect("a fenced block") + open.len();
    let to = rest[from..].find("```").expect("its end") + from;
    rest[from..to].to_string()
}

#[test]
#[cfg_attr(
    not(mirascope_e2e),
    ignore = "heavy: builds a scratch project; set MIRASCOPE_E2E=1 (.ci/run does)"
)]
fn a_first_program_builds_from_the_readme_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let deps = block_after(&readme, "Add it to your project", "toml");
    let program = block_after(&readme, "Add it to your project", "rust");
    assert!(deps.contains("mirascope = \"0.1\""), "{deps}");
    let deps = deps.replace(
        "mirascope = \"0.1\"",
        &format!("mirascope = {{ path = {:?} }}", root.display().to_string()),
    );
    let dir = root.join("target").join("readme-project");
    let _ = std::fs::remove_dir_all(dir.join("src"));
    std::fs::create_dir_all(dir.join("src")).expect("dir");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"first-program\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n{deps}"
        ),
    )
    .expect("Cargo.toml");
    std::fs::write(dir.join("src/main.rs"), program).expect("main.rs");
    // The same versions as this checkout, so that the build reuses what is known to work.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("lock");
    let out = Command::new(env!("CARGO"))
        .arg("build")
        .arg("--quiet")
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .expect("cargo");
    assert!(
        out.status.success(),
        "the README's first program does not build from its lines:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
