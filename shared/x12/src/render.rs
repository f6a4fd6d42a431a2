//! Rendering: domain [`ArInvoice`]s → an 810 interchange, per trading-partner profile.
//!
//! The output is what strict partners accept: a fixed-width ISA (IDs padded to 15, ISA13 nine
//! digits), GS/ST/SE/GE/IEA with correct counts and control numbers, amounts in the X12 types the
//! standard defines (N2 for TDS01/SAC05, R for quantities, prices and TXI02), no delimiter bytes
//! inside data (X12 has no escape character, so they are replaced by spaces), and free text cut
//! to the standard lengths (reported in [`Rendered::warnings`]). Identifiers that would not fit
//! (invoice number > 22, an ISA id > 15) are errors, never truncated.
//!
//! Mapping (the parser reads it back to the same invoice; see the round-trip tests):
//! - BIG: invoice date, number, PO (BIG04 when ≤ 22 characters, else `REF*PO`), BIG07 `CR` for
//!   credit memos (amounts stay positive, as the domain keeps them);
//! - CUR*SE; N1*SE seller and N1*BT buyer with N3/N4; ITD with the due date (ITD06) and terms text
//!   (ITD12);
//! - IT1 per line (vendor part `VP` = the line's item id), PID for the description (split into
//!   80-character pieces at spaces), line TXI for line tax, and a line SAC `ZZZZ` for any
//!   difference between the line amount and quantity × price rounded (810 has no extended amount);
//! - TDS01 = total; summary TXI = header tax; summary SAC = header charges (C) or allowances (A);
//!   CTT01 = number of lines.
//!
//! Project and GL account are internal and not sent.

use chrono::NaiveDateTime;
use rust_decimal::{Decimal, RoundingStrategy};

use mlc_core::domain::{Address, ArInvoice, DocumentKind, Party};

use crate::ack997::OutboundGroup;
use crate::control::{ControlNumbers, MAX_CONTROL, Numbers};
use crate::values::trim_str;
use crate::writer::{Writer, check_isa_party};

pub use crate::profile::{PartnerProfile, Separators};
pub use crate::writer::{LineEnding, RenderError, Usage};

fn field_err(invoice: &str, field: impl Into<String>, problem: impl Into<String>) -> RenderError {
    RenderError::Field { invoice: invoice.to_string(), field: field.into(), problem: problem.into() }
}

/// A rendered interchange and what is needed to match its 997 later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub group: OutboundGroup,
    /// Free text that was cut to fit, per invoice.
    pub warnings: Vec<String>,
}

/// An R value: normalised decimal text (`5.9`, `-12.5`, `160`).
pub fn fmt_real(d: Decimal) -> String {
    if d.is_zero() { "0".to_string() } else { d.normalize().to_string() }
}

/// An N2 value: the amount in hundredths, without a point (`285.66` → `28566`). `None` when the
/// amount has more than two decimals.
pub fn fmt_n2(d: Decimal) -> Option<String> {
    let cents = d.checked_mul(Decimal::from(100))?.normalize();
    if cents.scale() != 0 {
        return None;
    }
    Some(if cents.is_zero() { "0".to_string() } else { cents.to_string() })
}

/// CCYYMMDD, for years 0001-9999 (chrono writes other years with a sign or fewer digits, which
/// is no X12 date).
fn yyyymmdd(invoice: &str, field: &str, d: chrono::NaiveDate) -> Result<String, RenderError> {
    use chrono::Datelike;
    if !(1..=9999).contains(&d.year()) {
        return Err(field_err(
            invoice,
            field,
            format!("{d} is outside the years 0001-9999 an X12 date (CCYYMMDD) can hold"),
        ));
    }
    Ok(d.format("%Y%m%d").to_string())
}

