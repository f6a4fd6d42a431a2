//! Seeding the Cleo simulator: a [`CleoScenario`] (JSON or Rust) and the deterministic demo
//! company of issue 16.
//!
//! JSON scenario (every key optional; unknown keys refused):
//!
//! ```json
//! {
//!   "users": [{"username": "mlc-service", "password": "…", "two_factor": false,
//!              "password_expired": false, "mailboxes": ["*"]}],
//!   "mailboxes": [{"alias": "STATEDOT", "description": "…",
//!                  "folders": [{"name": "to-partner", "upload": true, "download": false,
//!                               "files": [{"name": "a.edi", "content": "<base64>"}]}],
//!                  "partner": {"name": "…", "collects_from": "to-partner", "drops_into": "from-partner",
//!                              "reject_ordinals": [2], "profile": { PartnerProfile of mlc-x12 }}}],
//!   "switches": {"same_name": "overwrite"},
//!   "partner_sends": [{"mailbox": "GRANITERIDGE", "count": 2, "variant": "valid", "at": "2025-06-02T09:00:00Z"}]
//! }
//! ```
//!
//! Mailboxes merge by alias (folders by name); users are replaced by name. `partner_sends` run the
//! mailbox's scripted partner at the given simulated instants (default: now), so a seed can hold a
//! month of inbound traffic rendered by the real X12 library.
//!
//! **The demo** ([`demo_company`], [`demo`]): a 200-person civil and environmental engineering
//! consultancy with three public-sector clients on EDI, each with its own profile (004010 with
//! `*`/`>`/`~`+LF; 005010 with `|`/`^`/`~`+CRLF; 004010 with `|`/`:`/`~` and no line breaks)
//! and its own folder names (one of them Harmony's server-perspective `inbox`/`outbox`, where
//! `inbox` is where *we* upload: direction is configuration); Harbor County rejects the second
//! invoice it receives; and a drilling subcontractor whose mailbox already holds a month of
//! 810s, one broken file (an SE count off by one) and one duplicate re-send (same name, same
//! bytes). Everything is derived from the seed, so two runs with one seed are identical.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use mlc_x12::render::LineEnding;
use mlc_x12::{PartnerProfile, Release, Separators};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::partner::{self, PartnerScript, Variant};
use super::state::{CleoState, Folder, Mailbox, User};

/// Seed of the built-in demo.
pub const DEFAULT_SEED: u64 = 16;

/// The demo logins.
pub mod demo {
    /// The integration's service account (no 2FA).
    pub const USERNAME: &str = "mlc-service";
    /// Its password (meets the CIC rules: upper, lower, digit, special, 8+).
    pub const PASSWORD: &str = "Edi-Service-2025!";
    /// A person's account with TOTP 2FA: refused for machine use.
    pub const TWO_FACTOR_USERNAME: &str = "ap.clerk";
    /// Its password.
    pub const TWO_FACTOR_PASSWORD: &str = "Clerk-Portal-2025!";
    /// An account whose password has expired.
    pub const EXPIRED_USERNAME: &str = "old-integration";
    /// Its password.
    pub const EXPIRED_PASSWORD: &str = "Old-Integration-1!";
}

/// One scripted send at seeding time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendSpec {
    pub mailbox: String,
    #[serde(default = "one")]
    pub count: usize,
    /// `valid` (default), `broken`, `duplicate`, `renamed_duplicate`.
    #[serde(default)]
    pub variant: String,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

fn one() -> usize {
    1
}

/// What to put in the tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CleoScenario {
    pub users: Vec<User>,
    pub mailboxes: Vec<Mailbox>,
    pub switches: Option<Value>,
    pub partner_sends: Vec<SendSpec>,
}

