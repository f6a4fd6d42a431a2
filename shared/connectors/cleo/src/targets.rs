//! Cleo as a target: outbound 810 files in partners' folders, and the acknowledgments (997s)
//! partners send back for them.
//!
//! - [`Edi810Target`] (`810-file`): one AR invoice → one interchange for its partner, rendered
//!   per the partner's profile and read back valid before anything moves, numbered from the
//!   partner's control sequence in the engine's store (`sequences()`: never reused, even across
//!   crashes or on AWS), kept (bytes as a blob, name and numbers in the partner's sent book), then
//!   uploaded under a unique timestamped name carrying the control number. Natural key:
//!   `810#<partner>#<invoice>`. **Look before you post**: the sent book says whether the invoice
//!   went; a send whose answer was lost is resolved by listing the folder for its name (or by the
//!   partner's 997 when it already collected the file) — never by a blind re-upload; a send that
//!   did not land is sent again with the same bytes, name and numbers. A send the partner
//!   rejected is sent again (new numbers) only when a person replays it after a fix.
//! - [`AckTarget`] (`997`): a partner's 997 for one of our groups, matched by GS06 (and the
//!   partner's id) to the sent interchange, recorded on the invoice's work item with
//!   `Engine::acknowledge`: accepted stays posted; rejected becomes a failed item naming the
//!   partner's AK3/AK4/AK5 errors, replayable after a fix.

use async_trait::async_trait;
use mlc_core::Engine;
use mlc_core::domain::ArInvoice;
use mlc_core::engine::flow::{Found, StepError};
use mlc_core::engine::model::{DocFacts, ItemState, TargetRef, WorkItem};
use mlc_core::engine::parts::{Target, TargetSpec};
use mlc_x12::ack997::{OutboundGroup, match_ack};
use mlc_x12::{AckCode, Numbers};

use crate::api::CleoClient;
use crate::edi::{self, InboundAck};
use crate::files::{outbound_file_name, sha256_hex};
use crate::ledger::store_error;
use crate::ledger::{self, AckSeen, Sent, SentState};
use crate::partners::{Partner, Partners};

/// An AR invoice for a partner, as the outbound flow maps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundInvoice {
    /// Partner key.
    pub partner: String,
    pub invoice: ArInvoice,
    /// The source document (`deltek ar-invoice 2025-EDI-01|0025501`).
    pub source_doc: String,
}

/// The natural key of an outbound 810.
pub fn invoice_key(partner: &str, invoice: &str) -> String {
    format!("810#{partner}#{}", invoice.trim().to_uppercase())
}

fn partner<'a>(partners: &'a Partners, key: &str, connection: &str) -> Result<&'a Partner, StepError> {
    partners.get(key).ok_or_else(|| {
        StepError::permanent(format!(
            "partner {key} is not configured on Cleo connection {connection} (partners: {})",
            partners.keys().join(", ")
        ))
    })
}

fn sent_ref(partner: &Partner, folder_label: &str, s: &Sent) -> TargetRef {
    let status = match (&s.ack, s.state) {
        (Some(a), _) if AckCode::from_code(&a.status).is_accepted() => "accepted by the partner (997)".to_string(),
        (Some(a), _) => format!("rejected by the partner (997 {})", a.status),
        (None, SentState::Sending) => "upload in doubt".into(),
        (None, _) => "sent; awaiting the partner's 997".into(),
    };
    TargetRef {
        system: "cleo".into(),
        entity: "810-file".into(),
        id: format!("{folder_label}/{}", s.file),
        display: Some(format!("810 file {} in {folder_label} to {} (ISA13 {})", s.file, partner.key, s.isa13)),
        status: Some(status),
    }
}

/// Outbound 810s, one interchange per invoice.
pub struct Edi810Target {
    spec: TargetSpec,
    client: CleoClient,
    partners: Partners,
    engine: Engine,
}

