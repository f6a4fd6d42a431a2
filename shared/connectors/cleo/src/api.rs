//! [`CleoClient`]: what flows (through phase 2's sources and targets) and `mlc ping` call. It
//! joins the transport ([`crate::client`]), the folder cache ([`crate::folders`]) and the file
//! operations ([`crate::files`]); every method returns [`CleoError`].

use std::sync::Arc;

use mlc_core::secret::Credentials;

use crate::client::Transport;
use crate::errors::CleoError;
use crate::files::{self, DurableSink, UploadState};
use crate::folders::{self, FolderCache};
use crate::model::{Deleted, Downloaded, Folder, FolderRef, Mailbox, PickedUp, RemoteFile, UploadOutcome};
use crate::settings::{CleoCredentials, CleoSettings};

/// A Cleo Integration Cloud connection. Cheap to clone; clones share the token, the limiter,
/// the folder cache and the counters.
#[derive(Debug, Clone)]
pub struct CleoClient {
    t: Transport,
    folders: Arc<FolderCache>,
    uploads: Arc<UploadState>,
}

impl CleoClient {
    /// Build from settings and the secret store's `username` and `password` (no call is made).
    pub fn new(settings: CleoSettings, creds: &Credentials) -> Result<Self, CleoError> {
        let c = CleoCredentials::from_credentials(&settings.connection, creds)?;
        let uploads = Arc::new(UploadState::new(settings.upload_mode));
        Ok(CleoClient { t: Transport::new(settings, &c)?, folders: Arc::new(FolderCache::default()), uploads })
    }

    /// Build from a connection's options object (base URL included).
    pub fn from_options(connection: &str, options: &serde_json::Value, creds: &Credentials) -> Result<Self, CleoError> {
        Self::new(CleoSettings::from_options(connection, options)?, creds)
    }

    pub fn settings(&self) -> &CleoSettings {
        self.t.settings()
    }

    pub fn username(&self) -> &str {
        self.t.username()
    }

    /// API call counters (calls, retries, throttled, token fetches, by status).
    pub fn stats(&self) -> mlc_http::CallStats {
        self.t.stats()
    }

    /// The transport, for calls this API does not cover.
    pub fn transport(&self) -> &Transport {
        &self.t
    }

    /// Every mailbox the account can open.
    pub async fn mailboxes(&self) -> Result<Vec<Mailbox>, CleoError> {
        folders::mailboxes(&self.t).await
    }

    /// A mailbox by alias.
    pub async fn mailbox(&self, alias: &str) -> Result<Mailbox, CleoError> {
        folders::mailbox(&self.t, alias).await
    }

    /// A mailbox's folders.
    pub async fn folders(&self, mailbox: &Mailbox) -> Result<Vec<Folder>, CleoError> {
        folders::folders(&self.t, mailbox).await
    }

    /// A configured folder (`folders.<key>` of the settings), resolved once and cached.
    pub async fn folder(&self, key: &str) -> Result<FolderRef, CleoError> {
        if let Some(f) = self.folders.get(key) {
            return Ok(f);
        }
        let s = self.settings().folders.get(key).ok_or_else(|| CleoError::Config {
            connection: self.settings().connection.clone(),
            key: format!("folders.{key}"),
            problem: format!(
                "is not configured (configured: {})",
                self.settings().folders.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })?;
        let f = folders::resolve(&self.t, key, &s.mailbox, &s.folder, Some(s.direction)).await?;
        self.folders.put(&f);
        Ok(f)
    }

    /// Any folder by mailbox alias and folder name (cached under `mailbox/folder`).
    pub async fn folder_at(&self, mailbox: &str, folder: &str) -> Result<FolderRef, CleoError> {
        let key = format!("{mailbox}/{folder}");
        if let Some(f) = self.folders.get(&key) {
            return Ok(f);
        }
        let f = folders::resolve(&self.t, &key, mailbox, folder, None).await?;
        self.folders.put(&f);
        Ok(f)
    }

    /// Forget resolved folders (after a folder was recreated in Cleo).
    pub fn forget_folders(&self) {
        self.folders.clear();
    }

    /// Every file in a folder.
    pub async fn list_files(&self, folder: &FolderRef) -> Result<Vec<RemoteFile>, CleoError> {
        files::list(&self.t, folder).await
    }

    /// Files with exactly this name (the natural-key lookup for uploads).
    pub async fn find_files(&self, folder: &FolderRef, name: &str) -> Result<Vec<RemoteFile>, CleoError> {
        files::find_by_name(&self.t, folder, name).await
    }

    /// Upload once (a lost answer is resolved by listing, never by re-sending).
    pub async fn upload(&self, folder: &FolderRef, name: &str, bytes: &[u8]) -> Result<RemoteFile, CleoError> {
        files::upload(&self.t, &self.uploads, folder, name, bytes).await
    }

    /// Look the name up, upload only if absent: what an outbound flow calls on every attempt.
    pub async fn upload_once(&self, folder: &FolderRef, name: &str, bytes: &[u8]) -> Result<UploadOutcome, CleoError> {
        files::upload_once(&self.t, &self.uploads, folder, name, bytes).await
    }

    /// Download with size/hash checks.
    pub async fn download(&self, file: &RemoteFile) -> Result<Downloaded, CleoError> {
        files::download(&self.t, file).await
    }

    /// Download, store durably and hash, then delete when `delete` (404 on delete is success).
    pub async fn pick_up(
        &self,
        file: &RemoteFile,
        sink: &dyn DurableSink,
        delete: bool,
    ) -> Result<PickedUp, CleoError> {
        files::pick_up(&self.t, file, sink, delete).await
    }

    /// Delete a file (404 → [`Deleted::AlreadyGone`]).
    pub async fn delete(&self, file: &RemoteFile) -> Result<Deleted, CleoError> {
        files::delete(&self.t, file).await
    }
}
