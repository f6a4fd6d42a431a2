//! What the four Procore → Deltek Vantagepoint flows share: the mapping scope, how a Procore
//! cost line lands on a Deltek GL account and project level, the poll options, and the optional
//! `origin_id` write-back.
//!
//! **Mappings** (scope `procore-deltek`; `mlc mappings import` takes them as CSV rows):
//!
//! | kind | source code | target | used by |
//! |---|---|---|---|
//! | `vendor` | Procore vendor id (`17700003`) | Deltek vendor number (`BRM`) | both AP flows; learnt by `procore-deltek-vendors` |
//! | `project` | Procore project id (`2783400100`) | Deltek `WBS1` (or `WBS1\|WBS2\|WBS3`) | every flow |
//! | `cost_code` | full cost code (`03-300`) | the level(s) below WBS1: `WBS2` or `WBS2\|WBS3` (`03`) | every flow, with `phase_source = "cost_code"` |
//! | `cost_type` | cost type code (`S`, `M`, `L` …) | GL account (`57100`) | both AP flows, with `account_source = "cost_type"` |
//! | `account` | full cost code (`03-300`) | GL account | both AP flows, with `account_source = "cost_code"` |
//! | `commitment_posted` | `<entity>:<project>/<id>` | what ml-connector posted for a commitment (learnt; see the commitments flow) | commitments |
//!
//! **A line's project.** The project mapping gives `WBS1`; when it names lower levels too, they
//! are used as they are. Otherwise, with `phase_source = "cost_code"` (default), the cost code
//! mapping gives the phase (and task) below it, so `03-300` on job `25-101` lands on
//! `2025101.00 / 03`; a line without a cost code stays on `WBS1`. `phase_source = "none"` keeps
//! every line on the project mapping's levels.
//!
//! **A line's account.** `account_source = "cost_type"` (default): the cost type's mapping
//! (`S` → `57100 Job Cost - Subcontracts`); `"cost_code"`: an `account` mapping per cost code.
//! A line with no cost type (or no cost code) when its account depends on one cannot be placed:
//! the document fails naming the line, and the fix is in Procore.
//!
//! Every missing mapping of a document is reported at once (`needs_mapping`, by key); adding
//! them releases exactly the documents that waited.

use chrono::NaiveDate;
use mlc_core::domain::ProjectRef;
use mlc_core::engine::flow::{MapError, StepError};
use mlc_core::mapping::{MappingKey, MappingKind, Resolver};
use mlc_core::money::Currency;
use mlc_procore::{ProcoreClient, Project};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The mapping scope the Procore → Deltek flows share by default.
pub const SCOPE: &str = "procore-deltek";

/// ml-connector's own record of what it posted for a commitment or change order (learnt).
pub const COMMITMENT_POSTED: MappingKind = MappingKind::named("commitment_posted");

mlc_core::register_mapping_kind!(
    K_COMMITMENT_POSTED,
    "commitment_posted",
    &[],
    "what ml-connector posted to Deltek for a Procore commitment or change order (learnt; the next revision posts the difference from it)"
);

/// Where a cost line's GL account comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AccountSource {
    /// The cost type's mapping (`cost_type` `S` → `57100`).
    #[default]
    CostType,
    /// An `account` mapping per full cost code (`03-300` → `57100`).
    CostCode,
}

/// Where the project levels below WBS1 come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PhaseSource {
    /// The cost code's mapping (`03-300` → `03`).
    #[default]
    CostCode,
    /// Only the project mapping's levels.
    None,
}

/// One cost line of a Procore document, before mapping.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostLine {
    pub description: String,
    /// Full cost code (`03-300`).
    pub cost_code: Option<String>,
    /// Cost type code (`S`).
    pub cost_type: Option<String>,
    pub amount: Decimal,
    pub quantity: Option<Decimal>,
    pub unit_price: Option<Decimal>,
}

/// A line placed in Deltek: account and project level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub account: String,
    pub project: Option<ProjectRef>,
}

/// How lines are placed (from a flow's options).
#[derive(Debug, Clone)]
pub struct Placer {
    pub scope: String,
    pub account_source: AccountSource,
    pub phase_source: PhaseSource,
}

