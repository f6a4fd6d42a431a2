//! Collections: every page, the server's clamp, files arriving between pages, filters.

use mlc_sim::cleo::switches::ListOrder;
use serde_json::json;

use crate::support::*;

const FILES: &str = "/api/mailboxes/{mailbox}/folders/{folder}/files";

async fn fill(env: &Env, n: usize) {
    for i in 0..n {
        env.action(
            "drop_file",
            json!({"mailbox": "RIVERTON", "folder": "997/in", "name": format!("997_{i:03}.edi"), "text": "x"}),
        )
        .await;
        env.sim.clock().advance(chrono::Duration::seconds(1));
    }
}

#[tokio::test]
async fn every_page_is_read_and_the_servers_clamp_is_followed() {
    let env = start_opts(json!({"page_size": 10})).await;
    fill(&env, 23).await;
    env.sim.system().set_switch(|s| s.max_page_size = 7);
    let inb = env.client.folder("riverton-in").await.expect("folder");
    env.sim.calls().clear();
    let files = env.client.list_files(&inb).await.expect("list");
    assert_eq!(files.len(), 23);
    assert_eq!(env.count("GET", FILES), 4, "7 + 7 + 7 + 2: advanced by what came back");
    let mut names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    names.dedup();
    assert_eq!(names.len(), 23);
}

#[tokio::test]
async fn files_arriving_between_pages_are_not_missed_oldest_or_newest_first() {
    for order in [ListOrder::OldestFirst, ListOrder::NewestFirst] {
        let env = start_opts(json!({"page_size": 5})).await;
        fill(&env, 12).await;
        env.sim.system().set_switch(|s| s.list_order = order);
        let inb = env.client.folder("riverton-in").await.expect("folder");
        env.action("add_between_pages", json!({"mailbox": "RIVERTON", "folder": "997/in", "n": 3})).await;
        let files = env.client.list_files(&inb).await.expect("list");
        let mut ids: Vec<&str> = files.iter().map(|f| f.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!((files.len(), ids.len()), (15, 15), "{order:?}: every file once");
    }
}

#[tokio::test]
async fn lookups_by_name_use_the_filter_and_check_the_answer() {
    let env = start().await;
    fill(&env, 3).await;
    let inb = env.client.folder("riverton-in").await.expect("folder");
    let found = env.client.find_files(&inb, "997_001.edi").await.expect("find");
    assert_eq!(found.len(), 1);
    assert!(env.client.find_files(&inb, "997_1.edi").await.expect("find").is_empty());
    let last = env.sim.calls().records().into_iter().rev().find(|r| r.path.ends_with("/files")).expect("call");
    assert!(last.query.contains("filter=name+eq+%22997_1.edi%22"), "{}", last.query);
    // Mailboxes and folders by name.
    let mbs = env.client.mailboxes().await.expect("mailboxes");
    assert_eq!(
        mbs.iter().map(|m| m.alias.as_str()).collect::<Vec<_>>(),
        vec!["STATEDOT", "HARBORCO", "RIVERTON", "GRANITERIDGE"]
    );
    let m = env.client.mailbox("harborco").await.expect("case-insensitive alias");
    let folders = env.client.folders(&m).await.expect("folders");
    assert_eq!(folders.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), vec!["inbox", "outbox"]);
    assert!(folders[0].permissions.is_some_and(|p| p.upload && !p.download));
    let any = env.client.folder_at("RIVERTON", "810/out").await.expect("any folder");
    assert_eq!(any.label(), "RIVERTON/810/out");
}

#[tokio::test]
async fn a_server_that_ignores_start_index_is_reported_not_trusted() {
    let env = start_opts(json!({"page_size": 5})).await;
    fill(&env, 12).await;
    env.sim.system().set_switch(|s| s.ignore_start_index = true);
    let inb = env.client.folder("riverton-in").await.expect("folder");
    let e = env.client.list_files(&inb).await.expect_err("noticed");
    assert!(e.to_string().contains("ignores startIndex") && e.to_string().contains("raise page_size"), "{e}");
    let big = env.client(json!({"page_size": 50}));
    assert_eq!(big.list_files(&big.folder("riverton-in").await.expect("f")).await.expect("one page").len(), 12);
}
