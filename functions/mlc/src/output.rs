//! Printing for people and for machines: every command renders either a plain-text table or, with
//! `--json`, one JSON document on stdout. Errors go to stderr as one line.

use std::io::Write;

use mlc_core::money::Currency;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// Write to stdout; a closed pipe (`mlc items | head -1`) ends the program quietly with exit 0
/// (the reader has what it wanted), any other write error with a one-line message and exit 1.
/// `println!` and `print!` in this crate are this (see the macros in `main.rs`).
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        stdout_failed(&e);
    }
}

/// Write bytes to stdout with the same closed-pipe rule as [`write_stdout`].
pub fn write_stdout_bytes(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        stdout_failed(&e);
    }
}

fn stdout_failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    let _ = writeln!(std::io::stderr(), "error: cannot write to stdout: {e}");
    std::process::exit(1);
}

/// An amount as people read it: the currency code first, the currency's minor units, thousands
/// separators (`USD 272.70`, `USD 12,500.00`, `JPY 1,200`, `USD -45.10`). The one formatter
/// every command uses.
pub fn amount(value: Decimal, currency: Option<Currency>) -> String {
    let dp = currency.map_or(2, |c| c.minor_units());
    let v = value.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{:.*}", dp as usize, v.abs());
    let (int, frac) = text.split_once('.').map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if v.is_sign_negative() && !v.is_zero() { "-" } else { "" };
    let number = match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    };
    match currency {
        Some(c) => format!("{c} {number}"),
        None => number,
    }
}

/// `1 document`, `2 documents`: a count with its noun in the right number (`plural` for nouns
/// that do not just take an `s`).
pub fn count(n: impl Into<u64>, singular: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {singular}")
    } else if let Some(stem) = singular.strip_suffix('y').filter(|s| !s.ends_with(['a', 'e', 'o', 'u'])) {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {singular}s")
    }
}

/// Where a command's result goes.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
}

impl Out {
    /// Print `value` as JSON when `--json`, else run `human`.
    pub fn emit<T: Serialize>(&self, value: &T, human: impl FnOnce()) -> anyhow::Result<()> {
        if self.json {
            write_stdout(format_args!("{}\n", serde_json::to_string_pretty(value)?));
        } else {
            human();
        }
        Ok(())
    }
}

/// A plain-text table with aligned columns.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Self {
        Table { headers: headers.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let n = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate().take(n) {
                if i + 1 == n {
                    s.push_str(c);
                } else {
                    s.push_str(&format!("{:<w$}  ", c, w = widths[i]));
                }
            }
            s.trim_end().to_string()
        };
        let mut out = line(&self.headers);
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }

    pub fn print(&self) {
        print!("{}", self.fit(terminal_width()).render());
    }

    /// The table narrowed to `width` characters: the widest columns are elided in the middle (a
    /// key keeps its start and its end; the last column is cut at its end) until the rows fit;
    /// `--json` has every value whole.
    pub fn fit(&self, width: usize) -> Table {
        let n = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
        while total(&widths) > width {
            let Some((i, w)) = widths.iter().copied().enumerate().max_by_key(|(_, w)| *w) else { break };
            if w <= 12 {
                break;
            }
            widths[i] = w.saturating_sub(total(&widths) - width).max(12).min(w - 1);
        }
        // Codes and keys keep their start and end; the last column (free text) reads from its start.
        let cut = |cells: &[String]| {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| if i + 1 == n && n > 1 { clip(c, widths[i]) } else { elide_middle(c, widths[i]) })
                .collect()
        };
        Table { headers: cut(&self.headers), rows: self.rows.iter().map(|r| cut(r)).collect() }
    }
}

/// The width tables must fit: `$COLUMNS` when set, else 120.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()).filter(|w: &usize| *w >= 40).unwrap_or(120)
}

/// Shorten text to `max` characters by cutting its middle (`cin7-deltek-ap#cin…#24a3a307`).
pub fn elide_middle(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 5 {
        return s.to_string();
    }
    let head = (max - 1) / 2;
    let tail = max - 1 - head;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}

/// Shorten long text for a table cell.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new(&["flow", "state", "count"]);
        t.row(vec!["cin7-deltek-ap".into(), "posted".into(), "12".into()]);
        t.row(vec!["x".into(), "needs_mapping".into(), "3".into()]);
        let r = t.render();
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines[0], "flow            state          count");
        assert_eq!(lines[2], "x               needs_mapping  3");
    }

    #[test]
    fn amounts_use_minor_units_and_thousands_separators() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(amount(d("272.7"), Some(Currency::USD)), "USD 272.70");
        assert_eq!(amount(d("12500"), Some(Currency::USD)), "USD 12,500.00");
        assert_eq!(amount(d("1234567.891"), Some(Currency::EUR)), "EUR 1,234,567.89");
        assert_eq!(amount(d("-45.1"), Some(Currency::USD)), "USD -45.10");
        assert_eq!(amount(d("999.995"), Some(Currency::USD)), "USD 1,000.00");
        assert_eq!(amount(d("1200"), "JPY".parse().ok()), "JPY 1,200");
        assert_eq!(amount(d("0"), None), "0.00");
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(1u64, "document"), "1 document");
        assert_eq!(count(2u64, "document"), "2 documents");
        assert_eq!(count(0u64, "entry"), "0 entries");
        assert_eq!(count(3u64, "key"), "3 keys");
    }

    #[test]
    fn tables_fit_the_width_by_eliding_the_widest_column_in_the_middle() {
        let mut t = Table::new(&["key", "state"]);
        t.row(vec![
            "cin7-deltek-ap#cin7#630c29de-3bb6-48c2-8342-9b0694c84a1e#24a3a307a14e6dbf".into(),
            "posted".into(),
        ]);
        let r = t.fit(40).render();
        assert!(r.lines().all(|l| l.chars().count() <= 40), "{r}");
        assert!(r.contains("cin7-deltek-ap") && r.contains('…') && r.contains("6dbf"), "{r}");
        assert_eq!(elide_middle("abcdefghij", 5), "ab…ij");
    }

    #[test]
    fn clip_marks_cuts() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
