//! Mailboxes, folders and files: the VersaLex collection conventions **[C]** applied to the file
//! operations the fact sheet could not confirm **[I]** (§4), each variant behind a switch.
//!
//! - Collections are `{"totalResults": n, "resources": [...]}`, paged with `startIndex` (0-based)
//!   and `count`, filtered with `filter=<attr> eq "<value>"`; the client advances by the number of
//!   resources it got and stops at `totalResults` **[C]**. Page size limits **[U]** are switches.
//! - Every resource carries `id`, `meta.resourceType` and `_links.self.href` (server-relative)
//!   **[C]**; folders link their `files`, files their `content` (or `download`, or nothing: a
//!   switch) **[U]**.
//! - Upload: `POST …/files` as `multipart/form-data` (one part with a filename) or a raw body
//!   with `?filename=` (either, or both, accepted: switch) → 201 with the file; a same-name upload
//!   creates a duplicate, overwrites, or is refused (switch). Download: `GET …/content` → the exact
//!   stored bytes as `application/octet-stream`. Delete: `DELETE` on the file → 204, a second →
//!   404 **[C for the status codes; I for the paths]**.
//! - Permissions are per folder (Upload and/or Download, configuration **[C: PMBX]**), shown on
//!   the folder or hidden, enforced with 403 or not (switches, open question 6).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::api::{Call, Reply, Route, param};
use super::state::{ApiError, CleoState, Folder, Mailbox, StoredFile, sha256_hex};
use super::switches::{ContentLink, ListOrder, PermissionStyle, SameName, TimestampStyle, UploadAccepts};

/// Serve one authenticated call.
pub fn route(st: &mut CleoState, call: &Call, route: Route) -> Result<Reply, ApiError> {
    match route {
        Route::Authentication => Err(ApiError::bad("not here")),
        Route::Mailboxes => {
            let items: Vec<Value> =
                st.mailboxes.iter().filter(|m| may_open(st, &call.user, &m.alias)).map(mailbox_json).collect();
            collection(st, items, call, &["alias", "id"]).map(|v| Reply::Json(200, v))
        }
        Route::Mailbox { mailbox } => {
            let m = mailbox_for(st, &call.user, &mailbox)?;
            Ok(Reply::Json(200, mailbox_json(&st.mailboxes[m])))
        }
        Route::Folders { mailbox } => {
            let m = mailbox_for(st, &call.user, &mailbox)?;
            let mb = &st.mailboxes[m];
            let items: Vec<Value> = mb.folders.iter().map(|f| folder_json(st, mb, f)).collect();
            collection(st, items, call, &["name", "id"]).map(|v| Reply::Json(200, v))
        }
        Route::Folder { mailbox, folder } => {
            let (m, f) = folder_for(st, &call.user, &mailbox, &folder)?;
            let mb = &st.mailboxes[m];
            Ok(Reply::Json(200, folder_json(st, mb, &mb.folders[f])))
        }
        Route::Files { mailbox, folder } if call.method == "GET" => list_files(st, call, &mailbox, &folder),
        Route::Files { mailbox, folder } => upload(st, call, &mailbox, &folder),
        Route::File { mailbox, folder, file } => {
            let (m, f) = folder_for(st, &call.user, &mailbox, &folder)?;
            let i = file_idx(&st.mailboxes[m].folders[f], &file)?;
            if call.method == "DELETE" {
                return delete(st, m, f, i, call.now);
            }
            let mb = &st.mailboxes[m];
            let fo = &mb.folders[f];
            Ok(Reply::Json(200, file_json(st, mb, fo, &fo.files[i])))
        }
        Route::Content { mailbox, folder, file } => {
            let (m, f) = folder_for(st, &call.user, &mailbox, &folder)?;
            let i = file_idx(&st.mailboxes[m].folders[f], &file)?;
            download(st, m, f, i, call.now)
        }
    }
}

fn may_open(st: &CleoState, user: &str, alias: &str) -> bool {
    st.user_idx(user).is_some_and(|u| st.users[u].may_open(alias))
}

fn mailbox_for(st: &CleoState, user: &str, id: &str) -> Result<usize, ApiError> {
    st.mailbox_idx(id)
        .filter(|&m| may_open(st, user, &st.mailboxes[m].alias))
        .ok_or_else(|| ApiError::not_found(format!("Mailbox '{id}' not found")))
}

fn folder_for(st: &CleoState, user: &str, mailbox: &str, folder: &str) -> Result<(usize, usize), ApiError> {
    let m = mailbox_for(st, user, mailbox)?;
    let f = st.mailboxes[m]
        .folders
        .iter()
        .position(|f| f.id == folder)
        .ok_or_else(|| ApiError::not_found(format!("Folder '{folder}' not found")))?;
    Ok((m, f))
}