impl CleoScenario {
    /// Read a JSON scenario; errors name the key.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        serde_json::from_value(v.clone()).map_err(|e| format!("bad scenario: {e}"))
    }

    /// The scenario as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Only the service users (no mailboxes).
    pub fn logins_only() -> Self {
        CleoScenario { users: demo_users(), ..CleoScenario::default() }
    }

    /// Merge into a state.
    pub fn apply(&self, st: &mut CleoState, now: DateTime<Utc>) -> Result<(), String> {
        if let Some(p) = &self.switches {
            st.switches = st.switches.merged(p)?;
        }
        for u in &self.users {
            if u.username.trim().is_empty() {
                return Err("a user has an empty username".into());
            }
            st.put_user(u.clone());
        }
        for m in &self.mailboxes {
            if m.alias.trim().is_empty() {
                return Err("a mailbox has an empty alias".into());
            }
            let mut m = m.clone();
            for f in &mut m.folders {
                if f.name.trim().is_empty() {
                    return Err(format!("mailbox {}: a folder has an empty name", m.alias));
                }
                for file in &mut f.files {
                    if file.created == DateTime::<Utc>::default() {
                        file.created = now;
                    }
                    if file.modified == DateTime::<Utc>::default() {
                        file.modified = file.created;
                    }
                    if file.origin.is_empty() {
                        file.origin = "seed".into();
                    }
                }
            }
            if let Some(p) = &m.partner {
                for dir in [&p.collects_from, &p.drops_into] {
                    if !dir.is_empty() && m.folder(dir).is_none() {
                        return Err(format!(
                            "mailbox {}: the partner's folder '{dir}' is not one of its folders",
                            m.alias
                        ));
                    }
                }
            }
            st.put_mailbox(m);
        }
        for s in &self.partner_sends {
            let m =
                st.mailbox_by_alias(&s.mailbox).ok_or_else(|| format!("partner_sends: no mailbox '{}'", s.mailbox))?;
            let v =
                Variant::parse(&s.variant).ok_or_else(|| format!("partner_sends: unknown variant '{}'", s.variant))?;
            partner::send_810(st, m, s.count, v, s.at.unwrap_or(now))?;
        }
        Ok(())
    }
}

fn demo_users() -> Vec<User> {
    let mut tfa = User::new(demo::TWO_FACTOR_USERNAME, demo::TWO_FACTOR_PASSWORD);
    tfa.two_factor = true;
    let mut expired = User::new(demo::EXPIRED_USERNAME, demo::EXPIRED_PASSWORD);
    expired.password_expired = true;
    vec![User::new(demo::USERNAME, demo::PASSWORD), tfa, expired]
}

/// One trading partner of the demo company.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoPartner {
    /// Mailbox alias.
    pub alias: String,
    pub name: String,
    /// `client` (we send AR 810s) or `subcontractor` (sends us 810s).
    pub role: String,
    /// Deltek client or vendor number for this partner.
    pub deltek_id: String,
    /// Folder we upload into (the partner collects from it).
    pub outbound_folder: String,
    /// Folder we download from (the partner drops into it).
    pub inbound_folder: String,
    /// The 810 profile for invoices *we* send this partner (clients), or the partner's own profile
    /// for invoices it sends us (subcontractor).
    pub profile: PartnerProfile,
}

/// The demo consultancy: who it is and its partners. Shared by the Cleo scenario and the Deltek
/// seed ([`super::deltek_seed`]) so both simulators tell one story.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoCompany {
    pub seed: u64,
    pub name: String,
    pub employees: u32,
    /// Our ISA qualifier and id.
    pub isa_qualifier: String,
    pub isa_id: String,
    pub clients: Vec<DemoPartner>,
    pub subcontractor: DemoPartner,
    /// PO numbers the subcontractor's invoices quote (our subcontract POs, one per project).
    pub subcontract_pos: Vec<String>,
    /// The month of traffic: first day.
    pub month_start: NaiveDate,
}

const COMPANIES: &[(&str, &str)] = &[
    ("Cascade Ridge Engineering", "CASCADERIDGE"),
    ("Meridian Civil & Environmental", "MERIDIANCE"),
    ("Blue Heron Consulting Engineers", "BLUEHERONCE"),
];

