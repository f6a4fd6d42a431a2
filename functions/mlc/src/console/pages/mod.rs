//! One module per console page (or family of pages): each reads through the engine and the store
//! port, renders with [`super::templates`], and acts through the functions the CLI commands use.

pub mod connections;
pub mod failures;
pub mod item;
pub mod mapping;
pub mod mappings;
pub mod tieout;
pub mod today;

use mlc_core::engine::model::{ItemFilter, ItemState, WorkItem};

use super::Console;

/// Items in one state (most recently updated first), at most `limit`.
pub async fn in_state(c: &Console, state: ItemState, limit: usize) -> Result<Vec<WorkItem>, super::PageError> {
    Ok(c.0.engine.find(&ItemFilter { state: Some(state), limit: Some(limit), ..Default::default() }).await?)
}

/// Form fields posted as `name=value` pairs (repeated names allowed: `key=a&key=b`).
pub type Pairs = Vec<(String, String)>;

/// The first value of `name`, trimmed.
pub fn field<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim())
}

/// Every value of `name`.
pub fn fields<'a>(pairs: &'a Pairs, name: &str) -> Vec<&'a str> {
    pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
}