/// Splits text into pieces of at most `max` characters, breaking at spaces where possible.
pub(crate) fn split_text(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = trim_str(text);
    while !rest.is_empty() {
        let chars: Vec<(usize, char)> = rest.char_indices().collect();
        if chars.len() <= max {
            out.push(rest.to_string());
            break;
        }
        let (hard, at) = chars[max];
        let cut = if at == ' ' { hard } else { rest[..hard].rfind(' ').filter(|&p| p > 0).unwrap_or(hard) };
        out.push(rest[..cut].trim_end_matches(|c: char| c <= ' ' || c == '\u{7f}').to_string());
        rest = rest[cut..].trim_start_matches(|c: char| c <= ' ' || c == '\u{7f}');
    }
    out
}

struct InvoiceWriter<'w> {
    w: &'w mut Writer,
    number: String,
    warnings: Vec<String>,
}

impl InvoiceWriter<'_> {
    /// Free text cut to `max` characters, with a warning when cut.
    fn fit(&mut self, field: &str, text: &str, max: usize) -> String {
        let t = trim_str(text);
        if t.chars().count() <= max {
            return t.to_string();
        }
        self.warnings.push(format!("invoice {}: {field} cut to {max} characters", self.number));
        t.chars().take(max).collect()
    }

    fn n2(&self, field: &str, d: Decimal) -> Result<String, RenderError> {
        let text = fmt_n2(d).ok_or_else(|| {
            field_err(&self.number, field, format!("{d} has more than two decimals; the X12 field holds cents"))
        })?;
        self.digits(field, text, 15)
    }

    /// A number whose digits (sign and point not counted) must fit the element's maximum length.
    fn digits(&self, field: &str, text: String, max: usize) -> Result<String, RenderError> {
        let n = text.bytes().filter(u8::is_ascii_digit).count();
        if n > max {
            return Err(field_err(&self.number, field, format!("{text} has {n} digits; the X12 element holds {max}")));
        }
        Ok(text)
    }

    /// Optional text with a minimum length: too short to be valid X12, it is left out (warned).
    fn at_least(&mut self, field: &str, text: String, min: usize) -> String {
        let n = text.chars().count();
        if n == 0 || n >= min {
            return text;
        }
        self.warnings
            .push(format!("invoice {}: {field} {text:?} is shorter than {min} characters; left out", self.number));
        String::new()
    }

    fn party(&mut self, entity: &str, qualifier: &str, p: &Party) -> Result<(), RenderError> {
        let name = self.fit(&format!("{entity} name"), &p.name, 60);
        let id = p.id.as_deref().map(trim_str).filter(|s| !s.is_empty());
        if let Some(id) = id
            && !(2..=80).contains(&id.len())
        {
            return Err(field_err(&self.number, format!("{entity} id"), format!("{id:?} must be 2-80 characters")));
        }
        match id {
            Some(id) => self.w.seg("N1", &[entity, &name, qualifier, id]),
            None => self.w.seg("N1", &[entity, &name]),
        }
        if let Some(a) = &p.address {
            self.address(entity, a);
        }
        Ok(())
    }

    fn address(&mut self, entity: &str, a: &Address) {
        let lines: Vec<String> = a
            .lines
            .iter()
            .filter(|l| !trim_str(l).is_empty())
            .map(|l| self.fit(&format!("{entity} address line"), l, 55))
            .collect();
        if lines.len() > 4 {
            self.warnings.push(format!("invoice {}: {entity} address has more than 4 lines; kept 4", self.number));
        }
        for pair in lines.chunks(2).take(2) {
            let refs: Vec<&str> = pair.iter().map(String::as_str).collect();
            self.w.seg("N3", &refs);
        }
        let city = a.city.as_deref().map(|c| self.fit(&format!("{entity} city"), c, 30)).unwrap_or_default();
        let city = self.at_least(&format!("{entity} city"), city, 2);
        let state = a.state.as_deref().map(trim_str).unwrap_or("");
        let state = if state.len() == 2 {
            state.to_string()
        } else {
            if !state.is_empty() {
                self.warnings.push(format!(
                    "invoice {}: {entity} state {state:?} is not a 2-letter code; left out",
                    self.number
                ));
            }
            String::new()
        };
        let postal =
            a.postcode.as_deref().map(|p| self.fit(&format!("{entity} postal code"), p, 15)).unwrap_or_default();
        let postal = self.at_least(&format!("{entity} postal code"), postal, 3);
        let country = a.country.as_deref().map(trim_str).unwrap_or("");
        let country = if (2..=3).contains(&country.len()) {
            country.to_string()
        } else {
            if !country.is_empty() {
                self.warnings.push(format!(
                    "invoice {}: {entity} country {country:?} is not a 2-3 letter code; left out",
                    self.number
                ));
            }
            String::new()
        };
        if !(city.is_empty() && state.is_empty() && postal.is_empty() && country.is_empty()) {
            self.w.seg("N4", &[&city, &state, &postal, &country]);
        }
    }

    fn sac(&mut self, field: &str, signed: Decimal, description: &str) -> Result<(), RenderError> {
        let indicator = if signed < Decimal::ZERO { "A" } else { "C" };
        let amount = self.n2(field, signed.abs())?;
        let mut e = vec![""; 15];
        e[0] = indicator;
        e[1] = "ZZZZ";
        e[4] = &amount;
        e[14] = description;
        self.w.seg("SAC", &e);
        Ok(())
    }
}

