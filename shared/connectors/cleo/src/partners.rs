//! Trading partners: the `[connections.<cleo>.partners.<key>]` tables turned into what the EDI
//! flows use — an X12 profile for what we send ([`mlc_x12::PartnerProfile`]), the partner's
//! folders, the Deltek clients invoiced through it, and its acknowledgment rules.
//!
//! Every partner is checked when the connection is built (so `mlc config` refuses a bad one with
//! its file and line): ids and qualifiers fit the ISA, separators are single distinct bytes that
//! are not letters or digits, the release is 004010 or 005010, folder keys exist and point the
//! right way (a partner's `outbound` folder must be an outbound folder), and no Deltek client is
//! invoiced through two partners. A profile that renders is proven by rendering a sample 810 at
//! check time, so the first real invoice cannot be the one that finds a bad profile.

use std::collections::BTreeMap;

use mlc_core::money::Currency;
use mlc_x12::profile::InboundRules;
use mlc_x12::render::LineEnding as X12LineEnding;
use mlc_x12::{AckScope, PartnerProfile, Release, Separators, Ta1Policy, Usage};

use crate::settings::{Direction, EdiIdentity, FolderSetting, LineEnding, PartnerSetting, UsageSetting};

/// One trading partner, resolved from its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// The configured key (`STATEDOT`): names control-number sequences and outbound files.
    pub key: String,
    pub name: String,
    /// How we write to it (our ids as sender, its ids as receiver).
    pub profile: PartnerProfile,
    /// `folders.<key>` we upload into.
    pub outbound: Option<String>,
    /// `folders.<key>` its files arrive in.
    pub inbound: Option<String>,
    /// Deltek client ids invoiced through it.
    pub clients: Vec<String>,
    /// N1*BT04 override.
    pub buyer_id: Option<String>,
    /// Hours before a missing 997 is overdue (0 = never).
    pub ack_within_hours: u32,
    pub currency: Currency,
}

impl Partner {
    /// `State Department of Transportation (STATEDOT)`, for messages.
    pub fn label(&self) -> String {
        if self.name.is_empty() { self.key.clone() } else { format!("{} ({})", self.name, self.key) }
    }

    /// Whether a Deltek client is invoiced through this partner (ids compared case-insensitively).
    pub fn invoices(&self, client: &str) -> bool {
        self.clients.iter().any(|c| c.trim().eq_ignore_ascii_case(client.trim()))
    }
}

/// Every partner of a connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partners {
    by_key: BTreeMap<String, Partner>,
}

impl Partners {
    /// Resolve checked settings (see [`check`]); `None` entries are impossible after the check.
    pub fn from_settings(edi: &Option<EdiIdentity>, partners: &BTreeMap<String, PartnerSetting>) -> Partners {
        let by_key = partners.iter().filter_map(|(k, p)| resolve(edi, k, p).ok().map(|r| (k.clone(), r))).collect();
        Partners { by_key }
    }

    pub fn get(&self, key: &str) -> Option<&Partner> {
        self.by_key.get(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Partner> {
        self.by_key.values()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The partner a Deltek client is invoiced through.
    pub fn for_client(&self, client: &str) -> Option<&Partner> {
        self.by_key.values().find(|p| p.invoices(client))
    }

    /// The partner whose files arrive in `folder` (a folder key).
    pub fn for_inbound_folder(&self, folder: &str) -> Option<&Partner> {
        self.by_key.values().find(|p| p.inbound.as_deref() == Some(folder))
    }

    /// Keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.by_key.keys().cloned().collect()
    }
}

fn one_char(what: &str, s: &str) -> Result<char, String> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if u32::from(c) <= 0xFF => Ok(c),
        _ => Err(format!("{what} {s:?} must be exactly one character (ASCII or Latin-1)")),
    }
}

fn release_of(s: &str) -> Result<Release, String> {
    match s.trim() {
        "004010" => Ok(Release::V004010),
        "005010" => Ok(Release::V005010),
        other => Err(format!("release {other:?} is not one this product writes: use \"004010\" or \"005010\"")),
    }
}

