//! Uploads (never twice), downloads (exact and checked), pickup (stored before deleted), delete.

use mlc_cleo::{CleoError, Deleted, DirSink, UploadOutcome, outbound_file_name};
use mlc_core::engine::flow::ErrorClass;
use mlc_sim::cleo::switches::{ContentLink, SameName, TimestampStyle, UploadAccepts};
use mlc_sim::common::{Fault, FaultRule};
use serde_json::json;

use crate::support::*;

const FILES: &str = "/api/mailboxes/{mailbox}/folders/{folder}/files";

#[tokio::test]
async fn upload_once_uploads_then_finds_and_never_sends_twice() {
    let env = start().await;
    let out = env.client.folder("statedot-out").await.expect("folder");
    let name = outbound_file_name("810", &out.mailbox, 1, env.sim.clock().now());
    let first = env.client.upload_once(&out, &name, &edi(1)).await.expect("upload");
    assert!(matches!(first, UploadOutcome::Uploaded(_)));
    assert_eq!(first.file().size, Some(edi(1).len() as u64));
    let again = env.client.upload_once(&out, &name, &edi(1)).await.expect("again");
    assert!(matches!(again, UploadOutcome::AlreadyThere(_)), "{again:?}");
    assert_eq!(env.count("POST", FILES), 1);
    assert_eq!(env.files("STATEDOT", "to-partner"), vec![(name.clone(), edi(1))], "the exact bytes");
    // A different file under that name is not overwritten or duplicated.
    // (Compared by size, and by hash where the listing shows one: outbound folders cannot be read.)
    let e = env.client.upload_once(&out, &name, &edi(22)).await.expect_err("name taken");
    assert!(matches!(e, CleoError::NameTaken { .. }) && e.class() == ErrorClass::Permanent, "{e}");
    assert_eq!(env.count("POST", FILES), 1);
}

#[tokio::test]
async fn a_lost_upload_answer_is_resolved_by_listing_the_folder_not_by_uploading_again() {
    let env = start().await;
    let out = env.client.folder("harborco-out").await.expect("folder");
    // The upload commits, then the connection drops before the answer.
    env.sim.faults().add(FaultRule::new("POST", FILES, Fault::commit_then_reset(50)).times(1));
    let f = env.client.upload(&out, "810_lost.edi", &edi(3)).await.expect("resolved by lookup");
    assert_eq!(f.name, "810_lost.edi");
    assert_eq!(env.count("POST", FILES), 1, "never re-sent");
    assert_eq!(env.files("HARBORCO", "inbox").len(), 1);
    // A 500 after sending, and nothing stored: in doubt; the next attempt looks, then uploads once.
    env.sim.faults().add(FaultRule::new("POST", FILES, Fault::status(500)).times(1));
    let e = env.client.upload_once(&out, "810_next.edi", &edi(4)).await.expect_err("in doubt");
    assert!(matches!(e, CleoError::InDoubt { .. }), "{e:?}");
    assert_eq!(e.class(), ErrorClass::InDoubt);
    assert!(e.to_string().contains("it was not re-sent"), "{e}");
    let ok = env.client.upload_once(&out, "810_next.edi", &edi(4)).await.expect("second attempt");
    assert!(matches!(ok, UploadOutcome::Uploaded(_)));
    assert_eq!(env.files("HARBORCO", "inbox").len(), 2);
}

#[tokio::test]
async fn upload_modes_multipart_raw_and_auto_learning_from_a_415() {
    let env = start().await;
    env.sim.system().set_switch(|s| s.upload_accepts = UploadAccepts::Raw);
    let out = env.client.folder("riverton-out").await.expect("folder");
    env.client.upload(&out, "a.edi", &edi(5)).await.expect("auto: multipart refused, then raw");
    env.client.upload(&out, "b.edi", &edi(6)).await.expect("raw from now on");
    assert_eq!(env.count("POST", FILES), 3, "one 415, then two raw uploads");
    let multipart = env.client(json!({"upload_mode": "multipart"}));
    let e =
        multipart.upload(&multipart.folder("riverton-out").await.expect("f"), "c.edi", &edi(7)).await.expect_err("415");
    assert_eq!(e.status(), Some(415));
    assert!(e.to_string().contains("Unsupported Media Type"), "{e}");
    env.sim.system().set_switch(|s| s.upload_accepts = UploadAccepts::Multipart);
    multipart.upload(&multipart.folder("riverton-out").await.expect("f"), "c.edi", &edi(7)).await.expect("multipart");
    let raw = env.client(json!({"upload_mode": "raw"}));
    assert!(raw.upload(&raw.folder("riverton-out").await.expect("f"), "d.edi", &edi(8)).await.is_err());
    let names: Vec<String> = env.files("RIVERTON", "810/out").into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec!["a.edi", "b.edi", "c.edi"]);
    assert_eq!(env.files("RIVERTON", "810/out")[2].1, edi(7), "multipart carries the exact bytes");
}

