//! Mapping suggestions: proposed source → target pairs, for a person to confirm before import.
//!
//! Nothing here writes mappings. Suggestions are made by exact code first, then by name
//! similarity (word overlap after dropping punctuation, case and legal suffixes), then — for
//! vendors — by tax number; each row's note says which, with a score, so a reviewer knows what to
//! check. Rows with no candidate have an empty target for the person to fill in (an import names
//! any row left empty).

use std::collections::BTreeSet;

use mlc_core::domain::{AccountKind, GlAccount, Status};
use mlc_core::engine::flow::StepError;
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet};
use serde::Serialize;

use crate::cin7_deltek_ap::SCOPE;

/// One proposed mapping row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub scope: String,
    pub kind: MappingKind,
    pub source: String,
    /// Source name, for the reviewer.
    pub source_name: String,
    /// Empty when nothing matched.
    pub target: String,
    pub target_name: String,
    /// How it was matched (`same code`, `name 0.67`, `tax number`, `no match`, `already mapped`).
    pub basis: String,
}

/// Words of a name, normalised for comparison.
fn words(name: &str) -> BTreeSet<String> {
    const NOISE: [&str; 12] = ["INC", "LLC", "LTD", "CO", "CORP", "COMPANY", "THE", "AND", "OF", "PTY", "LLP", "PLC"];
    name.split(|c: char| !c.is_alphanumeric())
        .map(|w| w.to_uppercase())
        .filter(|w| !w.is_empty() && !NOISE.contains(&w.as_str()))
        .collect()
}

/// Jaccard similarity of two names' word sets, 0..=1.
pub fn name_score(a: &str, b: &str) -> f64 {
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return 0.0;
    }
    wa.intersection(&wb).count() as f64 / wa.union(&wb).count() as f64
}

