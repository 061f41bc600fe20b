//! Copies every ```rust block of the root README.md, byte for byte, into its own file in
//! OUT_DIR and writes `snippets.rs`: one module per block (the block `include!`d as written)
//! with a `run()` that calls the block's `main`. The blocks are numbered from 1 in the order
//! of the README, the numbering tests/docs/check_docs.py uses.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let readme = manifest.join("../../README.md");
    println!("cargo:rerun-if-changed={}", readme.display());
    let text = std::fs::read_to_string(&readme).expect("README.md at the repository root");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));

    let mut blocks: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        match current.as_mut() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let lang = info.split([',', ' ']).next().unwrap_or("");
                    current = Some(String::new());
                    if lang != "rust" {
                        // Not Rust: skip to the closing fence.
                        current = Some("\u{0}skip".into());
                    }
                }
            }
            Some(body) => {
                if trimmed.starts_with("```") {
                    if !body.starts_with('\u{0}') {
                        blocks.push(std::mem::take(body));
                    }
                    current = None;
                } else if !body.starts_with('\u{0}') {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }

    let mut modules = String::new();
    let mut dispatch = String::new();
    for (i, block) in blocks.iter().enumerate() {
        let n = i + 1;
        std::fs::write(out.join(format!("readme_{n}.rs")), block).expect("write a snippet");
        writeln!(
            modules,
            "mod readme_{n} {{\n    include!(concat!(env!(\"OUT_DIR\"), \"/readme_{n}.rs\"));\n    \
             pub fn run() -> std::process::ExitCode {{\n        \
             std::process::Termination::report(main())\n    }}\n}}"
        )
        .expect("write to a String");
        writeln!(dispatch, "        {n} => Some(readme_{n}::run()),").expect("write to a String");
    }
    let code = format!(
        "{modules}\n/// Runs README block `n` (from 1); `None` if there is no such block.\n\
         pub fn run(n: usize) -> Option<std::process::ExitCode> {{\n    match n {{\n{dispatch}        _ => None,\n    }}\n}}\n\
         /// How many Rust blocks the README has.\npub const COUNT: usize = {};\n",
        blocks.len()
    );
    std::fs::write(out.join("snippets.rs"), code).expect("write snippets.rs");
}
