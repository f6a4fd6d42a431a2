//! Parse throughput and peak memory on a 50 MB file of many 810s, mlc-x12 beside `x12-types`.
//!
//! `cargo bench -p mlc-x12 --bench parse`
//!
//! The parent generates the file (deterministic seed) in a temp dir, then runs each parser in its
//! own child process of this same binary (`--child <parser> <file>`) so peak memory (VmHWM from
//! /proc/self/status) is one parser's alone. Each child reads the whole file first, then parses
//! it into typed structures and keeps them until it has measured; it prints one `RESULT` line.
//! Every parser runs three times, alternating; the table shows the median time and the largest
//! peak. Figures are for comparison within one run, not targets: nothing here asserts a time.
//!
//! The file: interchanges of 100 invoices each, `*`/`>`/`~` + LF (the one layout x12-types reads:
//! it hard-codes `*` and `~`), 3–12 lines per invoice, parties with addresses, terms, dates, tax,
//! an occasional freight charge, consistent totals — so mlc-x12 also does its full checks.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

const TARGET_BYTES: usize = 50_000_000;
const SEED: u64 = 0x5EED_0810;
const RUNS: usize = 3;

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

fn generate() -> String {
    let mut rng = Rng(SEED);
    let mut out = String::with_capacity(TARGET_BYTES + 200_000);
    let mut ic = 0usize;
    while out.len() < TARGET_BYTES {
        ic += 1;
        let _ = write!(
            out,
            "ISA*00*          *00*          *ZZ*GRANITESUP     *ZZ*MORRISONENG    *260302*0930*U*00401*{ic:09}*0*P*>~\n\
             GS*IN*GRANITESUP*MORRISONENG*20260302*0930*{ic}*X*004010~\n"
        );
        for st in 1..=100 {
            invoice(&mut rng, st, &mut out);
        }
        let _ = write!(out, "GE*100*{ic}~\nIEA*1*{ic:09}~\n");
    }
    out
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
    let bytes = std::fs::read(path).expect("read bench file");
    let before = vm_hwm_kb();
    let start = Instant::now();
    match parser {
        "mlc-x12" => {
            let f = mlc_x12::parse(&bytes).expect("mlc-x12 parse");
            let n = f.invoices().len();
            assert!(f.is_valid(), "generated file must be valid: {:?}", f.errors().first());
            let secs = start.elapsed().as_secs_f64();
            report(parser, bytes.len(), secs, n, before);
            drop(f);
        }
        "mlc-x12+ap" => {
            let f = mlc_x12::parse(&bytes).expect("mlc-x12 parse");
            let opts = mlc_x12::MapOptions::default();
            let aps: Vec<_> = f.sets().iter().map(|s| s.to_ap_invoice(&opts).expect("ap invoice")).collect();
            let secs = start.elapsed().as_secs_f64();
            report(parser, bytes.len(), secs, aps.len(), before);
        }
        "x12-types" => {
            use x12_types::util::Parser;
            use x12_types::v004010::{_810, Transmission};
            let text = std::str::from_utf8(&bytes).expect("ascii file");
            let mut rest = text;
            let mut all = Vec::new();
            while !rest.trim().is_empty() {
                let (r, t) = Transmission::<_810>::parse(rest).expect("x12-types parse");
                rest = r;
                all.push(t);
            }
            let n = all.iter().flat_map(|t| &t.functional_group).map(|g| g.segments.len()).sum();
            let secs = start.elapsed().as_secs_f64();
            report(parser, bytes.len(), secs, n, before);
            drop(all);
        }
        other => panic!("unknown parser {other}"),
    }
}

fn report(parser: &str, bytes: usize, secs: f64, invoices: usize, before_kb: u64) {
    println!("RESULT {parser} {bytes} {secs} {invoices} {before_kb} {}", vm_hwm_kb());
}

struct Run {
    secs: f64,
    invoices: usize,
    before_kb: u64,
    peak_kb: u64,
}

fn run_child(parser: &str, path: &str) -> Run {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe).args(["--child", parser, path]).output().expect("spawn child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or_else(|| panic!("{parser} child failed: {}\n{}", stdout, String::from_utf8_lossy(&out.stderr)));
    let f: Vec<&str> = line.split_whitespace().collect();
    Run {
        secs: f[3].parse().expect("secs"),
        invoices: f[4].parse().expect("invoices"),
        before_kb: f[5].parse().expect("before"),
        peak_kb: f[6].parse().expect("peak"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1], &args[i + 2]);
        return;
    }
    // `--generate PATH`: only write the file (for profiling a child by hand).
    if let Some(i) = args.iter().position(|a| a == "--generate") {
        std::fs::write(&args[i + 1], generate()).expect("write bench file");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench-810.edi");
    let t = Instant::now();
    let text = generate();
    std::fs::write(&path, &text).expect("write bench file");
    let size = text.len();
    drop(text);
    let path = path.to_string_lossy().into_owned();
    println!(
        "generated {:.1} MB ({size} bytes, seed {SEED:#x}) in {:.1} s: {}",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64(),
        path
    );

    let parsers = ["mlc-x12", "mlc-x12+ap", "x12-types"];
    let mut runs: Vec<Vec<Run>> = parsers.iter().map(|_| Vec::new()).collect();
    for _ in 0..RUNS {
        for (i, p) in parsers.iter().enumerate() {
            runs[i].push(run_child(p, &path));
        }
    }
    let mb = size as f64 / 1e6;
    println!();
    println!(
        "{:<34} {:>9} {:>10} {:>10} {:>12} {:>14}",
        "parser", "invoices", "time (s)", "MB/s", "peak RSS MB", "peak - file MB"
    );
    let mut summary = Vec::new();
    for (p, rs) in parsers.iter().zip(&runs) {
        let mut times: Vec<f64> = rs.iter().map(|r| r.secs).collect();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let peak = rs.iter().map(|r| r.peak_kb).max().unwrap_or(0) as f64 / 1024.0;
        let before = rs.iter().map(|r| r.before_kb).min().unwrap_or(0) as f64 / 1024.0;
        let label = match *p {
            "mlc-x12" => "mlc-x12 parse (typed 810 + checks)",
            "mlc-x12+ap" => "mlc-x12 parse + ApInvoice mapping",
            _ => "x12-types 0.12 Transmission<_810>",
        };
        println!(
            "{label:<34} {:>9} {:>10.3} {:>10.1} {:>12.1} {:>14.1}",
            rs[0].invoices,
            median,
            mb / median,
            peak,
            peak - before
        );
        summary.push((median, peak, peak - before, rs[0].invoices));
    }
    let (ours, theirs) = (summary[0], summary[2]);
    println!();
    println!(
        "ratio mlc-x12 / x12-types: throughput {:.2}x, peak RSS {:.2}x, peak above the file {:.2}x (same {} invoices: {})",
        theirs.0 / ours.0,
        ours.1 / theirs.1,
        ours.2 / theirs.2,
        ours.3,
        ours.3 == theirs.3
    );
    println!(
        "MB = 10^6 bytes; time = median of {RUNS} runs; peak = VmHWM of the child process (includes the file read into memory)."
    );
}
