//! Cleo as a source: the files trading partners drop into their inbound folders (`<connection>/
//! inbound-file`), read back once per file version however many flows consume them (the
//! inbound-810 flow into Deltek AP and the 997 flow that matches acknowledgments of our 810s).
//!
//! **Discovery** lists one partner's inbound folder per page (the cursor is the folder index, so a
//! poller that dies resumes at its folder); every listed file becomes a hint
//! `<folder key>/<name>#<Cleo id>` with its size and stamp as the observed version, so an
//! unchanged file that could not be deleted is not read again. Overdue 997s are noted on each
//! full pass.
//!
//! **Pickup** (the first read of a file): download (checked against the listing's size and hash)
//! → keep the exact bytes in the engine's store ([`ReadContext::blobs`]) → note the file in the
//! partner's received book (with, per interchange, whether the partner sent its ISA13 before, and
//! with the same bytes: `sequences().seen_before("isa13#…")` on the number and on number + digest)
//! → only then delete it in Cleo (404 is success; without
//! delete permission the file stays and is tracked by the book). A file tracked by folder + name +
//! size + content hash: a re-sent identical file is recognised, a changed file under an old name
//! is not lost.
//!
//! **Bounded reads.** Each read hands the engine at most `chunk_sets` transaction sets (one work
//! item per invoice); the rest of the file is the continuation `<sha256>:<resume point>` (the
//! next set's index and byte offsets, [`edi::Resume`]), read from the kept copy starting at that
//! set: the first read passes over the whole file once (it decides whether the file is held and
//! gathers its responses), every later read only over its own sets. A file of 500 invoices is
//! 500 items over ten reads.
//!
//! **Answers.** When the last chunk of a file is read, the responses answering it — a 997 per
//! group the partner's `acknowledge` rule covers (AK5 per set, AK9 per group; a held file
//! rejected) and a TA1 when its `ta1` rule says so — are numbered from the partner's control
//! sequence, kept, and uploaded to the partner's outbound folder under unique names, once: a
//! retry finds them kept and looks each name up before uploading. An identical re-send is not
//! answered again.
//!
//! A file listed but gone at read time is [`ReadBack::Gone`]; a read that fails is an error with
//! its class (the engine keeps a visible failed item and retries it).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mlc_core::Engine;
use mlc_core::engine::flow::{DiscoverContext, DiscoveryPage, ReadBack, StepError};
use mlc_core::engine::model::{AuditEntry, Cursor, Hint, ItemState, Origin};
use mlc_core::engine::parts::{ReadContext, Source, SourceRecord, SourceSpec};
use mlc_core::engine::ports::StoreError;
use mlc_x12::Numbers;

use crate::api::CleoClient;
use crate::edi::{self, InboundChunk, InboundFile, InterchangeSeen};
use crate::files::outbound_file_name;
use crate::ledger::{self, AnswerSent, Received, store_error};
use crate::model::Deleted;
use crate::partners::{Partner, Partners};

/// The record family of inbound files.
pub const FAMILY_INBOUND: &str = "inbound-file";
/// The hint entity of an inbound file.
pub const ENTITY_FILE: &str = "file";
/// How many ISA13s per partner are remembered for the re-send check.
pub const ISA13_MEMORY: usize = 2000;

/// Files in the partners' inbound folders.
pub struct InboundSource {
    spec: SourceSpec,
    client: CleoClient,
    partners: Partners,
    engine: Engine,
}

impl InboundSource {
    pub fn new(connection: &str, client: CleoClient, engine: &Engine) -> Self {
        let s = client.settings();
        let partners = Partners::from_settings(&s.edi, &s.partners);
        InboundSource {
            spec: SourceSpec {
                connection: connection.to_string(),
                system: "cleo".into(),
                family: FAMILY_INBOUND.into(),
                entities: vec![ENTITY_FILE.into()],
                has_webhooks: false,
            },
            client,
            partners,
            engine: engine.clone(),
        }
    }

    fn inbound_partners(&self) -> Vec<&Partner> {
        self.partners.iter().filter(|p| p.inbound.is_some()).collect()
    }

    /// `<folder key>/<name>#<id>` → (folder key, name, id).
    fn split_id(id: &str) -> Option<(&str, &str, &str)> {
        let (path, cleo_id) = id.rsplit_once('#')?;
        let (folder, name) = path.split_once('/')?;
        Some((folder, name, cleo_id))
    }

