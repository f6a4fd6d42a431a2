//! The console's page frame and small rendering helpers (maud: templates checked at compile time,
//! escaped by default). The stylesheet is embedded in the binary; no page loads anything from
//! elsewhere and no essential action needs JavaScript.

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use rust_decimal::Decimal;

/// The one stylesheet, served at `/assets/style.css` and inlined into evidence packs.
pub const STYLE: &str = include_str!("style.css");

/// The pages in the navigation bar: (path, title).
pub const NAV: [(&str, &str); 7] = [
    ("/", "Today"),
    ("/mapping", "Needs mapping"),
    ("/failures", "Failures and review"),
    ("/tieout", "Tie-out"),
    ("/mappings", "Mappings"),
    ("/connections", "Connections"),
    ("/items", "Items"),
];

/// A whole page: navigation, where the state lives, then `body`. `refresh` (seconds) makes the
/// browser reload it (used while released items post).
pub fn page(title: &str, here: &str, place: &str, refresh: Option<u32>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(s) = refresh { meta http-equiv="refresh" content=(s); }
                title { (title) " · ml-connector" }
                link rel="stylesheet" href="/assets/style.css";
            }
            body {
                header {
                    span.brand { "ml-connector" }
                    nav {
                        @for (path, name) in NAV {
                            a href=(path) class=[(path == here).then_some("here")] { (name) }
                        }
                    }
                    span.place { (place) }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A self-contained document (styles inlined): the evidence pack.
pub fn standalone(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { main { h1 { (title) } (body) } }
        }
    }
}

/// Percent-encode a query value.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The item page of a key.
pub fn item_href(key: &str) -> String {
    format!("/item?key={}", enc(key))
}

/// `3m`, `5h`, `2d` since `t`.
pub fn age(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (now - t).num_seconds().max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// A timestamp as people read it (UTC).
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Money with two decimals and thousands separators.
pub fn money(d: Decimal) -> String {
    let r = d.round_dp(2);
    let neg = r.is_sign_negative() && !r.is_zero();
    let s = format!("{:.2}", r.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}{out}.{frac}", if neg { "-" } else { "" })
}

/// A short page for refusals and errors.
pub fn message_page(title: &str, text: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) " · ml-connector" } link rel="stylesheet" href="/assets/style.css"; }
            body { main { h1 { (title) } p { (text) } } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_and_rounds() {
        assert_eq!(money(Decimal::new(1796333, 2)), "17,963.33");
        assert_eq!(money(Decimal::new(-1234567, 3)), "-1,234.57");
        assert_eq!(money(Decimal::ZERO), "0.00");
        assert_eq!(money(Decimal::new(999, 0)), "999.00");
    }

    #[test]
    fn item_links_encode_the_key() {
        assert_eq!(item_href("f#cin7#P 1#v2"), "/item?key=f%23cin7%23P+1%23v2");
    }
}