#[tokio::test]
async fn same_name_uploads_duplicate_or_overwrite_and_the_lookup_sees_both() {
    let env = start().await;
    let out = env.client.folder("statedot-out").await.expect("folder");
    env.client.upload(&out, "same.edi", &edi(1)).await.expect("one");
    env.client.upload(&out, "same.edi", &edi(1)).await.expect("two");
    assert_eq!(env.client.find_files(&out, "same.edi").await.expect("find").len(), 2, "duplicate mode");
    env.sim.system().set_switch(|s| s.same_name = SameName::Overwrite);
    env.client.upload(&out, "over.edi", &edi(1)).await.expect("one");
    env.client.upload(&out, "over.edi", &edi(22)).await.expect("overwrites");
    let found = env.client.find_files(&out, "over.edi").await.expect("find");
    assert_eq!((found.len(), found[0].size), (1, Some(edi(22).len() as u64)));
    env.sim.system().set_switch(|s| s.same_name = SameName::Reject);
    let e = env.client.upload(&out, "over.edi", &edi(3)).await.expect_err("409");
    assert_eq!(e.status(), Some(409));
}

#[tokio::test]
async fn pickup_downloads_exact_bytes_stores_and_hashes_before_deleting_and_404_is_success() {
    let env = start().await;
    let bytes = b"ISA*00~\r\nGS*IN~\nST*810*0001~SE*2*0001~".to_vec();
    env.action(
        "drop_file",
        json!({"mailbox": "STATEDOT", "folder": "from-partner", "name": "in 1.edi",
                                   "text": String::from_utf8(bytes.clone()).expect("utf8")}),
    )
    .await;
    let inb = env.client.folder("statedot-in").await.expect("folder");
    let files = env.client.list_files(&inb).await.expect("list");
    assert_eq!(files.len(), 1);
    let dir = tempfile::tempdir().expect("tmp");
    let p = env.client.pick_up(&files[0], &DirSink::new(dir.path()), true).await.expect("pick up");
    assert_eq!(p.deleted, Deleted::Removed);
    assert_eq!(p.sha256, mlc_cleo::sha256_hex(&bytes));
    assert_eq!(std::fs::read(&p.stored_at).expect("stored"), bytes, "stored exactly");
    assert!(env.files("STATEDOT", "from-partner").is_empty());
    assert_eq!(env.client.delete(&files[0]).await.expect("again"), Deleted::AlreadyGone);
    assert_eq!(
        files[0].tracking_key(&p.sha256),
        format!("STATEDOT/from-partner|in 1.edi|{}|{}", bytes.len(), p.sha256)
    );
}

#[tokio::test]
async fn a_cut_download_is_fetched_again_and_then_reported_without_storing_or_deleting() {
    let env = start().await;
    let inb = env.client.folder("granite-in").await.expect("folder");
    let files = env.client.list_files(&inb).await.expect("list");
    let before = env.files("GRANITERIDGE", "inbound").len();
    env.action("truncate_downloads", json!({"n": 1})).await;
    let d = env.client.download(&files[0]).await.expect("second fetch is whole");
    assert_eq!(d.bytes.len() as u64, files[0].size.expect("size"));
    env.action("truncate_downloads", json!({"n": 2})).await;
    let dir = tempfile::tempdir().expect("tmp");
    let e = env.client.pick_up(&files[0], &DirSink::new(dir.path()), true).await.expect_err("cut twice");
    assert!(matches!(e, CleoError::Incomplete { .. }) && matches!(e.class(), ErrorClass::Retryable { .. }), "{e}");
    assert!(e.to_string().contains("bytes"), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0), 0, "nothing stored");
    assert_eq!(env.files("GRANITERIDGE", "inbound").len(), before, "nothing deleted");
    // With checksums in the listing, an altered body is caught by hash too.
    env.sim.system().set_switch(|s| s.show_checksum = true);
    let files = env.client.list_files(&inb).await.expect("list");
    assert!(files.iter().all(|f| f.sha256.is_some()));
    assert!(env.client.download(&files[0]).await.is_ok());
}

