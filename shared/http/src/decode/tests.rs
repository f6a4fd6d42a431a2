use super::*;
use chrono::{Datelike, Timelike};
use rust_decimal::dec;
use serde_json::json;

fn utc(s: &str) -> String {
    datetime_utc(s).map(|d| d.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()).unwrap_or_else(|| "none".into())
}

#[test]
fn stamps_with_and_without_zone_and_zero_to_seven_fraction_digits() {
    let cases = [
        ("2017-12-08T00:00:00", "2017-12-08T00:00:00.000000000Z"),
        ("2017-12-08T10:14:18.45Z", "2017-12-08T10:14:18.450000000Z"),
        ("2021-11-02T11:44:45.21", "2021-11-02T11:44:45.210000000Z"),
        ("2017-12-05T06:05:06.9472864Z", "2017-12-05T06:05:06.947286400Z"),
        ("2017-12-05T06:05:06.1z", "2017-12-05T06:05:06.100000000Z"),
        ("2017-12-05T06:05:06+02:00", "2017-12-05T04:05:06.000000000Z"),
        ("2020-08-11T10:47:41.17-04:00", "2020-08-11T14:47:41.170000000Z"),
        ("2016-10-07T06:59:46-0700", "2016-10-07T13:59:46.000000000Z"),
        ("2016-10-07T06:59:46+05", "2016-10-07T01:59:46.000000000Z"),
        ("2017-12-05 06:05:06", "2017-12-05T06:05:06.000000000Z"),
        ("2017-12-05T06:05", "2017-12-05T06:05:00.000000000Z"),
        ("2017-12-05", "2017-12-05T00:00:00.000000000Z"),
        ("11/22/2017", "2017-11-22T00:00:00.000000000Z"),
        ("  2017-12-05T06:05:06Z ", "2017-12-05T06:05:06.000000000Z"),
    ];
    for (input, want) in cases {
        assert_eq!(utc(input), want, "{input}");
    }
    for bad in
        ["", "  ", "yesterday", "2017-13-01", "2017-12-05T25:00:00", "2017-12-05T06:05:06+99:00", "2017-12-05Tnoon"]
    {
        assert!(datetime_utc(bad).is_none(), "{bad}");
    }
}

#[test]
fn zone_less_stamps_in_the_tenant_zone_and_wall_times() {
    let pacific = FixedOffset::west_opt(7 * 3600).unwrap();
    let d = datetime_in("2016-10-07T06:59:46", pacific).unwrap();
    assert_eq!(d.with_timezone(&Utc).hour(), 13);
    // A stamp with its own zone keeps it.
    let d = datetime_in("2016-10-07T06:59:46Z", pacific).unwrap();
    assert_eq!((d.offset().local_minus_utc(), d.hour()), (0, 6));
    // Wall time: as written, zone dropped (Vantagepoint).
    let w = wall_time("2017-11-22T10:11:12.5+02:00").unwrap();
    assert_eq!((w.hour(), w.nanosecond()), (10, 500_000_000));
    assert_eq!(date("2017-11-22T23:30:00-05:00").map(|d| d.day()), Some(22));
}

#[test]
fn numbers_as_strings_or_numbers_exactly() {
    assert_eq!(decimal(&json!("1,275.50")), Some(dec!(1275.50)));
    assert_eq!(decimal(&json!("(12.50)")), Some(dec!(-12.50)));
    assert_eq!(decimal(&json!(" $5 ")), Some(dec!(5)));
    assert_eq!(decimal(&json!("1e3")), Some(dec!(1000)));
    assert_eq!(decimal(&json!(0.1)), Some(dec!(0.1)));
    assert_eq!(decimal(&json!(1200)), Some(dec!(1200)));
    assert_eq!(decimal(&json!("560.00")).map(|d| d.to_string()).as_deref(), Some("560.00"));
    for none in [json!(""), json!(" "), json!(null), json!("abc"), json!(true), json!([1])] {
        assert_eq!(decimal(&none), None, "{none}");
    }
    assert_eq!(int(&json!("202506")), Some(202506));
    assert_eq!(int(&json!(202506.0)), Some(202506));
    assert_eq!(int(&json!("3.00")), Some(3));
    assert_eq!(int(&json!("3.5")), None);
    assert_eq!(int(&json!(-4)), Some(-4));
    assert_eq!(uint(&json!("18446744073709551615")), Some(u64::MAX));
    assert_eq!(uint(&json!(9_007_199_254_740_993u64)), Some(9_007_199_254_740_993));
    assert_eq!(uint(&json!(-1)), None);
}

#[test]
fn blanks_flags_and_text() {
    assert_eq!(text(&json!(" ")), None);
    assert_eq!(text(&json!("")), None);
    assert_eq!(text(&json!(" a ")), Some("a".into()));
    assert_eq!(text(&json!(453)), Some("453".into()));
    assert_eq!(text(&json!({"a": 1})), None);
    for yes in [json!(true), json!("Y"), json!("yes"), json!("TRUE"), json!(1), json!("1")] {
        assert_eq!(flag(&yes), Some(true), "{yes}");
    }
    for no in [json!(false), json!("n"), json!("No"), json!("false"), json!(0), json!("0")] {
        assert_eq!(flag(&no), Some(false), "{no}");
    }
    assert_eq!(flag(&json!("maybe")), None);
    assert_eq!(flag(&json!("")), None);
    assert_eq!(lowercase_keys(json!({"A": {"Bc": [{"D": 1}]}})), json!({"a": {"bc": [{"d": 1}]}}));
}