impl Edi810Target {
    pub fn new(connection: &str, client: CleoClient, engine: &Engine) -> Self {
        let s = client.settings();
        let partners = Partners::from_settings(&s.edi, &s.partners);
        Edi810Target {
            spec: TargetSpec { connection: connection.to_string(), system: "cleo".into(), entity: "810-file".into() },
            client,
            partners,
            engine: engine.clone(),
        }
    }

    /// The partners this target writes to.
    pub fn partners(&self) -> &Partners {
        &self.partners
    }

    fn folder_label(&self, key: &str) -> String {
        match self.client.settings().folders.get(key) {
            Some(f) => format!("{}/{}", f.mailbox, f.folder),
            None => key.to_string(),
        }
    }

    /// The newest send of this invoice to this partner.
    async fn latest(&self, p: &Partner, nk: &str) -> Result<Option<Sent>, StepError> {
        let book = ledger::sent_book(&self.engine, &self.spec.connection, &p.key);
        let all = book.all().await.map_err(|e| store_error("the sent book", e))?;
        Ok(all.into_iter().rev().find(|(_, s)| s.nk == nk).map(|(_, s)| s))
    }

    async fn mark_uploaded(&self, p: &Partner, s: &Sent) -> Result<(), StepError> {
        let book = ledger::sent_book(&self.engine, &self.spec.connection, &p.key);
        book.modify(&s.isa13.to_string(), |e| {
            if e.state == SentState::Sending {
                e.state = SentState::Uploaded;
            }
        })
        .await
        .map_err(|e| store_error("the sent book", e))?;
        Ok(())
    }

    /// Upload kept bytes under their kept name (looked up first).
    async fn upload_kept(&self, p: &Partner, s: &Sent) -> Result<TargetRef, StepError> {
        let bytes =
            self.engine.store.get_blob(&s.sha256).await.map_err(|e| store_error("the kept 810", e))?.ok_or_else(
                || StepError::permanent(format!("the kept copy of 810 file {} is gone from the store", s.file)),
            )?;
        let folder = self.client.folder(&s.folder).await?;
        self.client.upload_once(&folder, &s.file, &bytes).await?;
        self.mark_uploaded(p, s).await?;
        let mut done = s.clone();
        done.state = SentState::Uploaded;
        Ok(sent_ref(p, &folder.label(), &done))
    }
}

#[async_trait]
impl Target for Edi810Target {
    type Doc = OutboundInvoice;

    fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    fn natural_key(&self, doc: &OutboundInvoice) -> String {
        invoice_key(&doc.partner, &doc.invoice.invoice_number)
    }

    fn facts(&self, doc: &OutboundInvoice) -> DocFacts {
        let i = &doc.invoice;
        let amount = edi::signed(i.kind, i.total);
        DocFacts {
            source_doc: Some(doc.source_doc.clone()),
            amount: Some(amount),
            currency: Some(i.currency.to_string()),
            date: Some(i.invoice_date),
            label: Some(format!(
                "810 {} to {} for {}, {} {}, {}",
                i.invoice_number,
                doc.partner,
                i.buyer.name,
                i.currency,
                amount.round_dp(2),
                i.invoice_date
            )),
        }
    }