    /// Note every 997 that is now overdue on its invoice's item (once each).
    async fn note_overdue(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let conn = &self.spec.connection;
        for (o, noted) in ledger::overdue(&self.engine, conn, &self.partners, now).await? {
            if noted {
                continue;
            }
            let nk = format!("810#{}#{}", o.partner, o.invoice.trim().to_uppercase());
            let msg = format!(
                "no 997 from {} for invoice {} ({}, sent {}) after {} hours: ask the partner whether it arrived; \
                 replaying the item sends it again under a new control number",
                o.partner,
                o.invoice,
                o.file,
                o.sent_at.format("%Y-%m-%d %H:%M UTC"),
                o.hours
            );
            tracing::warn!(connection = %conn, partner = %o.partner, invoice = %o.invoice, "997 overdue");
            for item in self.engine.store.holding_natural_key(conn, "", &nk).await? {
                if item.state == ItemState::Posted {
                    let mut a = AuditEntry::new(now, &self.engine.worker, "ack_overdue", msg.clone());
                    a.from = Some(item.state);
                    self.engine.store.append_audit(&item.key, a).await?;
                }
            }
            let file = o.file.clone();
            ledger::sent_book(&self.engine, conn, &o.partner)
                .update(|entries| {
                    for (_, s) in entries.iter_mut().filter(|(_, s)| s.file == file) {
                        s.overdue_noted = true;
                    }
                })
                .await?;
        }
        Ok(())
    }

    /// First read: download, keep, note, delete. Returns the bytes and the book entry.
    async fn pick_up(
        &self,
        hint_id: &str,
        partner: &Partner,
        folder_key: &str,
        name: &str,
        cleo_id: &str,
        ctx: &ReadContext<'_>,
    ) -> Result<Result<(Vec<u8>, Received), String>, StepError> {
        let conn = &self.spec.connection;
        let book = ledger::received_book(&self.engine, conn, &partner.key);
        let kept = book.get(hint_id).await.map_err(|e| store_error("the received book", e))?;
        if let Some(entry) = kept
            && let Some(bytes) = ctx.blobs.get(&entry.sha256).await.map_err(|e| store_error("the kept file", e))?
        {
            return Ok(Ok((bytes, entry)));
        }
        let folder = self.client.folder(folder_key).await?;
        let listed = self.client.find_files(&folder, name).await?;
        let Some(file) = listed.iter().find(|f| f.id == cleo_id) else {
            return Ok(Err(format!(
                "{}/{name} is no longer in the folder (taken by another process, or removed in Cleo)",
                folder.label()
            )));
        };
        let d = self.client.download(file).await?;
        let sha = ctx.blobs.put(&d.bytes).await.map_err(|e| store_error("keeping the downloaded file", e))?;
        // A re-send: the ISA13 seen before from this partner (and with these very bytes, or not).
        let mut seen = Vec::new();
        for (header, digest) in edi::interchanges(&d.bytes, partner) {
            let control = header.control.trim().to_string();
            let key = mlc_x12::headers::control_key(&control);
            let numbers = format!("isa13#{conn}#{}", partner.key);
            let contents = format!("isa13-digest#{conn}#{}", partner.key);
            let seq = self.engine.sequences();
            let number_seen =
                seq.seen_before(&numbers, &key, ISA13_MEMORY).await.map_err(|e| store_error("the ISA13 memory", e))?;
            let same_seen = seq
                .seen_before(&contents, &format!("{key}:{digest}"), ISA13_MEMORY)
                .await
                .map_err(|e| store_error("the ISA13 memory", e))?;
            seen.push(InterchangeSeen {
                control,
                sender: header.sender_id.trim().to_string(),
                test: header.usage == "T",
                resent: number_seen && same_seen,
                reused: number_seen && !same_seen,
                digest,
            });
        }
        let entry = Received {
            name: name.to_string(),
            size: d.bytes.len() as u64,
            sha256: sha,
            picked_at: ctx.now,
            interchanges: seen,
            in_cleo: "kept".into(),
            answers: Vec::new(),
            answered: false,
        };
        book.put(hint_id, entry.clone()).await.map_err(|e| store_error("the received book", e))?;
        let mut entry = entry;
        if self.client.settings().delete_after_pickup {
            entry.in_cleo = match self.client.delete(file).await? {
                Deleted::Removed => "removed".into(),
                Deleted::AlreadyGone => "already gone".into(),
                Deleted::NotPermitted(why) => format!("kept: no delete permission ({why}); tracked by name and hash"),
                Deleted::Kept => "kept".into(),
            };
            let note = entry.in_cleo.clone();
            book.modify(hint_id, |e| e.in_cleo = note.clone())
                .await
                .map_err(|e| store_error("the received book", e))?;
        }
        Ok(Ok((d.bytes, entry)))
    }