/// One partner's settings as a [`Partner`]; `Err((key suffix, problem))`.
fn resolve(edi: &Option<EdiIdentity>, key: &str, p: &PartnerSetting) -> Result<Partner, (String, String)> {
    let at = |field: &str| format!("partners.{key}.{field}");
    let (our_q, our_id) = match (&p.our_qualifier, &p.our_id, edi) {
        (Some(q), Some(id), _) => (q.clone(), id.clone()),
        (q, id, Some(e)) => {
            (q.clone().unwrap_or_else(|| e.qualifier.clone()), id.clone().unwrap_or_else(|| e.id.clone()))
        }
        (_, _, None) => {
            return Err((
                "edi".into(),
                format!(
                    "is missing: partner {key} needs our own X12 identity ([connections.<name>.edi] qualifier and id, \
                     or partners.{key}.our_qualifier and our_id)"
                ),
            ));
        }
    };
    let separators = Separators {
        element: one_char("element", &p.separators.element).map_err(|e| (at("separators"), e))?,
        component: one_char("component", &p.separators.component).map_err(|e| (at("separators"), e))?,
        repetition: one_char("repetition", &p.separators.repetition).map_err(|e| (at("separators"), e))?,
        segment: one_char("segment", &p.separators.segment).map_err(|e| (at("separators"), e))?,
        line_ending: match p.separators.line_ending {
            LineEnding::None => X12LineEnding::None,
            LineEnding::Lf => X12LineEnding::Lf,
            LineEnding::Crlf => X12LineEnding::CrLf,
        },
    };
    let release = release_of(&p.release).map_err(|e| (at("release"), e))?;
    let currency: Currency = p.currency.parse().map_err(|e| (at("currency"), format!("{e}")))?;
    let mut profile = PartnerProfile::new(key, (&our_q, &our_id), (&p.qualifier, &p.id));
    profile.gs_sender = edi.as_ref().and_then(|e| e.gs_id.clone());
    profile.gs_receiver = p.gs_id.clone();
    profile.release = release;
    profile.separators = separators;
    profile.usage = match p.usage {
        UsageSetting::Production => Usage::Production,
        UsageSetting::Test => Usage::Test,
        UsageSetting::Information => Usage::Information,
    };
    profile.ack_requested = p.ta1_requested;
    profile.inbound = InboundRules {
        ta1: p.ta1,
        acknowledge: p.acknowledge,
        remit_to_names_vendor: p.remit_to_names_vendor,
        tax_in_tds: p.tax_in_tds,
        default_currency: Some(currency),
    };
    Ok(Partner {
        key: key.to_string(),
        name: p.name.clone(),
        profile,
        outbound: p.outbound.clone(),
        inbound: p.inbound.clone(),
        clients: p.clients.clone(),
        buyer_id: p.buyer_id.clone(),
        ack_within_hours: p.ack_within_hours,
        currency,
    })
}

