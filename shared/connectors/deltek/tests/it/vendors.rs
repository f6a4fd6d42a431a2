//! Vendor firms: find, search, create with a remit-to address, update only what changed.

use crate::support::*;
use mlc_core::domain::{Address, AddressKind, Status, Vendor};

fn new_vendor() -> Vendor {
    Vendor {
        source: None,
        code: "NORTHSTL".into(),
        name: "North Steel Fabricators".into(),
        tax_id: Some("91-7654321".into()),
        currency: Some(mlc_core::money::Currency::USD),
        payment_terms: None,
        email: Some("ap@northsteel.example".into()),
        phone: None,
        addresses: vec![
            Address {
                kind: AddressKind::Main,
                lines: vec!["12 Foundry Rd".into()],
                city: Some("Tacoma".into()),
                state: Some("WA".into()),
                postcode: Some("98421".into()),
                country: Some("US".into()),
            },
            Address {
                kind: AddressKind::RemitTo,
                lines: vec!["PO Box 4410".into()],
                city: Some("Seattle".into()),
                state: Some("WA".into()),
                postcode: Some("98124".into()),
                country: Some("US".into()),
            },
        ],
        status: Status::Active,
    }
}

#[tokio::test]
async fn find_by_number_name_and_tax_id() {
    let env = start().await;
    let f = env.client.find_vendor("cascsurv").await.unwrap().expect("found");
    assert_eq!((f.vendor.as_str(), f.is_vendor, f.active()), ("CASCSURV", true, true));
    assert!(env.client.find_vendor("NOPE").await.unwrap().is_none());
    let q = &env.sim.calls().records().iter().find(|r| r.path.ends_with("/firm")).unwrap().query.clone();
    assert!(q.contains("filterHash"), "{q}");

    let by_name = env.client.find_vendors_by_name("cascade LAND").await.unwrap();
    assert_eq!(by_name.first().map(|f| f.vendor.as_str()), Some("CASCSURV"));
    let by_tax = env.client.find_vendors_by_tax_id("913344556").await.unwrap();
    assert_eq!(by_tax.len(), 1);
    assert_eq!(by_tax[0].vendor, "CASCSURV");

    let v = env.client.vendor("CASCSURV").await.unwrap().expect("domain vendor");
    assert_eq!(v.remit_to().map(|a| a.lines[0].as_str()), Some("PO Box 3381"));
    assert_eq!(v.tax_id.as_deref(), Some("91-3344556"));
}

#[tokio::test]
async fn create_a_vendor_with_a_remit_to_address_then_update_only_changes() {
    let env = start().await;
    let v = new_vendor();
    let firm = env.client.create_vendor(&v).await.unwrap();
    assert!(firm.is_vendor && firm.vendor == "NORTHSTL");
    {
        let st = env.sim.system().lock();
        let f = st.firms.iter().find(|f| f.vendor == "NORTHSTL").expect("firm");
        assert_eq!((f.vendor_ind.as_str(), f.fed_id.as_str(), f.primary_city.as_str()), ("Y", "91-7654321", "Tacoma"));
        let remit = f.addresses.iter().find(|a| a.payment == "Y").expect("payment address");
        assert_eq!(remit.address1, "PO Box 4410");
        assert!(f.addresses.iter().any(|a| a.primary_ind == "Y"));
    }
    let found = env.client.find_vendor("NORTHSTL").await.unwrap().unwrap();
    let with = env.client.vendor_with_addresses(&found.client_id).await.unwrap().unwrap();
    assert!(env.client.vendor_is_up_to_date(&with, &v));

    // Nothing changed: no write.
    let writes = || env.count("PUT", "*") + env.count("POST", "*/firm*");
    let before = writes();
    env.client.update_vendor(&with, &v).await.unwrap();
    assert_eq!(writes(), before);

    // New name and remit-to: one firm PUT, one address PUT.
    let mut v2 = v.clone();
    v2.name = "North Steel Fabricators, Inc.".into();
    v2.addresses[1].lines = vec!["PO Box 9000".into()];
    let updated = env.client.update_vendor(&with, &v2).await.unwrap();
    assert_eq!(updated.name, "North Steel Fabricators, Inc.");
    assert_eq!(env.count("PUT", "*/firm/*"), 2);
    let st = env.sim.system().lock();
    let f = st.firms.iter().find(|f| f.vendor == "NORTHSTL").unwrap();
    assert_eq!(f.addresses.iter().find(|a| a.payment == "Y").unwrap().address1, "PO Box 9000");
    assert_eq!(f.primary_city, "Tacoma", "untouched fields stay");
}

#[tokio::test]
async fn a_duplicate_vendor_number_is_refused_with_the_servers_text() {
    let env = start().await;
    let mut v = new_vendor();
    v.code = "CASCSURV".into();
    let e = env.client.create_vendor(&v).await.unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
}

#[tokio::test]
async fn a_client_firm_becomes_a_vendor_by_update() {
    let env = start().await;
    let firm =
        env.client.find_vendors_by_name("city of port harbor").await.unwrap().into_iter().next().expect("client firm");
    assert!(!firm.is_vendor && firm.vendor.is_empty());
    let mut v = firm.to_domain();
    v.code = "CITYPH".into();
    let updated = env.client.update_vendor(&firm, &v).await.unwrap();
    assert!(updated.is_vendor);
    assert_eq!(updated.vendor, "CITYPH");
    assert!(env.client.find_vendor("CITYPH").await.unwrap().is_some_and(|f| f.is_vendor));
}