    /// The responses (997s, TA1s) answering a file: rendered and kept when the first read has
    /// them (`interchanges`), uploaded once when `upload` (the last chunk was read).
    #[allow(clippy::too_many_arguments)]
    async fn answer(
        &self,
        hint_id: &str,
        partner: &Partner,
        interchanges: &[mlc_x12::envelope::Interchange<'static>],
        file: &InboundFile,
        held: bool,
        upload: bool,
        ctx: &ReadContext<'_>,
    ) -> Result<(), StepError> {
        let conn = &self.spec.connection;
        let Some(out) = partner.outbound.as_deref() else { return Ok(()) };
        let rules = &partner.profile.inbound;
        let book = ledger::received_book(&self.engine, conn, &partner.key);
        let Some(mut entry) = book.get(hint_id).await.map_err(|e| store_error("the received book", e))? else {
            return Ok(());
        };
        if entry.answered {
            return Ok(());
        }
        if entry.answers.is_empty() && !interchanges.is_empty() {
            let now = ctx.now.naive_utc();
            let needed = edi::respond(interchanges, file, rules, held, || Ok(Numbers::single(1)), now)
                .map(|v| v.len())
                .unwrap_or(0);
            let mut numbers = Vec::with_capacity(needed);
            for _ in 0..needed {
                let n = self
                    .engine
                    .sequences()
                    .next(&ledger::control_sequence(conn, &partner.key), u64::from(mlc_x12::control::MAX_CONTROL))
                    .await
                    .map_err(|e| store_error("the control-number sequence", e))?;
                numbers.push(Numbers::single(u32::try_from(n).unwrap_or(1)));
            }
            let mut given = numbers.into_iter();
            let rendered = edi::respond(
                interchanges,
                file,
                rules,
                held,
                || given.next().ok_or_else(|| "more interchanges than numbers taken".to_string()),
                now,
            )
            .map_err(StepError::permanent)?;
            for (n, body) in rendered {
                let sha = ctx.blobs.put(&body).await.map_err(|e| store_error("keeping a response", e))?;
                let name = outbound_file_name("997", &partner.key, n.interchange, ctx.now);
                entry.answers.push(AnswerSent { name, control: n.interchange, sha256: sha, uploaded: false });
            }
            entry.answered = entry.answers.is_empty();
            book.put(hint_id, entry.clone()).await.map_err(|e| store_error("the received book", e))?;
        }
        if !upload || entry.answers.iter().all(|a| a.uploaded) {
            return Ok(());
        }
        let folder = self.client.folder(out).await?;
        for a in entry.answers.iter().filter(|a| !a.uploaded) {
            let body =
                ctx.blobs.get(&a.sha256).await.map_err(|e| store_error("a kept response", e))?.ok_or_else(|| {
                    StepError::permanent(format!("the kept response {} is gone from the store", a.name))
                })?;
            self.client.upload_once(&folder, &a.name, &body).await?;
            let name = a.name.clone();
            book.modify(hint_id, |e| {
                for x in e.answers.iter_mut().filter(|x| x.name == name) {
                    x.uploaded = true;
                }
                e.answered = e.answers.iter().all(|x| x.uploaded);
            })
            .await
            .map_err(|e| store_error("the received book", e))?;
        }
        Ok(())
    }
}

#[async_trait]
impl Source for InboundSource {
    type Record = Arc<InboundChunk>;

    fn spec(&self) -> &SourceSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        let folders = self.inbound_partners();
        if folders.is_empty() {
            return Ok(DiscoveryPage::default());
        }
        let pos = cursor
            .and_then(|c| serde_json::from_str::<serde_json::Value>(&c.value).ok())
            .and_then(|v| v.get("folder").and_then(serde_json::Value::as_u64))
            .map_or(0, |n| n as usize)
            .min(folders.len() - 1);
        if pos == 0
            && let Err(e) = self.note_overdue(ctx.now).await
        {
            tracing::warn!(error = %e, "overdue 997s could not be checked");
        }
        let p = folders[pos];
        let key = p.inbound.clone().unwrap_or_default();
        let folder = self.client.folder(&key).await?;
        let files = self.client.list_files(&folder).await?;
        let hints: Vec<Hint> = files
            .iter()
            .map(|f| {
                let id = format!("{key}/{}#{}", f.name, f.id);
                let stamp = f.modified.or(f.created).map(|t| t.timestamp_millis().to_string()).unwrap_or_default();
                let version = format!(
                    "{}:{stamp}:{}",
                    f.size.map(|s| s.to_string()).unwrap_or_default(),
                    f.sha256.as_deref().unwrap_or("")
                );
                self.spec.hint(ENTITY_FILE, &id, Origin::Poll, ctx.now).with_version(version)
            })
            .collect();
        let next = pos + 1;
        let more = next < folders.len();
        let cursor = serde_json::json!({ "folder": if more { next } else { 0 } }).to_string();
        Ok(DiscoveryPage { hints, next_cursor: Some(cursor), has_more: more })
    }

