//! Oracle: whatever invoice the parser reads from the input, rendering it and reading it back must
//! give the same invoice, with no errors or warnings. Finds disagreements between the writer and
//! the reader (escaping, number formats, text cuts) that plain "no panic" fuzzing cannot.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlc_core::domain::AddressKind;
use mlc_x12::{MapOptions, Numbers, PartnerProfile, parse, render_810};

fuzz_target!(|data: &[u8]| {
    let Ok(f) = parse(data) else { return };
    let Some(now) = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)) else {
        return;
    };
    let profile = PartnerProfile::new("fuzz", ("ZZ", "SENDER"), ("ZZ", "RECEIVER"));
    for s in f.sets() {
        let Ok(ar) = s.to_ar_invoice(&MapOptions::default()) else { continue };
        // Rendering may refuse (an id too long for its field, an amount with fractions of a cent);
        // what it does write must read back identically.
        let Ok(r) = render_810(std::slice::from_ref(&ar), &profile, Numbers::single(1), now) else { continue };
        if !r.warnings.is_empty() {
            continue; // free text was cut to fit: by design not identical
        }
        let back = parse(&r.bytes).expect("rendered 810 must parse");
        assert!(back.is_valid(), "rendered 810 has errors: {:?}", back.errors());
        let set = back.sets()[0];
        let again = set.to_ar_invoice(&MapOptions::default()).expect("rendered 810 must map");
        let (mut a, mut b) = (ar.into_draft(), again.into_draft());
        a.source = b.source.clone();
        // Not carried by an 810: project and account; the address kind follows the N1 code.
        for l in a.lines.iter_mut() {
            l.project = None;
            l.account = None;
        }
        for p in [&mut a.seller, &mut a.buyer, &mut b.seller, &mut b.buyer] {
            if let Some(addr) = p.address.as_mut() {
                addr.kind = AddressKind::Other;
            }
        }
        assert_eq!(a, b, "render → parse changed the invoice:\n{}", String::from_utf8_lossy(&r.bytes));
    }
});
