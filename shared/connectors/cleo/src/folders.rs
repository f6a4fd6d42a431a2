//! Mailboxes and folders: finding a configured folder by mailbox alias and folder name, and
//! remembering its hrefs for the life of the client.
//!
//! A mailbox is found with `GET /api/mailboxes?filter=alias eq "X"` and a folder with its
//! mailbox's `_links.folders.href` and `filter=name eq "Y"` **[C: the filter syntax; I: the
//! collections]**; both results are checked on our side too (a server that ignores the filter
//! returns everything, and matching is then by exact name, case-insensitively). When nothing
//! matches, the error lists what the account *can* see, which is usually the fix.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::client::Transport;
use crate::errors::CleoError;
use crate::model::{Folder, FolderRef, Mailbox};
use crate::settings::Direction;

/// Resolved folders by key, for the life of a client.
#[derive(Debug, Default)]
pub struct FolderCache {
    by_key: Mutex<HashMap<String, FolderRef>>,
}

impl FolderCache {
    pub fn get(&self, key: &str) -> Option<FolderRef> {
        self.by_key.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }

    pub fn put(&self, f: &FolderRef) {
        self.by_key.lock().unwrap_or_else(|p| p.into_inner()).insert(f.key.clone(), f.clone());
    }

    /// Forget everything (a folder was recreated and its href changed).
    pub fn clear(&self) {
        self.by_key.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Every mailbox the account can open.
pub async fn mailboxes(t: &Transport) -> Result<Vec<Mailbox>, CleoError> {
    let rows = t.collection("/api/mailboxes", None, "the mailbox list").await?;
    Ok(rows.iter().filter_map(Mailbox::from_json).collect())
}

/// The mailbox with this alias.
pub async fn mailbox(t: &Transport, alias: &str) -> Result<Mailbox, CleoError> {
    let what = format!("mailbox {alias}");
    let rows = t.collection("/api/mailboxes", Some(("alias", alias)), &what).await?;
    if let Some(m) = rows.iter().filter_map(Mailbox::from_json).find(|m| m.alias.eq_ignore_ascii_case(alias)) {
        return Ok(m);
    }
    // The filter may be case-sensitive; aliases are not meant to be.
    let all = mailboxes(t).await.unwrap_or_default();
    if let Some(m) = all.iter().find(|m| m.alias.eq_ignore_ascii_case(alias)) {
        return Ok(m.clone());
    }
    let visible: Vec<String> = all.into_iter().map(|m| m.alias).collect();
    Err(CleoError::NotFound {
        what: format!("mailbox {alias:?}"),
        fix: Some(format!(
            "the account {:?} can open {}: correct the folder's `mailbox`, or give the account access to {alias} \
             (the Partner Mailbox's Accounts in Cleo)",
            t.username(),
            if visible.is_empty() { "no mailbox at all".to_string() } else { visible.join(", ") }
        )),
    })
}

/// The folders of a mailbox.
pub async fn folders(t: &Transport, m: &Mailbox) -> Result<Vec<Folder>, CleoError> {
    let rows = t.collection(&m.folders_href, None, &format!("the folders of mailbox {}", m.alias)).await?;
    Ok(rows.iter().filter_map(Folder::from_json).collect())
}

/// A folder by mailbox alias and folder name.
pub async fn resolve(
    t: &Transport,
    key: &str,
    alias: &str,
    name: &str,
    direction: Option<Direction>,
) -> Result<FolderRef, CleoError> {
    let m = mailbox(t, alias).await?;
    let what = format!("folder {alias}/{name}");
    let rows = t.collection(&m.folders_href, Some(("name", name)), &what).await?;
    let mut found = rows.iter().filter_map(Folder::from_json).find(|f| f.name.eq_ignore_ascii_case(name));
    let mut all = Vec::new();
    if found.is_none() {
        all = folders(t, &m).await.unwrap_or_default();
        found = all.iter().find(|f| f.name.eq_ignore_ascii_case(name)).cloned();
    }
    match found {
        Some(folder) => Ok(FolderRef { key: key.to_string(), mailbox: m.alias.clone(), folder, direction }),
        None => {
            let names: Vec<String> = all.into_iter().map(|f| f.name).collect();
            Err(CleoError::NotFound {
                what: format!("folder {name:?} in mailbox {}", m.alias),
                fix: Some(format!(
                    "mailbox {} has {}: correct `folder` of folders.{key}",
                    m.alias,
                    if names.is_empty() { "no folders".to_string() } else { names.join(", ") }
                )),
            })
        }
    }
}