/// The best-named candidate at or above `min`.
fn best_by_name<'a, T>(
    name: &str,
    candidates: &'a [T],
    name_of: impl Fn(&T) -> &str,
    min: f64,
) -> Option<(&'a T, f64)> {
    candidates
        .iter()
        .map(|c| (c, name_score(name, name_of(c))))
        .filter(|(_, s)| *s >= min)
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Suggest account pairs: `source` accounts (active expense accounts of the source system) to
/// `target` GL accounts (active, postable). Already-mapped codes are listed as such.
pub fn suggest_accounts(source: &[GlAccount], target: &[GlAccount], mapped: &MappingSet) -> Vec<Suggestion> {
    let postable: Vec<&GlAccount> = target
        .iter()
        .filter(|a| a.status == Status::Active)
        .filter(|a| {
            matches!(
                a.kind,
                AccountKind::DirectExpense | AccountKind::IndirectExpense | AccountKind::Expense | AccountKind::Other
            )
        })
        .collect();
    source
        .iter()
        .filter(|a| a.status == Status::Active)
        .filter(|a| matches!(a.kind, AccountKind::Expense | AccountKind::DirectExpense | AccountKind::IndirectExpense))
        .map(|a| {
            let key = MappingKey::new(SCOPE, MappingKind::ACCOUNT, &a.code);
            let row = |target: &str, target_name: &str, basis: String| Suggestion {
                scope: SCOPE.into(),
                kind: MappingKind::ACCOUNT,
                source: a.code.clone(),
                source_name: a.name.clone(),
                target: target.into(),
                target_name: target_name.into(),
                basis,
            };
            if let Some(t) = mapped.get(&key) {
                let name = target.iter().find(|x| x.code == t).map_or("", |x| x.name.as_str());
                return row(t, name, "already mapped".into());
            }
            if let Some(t) = postable.iter().find(|t| t.code.eq_ignore_ascii_case(&a.code)) {
                return row(&t.code, &t.name, "same code".into());
            }
            match best_by_name(&a.name, &postable, |t| t.name.as_str(), 0.34) {
                Some((t, score)) => row(&t.code, &t.name, format!("name {score:.2}")),
                None => row("", "", "no match: choose a target account".into()),
            }
        })
        .collect()
}

/// A vendor candidate on the target side.
#[derive(Debug, Clone)]
pub struct TargetVendor {
    pub number: String,
    pub name: String,
    pub tax_id: Option<String>,
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Suggest vendor pairs: source suppliers (id, name, tax id) to target vendors.
pub fn suggest_vendors(
    source: &[(String, String, Option<String>)],
    target: &[TargetVendor],
    mapped: &MappingSet,
) -> Vec<Suggestion> {
    source
        .iter()
        .map(|(id, name, tax)| {
            let row = |t: &str, tn: &str, basis: String| Suggestion {
                scope: SCOPE.into(),
                kind: MappingKind::VENDOR,
                source: id.clone(),
                source_name: name.clone(),
                target: t.into(),
                target_name: tn.into(),
                basis,
            };
            if let Some(t) = mapped.get(&MappingKey::new(SCOPE, MappingKind::VENDOR, id)) {
                return row(t, "", "already mapped".into());
            }
            if let Some(tx) = tax.as_deref().map(digits).filter(|d| d.len() >= 5)
                && let Some(v) = target.iter().find(|v| v.tax_id.as_deref().map(digits).as_deref() == Some(tx.as_str()))
            {
                return row(&v.number, &v.name, "tax number".into());
            }
            match best_by_name(name, target, |v| v.name.as_str(), 0.5) {
                Some((v, s)) => row(&v.number, &v.name, format!("name {s:.2}")),
                None => row("", "", "no match: the vendor flow will create a firm, or choose one".into()),
            }
        })
        .collect()
}

/// Suggestions for the `cin7-deltek` scope, read from both systems (read-only calls).
pub async fn cin7_deltek(
    cin7: &mlc_cin7::Cin7Client,
    deltek: &mlc_deltek::DeltekClient,
    mapped: &MappingSet,
) -> Result<Vec<Suggestion>, StepError> {
    let source_accounts: Vec<GlAccount> = cin7.list_accounts().await?.iter().map(|a| a.to_gl_account()).collect();
    let target_accounts = deltek.gl_accounts().await?;
    let mut out = suggest_accounts(&source_accounts, &target_accounts, mapped);

    let mut suppliers = Vec::new();
    let mut page = 1;
    loop {
        let p = cin7.list_suppliers_changed(None, page, 250).await?;
        let more = p.has_more(250);
        suppliers.extend(p.items.into_iter().filter(|s| s.is_active()));
        if !more {
            break;
        }
        page += 1;
    }
    let mut targets: Vec<TargetVendor> = Vec::new();
    for s in &suppliers {
        for f in deltek.find_vendors_by_name(&s.name).await? {
            if f.is_vendor && !targets.iter().any(|t| t.number == f.vendor) {
                targets.push(TargetVendor {
                    number: f.vendor.clone(),
                    name: f.name.clone(),
                    tax_id: Some(f.tax_id.clone()),
                });
            }
        }
    }
    let source: Vec<(String, String, Option<String>)> =
        suppliers.iter().map(|s| (s.id.clone(), s.name.clone(), s.tax_number.clone())).collect();
    out.extend(suggest_vendors(&source, &targets, mapped));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(code: &str, name: &str, kind: AccountKind) -> GlAccount {
        GlAccount { code: code.into(), name: name.into(), kind, status: Status::Active }
    }

    #[test]
    fn accounts_match_by_code_then_name_and_say_how() {
        let src = vec![
            acct("60200", "Utilities", AccountKind::Expense),
            acct("474", "Freight & Delivery", AccountKind::Expense),
            acct("499", "Copier Lease", AccountKind::Expense),
            acct("800", "Accounts Payable", AccountKind::Liability),
        ];
        let tgt = vec![
            acct("60200", "Utilities", AccountKind::IndirectExpense),
            acct("55300", "Freight and Delivery - Reimbursable", AccountKind::DirectExpense),
            acct("10100", "Cash", AccountKind::Asset),
        ];
        let mut mapped = MappingSet::new();
        mapped.insert(MappingKey::new(SCOPE, MappingKind::ACCOUNT, "499"), "69900");
        let s = suggest_accounts(&src, &tgt, &mapped);
        assert_eq!(s.len(), 3, "liabilities are not suggested");
        assert_eq!((s[0].target.as_str(), s[0].basis.as_str()), ("60200", "same code"));
        assert_eq!(s[1].target, "55300");
        assert!(s[1].basis.starts_with("name "), "{}", s[1].basis);
        assert_eq!((s[2].target.as_str(), s[2].basis.as_str()), ("69900", "already mapped"));
    }

    #[test]
    fn vendors_match_by_tax_number_then_name() {
        let tgt = vec![
            TargetVendor {
                number: "CASCSURV".into(),
                name: "Cascade Land Surveying LLC".into(),
                tax_id: Some("91-3344556".into()),
            },
            TargetVendor { number: "GRANGEO".into(), name: "Granite Geotechnical, Inc.".into(), tax_id: None },
        ];
        let src = vec![
            ("s1".into(), "Cascade Surveying".into(), Some("913344556".into())),
            ("s2".into(), "Granite Geotechnical".into(), None),
            ("s3".into(), "Brand New Supplier".into(), None),
        ];
        let s = suggest_vendors(&src, &tgt, &MappingSet::new());
        assert_eq!((s[0].target.as_str(), s[0].basis.as_str()), ("CASCSURV", "tax number"));
        assert_eq!(s[1].target, "GRANGEO");
        assert_eq!(s[2].target, "");
        assert!(s[2].basis.starts_with("no match"));
    }

    #[test]
    fn name_score_ignores_case_punctuation_and_suffixes() {
        assert_eq!(name_score("Granite Geotechnical, Inc.", "GRANITE GEOTECHNICAL"), 1.0);
        assert_eq!(name_score("", "x"), 0.0);
        assert!(name_score("Freight & Delivery", "Freight and Delivery - Reimbursable") > 0.5);
    }
}