/// The demo company for a seed (the month is the one before the simulated date of
/// [`crate::common::SimClock::manual_default`], June 2025, so May 2025).
pub fn demo_company(seed: u64) -> DemoCompany {
    let (name, isa_id) = COMPANIES[(seed % COMPANIES.len() as u64) as usize];
    let sep = |element, component, segment, line_ending| Separators {
        element,
        component,
        repetition: '^',
        segment,
        line_ending,
    };
    let mut state_dot = PartnerProfile::new("STATEDOT", ("ZZ", isa_id), ("ZZ", "STATEDOTAP"));
    state_dot.separators = sep('*', '>', '~', LineEnding::Lf);
    let mut county = PartnerProfile::new("HARBORCO", ("ZZ", isa_id), ("01", "078451236"));
    county.release = Release::V005010;
    county.separators =
        Separators { element: '|', component: '>', repetition: '^', segment: '~', line_ending: LineEnding::CrLf };
    county.gs_receiver = Some("HARBORCOAP".into());
    let mut city = PartnerProfile::new("RIVERTON", ("ZZ", isa_id), ("12", "5035550142"));
    city.separators = sep('|', ':', '~', LineEnding::None);
    let mut sub = PartnerProfile::new("GRANITERIDGE", ("ZZ", "GRANITERIDGE"), ("ZZ", isa_id));
    sub.separators = sep('*', ':', '~', LineEnding::Lf);
    let client =
        |alias: &str, name: &str, deltek_id: &str, out: &str, inb: &str, profile: PartnerProfile| DemoPartner {
            alias: alias.into(),
            name: name.into(),
            role: "client".into(),
            deltek_id: deltek_id.into(),
            outbound_folder: out.into(),
            inbound_folder: inb.into(),
            profile,
        };
    let year_suffix = 25;
    DemoCompany {
        seed,
        name: name.into(),
        employees: 200,
        isa_qualifier: "ZZ".into(),
        isa_id: isa_id.into(),
        clients: vec![
            client(
                "STATEDOT",
                "State Department of Transportation",
                "STATEDOT",
                "to-partner",
                "from-partner",
                state_dot,
            ),
            // Harmony's server-perspective names: `inbox` is where the user *stores* files.
            client("HARBORCO", "Harbor County Public Works", "HARBORCO", "inbox", "outbox", county),
            client("RIVERTON", "City of Riverton Parks & Recreation", "RIVERTON", "810/out", "997/in", city),
        ],
        subcontractor: DemoPartner {
            alias: "GRANITERIDGE".into(),
            name: "Granite Ridge Drilling, Inc.".into(),
            role: "subcontractor".into(),
            deltek_id: "GRANITE".into(),
            outbound_folder: "acks".into(),
            inbound_folder: "inbound".into(),
            profile: sub,
        },
        subcontract_pos: (1..=3).map(|i| format!("SC-{year_suffix}{:03}", 40 + i + (seed % 7) as u32)).collect(),
        month_start: NaiveDate::from_ymd_opt(2025, 5, 1).unwrap_or_default(),
    }
}

/// `[connections.cleo]` settings that go with the demo company: a folder pair per partner
/// (`<alias>-out` we upload into, `<alias>-in` we collect from, lower-case), our X12 identity,
/// and a partner profile each — the three clients with the Deltek client invoiced through them,
/// the subcontractor with none. What `mlc demo deltek-cleo` and the end-to-end tests configure.
pub fn demo_settings(c: &DemoCompany) -> serde_json::Map<String, Value> {
    use serde_json::json;
    let mut folders = serde_json::Map::new();
    let mut partners = serde_json::Map::new();
    let separators = |s: &Separators| {
        json!({
            "element": s.element.to_string(),
            "component": s.component.to_string(),
            "repetition": s.repetition.to_string(),
            "segment": s.segment.to_string(),
            "line_ending": match s.line_ending { LineEnding::None => "none", LineEnding::Lf => "lf", LineEnding::CrLf => "crlf" },
        })
    };
    let all = c.clients.iter().chain(std::iter::once(&c.subcontractor));
    for p in all {
        let key = p.alias.to_ascii_lowercase();
        let (out, inb) = (format!("{key}-out"), format!("{key}-in"));
        folders.insert(out.clone(), json!({"mailbox": p.alias, "folder": p.outbound_folder, "direction": "outbound"}));
        folders.insert(inb.clone(), json!({"mailbox": p.alias, "folder": p.inbound_folder, "direction": "inbound"}));
        let client = p.role == "client";
        // A client's profile is ours to it (it is the receiver); the subcontractor's is its own.
        let (q, id, gs) = if client {
            (&p.profile.receiver_qualifier, &p.profile.receiver_id, p.profile.gs_receiver.clone())
        } else {
            (&p.profile.sender_qualifier, &p.profile.sender_id, p.profile.gs_sender.clone())
        };
        let mut partner = json!({
            "name": p.name,
            "qualifier": q,
            "id": id,
            "outbound": out,
            "inbound": inb,
            "clients": if client { vec![p.deltek_id.clone()] } else { Vec::new() },
            "release": p.profile.release.gs08(),
            "separators": separators(&p.profile.separators),
        });
        if let Some(g) = gs {
            partner["gs_id"] = json!(g);
        }
        partners.insert(p.alias.clone(), partner);
    }
    let mut m = serde_json::Map::new();
    m.insert("folders".into(), Value::Object(folders));
    m.insert("edi".into(), json!({"qualifier": c.isa_qualifier, "id": c.isa_id}));
    m.insert("partners".into(), Value::Object(partners));
    m
}

