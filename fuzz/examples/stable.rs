//! The fuzz targets on a stable toolchain, without libFuzzer.
//!
//! ```text
//! cargo run --release --manifest-path fuzz/Cargo.toml --no-default-features --example stable -- \
//!     <target|all> [--seconds N] [--seed S] [--write-seeds]
//! ```
//!
//! For each target: replays the built-in seeds and every file of `fuzz/corpus/<target>/` (what
//! libFuzzer runs left there), then feeds random mutations of them (bit flips, byte edits,
//! insertions of dictionary tokens, splices, cuts) for N seconds (default 60). There is no
//! coverage feedback: this is a random mutational fuzzer, weaker than libFuzzer, and says so in
//! its report. A panic is a finding: the input goes to `fuzz/artifacts/<target>/` and the run
//! exits with status 1. `--write-seeds` writes the seeds into `fuzz/corpus/<target>/` (to start
//! libFuzzer from them) and exits.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use lowcodeapi_runwayml_fuzz::{DICTIONARY, TARGETS, seeds};

/// SplitMix64: small, fast, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(input: &mut Vec<u8>, pool: &[Vec<u8>], rng: &mut Rng) {
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        let len = input.len();
        match rng.below(10) {
            0 if len > 0 => {
                let at = rng.below(len);
                input[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                input[at] = rng.next() as u8;
            }
            2 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                input.splice(at..at, bytes);
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(32));
                input.drain(at..at + n);
            }
            4 | 5 => {
                let at = rng.below(len + 1);
                let token = DICTIONARY[rng.below(DICTIONARY.len())];
                input.splice(at..at, token.iter().copied());
            }
            6 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                let chunk = input[at..at + n].to_vec();
                let to = rng.below(len + 1);
                input.splice(to..to, chunk);
            }
            7 if !pool.is_empty() => {
                let other = &pool[rng.below(pool.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            8 if len > 0 => input.truncate(rng.below(len)),
            _ => {
                // Interesting integers, for the length and status prefixes.
                let at = rng.below(len + 1);
                let value = [0u8, 1, 0x7f, 0x80, 0xff][rng.below(5)];
                input.insert(at, value);
            }
        }
        if input.len() > 64 * 1024 {
            input.truncate(64 * 1024);
        }
    }
}

fn corpus(root: &Path, target: &str) -> Vec<Vec<u8>> {
    let mut inputs = seeds(target);
    if let Ok(entries) = std::fs::read_dir(root.join("corpus").join(target)) {
        for entry in entries.flatten() {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                inputs.push(bytes);
            }
        }
    }
    inputs
}

struct Report {
    target: &'static str,
    executions: u64,
    corpus: usize,
    crashes: usize,
    elapsed: Duration,
}

fn run(root: &Path, target: &'static str, body: fn(&[u8]), seconds: u64, seed: u64) -> Report {
    let mut pool = corpus(root, target);
    let corpus_len = pool.len();
    let mut rng = Rng(seed ^ target.bytes().fold(0, |h, b| h * 31 + u64::from(b)));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut executions = 0u64;
    let mut crashes = 0usize;
    let check = |input: &[u8], executions: &mut u64, crashes: &mut usize| {
        *executions += 1;
        if catch_unwind(AssertUnwindSafe(|| body(input))).is_err() {
            *crashes += 1;
            let dir = root.join("artifacts").join(target);
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join(format!("crash-stable-{seed}-{}", *executions));
            let _ = std::fs::write(&path, input);
            eprintln!("{target}: crash, input saved to {}", path.display());
        }
    };
    for input in pool.clone() {
        check(&input, &mut executions, &mut crashes);
    }
    while Instant::now() < deadline && crashes < 10 {
        // Check the clock every 256 executions.
        for _ in 0..256 {
            let mut input = pool[rng.below(pool.len())].clone();
            mutate(&mut input, &pool, &mut rng);
            check(&input, &mut executions, &mut crashes);
            // Drift: keep some mutants as bases, so inputs move away from the seeds.
            if rng.below(64) == 0 {
                if pool.len() < 4096 {
                    pool.push(input);
                } else {
                    let at = corpus_len + rng.below(pool.len() - corpus_len);
                    pool[at] = input;
                }
            }
        }
    }
    Report {
        target,
        executions,
        corpus: corpus_len,
        crashes,
        elapsed: started.elapsed(),
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut which = None;
    let mut seconds = 60u64;
    let mut seed = 0x5eed_u64;
    let mut write_seeds = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or(seconds),
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(seed),
            "--write-seeds" => write_seeds = true,
            "-h" | "--help" => {
                println!(
                    "usage: stable <target|all> [--seconds N] [--seed S] [--write-seeds]\ntargets: {}",
                    TARGETS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return ExitCode::SUCCESS;
            }
            name => which = Some(name.to_owned()),
        }
    }
    let which = which.unwrap_or_else(|| "all".to_owned());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let chosen: Vec<_> = TARGETS
        .iter()
        .filter(|(name, _)| which == "all" || which == *name)
        .collect();
    if chosen.is_empty() {
        eprintln!("unknown target {which:?}");
        return ExitCode::from(2);
    }
    if write_seeds {
        for (name, _) in &chosen {
            let dir = root.join("corpus").join(name);
            let _ = std::fs::create_dir_all(&dir);
            for (i, input) in seeds(name).iter().enumerate() {
                let _ = std::fs::write(dir.join(format!("seed-{i}")), input);
            }
        }
        return ExitCode::SUCCESS;
    }
    // Findings are reported once each, by the driver; the default hook would print every panic.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    println!("engine: stable random mutation (no coverage feedback), seed {seed}");
    println!("| target | seconds | executions | exec/s | corpus | crashes |");
    println!("|---|---|---|---|---|---|");
    let mut failed = false;
    for (name, body) in chosen {
        let report = run(&root, name, *body, seconds, seed);
        failed |= report.crashes > 0;
        println!(
            "| {} | {:.0} | {} | {:.0} | {} | {} |",
            report.target,
            report.elapsed.as_secs_f64(),
            report.executions,
            report.executions as f64 / report.elapsed.as_secs_f64().max(1e-9),
            report.corpus,
            report.crashes
        );
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
