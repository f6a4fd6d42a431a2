//! Parse throughput and peak memory on 1, 50 and 200 MB mailbags: mlc-x12 streaming from a reader
//! (what the inbound flow uses), the same with every invoice mapped to an `ApInvoice`, mlc-x12
//! reading the whole file into memory, the parser as it was before issue 20, and `x12-types`, in
//! one run.
//!
//! `cargo bench -p mlc-x12 --bench parse`                (1, 50 and 200 MB)
//! `cargo bench -p mlc-x12 --bench parse -- --sizes 1,50` (MB, any list)
//! `cargo bench -p mlc-x12 --bench parse -- --baseline PATH`
//!
//! `--baseline PATH` adds the parser before issue 20: PATH is this bench built at commit 4f2a572
//! (`git worktree add /tmp/x12-before 4f2a572 && cd /tmp/x12-before && cargo bench -p mlc-x12
//! --bench parse --no-run`, then the `target/release/deps/parse-*` it prints). Its `--child whole`
//! is the old whole-file parse, so the ratios come from one run on one machine.
//!
//! The parent generates each file (deterministic seed) in a temp dir, then runs each parser in its
//! own child process of this same binary (`--child <parser> <file>`) so peak memory (VmHWM from
//! /proc/self/status) is one parser's alone. The child prints one `RESULT` line: seconds, sets
//! read, VmHWM at start (the process before any input) and at the end. Every parser runs three
//! times, alternating; the table shows the median time and the largest peak. Figures are for
//! comparison within one run, not targets: nothing here asserts a time.
//!
//! `x12-types` needs about 200 bytes of memory per input byte, so it runs only at sizes whose
//! projected peak stays under 6 GB; the projection is its measured peak per input byte at the
//! smallest size, times the size. Larger sizes print `skipped (projected N GB)`.
//!
//! The mailbag: interchanges from one supplier, one IN group each, of 25, 100, 50 and 400 invoices
//! in turn, plus (from 50 MB on) one interchange of 4 000 invoices in the middle, so "the largest
//! interchange" is a real figure to hold memory against. `*`/`>`/`~` + LF (the one layout x12-types
//! reads: it hard-codes `*` and `~`), 3–12 lines per invoice, parties with addresses, terms,
//! dates, tax, an occasional freight charge, consistent totals, so mlc-x12 also does its full
//! checks.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

const SEED: u64 = 0x5EED_0810;
const RUNS: usize = 3;
const DEFAULT_SIZES_MB: [usize; 3] = [1, 50, 200];
/// x12-types runs only where its projected peak stays below this.
const X12_TYPES_LIMIT_BYTES: f64 = 6e9;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: [&str; 16] = [
    "ANCHOR",
    "BOLT",
    "GALVANISED",
    "WASHER",
    "BRACKET",
    "STEEL",
    "CONCRETE",
    "PANEL",
    "CABLE",
    "CONDUIT",
    "VALVE",
    "FITTING",
    "SEALANT",
    "PLATE",
    "FLANGE",
    "GASKET",
];