fn mailbox(p: &DemoPartner, script: PartnerScript) -> Mailbox {
    Mailbox {
        id: String::new(),
        alias: p.alias.clone(),
        description: p.name.clone(),
        folders: vec![
            Folder {
                id: String::new(),
                name: p.outbound_folder.clone(),
                upload: true,
                download: false,
                files: Vec::new(),
            },
            Folder {
                id: String::new(),
                name: p.inbound_folder.clone(),
                upload: false,
                download: true,
                files: Vec::new(),
            },
        ],
        partner: Some(script),
    }
}

/// The demo scenario for a seed.
pub fn demo(seed: u64) -> CleoScenario {
    let c = demo_company(seed);
    let mut mailboxes = Vec::new();
    for (i, p) in c.clients.iter().enumerate() {
        let script = PartnerScript {
            name: p.name.clone(),
            collects_from: p.outbound_folder.clone(),
            drops_into: p.inbound_folder.clone(),
            // Harbor County rejects the second invoice it receives (its N1*BT id check).
            reject_ordinals: if p.alias == "HARBORCO" { vec![2] } else { Vec::new() },
            seed: seed.wrapping_mul(31).wrapping_add(i as u64),
            ..PartnerScript::default()
        };
        mailboxes.push(mailbox(p, script));
    }
    let s = &c.subcontractor;
    mailboxes.push(mailbox(
        s,
        PartnerScript {
            name: s.name.clone(),
            collects_from: s.outbound_folder.clone(),
            drops_into: s.inbound_folder.clone(),
            profile: Some(s.profile.clone()),
            customer: c.name.clone(),
            po_numbers: c.subcontract_pos.clone(),
            invoice_prefix: "GRD-".into(),
            seed,
            ..PartnerScript::default()
        },
    ));
    // A month of inbound invoices: a file about every four working days, one to three invoices
    // each, then the broken file and the duplicate re-send.
    let mut sends = Vec::new();
    let start = c.month_start;
    let at = |d: NaiveDate, h: u32| Utc.from_utc_datetime(&d.and_hms_opt(h, 15, 0).unwrap_or_default());
    let mut day = start + Duration::days(1);
    let mut k = 0u64;
    while day.month() == start.month() {
        if !matches!(day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) && k.is_multiple_of(4) {
            let count = 1 + (super::state::splitmix(seed ^ k) % 3) as usize;
            sends.push(SendSpec { mailbox: s.alias.clone(), count, variant: "valid".into(), at: Some(at(day, 9)) });
        }
        k += 1;
        day += Duration::days(1);
    }
    let last = start + Duration::days(29);
    sends.push(SendSpec { mailbox: s.alias.clone(), count: 2, variant: "broken".into(), at: Some(at(last, 10)) });
    sends.push(SendSpec { mailbox: s.alias.clone(), count: 1, variant: "duplicate".into(), at: Some(at(last, 11)) });
    CleoScenario { users: demo_users(), mailboxes, switches: None, partner_sends: sends }
}