fn file_idx(folder: &Folder, id: &str) -> Result<usize, ApiError> {
    folder.files.iter().position(|f| f.id == id).ok_or_else(|| ApiError::not_found(format!("File '{id}' not found")))
}

/// The server-relative href of a mailbox.
pub fn mailbox_href(m: &Mailbox) -> String {
    format!("/api/mailboxes/{}", m.id)
}

/// The server-relative href of a folder.
pub fn folder_href(m: &Mailbox, f: &Folder) -> String {
    format!("/api/mailboxes/{}/folders/{}", m.id, f.id)
}

fn mailbox_json(m: &Mailbox) -> Value {
    let href = mailbox_href(m);
    json!({
        "id": m.id,
        "alias": m.alias,
        "description": m.description,
        "active": true,
        "meta": { "resourceType": "mailbox" },
        "_links": { "self": { "href": href }, "folders": { "href": format!("{href}/folders") } },
    })
}

fn folder_json(st: &CleoState, m: &Mailbox, f: &Folder) -> Value {
    let href = folder_href(m, f);
    let mut v = json!({
        "id": f.id,
        "name": f.name,
        "meta": { "resourceType": "folder" },
        "_links": { "self": { "href": href }, "files": { "href": format!("{href}/files") } },
    });
    if st.switches.permission_style == PermissionStyle::Flags {
        v["permissions"] = json!({ "upload": f.upload, "download": f.download });
    }
    v
}

fn stamp(t: DateTime<Utc>, style: TimestampStyle) -> Value {
    match style {
        TimestampStyle::Rfc3339 => json!(t.to_rfc3339_opts(SecondsFormat::Millis, true)),
        TimestampStyle::NoZone => json!(t.format("%Y-%m-%dT%H:%M:%S").to_string()),
        TimestampStyle::EpochMillis => json!(t.timestamp_millis()),
    }
}

fn file_json(st: &CleoState, m: &Mailbox, f: &Folder, file: &StoredFile) -> Value {
    let sw = &st.switches;
    let href = format!("{}/files/{}", folder_href(m, f), file.id);
    let mut links = json!({ "self": { "href": href } });
    match sw.content_link {
        ContentLink::Content => links["content"] = json!({ "href": format!("{href}/content") }),
        ContentLink::Download => links["download"] = json!({ "href": format!("{href}/content") }),
        ContentLink::None => {}
    }
    let size = file.content.len();
    let mut v = json!({
        "id": file.id,
        "name": file.name,
        "size": if sw.size_as_string { json!(size.to_string()) } else { json!(size) },
        "created": stamp(file.created, sw.timestamp_style),
        "modified": stamp(file.modified, sw.timestamp_style),
        "meta": { "resourceType": "file" },
        "_links": links,
    });
    if sw.show_checksum {
        v["sha256"] = json!(sha256_hex(&file.content));
    }
    v
}

/// A page of a collection, after the filter.
fn collection(st: &CleoState, items: Vec<Value>, call: &Call, filterable: &[&str]) -> Result<Value, ApiError> {
    let items = match param(&call.query, "filter").map(str::trim).filter(|s| !s.is_empty()) {
        None => items,
        Some(f) => {
            let (attr, value) = parse_filter(f)?;
            if !filterable.contains(&attr.as_str()) {
                return Err(ApiError::bad(format!("Invalid filter: attribute '{attr}' cannot be filtered")));
            }
            items.into_iter().filter(|v| v.get(&attr).and_then(Value::as_str) == Some(value.as_str())).collect()
        }
    };
    let read = |k: &str| -> Result<Option<usize>, ApiError> {
        match param(&call.query, k).map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => s.parse::<usize>().map(Some).map_err(|_| ApiError::bad(format!("Invalid {k} '{s}'"))),
        }
    };
    let start = if st.switches.ignore_start_index { 0 } else { read("startIndex")?.unwrap_or(0) };
    let count = read("count")?.unwrap_or(st.switches.default_page_size).min(st.switches.max_page_size);
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(count).collect();
    let mut v = json!({ "totalResults": total });
    if st.switches.echo_paging_keys {
        v["startIndex"] = json!(start);
        v["itemsPerPage"] = json!(page.len());
    }
    v["resources"] = Value::Array(page);
    Ok(v)
}