    async fn read_back(
        &self,
        hint: &Hint,
        ctx: &ReadContext<'_>,
    ) -> Result<ReadBack<SourceRecord<Arc<InboundChunk>>>, StepError> {
        let conn = self.spec.connection.clone();
        let Some((folder_key, name, cleo_id)) = Self::split_id(&hint.id) else {
            return Err(StepError::permanent(format!(
                "hint {} is not a Cleo inbound file (<folder>/<name>#<id>)",
                hint.id
            )));
        };
        let Some(partner) = self.partners.for_inbound_folder(folder_key) else {
            return Ok(ReadBack::Gone(format!(
                "folder {folder_key} is no partner's inbound folder any more (connection {conn})"
            )));
        };
        let (bytes, entry, start) = match hint.part.as_deref() {
            None => match self.pick_up(&hint.id, partner, folder_key, name, cleo_id, ctx).await? {
                Ok((b, e)) => (b, e, None),
                Err(gone) => return Ok(ReadBack::Gone(gone)),
            },
            Some(part) => {
                let (sha, start) = part
                    .split_once(':')
                    .and_then(|(s, r)| edi::Resume::decode(r).map(|r| (s.to_string(), Some(r))))
                    .ok_or_else(|| {
                        StepError::permanent(format!("chunk {part:?} of {} is not <sha256>:<resume point>", hint.id))
                    })?;
                let bytes = ctx
                    .blobs
                    .get(&sha)
                    .await
                    .map_err(|e| store_error("the kept file", e))?
                    .ok_or_else(|| StepError::permanent(format!("the kept copy of {} ({sha}) is gone", hint.id)))?;
                let book = ledger::received_book(&self.engine, &conn, &partner.key);
                let entry = match book.get(&hint.id).await.map_err(|e| store_error("the received book", e))? {
                    Some(e) => e,
                    None => Received {
                        name: name.to_string(),
                        size: bytes.len() as u64,
                        sha256: sha.clone(),
                        picked_at: ctx.now,
                        interchanges: edi::interchanges(&bytes, partner)
                            .into_iter()
                            .map(|(h, digest)| InterchangeSeen {
                                control: h.control.trim().to_string(),
                                sender: h.sender_id.trim().to_string(),
                                test: h.usage == "T",
                                resent: false,
                                reused: false,
                                digest,
                            })
                            .collect(),
                        in_cleo: "unknown".into(),
                        answers: Vec::new(),
                        answered: true,
                    },
                };
                (bytes, entry, start)
            }
        };
        let folder_label = match self.client.settings().folders.get(folder_key) {
            Some(f) => format!("{}/{}", f.mailbox, f.folder),
            None => folder_key.to_string(),
        };
        let file = Arc::new(InboundFile {
            connection: conn.clone(),
            partner: partner.key.clone(),
            partner_name: if partner.name.is_empty() { partner.key.clone() } else { partner.name.clone() },
            folder_key: folder_key.to_string(),
            folder: folder_label,
            name: entry.name.clone(),
            size: entry.size,
            sha256: entry.sha256.clone(),
            interchanges: entry.interchanges.clone(),
        });
        let read = edi::read_chunk(&bytes, file.clone(), partner, start, self.client.settings().chunk_sets);
        let last = read.next.is_none();
        if last || !read.interchanges.is_empty() {
            let held = read.chunk.held.is_some();
            self.answer(&hint.id, partner, &read.interchanges, &file, held, last, ctx).await?;
        }
        let record = SourceRecord {
            entity: ENTITY_FILE.into(),
            id: file.label(),
            version: format!("{}:{}", file.size, &file.sha256[..file.sha256.len().min(16)]),
            record: Arc::new(read.chunk),
        };
        let continuation = read.next.map(|r| format!("{}:{}", file.sha256, r.encode()));
        Ok(ReadBack::Found { items: vec![record], continuation })
    }
}