fn check_id(invoice: &str, field: &str, value: &str, max: usize) -> Result<(), RenderError> {
    let n = value.chars().count();
    if trim_str(value).is_empty() || n > max {
        return Err(field_err(invoice, field, format!("{value:?} must be 1-{max} characters")));
    }
    Ok(())
}

/// Renders one invoice's ST…SE into `w`.
fn render_set(
    w: &mut Writer,
    inv: &ArInvoice,
    st02: &str,
    profile: &PartnerProfile,
) -> Result<Vec<String>, RenderError> {
    let number = trim_str(&inv.invoice_number).to_string();
    check_id(&number, "invoice_number", &number, 22)?;
    if trim_str(&inv.seller.name).is_empty() {
        return Err(field_err(&number, "seller.name", "is empty; N1*SE needs a name"));
    }
    let mut iw = InvoiceWriter { w, number: number.clone(), warnings: Vec::new() };
    iw.w.start_count();
    let cleaned_before = iw.w.cleaned;
    iw.w.seg("ST", &["810", st02]);
    let po = inv.po_number.as_deref().map(trim_str).filter(|p| !p.is_empty());
    let (big_po, ref_po) = match po {
        Some(p) if p.chars().count() <= 22 => (p, None),
        Some(p) => {
            let max = if profile.release.is_5010() { 50 } else { 30 };
            check_id(&number, "po_number", p, max)?;
            ("", Some(p))
        }
        None => ("", None),
    };
    let kind = if inv.kind == DocumentKind::CreditMemo { "CR" } else { "" };
    let date = yyyymmdd(&number, "invoice_date", inv.invoice_date)?;
    iw.w.seg("BIG", &[&date, &number, "", big_po, "", "", kind]);
    iw.w.seg("CUR", &["SE", inv.currency.code()]);
    if let Some(p) = ref_po {
        iw.w.seg("REF", &["PO", p]);
    }
    iw.party("SE", &profile.seller_id_qualifier, &inv.seller)?;
    iw.party("BT", &profile.buyer_id_qualifier, &inv.buyer)?;
    let terms = inv.terms.as_deref().map(|t| iw.fit("terms", t, 80)).unwrap_or_default();
    let due = match inv.due_date {
        Some(d) => yyyymmdd(&number, "due_date", d)?,
        None => String::new(),
    };
    if !terms.is_empty() || !due.is_empty() {
        let code = if due.is_empty() { "14" } else { "01" };
        let mut e = vec![""; 12];
        e[0] = code;
        e[1] = "3";
        e[5] = &due;
        e[11] = &terms;
        iw.w.seg("ITD", &e);
    }
    for line in &inv.lines {
        let line_no = line.line_no.to_string();
        let unit = if trim_str(&line.unit).is_empty() { "EA" } else { trim_str(&line.unit) };
        if unit.len() != 2 || !unit.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(field_err(
                &number,
                format!("lines[{}].unit", line.line_no),
                format!("{unit:?} is not a 2-character X12 unit code (EA, HR ...)"),
            ));
        }
        let max_qty = if profile.release.is_5010() { 15 } else { 10 };
        let qty = iw.digits(&format!("lines[{}].quantity", line.line_no), fmt_real(line.quantity), max_qty)?;
        let price = iw.digits(&format!("lines[{}].unit_price", line.line_no), fmt_real(line.unit_price), 17)?;
        let item = line.item_id.as_deref().map(trim_str).filter(|s| !s.is_empty());
        if let Some(item) = item {
            check_id(&number, &format!("lines[{}].item_id", line.line_no), item, 48)?;
        }
        match item {
            Some(item) => iw.w.seg("IT1", &[&line_no, &qty, unit, &price, "", "VP", item]),
            None => iw.w.seg("IT1", &[&line_no, &qty, unit, &price]),
        }
        let pieces = split_text(&line.description, 80);
        if pieces.join(" ") != trim_str(&line.description) {
            iw.warnings.push(format!(
                "invoice {number}: lines[{}].description split into 80-character PIDs inside a word or at repeated spaces",
                line.line_no
            ));
        }
        for piece in pieces {
            iw.w.seg("PID", &["F", "", "", "", &piece]);
        }
        let extended = line
            .quantity
            .checked_mul(line.unit_price)
            .map(|x| x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
            .ok_or_else(|| field_err(&number, format!("lines[{}]", line.line_no), "quantity × unit price overflows"))?;
        let adjustment = line
            .amount
            .checked_sub(extended)
            .ok_or_else(|| field_err(&number, format!("lines[{}].amount", line.line_no), "overflows"))?;
        if !line.tax_amount.is_zero() {
            let tax = iw.digits(&format!("lines[{}].tax_amount", line.line_no), fmt_real(line.tax_amount), 18)?;
            iw.w.seg("TXI", &["TX", &tax]);
        }
        if !adjustment.is_zero() {
            iw.sac(&format!("lines[{}].amount", line.line_no), adjustment, "Line amount adjustment")?;
        }
    }
    let total = iw.n2("total", inv.total)?;
    iw.w.seg("TDS", &[&total]);
    if !inv.header_tax.is_zero() {
        let tax = iw.digits("header_tax", fmt_real(inv.header_tax), 18)?;
        iw.w.seg("TXI", &["TX", &tax]);
    }
    if !inv.charges.is_zero() {
        let label = if inv.charges < Decimal::ZERO { "Allowances" } else { "Charges" };
        iw.sac("charges", inv.charges, label)?;
    }
    iw.w.seg("CTT", &[&inv.lines.len().to_string()]);
    let count = (iw.w.count + 1).to_string();
    iw.w.seg("SE", &[&count, st02]);
    let cleaned = iw.w.cleaned - cleaned_before;
    if cleaned > 0 {
        iw.warnings.push(format!(
            "invoice {number}: {cleaned} delimiter or line-break character(s) in the data replaced by spaces"
        ));
    }
    Ok(iw.warnings)
}

