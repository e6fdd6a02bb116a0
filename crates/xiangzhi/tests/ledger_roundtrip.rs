//! A ledger defined from TOML, its template edited by LibreOffice (XLSX → CSV, edited as text,
//! CSV → XLSX, so the uploaded file is one a spreadsheet program wrote), previewed with bad
//! rows, fixed, committed and queried; a village cannot import into another village's rows.

use std::process::Command;
use std::sync::Arc;

use xiangzhi::ledger_excel;
use xiangzhi_domain::ledger::LedgerDefinition;
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::role::Role;
use xiangzhi_store::conformance::{TestStore, actor_at, seeded};
use xiangzhi_store::ledger::{EntryQuery, LedgerQuery};
use xiangzhi_store::{Scope, Store};

const FARM: &str = r#"
code = "farm_test"
name = "农业生产台账"
department = "农业农村办"
period = "year"
level = "village"
roster = "village"

[[fields]]
key = "grain_area"
label = "粮食种植面积"
type = "decimal"
unit = "亩"
required = true
min = 0

[[fields]]
key = "grain_output"
label = "粮食产量"
type = "decimal"
unit = "吨"

[[fields]]
key = "irrigated"
label = "灌溉已解决"
type = "bool"

[[rules]]
check = "grain_output <= grain_area * 0.8"
message = "粮食单产超过每亩0.8吨，请核实"
"#;