/// `attr eq "value"` (SCIM-like, the only operator confirmed **[C]**).
pub fn parse_filter(f: &str) -> Result<(String, String), ApiError> {
    let bad = || ApiError::bad(format!("Invalid filter '{f}': expected <attribute> eq \"<value>\""));
    let mut it = f.splitn(3, ' ');
    let attr = it.next().ok_or_else(bad)?.trim();
    let op = it.next().ok_or_else(bad)?.trim();
    let rest = it.next().ok_or_else(bad)?.trim();
    if !op.eq_ignore_ascii_case("eq") || attr.is_empty() {
        return Err(bad());
    }
    let value = rest.strip_prefix('"').and_then(|r| r.strip_suffix('"')).ok_or_else(bad)?;
    Ok((attr.to_string(), value.replace("\\\"", "\"")))
}

fn list_files(st: &mut CleoState, call: &Call, mailbox: &str, folder: &str) -> Result<Reply, ApiError> {
    let (m, f) = folder_for(st, &call.user, mailbox, folder)?;
    let fo = &st.mailboxes[m].folders[f];
    if st.switches.enforce_permissions && !fo.download && !fo.upload {
        return Err(ApiError::forbidden(format!("Listing is not permitted on folder '{}'", fo.name)));
    }
    let mut files: Vec<&StoredFile> = fo.files.iter().collect();
    match st.switches.list_order {
        ListOrder::OldestFirst => files.sort_by_key(|f| f.created),
        ListOrder::NewestFirst => files.sort_by_key(|f| std::cmp::Reverse(f.created)),
        ListOrder::Name => files.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    let mb = &st.mailboxes[m];
    let items: Vec<Value> = files.iter().map(|file| file_json(st, mb, fo, file)).collect();
    let page = collection(st, items, call, &["name", "id"])?;
    // Files that arrive while a client walks the pages.
    let folder_id = fo.id.clone();
    if let Some(g) = st.growth.iter().position(|g| g.folder_id == folder_id) {
        let n = st.growth.remove(g).n;
        for k in 0..n {
            let id = st.new_id("fi");
            let name = format!("late-arrival-{id}.edi");
            let content = format!("late arrival {k} of {n}\n").into_bytes();
            let at = call.now + chrono::Duration::milliseconds(i64::from(k) + 1);
            st.mailboxes[m].folders[f].files.push(StoredFile {
                id,
                name,
                content,
                created: at,
                modified: at,
                origin: "partner".into(),
            });
        }
    }
    Ok(Reply::Json(200, page))
}

/// Why a file name is refused, if it is.
pub fn bad_name(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("A file name is required".into());
    }
    if name.len() > 255 {
        return Some(format!("File name is longer than 255 characters ({})", name.len()));
    }
    if name.contains(['/', '\\']) || name == "." || name == ".." || name.chars().any(char::is_control) {
        return Some(format!("Invalid file name '{name}'"));
    }
    None
}

fn upload(st: &mut CleoState, call: &Call, mailbox: &str, folder: &str) -> Result<Reply, ApiError> {
    let (m, f) = folder_for(st, &call.user, mailbox, folder)?;
    let sw = st.switches.clone();
    {
        let fo = &st.mailboxes[m].folders[f];
        if sw.enforce_permissions && !fo.upload {
            return Err(ApiError::forbidden(format!("Upload is not permitted on folder '{}'", fo.name)));
        }
    }
    let ct = call.content_type.to_ascii_lowercase();
    let (name, content): (String, Vec<u8>) = if ct.starts_with("multipart/form-data") {
        if sw.upload_accepts == UploadAccepts::Raw {
            return Err(ApiError::new(415, "Unsupported Media Type"));
        }
        multipart_file(&call.content_type, &call.body)?
    } else {
        if sw.upload_accepts == UploadAccepts::Multipart {
            return Err(ApiError::new(415, "Unsupported Media Type"));
        }
        let name = param(&call.query, "filename").or_else(|| param(&call.query, "name")).unwrap_or("").to_string();
        (name, call.body.to_vec())
    };
    if let Some(problem) = bad_name(&name) {
        return Err(ApiError::bad(problem));
    }
    if content.len() > sw.max_upload_bytes {
        return Err(ApiError::new(413, "The upload is larger than this tenant accepts"));
    }
    let now = call.now;
    let existing = st.mailboxes[m].folders[f].files.iter().position(|x| x.name == name);
    let idx = match (existing, sw.same_name) {
        (Some(_), SameName::Reject) => {
            return Err(ApiError::new(409, format!("A file named '{name}' already exists")));
        }
        (Some(i), SameName::Overwrite) => {
            let (alias, fname) = (st.mailboxes[m].alias.clone(), st.mailboxes[m].folders[f].name.clone());
            let old = st.mailboxes[m].folders[f].files[i].clone();
            st.archive_file(&alias, &fname, &old, "overwritten", now);
            let file = &mut st.mailboxes[m].folders[f].files[i];
            file.content = content.clone();
            file.modified = now;
            file.origin = "client".into();
            i
        }
        _ => {
            let id = st.new_id("fi");
            let files = &mut st.mailboxes[m].folders[f].files;
            files.push(StoredFile {
                id,
                name: name.clone(),
                content: content.clone(),
                created: now,
                modified: now,
                origin: "client".into(),
            });
            files.len() - 1
        }
    };
    if sw.receivedbox {
        copy_to(st, m, "receivedbox", &name, &content, now);
    }
    let mb = &st.mailboxes[m];
    let fo = &mb.folders[f];
    Ok(Reply::Json(201, file_json(st, mb, fo, &fo.files[idx])))
}