fn clean(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Placer {
    fn key(&self, kind: MappingKind, code: &str) -> MappingKey {
        MappingKey::new(&self.scope, kind, code)
    }

    /// Every key placing `lines` of project `project` may need (`account` = None: the account
    /// comes from the lines' cost type or cost code).
    pub fn keys(&self, project: i64, lines: &[CostLine], account_fixed: bool) -> Vec<MappingKey> {
        let mut keys = vec![self.key(MappingKind::PROJECT, &project.to_string())];
        for l in lines {
            if let Some(cc) = clean(&l.cost_code) {
                if self.phase_source == PhaseSource::CostCode {
                    keys.push(self.key(MappingKind::COST_CODE, cc));
                }
                if !account_fixed && self.account_source == AccountSource::CostCode {
                    keys.push(self.key(MappingKind::ACCOUNT, cc));
                }
            }
            if !account_fixed
                && self.account_source == AccountSource::CostType
                && let Some(ct) = clean(&l.cost_type)
            {
                keys.push(self.key(MappingKind::COST_TYPE, ct));
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// The project mapping of `project` (`WBS1` or `WBS1|WBS2|WBS3`); `None` while missing.
    pub fn project(&self, r: &mut Resolver<'_>, project: i64) -> Result<Option<ProjectRef>, MapError> {
        match r.resolve(MappingKind::PROJECT, &project.to_string()) {
            Some(t) => ProjectRef::parse_key(&t).map(Some).ok_or_else(|| {
                MapError::Invalid(format!(
                    "the project mapping of Procore project {project} is {t:?}, not a Deltek project (WBS1 or WBS1|WBS2|WBS3): fix the mapping"
                ))
            }),
            None => Ok(None),
        }
    }

    /// Place one line: its account (`fixed`, or from its cost type / cost code) and project.
    /// `None` parts are missing mappings (recorded in `r`); a line that cannot be placed at all
    /// is `MapError::Invalid` naming it.
    pub fn place(
        &self,
        r: &mut Resolver<'_>,
        base: Option<&ProjectRef>,
        line: &CostLine,
        fixed: Option<&str>,
        what: &str,
    ) -> Result<Option<Placed>, MapError> {
        let account = match fixed {
            Some(a) => Some(a.to_string()),
            None => match self.account_source {
                AccountSource::CostType => {
                    let ct = clean(&line.cost_type).ok_or_else(|| {
                        MapError::Invalid(format!(
                            "{what} ({}) has no cost type in Procore, and accounts come from cost types \
                             (account_source = \"cost_type\"): give the line a cost type in Procore, then replay",
                            line.description
                        ))
                    })?;
                    r.resolve(MappingKind::COST_TYPE, ct)
                }
                AccountSource::CostCode => {
                    let cc = clean(&line.cost_code).ok_or_else(|| {
                        MapError::Invalid(format!(
                            "{what} ({}) has no cost code in Procore, and accounts come from cost codes \
                             (account_source = \"cost_code\"): give the line a cost code in Procore, then replay",
                            line.description
                        ))
                    })?;
                    r.resolve(MappingKind::ACCOUNT, cc)
                }
            },
        };
        let project = match base {
            None => None,
            Some(p) if p.depth() > 1 || self.phase_source == PhaseSource::None => Some(p.clone()),
            Some(p) => match clean(&line.cost_code) {
                None => Some(p.clone()),
                Some(cc) => match r.resolve(MappingKind::COST_CODE, cc) {
                    None => None,
                    Some(phase) => {
                        let below: Vec<Option<String>> = phase.split('|').map(|s| Some(s.to_string())).collect();
                        let segments = std::iter::once(Some(p.top().to_string())).chain(below);
                        Some(ProjectRef::from_segments(segments).ok_or_else(|| {
                            MapError::Invalid(format!(
                                "the cost code mapping of {cc} is {phase:?}, not a phase (WBS2 or WBS2|WBS3)"
                            ))
                        })?)
                    }
                },
            },
        };
        Ok(match (account, project, base) {
            (Some(account), Some(project), Some(_)) => Some(Placed { account, project: Some(project) }),
            _ => None,
        })
    }
}

/// `25-101 Riverside Medical Office Building` (or `project 2783400100`).
pub fn project_label(project: Option<&Project>, id: i64) -> String {
    match project {
        Some(p) => match &p.project_number {
            Some(n) => format!("{n} {}", p.name.as_deref().unwrap_or_default()).trim().to_string(),
            None => p.label(),
        },
        None => format!("project {id}"),
    }
}

/// `25-101` (or the project id).
pub fn project_number(project: Option<&Project>, id: i64) -> String {
    project.and_then(|p| p.project_number.clone()).unwrap_or_else(|| id.to_string())
}

/// The currency of a Procore document: its own, else the flow's `currency` option.
pub fn currency(code: Option<&str>, default: &str, what: &str) -> Result<Currency, MapError> {
    let c = code.unwrap_or(default);
    c.parse().map_err(|e| MapError::Invalid(format!("{what}: currency {c:?}: {e}")))
}

/// A version from the fields a flow reads (so a change elsewhere, such as an `origin_id`
/// written back, does not make new work).
pub fn fingerprint<T: Serialize>(what: &T) -> String {
    let json = serde_json::to_vec(what).unwrap_or_default();
    Sha256::digest(&json).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// First of the dates that is set.
pub fn first_date(dates: &[Option<NaiveDate>]) -> Option<NaiveDate> {
    dates.iter().flatten().next().copied()
}

/// The write-back some customers want: stamp the Procore record with the Deltek document it
/// became. Off by default: `origin_id` locks the record in Procore ("synced with ERP").
#[derive(Clone)]
pub struct WriteBack {
    pub client: ProcoreClient,
}

impl WriteBack {
    /// The `origin_id` a Deltek voucher gives its Procore record.
    pub fn origin_id(target: &mlc_core::engine::model::TargetRef) -> String {
        format!("deltek:{}", target.id)
    }

    pub async fn requisition(&self, project: i64, id: i64, origin: &str) -> Result<(), StepError> {
        self.client.set_requisition_origin_id(project, id, origin).await.map(|_| ()).map_err(StepError::from)
    }

    pub async fn direct_cost(&self, project: i64, id: i64, origin: &str) -> Result<(), StepError> {
        self.client.set_direct_cost_origin_id(project, id, origin).await.map(|_| ()).map_err(StepError::from)
    }
}

/// How far back a first poll looks (`initial_lookback_days`, 0 = everything).
pub fn lookback(days: u32) -> Option<std::time::Duration> {
    (days > 0).then(|| std::time::Duration::from_secs(u64::from(days) * 86_400))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlc_core::mapping::{Mapping, MappingSet};

    fn set(rows: &[(MappingKind, &str, &str)]) -> MappingSet {
        rows.iter()
            .map(|(k, s, t)| Mapping {
                key: MappingKey::new(SCOPE, k.clone(), s),
                target: t.to_string(),
                note: None,
                updated_at: chrono::Utc::now(),
            })
            .collect()
    }

    fn line(cc: Option<&str>, ct: Option<&str>) -> CostLine {
        CostLine {
            description: "Concrete - base scope".into(),
            cost_code: cc.map(String::from),
            cost_type: ct.map(String::from),
            amount: Decimal::from(100),
            quantity: None,
            unit_price: None,
        }
    }

    #[test]
    fn lines_land_on_the_cost_code_phase_and_the_cost_type_account() {
        let p = Placer {
            scope: SCOPE.into(),
            account_source: AccountSource::CostType,
            phase_source: PhaseSource::CostCode,
        };
        let s = set(&[
            (MappingKind::PROJECT, "7", "2025101.00"),
            (MappingKind::COST_CODE, "03-300", "03"),
            (MappingKind::COST_TYPE, "S", "57100"),
        ]);
        let mut r = Resolver::new(&s, SCOPE);
        let base = p.project(&mut r, 7).unwrap();
        let placed = p.place(&mut r, base.as_ref(), &line(Some("03-300"), Some("S")), None, "line 1").unwrap().unwrap();
        assert_eq!((placed.account.as_str(), placed.project.unwrap().key()), ("57100", "2025101.00|03".to_string()));
        // A line without a cost code stays on WBS1; a fixed account needs no cost type.
        let placed = p.place(&mut r, base.as_ref(), &line(None, None), Some("58100"), "line 2").unwrap().unwrap();
        assert_eq!(placed.project.unwrap().key(), "2025101.00");
        // Missing mappings are collected, all at once.
        assert!(p.place(&mut r, base.as_ref(), &line(Some("02-400"), Some("X")), None, "line 3").unwrap().is_none());
        let missing = r.finish().unwrap_err();
        assert_eq!(missing.len(), 2, "{missing:?}");
        assert_eq!(
            p.keys(7, &[line(Some("03-300"), Some("S"))], false).iter().map(|k| k.id()).collect::<Vec<_>>(),
            ["procore-deltek/cost_code/03-300", "procore-deltek/cost_type/S", "procore-deltek/project/7"]
        );
    }

    #[test]
    fn a_line_without_a_cost_type_is_named() {
        let p =
            Placer { scope: SCOPE.into(), account_source: AccountSource::CostType, phase_source: PhaseSource::None };
        let s = set(&[(MappingKind::PROJECT, "7", "2025101.00|01")]);
        let mut r = Resolver::new(&s, SCOPE);
        let base = p.project(&mut r, 7).unwrap();
        match p.place(&mut r, base.as_ref(), &line(Some("03-300"), None), None, "row 4") {
            Err(MapError::Invalid(m)) => assert!(m.contains("row 4") && m.contains("no cost type"), "{m}"),
            other => panic!("{other:?}"),
        }
        let bad = set(&[(MappingKind::PROJECT, "8", "|x")]);
        let mut r = Resolver::new(&bad, SCOPE);
        assert!(matches!(p.project(&mut r, 8), Err(MapError::Invalid(_))));
    }
}
