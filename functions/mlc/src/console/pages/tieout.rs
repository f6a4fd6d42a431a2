//! **Tie-out** (the controller's month-end): not built yet. It needs a "documents in a period"
//! read on both connections (approved Cin7 invoices, posted Deltek vouchers) so the totals come
//! from the systems themselves, not only from ml-connector's records; until then this page says
//! so instead of showing figures that would only echo our own store.

use axum::extract::State;
use maud::html;

use crate::console::templates::page as frame;
use crate::console::{Console, PageResult};

pub async fn page(State(c): State<Console>) -> PageResult {
    let body = html! {
        p { "The tie-out per period (approved source totals against posted target totals by vendor, project and GL account, read from both systems, each difference explained by its items) is not built in this version." }
        p.muted { "Meanwhile: " a href="/items?state=posted" { "posted items" } ", " a href="/failures" { "failures" } " and " a href="/mapping" { "items waiting for a mapping" } " show what ml-connector did." }
    };
    Ok(frame("Tie-out", "/tieout", &c.0.place, None, body))
}