fn soffice(dir: &std::path::Path, filter: &str, file: &str, infilter: Option<&str>) {
    let mut c = Command::new("soffice");
    c.arg("--headless")
        .arg(format!("-env:UserInstallation=file://{}/lo", dir.display()));
    if let Some(f) = infilter {
        c.arg(format!("--infilter={f}"));
    }
    let out = c
        .arg("--convert-to")
        .arg(filter)
        .arg("--outdir")
        .arg(dir.join("out"))
        .arg(dir.join(file))
        .output()
        .expect("LibreOffice (soffice) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn template_round_trip_through_libreoffice() {
    let dir = tempfile::tempdir().unwrap();
    let store = xiangzhi_store_sqlite::SqliteStore::open(
        dir.path().join("t.db").to_str().unwrap(),
        Arc::new(xiangzhi_store::Vault::ephemeral()),
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let store: TestStore = Arc::new(store);
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let def = LedgerDefinition::from_toml(FARM).unwrap();
    store.define_ledger(&clerk, &def).await.unwrap();
    let township = DivisionCode::parse("361002201").unwrap();
    store
        .ensure_roster(&clerk, "farm_test", &township, "2023")
        .await
        .unwrap();
    let ledger = store.ledger("farm_test").await.unwrap();
    let rows = store
        .entries(&Scope::all(), "farm_test", &EntryQuery::default())
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "one roster row per village");
    let xlsx = ledger_excel::template(&ledger, "连城乡", "2023", &rows).unwrap();
    std::fs::write(dir.path().join("t.xlsx"), xlsx).unwrap();

    // LibreOffice: XLSX → CSV, fill the two roster rows as a clerk would, CSV → XLSX.
    soffice(
        dir.path(),
        "csv:Text - txt - csv (StarCalc):44,34,76,1",
        "t.xlsx",
        None,
    );
    let csv = std::fs::read_to_string(dir.path().join("out/t.csv")).unwrap();
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    let header = lines
        .iter()
        .position(|l| l.contains("记录编号"))
        .expect("header row");
    let fill = |line: &str, area: &str, output: &str, yes: &str| {
        let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
        cells.truncate(6);
        cells.extend([area.to_string(), output.to_string(), yes.to_string()]);
        cells.join(",")
    };
    // a bad row: output over the rule, and a non-number
    lines[header + 1] = fill(&lines[header + 1], "1800", "1700", "是");
    lines[header + 2] = fill(&lines[header + 2], "十亩", "", "否");
    std::fs::write(dir.path().join("bad.csv"), lines.join("\n")).unwrap();
    soffice(dir.path(), "xlsx", "bad.csv", Some("CSV:44,34,76,1"));
    let bytes = std::fs::read(dir.path().join("out/bad.xlsx")).unwrap();
    let up = ledger_excel::parse_upload(&ledger, &bytes, "bad.xlsx", None, "2023").unwrap();
    assert_eq!(up.errors.len(), 1, "{:?}", up.errors);
    assert!(up.errors[0].reason.contains("不是数字"));
    let out = store
        .import_entries(&clerk, "farm_test", &up.rows, true)
        .await
        .unwrap();
    assert!(!out.committed);
    assert_eq!(out.issues[0].reason, "粮食单产超过每亩0.8吨，请核实");
    let report = ledger_excel::error_report(&up.sheet, &up.errors).unwrap();
    assert!(report.starts_with(b"PK"));

    // fixed, previewed, committed
    lines[header + 1] = fill(&lines[header + 1], "1800", "800", "是");
    lines[header + 2] = fill(&lines[header + 2], "1960", "850", "否");
    std::fs::write(dir.path().join("good.csv"), lines.join("\n")).unwrap();
    soffice(dir.path(), "xlsx", "good.csv", Some("CSV:44,34,76,1"));
    let bytes = std::fs::read(dir.path().join("out/good.xlsx")).unwrap();
    let up = ledger_excel::parse_upload(&ledger, &bytes, "good.xlsx", None, "2023").unwrap();
    assert!(up.errors.is_empty(), "{:?}", up.errors);
    let preview = store
        .import_entries(&clerk, "farm_test", &up.rows, true)
        .await
        .unwrap();
    assert!(preview.issues.is_empty() && preview.updated == 2 && !preview.committed);

    // a village cannot import the other village's row
    let shetou = actor_at(&store, "361002201208", Role::VillageCadre).await;
    let foreign = store
        .import_entries(&shetou, "farm_test", &up.rows, false)
        .await
        .unwrap();
    assert!(!foreign.committed && !foreign.issues.is_empty());

    let out = store
        .import_entries(&clerk, "farm_test", &up.rows, false)
        .await
        .unwrap();
    assert!(out.committed && out.updated == 2);
    let agg = store
        .ledger_aggregate(
            &clerk.scope,
            "farm_test",
            &LedgerQuery {
                group_level: Some(OrgLevel::Township),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(agg[0].fields["grain_area"].sum, Some(3760.0));
    assert_eq!(agg[0].fields["grain_output"].sum, Some(1650.0));
    assert_eq!(agg[0].fields["irrigated"].sum, Some(1.0));
    // the village sees only its own row
    let mine = store
        .entries(&shetou.scope, "farm_test", &EntryQuery::default())
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].org_code.as_str(), "361002201208");
}

const VISITS: &str = r#"
code = "visit_test"
name = "入户走访台账"
department = "民政办"
period = "month"
level = "village"

[[fields]]
key = "person"
label = "走访对象"
type = "person"
required = true

[[fields]]
key = "household"
label = "所在户"
type = "household"
"#;

/// A clerk fills a reference column with what is on paper (身份证号, 户号), not the system id;
/// keys outside the uploader's village read as unknown, so an upload cannot probe elsewhere.
#[tokio::test]
async fn reference_columns_take_citizen_ids_and_household_numbers_within_scope() {
    use xiangzhi_domain::citizen_id::generate;
    use xiangzhi_store::registry::{NewHousehold, NewPerson};

    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = xiangzhi::open_store(
        dir.path().join("x.db").to_str().unwrap(),
        Some(&dir.path().join("key")),
    )
    .await
    .unwrap();
    let t: &TestStore = &store;
    seeded(t).await;
    let system = xiangzhi_store::Actor::system("test");
    store
        .define_ledger(&system, &LedgerDefinition::from_toml(VISITS).unwrap())
        .await
        .unwrap();
    let birth = chrono::NaiveDate::from_ymd_opt(1960, 3, 1).unwrap();
    let make = |village: &'static str, seq: u16, no: &'static str| {
        let store = store.clone();
        let system = system.clone();
        async move {
            let h = store
                .create_household(
                    &system,
                    NewHousehold {
                        household_no: no.into(),
                        address: "测试地址".into(),
                        org_code: DivisionCode::parse(village).unwrap(),
                    },
                )
                .await
                .unwrap();
            let id = generate("361002", birth, seq, true);
            let p = store
                .create_person(
                    &system,
                    NewPerson {
                        name: "走访对象".into(),
                        citizen_id: id.clone(),
                        phone: None,
                        household_id: Some(h.id),
                        relation: None,
                        org_code: None,
                        tags: Vec::new(),
                    },
                )
                .await
                .unwrap();
            (p.id, h.id, id.as_str().to_string())
        }
    };
    let (mine_p, mine_h, mine_id) = make("361002201211", 11, "3610022012110099").await;
    let (_, _, other_id) = make("361002201208", 12, "3610022012080099").await;

    let csv = format!(
        "单位代码,期间,走访对象,所在户\n\
         361002201211,202303,{mine_id},3610022012110099\n\
         361002201211,202303,{other_id},\n\
         361002201211,202303,{mine_p},{mine_h}\n\
         361002201211,202303,11010519491231002X,3610022012080099\n"
    );
    let ledger = store.ledger("visit_test").await.unwrap();
    let mut up =
        ledger_excel::parse_upload(&ledger, csv.as_bytes(), "visits.csv", None, "").unwrap();
    assert!(up.errors.is_empty(), "{:?}", up.errors);
    assert_eq!(up.rows.len(), 4);
    let cadre = actor_at(t, "361002201211", Role::VillageCadre).await;
    ledger_excel::resolve_references(store.as_ref(), &cadre.scope, &mut up)
        .await
        .unwrap();

    // rows 2 and 4 resolve (by ID and 户号, and by system id); 3 and 5 name other villages' keys
    let lines: Vec<usize> = up.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![2, 4]);
    for r in &up.rows {
        assert_eq!(r.entry.values["person"].as_f64(), Some(mine_p as f64));
        assert_eq!(r.entry.values["household"].as_f64(), Some(mine_h as f64));
    }
    let bad: Vec<(usize, &str)> = up
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    assert_eq!(bad, vec![(3, "走访对象"), (5, "走访对象"), (5, "所在户")]);
    assert!(
        up.errors.iter().all(|e| !e.reason.contains(&other_id)),
        "an error never echoes a full ID: {:?}",
        up.errors
    );

    let out = store
        .import_entries(&cadre, "visit_test", &up.rows, false)
        .await
        .unwrap();
    assert!(out.committed && out.new == 2, "{out:?}");
}