/// Check every partner against the folders; `Err((option key, problem))`.
pub fn check(
    edi: &Option<EdiIdentity>,
    partners: &BTreeMap<String, PartnerSetting>,
    folders: &BTreeMap<String, FolderSetting>,
) -> Result<(), (String, String)> {
    let mut clients: BTreeMap<String, &str> = BTreeMap::new();
    for (key, p) in partners {
        let at = |field: &str| format!("partners.{key}.{field}");
        if key.trim().is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')) {
            return Err((format!("partners.{key}"), "a partner key is letters, digits, - and _ only".into()));
        }
        let partner = resolve(edi, key, p)?;
        // Rendering a sample proves ids, qualifiers, separators and release together, with the
        // renderer's own words.
        sample_render(&partner).map_err(|e| (format!("partners.{key}"), e))?;
        for (field, folder, want) in
            [("outbound", &p.outbound, Direction::Outbound), ("inbound", &p.inbound, Direction::Inbound)]
        {
            let Some(f) = folder else { continue };
            match folders.get(f) {
                None => {
                    return Err((
                        at(field),
                        format!(
                            "names folder {f:?}, which is not configured (folders: {})",
                            folders.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
                Some(fs) if fs.direction != want => {
                    return Err((
                        at(field),
                        format!(
                            "names folder {f:?}, whose direction is {}; the partner's {field} folder must be an {} folder",
                            fs.direction.as_str(),
                            want.as_str()
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        if !p.clients.is_empty() && p.outbound.is_none() {
            return Err((at("outbound"), "is missing: 810s for its clients need a folder to be uploaded into".into()));
        }
        let answers = p.acknowledge != AckScope::None || p.ta1 != Ta1Policy::Never;
        if answers && p.inbound.is_some() && p.outbound.is_none() {
            return Err((
                at("outbound"),
                "is missing: its files are answered with 997s (and TA1s when asked), which need a folder to be \
                 uploaded into (or set acknowledge = \"none\" and ta1 = \"never\")"
                    .into(),
            ));
        }
        for c in &p.clients {
            let c = c.trim().to_ascii_uppercase();
            if c.is_empty() {
                return Err((at("clients"), "holds an empty client id".into()));
            }
            if let Some(other) = clients.insert(c.clone(), key) {
                return Err((
                    at("clients"),
                    format!("client {c} is also invoiced through partner {other}: a client has one EDI partner"),
                ));
            }
        }
    }
    Ok(())
}

/// Render a one-line 810 with this partner's profile, to prove it at load.
fn sample_render(p: &Partner) -> Result<(), String> {
    use mlc_core::domain::{ArInvoice, ArInvoiceDraft, ArLine, DocumentKind, Party, SourceRef};
    use rust_decimal::Decimal;
    let day = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
    let draft = ArInvoiceDraft {
        source: SourceRef { system: "check".into(), entity: "sample".into(), id: "1".into(), version: "1".into() },
        kind: DocumentKind::Invoice,
        invoice_number: "CHECK-1".into(),
        invoice_date: day,
        due_date: None,
        currency: p.currency,
        seller: Party { name: "Check".into(), id: None, address: None },
        buyer: Party { name: "Check".into(), id: None, address: None },
        po_number: None,
        terms: None,
        lines: vec![ArLine {
            line_no: 1,
            description: "check".into(),
            item_id: None,
            quantity: Decimal::ONE,
            unit: "EA".into(),
            unit_price: Decimal::ONE,
            amount: Decimal::ONE,
            tax_amount: Decimal::ZERO,
            project: None,
            account: None,
        }],
        header_tax: Decimal::ZERO,
        charges: Decimal::ZERO,
        total: Decimal::ONE,
        tolerance: Default::default(),
    };
    let inv = ArInvoice::try_new(draft).map_err(|e| e.to_string())?;
    mlc_x12::render_810(&[inv], &p.profile, mlc_x12::Numbers::single(1), day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(v: serde_json::Value) -> PartnerSetting {
        serde_json::from_value(v).expect("setting")
    }

    fn folders() -> BTreeMap<String, FolderSetting> {
        let f = |d| FolderSetting { mailbox: "M".into(), folder: "F".into(), direction: d };
        BTreeMap::from([("out".into(), f(Direction::Outbound)), ("in".into(), f(Direction::Inbound))])
    }

    fn edi() -> Option<EdiIdentity> {
        Some(EdiIdentity { qualifier: "ZZ".into(), id: "US".into(), gs_id: None })
    }

    #[test]
    fn a_good_partner_resolves_and_bad_ones_are_named() {
        let good = serde_json::json!({"qualifier": "ZZ", "id": "THEM", "outbound": "out", "inbound": "in",
                                      "clients": ["C1"], "release": "005010",
                                      "separators": {"element": "|", "segment": "~", "line_ending": "crlf"}});
        let ps = BTreeMap::from([("P1".to_string(), setting(good.clone()))]);
        assert_eq!(check(&edi(), &ps, &folders()), Ok(()));
        let all = Partners::from_settings(&edi(), &ps);
        let p = all.for_client("c1").expect("client");
        assert_eq!((p.profile.sender_id.as_str(), p.profile.receiver_id.as_str()), ("US", "THEM"));
        assert!(p.profile.release.is_5010());
        assert!(all.for_inbound_folder("in").is_some());

        let bad = |patch: serde_json::Value| {
            let mut v = good.clone();
            for (k, x) in patch.as_object().expect("object") {
                v[k] = x.clone();
            }
            check(&edi(), &BTreeMap::from([("P1".to_string(), setting(v))]), &folders()).expect_err("refused")
        };
        let e = bad(serde_json::json!({"release": "003050"}));
        assert_eq!(e.0, "partners.P1.release");
        let e = bad(serde_json::json!({"separators": {"element": "**"}}));
        assert!(e.1.contains("exactly one character"), "{e:?}");
        let e = bad(serde_json::json!({"separators": {"element": "~", "segment": "~"}}));
        assert!(e.0 == "partners.P1" && e.1.contains("separator"), "{e:?}");
        let e = bad(serde_json::json!({"outbound": "in"}));
        assert!(e.1.contains("must be an outbound folder"), "{e:?}");
        let e = bad(serde_json::json!({"inbound": "nowhere"}));
        assert!(e.1.contains("not configured"), "{e:?}");
        let e = bad(serde_json::json!({"id": "A-PARTNER-ID-THAT-IS-TOO-LONG"}));
        assert!(e.1.contains("1-15"), "{e:?}");
        let e = check(&None, &BTreeMap::from([("P1".to_string(), setting(good.clone()))]), &folders()).expect_err("x");
        assert_eq!(e.0, "edi");
        let two = BTreeMap::from([("P1".to_string(), setting(good.clone())), ("P2".to_string(), setting(good))]);
        let e = check(&edi(), &two, &folders()).expect_err("client twice");
        assert!(e.1.contains("client C1 is also invoiced through partner P1"), "{e:?}");
    }
}