/// Renders invoices into one interchange with one IN group, using the given control numbers.
/// `now` stamps ISA09/10 and GS04/05.
pub fn render_810(
    invoices: &[ArInvoice],
    profile: &PartnerProfile,
    numbers: Numbers,
    now: NaiveDateTime,
) -> Result<Rendered, RenderError> {
    if invoices.is_empty() {
        return Err(RenderError::NoInvoices);
    }
    if invoices.len() > 9999 {
        return Err(RenderError::Profile(format!("{} invoices in one group; at most 9999", invoices.len())));
    }
    for n in [numbers.interchange, numbers.group] {
        if n == 0 || n > MAX_CONTROL {
            return Err(RenderError::Profile(format!("control number {n} is outside 1-{MAX_CONTROL}")));
        }
    }
    let d = profile.separators.delimiters(&profile.release)?;
    check_isa_party("sender", &profile.sender_qualifier, &profile.sender_id, &d)?;
    check_isa_party("receiver", &profile.receiver_qualifier, &profile.receiver_id, &d)?;
    let gs_sender = profile.gs_sender.clone().unwrap_or_else(|| trim_str(&profile.sender_id).to_string());
    let gs_receiver = profile.gs_receiver.clone().unwrap_or_else(|| trim_str(&profile.receiver_id).to_string());
    for (what, v) in [("GS02", &gs_sender), ("GS03", &gs_receiver)] {
        if !(2..=15).contains(&v.len()) {
            return Err(RenderError::Profile(format!("{what} {v:?} must be 2-15 characters")));
        }
    }
    let mut w = Writer::new(d, profile.separators.line_ending);
    w.isa(
        (&profile.sender_qualifier, trim_str(&profile.sender_id)),
        (&profile.receiver_qualifier, trim_str(&profile.receiver_id)),
        now,
        &profile.release,
        numbers.interchange,
        profile.ack_requested,
        profile.usage.code(),
    );
    let gs06 = numbers.group.to_string();
    let gs_date = now.format("%Y%m%d").to_string();
    let gs_time = now.format("%H%M").to_string();
    w.seg("GS", &["IN", &gs_sender, &gs_receiver, &gs_date, &gs_time, &gs06, "X", profile.release.gs08()]);
    let mut warnings = Vec::new();
    let mut sets = Vec::with_capacity(invoices.len());
    for (i, inv) in invoices.iter().enumerate() {
        let st02 = format!("{:04}", i + 1);
        warnings.extend(render_set(&mut w, inv, &st02, profile)?);
        sets.push(st02);
    }
    w.seg("GE", &[&invoices.len().to_string(), &gs06]);
    w.seg("IEA", &["1", &format!("{:09}", numbers.interchange)]);
    Ok(Rendered {
        bytes: w.out,
        group: OutboundGroup {
            partner: profile.partner.clone(),
            sender_id: trim_str(&profile.sender_id).to_string(),
            receiver_id: trim_str(&profile.receiver_id).to_string(),
            interchange_control: numbers.interchange,
            group_control: numbers.group,
            functional_id: "IN".into(),
            version: profile.release.gs08().to_string(),
            sets,
        },
        warnings,
    })
}