    async fn lookup(&self, doc: &OutboundInvoice) -> Result<Option<Found>, StepError> {
        let p = partner(&self.partners, &doc.partner, &self.spec.connection)?;
        let nk = self.natural_key(doc);
        let facts = self.facts(doc);
        match self.latest(p, &nk).await? {
            Some(s) => {
                let label = self.folder_label(&s.folder);
                let rejected_and_told = s.state == SentState::Rejected && s.ack.as_ref().is_some_and(|a| a.applied);
                if rejected_and_told {
                    // A person replayed a rejected invoice after a fix: it goes again.
                    return Ok(None);
                }
                if s.landed() {
                    return Ok(Some(Found::new(sent_ref(p, &label, &s)).with_facts(facts)));
                }
                // Sending: the upload's answer was lost (or never came). Is it there?
                let folder = self.client.folder(&s.folder).await?;
                let found = self.client.find_files(&folder, &s.file).await?;
                let size = Some(s.size).filter(|n| *n > 0);
                if found.iter().any(|f| f.size.is_none() || size.is_none() || f.size == size) {
                    self.mark_uploaded(p, &s).await?;
                    let mut done = s.clone();
                    done.state = SentState::Uploaded;
                    return Ok(Some(Found::new(sent_ref(p, &label, &done)).with_facts(facts)));
                }
                Ok(None)
            }
            None => {
                // The book keeps the newest sends; the engine's items remember every one.
                let items = self
                    .engine
                    .store
                    .holding_natural_key(&self.spec.connection, "", &nk)
                    .await
                    .map_err(|e| store_error("the posted items", e))?;
                Ok(items
                    .into_iter()
                    .find(|i| i.state == ItemState::Posted && i.target.is_some())
                    .and_then(|i| i.target)
                    .map(|t| Found::new(t).with_facts(facts)))
            }
        }
    }

    async fn create(&self, doc: &OutboundInvoice) -> Result<TargetRef, StepError> {
        let conn = self.spec.connection.clone();
        let p = partner(&self.partners, &doc.partner, &conn)?;
        let nk = self.natural_key(doc);
        if let Some(s) = self.latest(p, &nk).await?
            && s.state == SentState::Sending
            && s.ack.is_none()
        {
            // Numbered and kept by an earlier attempt that did not land: the same file again.
            return self.upload_kept(p, &s).await;
        }
        let Some(out) = p.outbound.clone() else {
            return Err(StepError::permanent(format!(
                "partner {} has no outbound folder: set partners.{}.outbound on connection {conn}",
                p.key, p.key
            )));
        };
        let now = self.engine.clock.now();
        // Proven before a number is taken: a bad profile or invoice costs no control number.
        edi::render_810(p, &doc.invoice, Numbers::single(1), now.naive_utc()).map_err(|e| {
            StepError::permanent(format!(
                "invoice {}: {e}; fix the invoice or the partner profile, then replay",
                doc.invoice.invoice_number
            ))
        })?;
        let n = self
            .engine
            .sequences()
            .next(&ledger::control_sequence(&conn, &p.key), u64::from(mlc_x12::control::MAX_CONTROL))
            .await
            .map_err(|e| store_error("the control-number sequence", e))?;
        let n = u32::try_from(n).map_err(|_| StepError::permanent(format!("control number {n} is out of range")))?;
        let rendered = edi::render_810(p, &doc.invoice, Numbers::single(n), now.naive_utc())
            .map_err(|e| StepError::permanent(format!("invoice {}: {e}", doc.invoice.invoice_number)))?;
        let sha = sha256_hex(&rendered.bytes);
        self.engine.store.put_blob(&sha, &rendered.bytes).await.map_err(|e| store_error("keeping the 810", e))?;
        let sent = Sent {
            nk: nk.clone(),
            invoice: doc.invoice.invoice_number.clone(),
            file: outbound_file_name("810", &p.key, n, now),
            folder: out,
            isa13: rendered.group.interchange_control,
            gs06: rendered.group.group_control,
            sets: rendered.group.sets.clone(),
            version: rendered.group.version.clone(),
            sha256: sha,
            size: rendered.bytes.len() as u64,
            sent_at: now,
            state: SentState::Sending,
            ack: None,
            overdue_noted: false,
        };
        ledger::sent_book(&self.engine, &conn, &p.key)
            .put(&sent.isa13.to_string(), sent.clone())
            .await
            .map_err(|e| store_error("the sent book", e))?;
        self.upload_kept(p, &sent).await
    }
}