#[tokio::test]
async fn without_delete_permission_a_pickup_keeps_the_file_and_says_so() {
    let env = start().await;
    env.sim.system().set_switch(|s| s.allow_delete = false);
    let inb = env.client.folder("granite-in").await.expect("folder");
    let files = env.client.list_files(&inb).await.expect("list");
    let dir = tempfile::tempdir().expect("tmp");
    let p = env.client.pick_up(&files[0], &DirSink::new(dir.path()), true).await.expect("stored");
    assert!(matches!(&p.deleted, Deleted::NotPermitted(m) if m.contains("Delete is not permitted")), "{:?}", p.deleted);
    let kept = env.client.pick_up(&files[1], &DirSink::new(dir.path()), false).await.expect("kept");
    assert_eq!(kept.deleted, Deleted::Kept);
    assert_eq!(env.client.list_files(&inb).await.expect("list").len(), files.len());
}

#[tokio::test]
async fn permissions_are_enforced_and_the_refusal_names_the_fix() {
    let env = start().await;
    let inb = env.client.folder("statedot-in").await.expect("folder");
    let e = env.client.upload(&inb, "x.edi", &edi(1)).await.expect_err("403");
    assert!(matches!(e, CleoError::Forbidden { .. }), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("Upload is not permitted on folder 'from-partner'") && m.contains("Fix: give the account"),
        "{m}"
    );
    let bad = env.client.upload(&inb, "a/b.edi", &edi(1)).await.expect_err("bad name");
    assert!(matches!(bad, CleoError::Invalid { .. }));
    assert_eq!(env.count("POST", FILES), 1, "a bad name is refused before sending");
}

#[tokio::test]
async fn every_file_resource_variant_is_read() {
    for (size_as_string, style, link) in [
        (true, TimestampStyle::EpochMillis, ContentLink::Download),
        (false, TimestampStyle::NoZone, ContentLink::None),
        (true, TimestampStyle::Rfc3339, ContentLink::Content),
    ] {
        let env = start().await;
        env.sim.system().set_switch(|s| {
            s.size_as_string = size_as_string;
            s.timestamp_style = style;
            s.content_link = link;
            s.echo_paging_keys = true;
        });
        let inb = env.client.folder("granite-in").await.expect("folder");
        let files = env.client.list_files(&inb).await.expect("list");
        assert!(files.iter().all(|f| f.size.is_some() && f.modified.is_some()), "{files:?}");
        let whole = env.files("GRANITERIDGE", "inbound");
        let d = env.client.download(&files[0]).await.expect("download");
        assert_eq!(d.bytes, whole[0].1);
    }
}

#[tokio::test]
async fn harmony_copies_and_size_limits_do_not_confuse_the_client() {
    let env = start().await;
    env.sim.system().set_switch(|s| {
        s.sentbox = true;
        s.receivedbox = true;
        s.max_upload_bytes = 100;
    });
    let out = env.client.folder("granite-acks").await.expect("folder");
    env.client.upload(&out, "997_small.edi", b"ISA~GS~ST*997*0001~").await.expect("upload");
    let e = env.client.upload(&out, "big.edi", &[b'x'; 200]).await.expect_err("413");
    assert_eq!((e.status(), e.class()), (Some(413), ErrorClass::Permanent));
    let inb = env.client.folder("granite-in").await.expect("folder");
    let before = env.client.list_files(&inb).await.expect("list").len();
    let files = env.client.list_files(&inb).await.expect("list");
    let dir = tempfile::tempdir().expect("tmp");
    env.client.pick_up(&files[0], &DirSink::new(dir.path()), true).await.expect("pick up");
    assert_eq!(env.client.list_files(&inb).await.expect("list").len(), before - 1, "the copies go elsewhere");
    assert_eq!(env.files("GRANITERIDGE", "sentbox").len(), 1);
    assert_eq!(env.files("GRANITERIDGE", "receivedbox").len(), 1);
}

#[tokio::test]
async fn calls_per_operation_once_folders_are_resolved() {
    // The figures the README quotes: an outbound upload costs a lookup and a POST; an inbound
    // file costs its download and its delete (plus one listing page per 100 files).
    let env = start().await;
    let out = env.client.folder("statedot-out").await.expect("folder");
    let inb = env.client.folder("granite-in").await.expect("folder");
    let resolve = env.client.stats().calls;
    assert_eq!(resolve, 4, "two folders: a mailbox lookup and a folder lookup each");
    env.client.upload_once(&out, "810_a.edi", &edi(1)).await.expect("upload");
    assert_eq!(env.client.stats().calls - resolve, 2);
    let files = env.client.list_files(&inb).await.expect("list");
    let listed = env.client.stats().calls;
    let dir = tempfile::tempdir().expect("tmp");
    for f in &files {
        env.client.pick_up(f, &DirSink::new(dir.path()), true).await.expect("pick up");
    }
    assert_eq!(env.client.stats().calls - listed, 2 * files.len() as u64);
    println!(
        "cleo calls: outbound upload 2; inbound file 2 + 1 listing page per 100 files; folder resolution 2 per folder, once"
    );
}
