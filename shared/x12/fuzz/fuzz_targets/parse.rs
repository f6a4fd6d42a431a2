//! Any bytes through every entry point: parse, the streaming reader (which must report exactly
//! what parse reports), mapping, responses (997 + TA1, and re-reading them), the report, CLI.
//! Must not panic, hang, or use unbounded memory (libFuzzer's -rss_limit_mb and -timeout catch
//! the last two).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlc_x12::cli::{AckCliOptions, run_ack, run_parse, run_validate};
use mlc_x12::stream::{Event, Reader};
use mlc_x12::{AckOptions, InboundRules, MapOptions, Numbers, Ta1Policy, parse, respond};

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = parse(data) {
        for s in f.sets() {
            let _ = s.to_ap_invoice(&MapOptions::default());
            let _ = s.to_ar_invoice(&MapOptions::default());
        }
        let now = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
        if let Some(now) = now {
            let rules = InboundRules { ta1: Ta1Policy::Always, ..InboundRules::default() };
            for ic in &f.interchanges {
                // The response echoes what the partner sent (GS01, GS06, ST02): garbage in, a
                // response that may not validate, but always one that reads.
                if let Ok(Some(r)) = respond(ic, &rules, &AckOptions::new(Numbers::single(1), now)) {
                    assert!(parse(&r.bytes).is_ok(), "our own response must read");
                }
            }
        }
        let _ = mlc_x12::report(&f, None, &InboundRules::default());
        // The streaming reader sees the same sets with the same findings.
        let mut r = Reader::new(data);
        let mut streamed = Vec::new();
        while let Ok(Some(e)) = r.next_event() {
            if let Event::Set(s) = e {
                streamed.push(format!("{:?}", s.set));
            }
        }
        let parsed: Vec<String> = f.sets().iter().map(|s| format!("{:?}", s.set)).collect();
        assert_eq!(streamed, parsed, "stream and parse disagree");
        for e in f.errors() {
            let _ = e.to_string();
        }
    }
    let _ = run_parse(data, true);
    let _ = run_parse(data, false);
    let _ = run_validate(data);
    let _ = run_ack(data, &AckCliOptions::default());
});