fn invoice(rng: &mut Rng, st02: usize, out: &mut String) {
    let mut segs = 0;
    let mut seg = |out: &mut String, s: &str| {
        out.push_str(s);
        out.push_str("~\n");
        segs += 1;
    };
    let day = 1 + rng.below(28);
    seg(out, &format!("ST*810*{st02:04}"));
    seg(
        out,
        &format!(
            "BIG*202603{day:02}*INV-{st02:06}-{}*20260201*PO-{}***DI*00",
            rng.below(1_000_000),
            rng.below(100_000)
        ),
    );
    seg(out, "CUR*SE*USD");
    seg(out, &format!("REF*IA*VEND-{:04}", rng.below(10_000)));
    seg(out, &format!("N1*SE*GRANITE SUPPLY CO {}*92*V-{:05}", rng.below(100), rng.below(100_000)));
    seg(out, "N3*400 QUARRY ROAD*SUITE 12");
    seg(out, "N4*BARRE*VT*05641*US");
    seg(out, &format!("N1*BT*MORRISON ENGINEERING*91*C-{:03}", rng.below(1000)));
    seg(out, "N3*12 HARBOR ST");
    seg(out, "N4*PORTLAND*ME*04101*US");
    seg(out, "ITD*01*3*2**10**30*****2% 10 NET 30");
    seg(out, &format!("DTM*011*202603{day:02}"));
    let lines = 3 + rng.below(10);
    let mut goods: i64 = 0;
    for n in 1..=lines {
        let qty = 1 + rng.below(50) as i64;
        let price_cents = 100 + rng.below(99_900) as i64;
        goods += qty * price_cents;
        seg(
            out,
            &format!(
                "IT1*{n}*{qty}*EA*{}.{:02}**VP*GS-{:06}*BP*M-{:05}",
                price_cents / 100,
                price_cents % 100,
                rng.below(1_000_000),
                rng.below(100_000)
            ),
        );
        let (a, b) = (WORDS[rng.below(16) as usize], WORDS[rng.below(16) as usize]);
        seg(out, &format!("PID*F****{a} {b} {}MM", 5 + rng.below(50)));
    }
    let tax = goods * 6 / 100;
    let freight = if rng.below(3) == 0 { 1500 + rng.below(5000) as i64 } else { 0 };
    seg(out, &format!("TDS*{}", goods + tax + freight));
    seg(out, &format!("TXI*ST*{}.{:02}*6", tax / 100, tax % 100));
    if freight > 0 {
        seg(out, &format!("SAC*C*D240***{freight}**********FREIGHT"));
    }
    seg(out, &format!("CTT*{lines}"));
    let count = segs + 1;
    out.push_str(&format!("SE*{count}*{st02:04}~\n"));
}

fn interchange(rng: &mut Rng, ic: usize, invoices: usize, out: &mut String) {
    let _ = write!(
        out,
        "ISA*00*          *00*          *ZZ*GRANITESUP     *ZZ*MORRISONENG    *260302*0930*U*00401*{ic:09}*0*P*>~\n\
         GS*IN*GRANITESUP*MORRISONENG*20260302*0930*{ic}*X*004010~\n"
    );
    for st in 1..=invoices {
        invoice(rng, st, out);
    }
    let _ = write!(out, "GE*{invoices}*{ic}~\nIEA*1*{ic:09}~\n");
}