/// A partner's 997 for one of our groups, as the 997 flow maps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckDoc {
    pub partner: String,
    pub ack: InboundAck,
    /// The inbound file it came in (`MAILBOX/folder/name`).
    pub file: String,
}

/// Acknowledgments of our 810s, recorded on the invoices' work items.
pub struct AckTarget {
    spec: TargetSpec,
    partners: Partners,
    engine: Engine,
}

impl AckTarget {
    /// `connection` is the Cleo connection the 810s were uploaded through (their natural keys
    /// live in its scope).
    pub fn new(connection: &str, client: CleoClient, engine: &Engine) -> Self {
        let s = client.settings();
        let partners = Partners::from_settings(&s.edi, &s.partners);
        AckTarget {
            spec: TargetSpec { connection: connection.to_string(), system: "cleo".into(), entity: "997".into() },
            partners,
            engine: engine.clone(),
        }
    }

    /// The sent interchange a 997 acknowledges: same group control number (numerically).
    async fn sent_for(&self, p: &Partner, doc: &AckDoc) -> Result<Option<(String, Sent)>, StepError> {
        let book = ledger::sent_book(&self.engine, &self.spec.connection, &p.key);
        let all = book.all().await.map_err(|e| store_error("the sent book", e))?;
        Ok(all
            .into_iter()
            .rev()
            .find(|(_, s)| mlc_x12::envelope::same_control(&s.gs06.to_string(), &doc.ack.ack.group_control)))
    }
}

fn ack_status(ack: &mlc_x12::ack997::Ack997) -> String {
    ack.status.code().to_string()
}

#[async_trait]
impl Target for AckTarget {
    type Doc = AckDoc;

    fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    fn natural_key(&self, doc: &AckDoc) -> String {
        format!("997#{}#{}", doc.partner, doc.ack.control)
    }

    fn facts(&self, doc: &AckDoc) -> DocFacts {
        DocFacts {
            source_doc: Some(format!("cleo 997 {}", doc.ack.doc_id)),
            label: Some(format!(
                "997 from {} for group {}: {}",
                doc.partner,
                doc.ack.ack.group_control,
                ack_status(&doc.ack.ack)
            )),
            ..Default::default()
        }
    }

    async fn lookup(&self, doc: &AckDoc) -> Result<Option<Found>, StepError> {
        let p = partner(&self.partners, &doc.partner, &self.spec.connection)?;
        let Some((_, s)) = self.sent_for(p, doc).await? else { return Ok(None) };
        match &s.ack {
            Some(a) if a.control == doc.ack.control && a.applied => {
                Ok(Some(Found::new(ack_ref(doc, &s, &a.status)).with_facts(self.facts(doc))))
            }
            _ => Ok(None),
        }
    }

