//! An ADX message written by xiangzhi validates against the ADX schema shape
//! (`schema/adx.xsd`, written from the IHE QRPH ADX profile) with libxml2's `xmllint`, and a
//! message that breaks the shape is refused by the same check, so the check can fail.
//! `scripts/test.sh` installs `libxml2-utils`; without `xmllint` the test fails under
//! `XIANGZHI_REQUIRE_ALL=1` (CI) and says it is skipped otherwise.

use std::process::Command;

use xiangzhi_exchange::aggregate::{DataValueRecord, write_adx};

fn xmllint(xml: &str) -> Option<(bool, String)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("message.xml");
    std::fs::write(&file, xml).expect("write");
    let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/adx.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", xsd])
        .arg(&file)
        .output()
        .ok()?;
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn adx_written_by_xiangzhi_matches_the_schema() {
    let values = vec![
        DataValueRecord {
            data_element: "FISCAL_REVENUE".into(),
            period: "2023".into(),
            org_unit: "361002201".into(),
            value: "1200000000".into(),
            comment: Some("2023年完成财税1200万元".into()),
        },
        DataValueRecord {
            data_element: "FOREST_COVERAGE".into(),
            period: "202312".into(),
            org_unit: "361002201".into(),
            value: "56.2".into(),
            comment: None,
        },
    ];
    let xml = write_adx("XIANGZHI", "2026-11-29T10:00:00Z", &values).unwrap();
    let Some((ok, log)) = xmllint(&xml) else {
        if std::env::var("XIANGZHI_REQUIRE_ALL").as_deref() == Ok("1") {
            panic!("XIANGZHI_REQUIRE_ALL=1 but xmllint (libxml2-utils) is not installed");
        }
        eprintln!("SKIPPED: xmllint not installed");
        return;
    };
    assert!(ok, "{log}\n{xml}");

    // The same check refuses a broken shape: a period that is not start/duration, and a
    // group without data values.
    let broken = xml.replace("2023-01-01/P1Y", "2023");
    let (ok, _) = xmllint(&broken).expect("xmllint ran before");
    assert!(!ok, "a DHIS2 period code is not an ADX period");
    let empty = "<?xml version=\"1.0\"?>\n<adx xmlns=\"urn:ihe:qrph:adx:2015\" exported=\"2026-11-29T10:00:00Z\">\
                 <group orgUnit=\"1\" period=\"2023-01-01/P1Y\" dataSet=\"X\"/></adx>";
    let (ok, _) = xmllint(empty).expect("xmllint ran before");
    assert!(!ok, "a group needs at least one data value");
}