/// The file, its interchange count and its largest interchange in bytes.
fn generate(target: usize) -> (String, usize, usize) {
    const CYCLE: [usize; 4] = [25, 100, 50, 400];
    let mut rng = Rng(SEED);
    let mut out = String::with_capacity(target + 8_000_000);
    let mut ic = 0usize;
    let mut largest = 0usize;
    let mut big_done = target < 50_000_000;
    while out.len() < target {
        let invoices = if !big_done && out.len() >= target / 2 {
            big_done = true;
            4000
        } else {
            CYCLE[ic % CYCLE.len()]
        };
        ic += 1;
        let start = out.len();
        interchange(&mut rng, ic, invoices, &mut out);
        largest = largest.max(out.len() - start);
    }
    (out, ic, largest)
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn child(parser: &str, path: &str) {
    let base = vm_hwm_kb();
    let start = Instant::now();
    let sets = match parser {
        "stream" | "stream+ap" => {
            let file = std::fs::File::open(path).expect("open bench file");
            let mut r = mlc_x12::Reader::new(file);
            let opts = mlc_x12::MapOptions::default();
            let mut sets = 0;
            while let Some(e) = r.next_event().expect("read bench file") {
                match e {
                    mlc_x12::Event::Set(s) => {
                        assert!(
                            s.set.is_accepted(),
                            "generated set must be valid: {:?}",
                            s.set.findings.errors.first()
                        );
                        if parser == "stream+ap" {
                            std::hint::black_box(s.set_ref().to_ap_invoice(&opts).expect("ap invoice"));
                        }
                        sets += 1;
                    }
                    mlc_x12::Event::GroupEnd(g) => assert!(!g.findings.has_errors(), "{:?}", g.findings),
                    mlc_x12::Event::InterchangeEnd(i) => assert!(!i.findings.has_errors(), "{:?}", i.findings),
                    _ => {}
                }
            }
            sets
        }
        "whole" => {
            let bytes = std::fs::read(path).expect("read bench file");
            let f = mlc_x12::parse(&bytes).expect("mlc-x12 parse");
            assert!(f.is_valid(), "generated file must be valid: {:?}", f.errors().first());
            f.invoices().len()
        }
        "x12-types" => {
            use x12_types::util::Parser;
            use x12_types::v004010::{_810, Transmission};
            let bytes = std::fs::read(path).expect("read bench file");
            let text = std::str::from_utf8(&bytes).expect("ascii file");
            let mut rest = text;
            let mut all = Vec::new();
            while !rest.trim().is_empty() {
                let (r, t) = Transmission::<_810>::parse(rest).expect("x12-types parse");
                rest = r;
                all.push(t);
            }
            all.iter().flat_map(|t| &t.functional_group).map(|g| g.segments.len()).sum()
        }
        other => panic!("unknown parser {other}"),
    };
    let secs = start.elapsed().as_secs_f64();
    println!("RESULT {parser} {secs} {sets} {base} {}", vm_hwm_kb());
}

struct Run {
    secs: f64,
    sets: usize,
    base_kb: u64,
    peak_kb: u64,
}

fn run_child(parser: &str, path: &str, baseline: Option<&str>) -> Run {
    let (exe, child) = match (parser, baseline) {
        ("before", Some(b)) => (std::path::PathBuf::from(b), "whole"),
        _ => (std::env::current_exe().expect("current exe"), parser),
    };
    let out = Command::new(exe).args(["--child", child, path]).output().expect("spawn child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or_else(|| panic!("{parser} child failed: {}\n{}", stdout, String::from_utf8_lossy(&out.stderr)));
    let f: Vec<&str> = line.split_whitespace().collect();
    Run {
        secs: f[2].parse().expect("secs"),
        sets: f[3].parse().expect("sets"),
        base_kb: f[4].parse().expect("base"),
        peak_kb: f[5].parse().expect("peak"),
    }
}

/// Median seconds, largest peak (MB) and peak above the process baseline (MB).
struct Summary {
    secs: f64,
    peak_mb: f64,
    above_mb: f64,
    sets: usize,
}

fn summarise(rs: &[Run]) -> Summary {
    let mut times: Vec<f64> = rs.iter().map(|r| r.secs).collect();
    times.sort_by(f64::total_cmp);
    let peak = rs.iter().map(|r| r.peak_kb).max().unwrap_or(0) as f64 / 1024.0;
    let base = rs.iter().map(|r| r.base_kb).min().unwrap_or(0) as f64 / 1024.0;
    Summary { secs: times[times.len() / 2], peak_mb: peak, above_mb: peak - base, sets: rs[0].sets }
}

fn label(parser: &str) -> &'static str {
    match parser {
        "stream" => "mlc-x12 stream::Reader(File)",
        "stream+ap" => "mlc-x12 stream + ApInvoice per set",
        "whole" => "mlc-x12 parse(&whole file)",
        "before" => "mlc-x12 before issue 20 (whole file)",
        _ => "x12-types 0.12 Transmission<_810>",
    }
}

fn sizes_from_args(args: &[String]) -> Vec<usize> {
    match args.iter().position(|a| a == "--sizes") {
        Some(i) => args
            .get(i + 1)
            .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
            .unwrap_or_else(|| DEFAULT_SIZES_MB.to_vec()),
        None => DEFAULT_SIZES_MB.to_vec(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1], &args[i + 2]);
        return;
    }
    // `--generate MB PATH`: only write the file (for profiling a child by hand).
    if let Some(i) = args.iter().position(|a| a == "--generate") {
        let mb: usize = args[i + 1].parse().expect("size in MB");
        std::fs::write(&args[i + 2], generate(mb * 1_000_000).0).expect("write bench file");
        return;
    }
    let mut sizes = sizes_from_args(&args);
    sizes.sort_unstable();
    let baseline = args.iter().position(|a| a == "--baseline").and_then(|i| args.get(i + 1)).cloned();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut parsers = vec!["stream", "stream+ap", "whole"];
    if baseline.is_some() {
        parsers.push("before");
    }
    parsers.push("x12-types");
    // x12-types peak bytes per input byte, from the smallest size it ran at.
    let mut x12_types_factor: Option<f64> = None;
    let mut lines = Vec::new();
    for mb in sizes {
        let path = dir.path().join(format!("mailbag-{mb}mb.edi"));
        let t = Instant::now();
        let (text, interchanges, largest) = generate(mb * 1_000_000);
        std::fs::write(&path, &text).expect("write bench file");
        let size = text.len();
        drop(text);
        let path = path.to_string_lossy().into_owned();
        println!(
            "\n== {mb} MB mailbag: {size} bytes, {interchanges} interchanges, largest {:.2} MB (generated in {:.1} s, seed {SEED:#x})",
            largest as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
        let mut runs: Vec<Vec<Run>> = parsers.iter().map(|_| Vec::new()).collect();
        let mut skipped: Vec<Option<String>> = vec![None; parsers.len()];
        for (i, p) in parsers.iter().enumerate() {
            if *p == "x12-types"
                && let Some(f) = x12_types_factor
            {
                let projected = f * size as f64;
                if projected > X12_TYPES_LIMIT_BYTES {
                    skipped[i] = Some(format!("skipped (projected {:.1} GB)", projected / 1e9));
                }
            }
        }
        for _ in 0..RUNS {
            for (i, p) in parsers.iter().enumerate() {
                if skipped[i].is_none() {
                    runs[i].push(run_child(p, &path, baseline.as_deref()));
                }
            }
        }
        println!(
            "{:<36} {:>9} {:>9} {:>9} {:>12} {:>16}",
            "parser", "sets", "time (s)", "MB/s", "peak RSS MB", "peak - base MB"
        );
        let mut summaries = Vec::new();
        for (i, p) in parsers.iter().enumerate() {
            if let Some(why) = &skipped[i] {
                println!("{:<36} {why}", label(p));
                summaries.push(None);
                continue;
            }
            let s = summarise(&runs[i]);
            println!(
                "{:<36} {:>9} {:>9.3} {:>9.1} {:>12.1} {:>16.1}",
                label(p),
                s.sets,
                s.secs,
                size as f64 / 1e6 / s.secs,
                s.peak_mb,
                s.above_mb
            );
            if *p == "x12-types" && x12_types_factor.is_none() {
                x12_types_factor = Some(s.above_mb * 1024.0 * 1024.0 / size as f64);
            }
            summaries.push(Some(s));
        }
        let get = |name: &str| parsers.iter().position(|p| *p == name).and_then(|i| summaries[i].as_ref());
        let stream = get("stream");
        if let Some(s) = stream {
            let largest_mb = largest as f64 / (1024.0 * 1024.0);
            let within = s.above_mb <= 2.0 * largest_mb && (mb < 200 || s.above_mb <= 64.0);
            lines.push(format!(
                "{mb} MB: stream peak above base {:.1} MB vs largest interchange {:.2} MB: {} (goal: at most 2x the largest interchange{})",
                s.above_mb,
                largest_mb,
                if within { "goal met" } else { "GOAL MISSED" },
                if mb >= 200 { " and 64 MB" } else { "" }
            ));
        }
        for (other, name) in [("whole", "whole-file parse"), ("before", "before issue 20"), ("x12-types", "x12-types")]
        {
            if let (Some(s), Some(o)) = (stream, get(other)) {
                lines.push(format!(
                    "{mb} MB: stream / {name}: throughput {:.2}x, peak RSS {:.2}x, peak above base {:.3}x",
                    o.secs / s.secs,
                    s.peak_mb / o.peak_mb,
                    s.above_mb / o.above_mb
                ));
            }
        }
    }
    println!();
    for l in lines {
        println!("{l}");
    }
    println!(
        "MB = 10^6 bytes of input, 2^20 bytes of memory; time = median of {RUNS} runs; peak = VmHWM of the child process; base = its VmHWM before reading any input."
    );
}