    async fn create(&self, doc: &AckDoc) -> Result<TargetRef, StepError> {
        let conn = self.spec.connection.clone();
        let p = partner(&self.partners, &doc.partner, &conn)?;
        let ack = &doc.ack.ack;
        if ack.functional_id != "IN" {
            return Err(StepError::permanent(format!(
                "the 997 {} acknowledges a {} group, not invoices",
                doc.ack.control, ack.functional_id
            )));
        }
        let Some((book_key, s)) = self.sent_for(p, doc).await? else {
            return Err(StepError::permanent(format!(
                "the 997 {} from {} (file {}) acknowledges group {}, which matches no 810 ml-connector sent to this \
                 partner through connection {conn}: look at the file (`mlc x12 parse`); it may answer another \
                 system's invoices",
                doc.ack.control,
                p.label(),
                doc.file,
                ack.group_control
            )));
        };
        let group = OutboundGroup {
            partner: p.key.clone(),
            sender_id: p.profile.sender_id.trim().to_string(),
            receiver_id: p.profile.receiver_id.trim().to_string(),
            interchange_control: s.isa13,
            group_control: s.gs06,
            functional_id: "IN".into(),
            version: s.version.clone(),
            sets: s.sets.clone(),
        };
        let m = match_ack(ack, Some(doc.ack.sender.as_str()), std::slice::from_ref(&group))
            .map_err(|e| StepError::permanent(format!("the 997 {} from {}: {e}", doc.ack.control, p.label())))?;
        let accepted =
            !m.sets.is_empty() && m.unacknowledged.is_empty() && m.sets.iter().all(|x| x.status.is_accepted());
        let errors: Vec<String> = m.sets.iter().flat_map(|x| x.errors.iter().map(|e| e.trim().to_string())).collect();
        let status = m.sets.first().map_or_else(|| m.status.code().to_string(), |x| x.status.code().to_string());
        let seen = AckSeen {
            status: status.clone(),
            control: doc.ack.control.clone(),
            file: doc.file.clone(),
            at: self.engine.clock.now(),
            errors: errors.clone(),
            applied: false,
        };
        // Recorded before the item is told: an upload whose answer was lost is settled by it.
        let book = ledger::sent_book(&self.engine, &conn, &p.key);
        let record = |applied: bool| {
            let mut seen = seen.clone();
            seen.applied = applied;
            move |e: &mut Sent| {
                e.ack = Some(seen.clone());
                e.state = if accepted { SentState::Accepted } else { SentState::Rejected };
            }
        };
        book.modify(&book_key, record(false)).await.map_err(|e| store_error("the sent book", e))?;
        let item = self.invoice_item(&s).await?;
        let msg = if accepted {
            format!(
                "{} accepted invoice {} (997 {}, AK5 {status}) in {}",
                p.label(),
                s.invoice,
                doc.ack.control,
                doc.file
            )
        } else {
            format!(
                "{} rejected invoice {} in its 997 {} (AK5 {status}, file {}): {}",
                p.label(),
                s.invoice,
                doc.ack.control,
                doc.file,
                if errors.is_empty() { "no AK3/AK4 detail given".to_string() } else { errors.join("; ") }
            )
        };
        self.engine
            .acknowledge(&item.key, accepted, &msg)
            .await
            .map_err(|e| StepError::retryable(format!("recording the 997 on {}: {e}", item.key)))?;
        book.modify(&book_key, record(true)).await.map_err(|e| store_error("the sent book", e))?;
        Ok(ack_ref(doc, &s, &status))
    }
}

impl AckTarget {
    /// The work item that sent this interchange.
    async fn invoice_item(&self, s: &Sent) -> Result<WorkItem, StepError> {
        let items = self
            .engine
            .store
            .holding_natural_key(&self.spec.connection, "", &s.nk)
            .await
            .map_err(|e| store_error("the posted items", e))?;
        let posted = items
            .iter()
            .filter(|i| i.state == ItemState::Posted)
            .find(|i| i.target.as_ref().is_none_or(|t| t.id.ends_with(&format!("/{}", s.file))));
        match posted {
            Some(i) => Ok(i.clone()),
            None if items.iter().any(|i| i.state == ItemState::InDoubt) => Err(StepError::retryable(format!(
                "the upload of {} is still being settled; the 997 is recorded and will be applied to it next",
                s.file
            ))),
            None => Err(StepError::permanent(format!(
                "no posted work item holds invoice {} sent as {} (it was replayed or skipped since): the 997 is \
                 recorded in the partner's book",
                s.invoice, s.file
            ))),
        }
    }
}

fn ack_ref(doc: &AckDoc, s: &Sent, status: &str) -> TargetRef {
    let word = if AckCode::from_code(status).is_accepted() { "accepted" } else { "rejected" };
    TargetRef {
        system: "cleo".into(),
        entity: "997".into(),
        id: doc.ack.control.clone(),
        display: Some(format!(
            "997 {} from {}: invoice {} ({}) {word}",
            doc.ack.control, doc.partner, s.invoice, s.file
        )),
        status: Some(format!("{word} (AK5 {status})")),
    }
}
