//! Any bytes through every entry point: parse, mapping, 997 generation (and re-reading it), CLI.
//! Must not panic, hang, or use unbounded memory (libFuzzer's -rss_limit_mb and -timeout catch
//! the last two).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlc_x12::cli::{AckCliOptions, run_ack, run_parse, run_validate};
use mlc_x12::{AckOptions, MapOptions, Numbers, acknowledge, parse, render_997};

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = parse(data) {
        for s in f.sets() {
            let _ = s.to_ap_invoice(&MapOptions::default());
            let _ = s.to_ar_invoice(&MapOptions::default());
        }
        let now = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
        if let Some(now) = now {
            for ic in &f.interchanges {
                let acks: Vec<_> = ic.groups.iter().map(acknowledge).collect();
                if let Ok(out) = render_997(ic, &acks, &AckOptions::new(Numbers::single(1), now)) {
                    let _ = parse(&out);
                }
            }
        }
        for e in f.errors() {
            let _ = e.to_string();
        }
    }
    let _ = run_parse(data, true);
    let _ = run_parse(data, false);
    let _ = run_validate(data);
    let _ = run_ack(data, &AckCliOptions::default());
});