/// Renders with numbers from a store. The numbers are taken (durably) before rendering, so a
/// render error burns a number instead of risking its reuse; profile errors are caught first.
pub fn render_810_next(
    invoices: &[ArInvoice],
    profile: &PartnerProfile,
    store: &dyn ControlNumbers,
    now: NaiveDateTime,
) -> Result<Rendered, RenderError> {
    // Validate with a placeholder number first so a bad profile or invoice costs no number.
    render_810(invoices, profile, Numbers::single(1), now)?;
    let numbers = store.next(&profile.partner)?;
    render_810(invoices, profile, numbers, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delimiters::Delimiters;
    use rust_decimal::dec;

    #[test]
    fn number_formats() {
        assert_eq!(fmt_real(dec!(5.90)), "5.9");
        assert_eq!(fmt_real(dec!(160.00)), "160");
        assert_eq!(fmt_real(dec!(-0.00)), "0");
        assert_eq!(fmt_n2(dec!(285.66)).as_deref(), Some("28566"));
        assert_eq!(fmt_n2(dec!(-15)).as_deref(), Some("-1500"));
        assert_eq!(fmt_n2(dec!(0)).as_deref(), Some("0"));
        assert_eq!(fmt_n2(dec!(1.005)), None);
    }

    #[test]
    fn text_splits_at_spaces() {
        let t = "alpha beta gamma delta";
        assert_eq!(split_text(t, 11), ["alpha beta", "gamma delta"]);
        assert_eq!(split_text("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert!(split_text("  ", 5).is_empty());
    }

    #[test]
    fn writer_drops_trailing_empties_and_cleans_data() {
        let mut w = Writer::new(Delimiters::standard(), LineEnding::None);
        w.seg("N1", &["SE", "A*B~C", "", ""]);
        assert_eq!(w.out, b"N1*SE*A B C~");
    }
}