fn copy_to(st: &mut CleoState, m: usize, folder: &str, name: &str, content: &[u8], now: DateTime<Utc>) {
    if st.mailboxes[m].folder(folder).is_none() {
        let id = st.new_id("fo");
        st.mailboxes[m].folders.push(Folder {
            id,
            name: folder.into(),
            upload: false,
            download: true,
            files: Vec::new(),
        });
    }
    let id = st.new_id("fi");
    if let Some(fo) = st.mailboxes[m].folder_mut(folder) {
        fo.files.push(StoredFile {
            id,
            name: name.into(),
            content: content.to_vec(),
            created: now,
            modified: now,
            origin: folder.into(),
        });
    }
}

fn download(st: &mut CleoState, m: usize, f: usize, i: usize, now: DateTime<Utc>) -> Result<Reply, ApiError> {
    let fo = &st.mailboxes[m].folders[f];
    if st.switches.enforce_permissions && !fo.download {
        return Err(ApiError::forbidden(format!("Download is not permitted on folder '{}'", fo.name)));
    }
    let file = fo.files[i].clone();
    let mut content = file.content.clone();
    if st.truncate_downloads > 0 {
        st.truncate_downloads -= 1;
        content.truncate(content.len() / 2);
    }
    if st.switches.sentbox && !fo.name.eq_ignore_ascii_case("sentbox") {
        copy_to(st, m, "sentbox", &file.name, &file.content, now);
    }
    Ok(Reply::Bytes { name: file.name, content })
}

fn delete(st: &mut CleoState, m: usize, f: usize, i: usize, now: DateTime<Utc>) -> Result<Reply, ApiError> {
    let fo = &st.mailboxes[m].folders[f];
    if st.switches.enforce_permissions && (!fo.download || !st.switches.allow_delete) {
        return Err(ApiError::forbidden(format!("Delete is not permitted on folder '{}'", fo.name)));
    }
    let (alias, fname) = (st.mailboxes[m].alias.clone(), fo.name.clone());
    let file = st.mailboxes[m].folders[f].files.remove(i);
    st.archive_file(&alias, &fname, &file, "deleted", now);
    Ok(Reply::NoContent)
}

/// The file part of a `multipart/form-data` body: (filename, bytes). Binary-safe.
pub fn multipart_file(content_type: &str, body: &[u8]) -> Result<(String, Vec<u8>), ApiError> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::bad("multipart body without a boundary"))?;
    let delim = format!("--{boundary}").into_bytes();
    let mut pos = find(body, &delim, 0).ok_or_else(|| ApiError::bad("multipart body without parts"))?;
    loop {
        let after = pos + delim.len();
        if body.get(after..after + 2) == Some(b"--") {
            break;
        }
        let head_start = after + 2;
        let head_end =
            find(body, b"\r\n\r\n", head_start).ok_or_else(|| ApiError::bad("multipart part without headers"))?;
        let headers = String::from_utf8_lossy(&body[head_start.min(head_end)..head_end]).to_string();
        let data_start = head_end + 4;
        let mut next_delim = b"\r\n".to_vec();
        next_delim.extend_from_slice(&delim);
        let data_end =
            find(body, &next_delim, data_start).ok_or_else(|| ApiError::bad("multipart part is not terminated"))?;
        if let Some(name) = disposition_filename(&headers) {
            return Ok((name, body[data_start..data_end].to_vec()));
        }
        pos = data_end + 2;
    }
    Err(ApiError::bad("multipart body has no file part (a part with a filename)"))
}

fn disposition_filename(headers: &str) -> Option<String> {
    let line = headers.lines().find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
    line.split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find_map(|(k, v)| k.trim().eq_ignore_ascii_case("filename").then(|| v.trim().trim_matches('"').to_string()))
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}
