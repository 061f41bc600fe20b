//! Replays every input the fuzzers kept (`fuzz/corpus/<target>/`, minimised and committed,
//! and `fuzz/regressions/<target>/`, each input that found a bug)
//! through the same target bodies (`tradewire::fuzzing`), on stable and in the test command:
//! every input that ever found a bug stays a regression test. `scripts/fuzz.sh` fuzzes.

use std::path::Path;

use tradewire::fuzzing::TARGETS;

#[test]
fn every_corpus_input_of_every_target_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut total = 0;
    for (name, body) in TARGETS {
        let dir = root.join("corpus").join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("no corpus for the target {name} at {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        // The inputs that found a bug, kept by hand: minimising a corpus may drop them.
        if let Ok(found) = std::fs::read_dir(root.join("regressions").join(name)) {
            files.extend(found.map(|e| e.unwrap().path()));
        }
        files.sort();
        assert!(!files.is_empty(), "the corpus of {name} is empty");
        for path in &files {
            // A fuzzer running on the corpus meanwhile replaces inputs by shorter ones.
            let data = match std::fs::read(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                read => read.unwrap(),
            };
            let run = std::panic::catch_unwind(|| body(&data));
            assert!(
                run.is_ok(),
                "{name}: {} fails (replay it with `cargo +nightly fuzz run {name} {}`)",
                path.display(),
                path.display()
            );
        }
        total += files.len();
    }
    eprintln!(
        "replayed {total} corpus inputs of {} targets",
        TARGETS.len()
    );
}

#[test]
fn every_target_has_a_fuzz_target_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/fuzz_targets");
    for (name, _) in TARGETS {
        let file = dir.join(format!("{name}.rs"));
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            text.contains(&format!("tradewire::fuzzing::{name}, data)")),
            "{} does not call tradewire::fuzzing::{name}",
            file.display()
        );
    }
}