#[test]
fn fields_read_case_insensitively_and_note_what_they_cannot_read() {
    let v = json!({"ID": 7, "Amount": "abc", "Lines": {"Name": "one"}, "Tags": [{"a": 1}, 3, [{"b": 2}]],
                   "When": "soon", "Blank": " ", "Null": null, "Obj": {"x": 1}});
    let notes = Notes::default();
    let f = Fields::of(&v).unwrap().noting("bill 7", &notes);
    assert_eq!(f.uint("id"), Some(7));
    assert_eq!(f.decimal("amount"), None);
    assert_eq!(f.objects("lines").len(), 1, "one object where an array was documented");
    assert_eq!(f.objects("tags").len(), 2, "non-objects skipped, nested arrays flattened");
    assert_eq!(f.datetime("when"), None);
    assert_eq!((f.text("blank"), f.decimal("blank"), f.int("blank")), (None, None, None));
    assert!(f.get("null").is_none() && f.has("NULL") && !f.has("missing"));
    assert_eq!(f.text("obj"), None);
    assert_eq!(f.object("Obj").and_then(|o| o.int("X")), Some(1));
    let notes = notes.take();
    assert_eq!(
        notes,
        [
            "bill 7: amount 'abc' is not a number",
            "bill 7: tags holds 3, not an object",
            "bill 7: when 'soon' is not a date",
            "bill 7: obj is {\"x\":1}, not text",
        ],
    );
}

#[test]
fn rows_and_records_of_any_shape() {
    assert_eq!(records(json!([{"A": 1}, {"A": 2}])).len(), 2);
    assert_eq!(records(json!({"A": 1})).len(), 1);
    assert_eq!(records(json!([[{"A": 1}], {"A": 2}, 3, null])).len(), 2);
    assert_eq!(records(json!("[{\"A\": 1}]")).len(), 1);
    assert!(records(json!("")).is_empty() && records(json!(null)).is_empty() && records(json!("text")).is_empty());
    let r = Row::from_value(json!({"MasterPKey": "ab", "wbs2": " ", "Amount": "1,275.50", "Posted": "y",
        "Seq": 3.0, "D": "2017-11-22T10:11:12.123Z", "Nested": [{"X": 1}]}))
    .unwrap();
    assert_eq!(r.text("MASTERPKEY"), "ab");
    assert_eq!(r.opt_text("WBS2"), None);
    assert_eq!((r.decimal("amount"), r.money("missing")), (Some(dec!(1275.50)), dec!(0)));
    assert!(r.flag("posted") && !r.flag("missing"));
    assert_eq!(r.int("seq"), Some(3));
    assert_eq!(r.date("d").map(|d| d.nanosecond()), Some(123_000_000));
    assert_eq!(r.datetime("d").map(|d| d.second()), Some(12));
    assert_eq!(r.rows("nested")[0].int("x"), Some(1));
    assert_eq!(r.fields().uint("SEQ"), Some(3));
}

#[test]
fn serde_helpers() {
    #[derive(serde::Deserialize, Debug)]
    struct M {
        #[serde(deserialize_with = "de::uint")]
        id: u64,
        #[serde(default, deserialize_with = "de::opt_decimal")]
        amount: Option<Decimal>,
        #[serde(default, deserialize_with = "de::opt_text")]
        memo: Option<String>,
        #[serde(default, deserialize_with = "de::opt_flag")]
        active: Option<bool>,
        #[serde(default, deserialize_with = "de::opt_date")]
        due: Option<NaiveDate>,
        #[serde(default, deserialize_with = "de::one_or_many")]
        lines: Vec<Line>,
    }
    #[derive(serde::Deserialize, Debug)]
    struct Line {
        #[serde(deserialize_with = "de::decimal")]
        qty: Decimal,
    }
    let m: M = serde_json::from_value(json!({"id": "12", "amount": " ", "memo": 5, "active": "N",
        "due": "2025-06-30T00:00:00-07:00", "lines": {"qty": "2"}}))
    .unwrap();
    assert_eq!((m.id, m.amount, m.memo.as_deref(), m.active), (12, None, Some("5"), Some(false)));
    assert_eq!(m.due, NaiveDate::from_ymd_opt(2025, 6, 30));
    assert_eq!(m.lines.iter().map(|l| l.qty).collect::<Vec<_>>(), [dec!(2)]);
    let m: M = serde_json::from_value(json!({"id": 1})).unwrap();
    assert!(m.lines.is_empty() && m.amount.is_none());
    let e = serde_json::from_value::<M>(json!({"id": "x1"})).unwrap_err().to_string();
    assert!(e.contains("'x1' is not a non-negative whole number"), "{e}");
    let e = serde_json::from_value::<M>(json!({"id": 1, "amount": "ten"})).unwrap_err().to_string();
    assert!(e.contains("'ten' is not a number"), "{e}");
}
