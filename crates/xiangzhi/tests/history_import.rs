//! 存量导入 end to end: a roster as XLSX (an ID typed as a number, Chinese labels), a payout
//! sheet and a case ledger as GBK CSV, through the same parsing and store paths as the CLI and
//! the import page; bad rows stop the whole file and come back by row and column; the CLI
//! exits 2 and writes the marked-up error report.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use chrono::NaiveDate;
use xiangzhi::import::{self, Kind};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_exchange::write::XlsxExport;
use xiangzhi_exchange::{Cell, Limits};
use xiangzhi_store::assistance::{EnrollmentQuery, PayrollStatus};
use xiangzhi_store::registry::PersonQuery;
use xiangzhi_store::{Actor, Scope, Store};

fn township() -> DivisionCode {
    DivisionCode::parse("361002201").unwrap()
}

/// Registered persons of the demo with their full IDs, none of them in 困境儿童 yet, whose
/// IDs end in a digit (so Excel can hold them as numbers).
async fn unenrolled(store: &Arc<dyn Store>, n: usize) -> Vec<(i64, String, String)> {
    let op = Actor::system("test");
    let enrolled: HashSet<i64> = store
        .enrollments(
            &Scope::all(),
            &EnrollmentQuery {
                program: Some("child_in_difficulty".into()),
                limit: 10_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .iter()
        .filter_map(|e| e.person_id)
        .collect();
    let page = store
        .person_export_page(
            &op,
            &PersonQuery {
                limit: 2000,
                ..Default::default()
            },
            true,
        )
        .await
        .unwrap();
    page.into_iter()
        .filter(|(p, id, _)| {
            !enrolled.contains(&p.id)
                && id.as_deref().is_some_and(|i| !i.ends_with('X'))
                && p.status == xiangzhi_store::registry::PersonStatus::Registered
        })
        .take(n)
        .map(|(p, id, _)| (p.id, id.unwrap(), p.org_code.as_str().to_string()))
        .collect()
}

async fn import_bytes(
    store: &Arc<dyn Store>,
    kind: Kind,
    bytes: &[u8],
    name: &str,
) -> (import::ImportReport, xiangzhi_exchange::Sheet) {
    let sheet = import::read_sheet(kind, bytes, name, &Limits::default()).unwrap();
    let report = import::import_sheet(
        store,
        &Actor::system("test"),
        kind,
        &sheet,
        &township(),
        false,
    )
    .await
    .unwrap();
    (report, sheet)
}

fn roster_xlsx(rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut x = XlsxExport::new(
        "名单",
        &[
            "救助项目",
            "公民身份号码",
            "保障类别",
            "纳入日期",
            "状态",
            "退出日期",
        ],
    )
    .unwrap();
    for r in rows {
        x.write_row(r).unwrap();
    }
    x.finish().unwrap()
}

fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

#[tokio::test]
async fn a_roster_payouts_and_a_case_ledger_go_in_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("xz.db");
    let store = xiangzhi::open_store(db.to_str().unwrap(), None)
        .await
        .unwrap();
    xiangzhi::demo::load(&store).await.unwrap();
    let people = unenrolled(&store, 3).await;
    assert_eq!(people.len(), 3);
    let before = store
        .enrollments(
            &Scope::all(),
            &EnrollmentQuery {
                limit: 10_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len();

    // An ID typed as a number, a label for the program and its category, one exited; and
    // a row that says 已退出 without the day it ended.
    let id_number = |s: &str| Cell::Int(s.parse::<i64>().unwrap());
    let good = vec![
        vec![
            "困境儿童".into(),
            id_number(&people[0].1),
            "困境儿童".into(),
            "2022-03-01".into(),
            "在保".into(),
            "".into(),
        ],
        vec![
            "child_in_difficulty".into(),
            people[1].1.as_str().into(),
            "事实无人抚养儿童".into(),
            NaiveDate::from_ymd_opt(2021, 5, 1).unwrap().into(),
            "已退出".into(),
            "2023-02-28".into(),
        ],
    ];
    let mut bad = good.clone();
    bad.push(vec![
        "困境儿童".into(),
        people[2].1.as_str().into(),
        "困境儿童".into(),
        "2022-03-01".into(),
        "已退出".into(),
        "".into(),
    ]);
    let (report, sheet) =
        import_bytes(&store, Kind::Enrollments, &roster_xlsx(&bad), "名单.xlsx").await;
    assert!(!report.summary.committed);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(
        (report.errors[0].line, report.errors[0].column.as_str()),
        (4, "退出日期")
    );
    assert!(!import::error_report(&sheet, &report).unwrap().is_empty());
    let count = |store: Arc<dyn Store>| async move {
        store
            .enrollments(
                &Scope::all(),
                &EnrollmentQuery {
                    limit: 10_000,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .len()
    };
    assert_eq!(count(store.clone()).await, before, "nothing written");

    let (report, _) =
        import_bytes(&store, Kind::Enrollments, &roster_xlsx(&good), "名单.xlsx").await;
    assert!(report.summary.committed, "{:?}", report.errors);
    assert_eq!(count(store.clone()).await, before + 2);

    // Payouts in GBK: the one still active is paid for two months of 2023.
    let csv = format!(
        "项目,发放月份,身份证号,金额（元）\r\n困境儿童,202301,{id},1220\r\n困境儿童,202302,{id},1220\r\n",
        id = people[0].1
    );
    let (report, _) = import_bytes(&store, Kind::Payouts, &gbk(&csv), "发放.csv").await;
    assert!(report.summary.committed, "{:?}", report.errors);
    let payrolls = store
        .payrolls(&Scope::all(), Some("child_in_difficulty"))
        .await
        .unwrap();
    let imported: Vec<_> = payrolls
        .iter()
        .filter(|p| p.period == "202301" || p.period == "202302")
        .collect();
    assert_eq!(imported.len(), 2);
    assert!(
        imported
            .iter()
            .all(|p| p.status == PayrollStatus::Reconciled && p.total.fen() == 122_000)
    );
    // The exited one was not enrolled in 2023-03: refused, by row.
    let csv = format!(
        "项目,发放月份,身份证号,金额（元）\r\n困境儿童,202303,{},1220\r\n",
        people[1].1
    );
    let (report, _) = import_bytes(&store, Kind::Payouts, &gbk(&csv), "发放.csv").await;
    assert!(!report.summary.committed);
    assert_eq!(
        (report.errors[0].line, report.errors[0].column.as_str()),
        (2, "身份证号")
    );

    // A case ledger in GBK, by village and grid names.
    let leader_scope = store
        .org_unit(&Scope::all(), &township())
        .await
        .map(|u| Scope::new(u.path))
        .unwrap();
    let from = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2022, 12, 31).unwrap();
    let closed_before = store
        .resolution_summary(&leader_scope, from, to)
        .await
        .unwrap()
        .closed;
    let csv = "事件类别,标题,所属村,所属网格,登记日期,化解层级,办结日期,状态,回访结果\r\n\
               邻里纠纷,宅基地边界纠纷,头昌村委会,第一网格,2022-05-06,村,2022-05-20,已办结,\r\n\
               求助,独居老人房屋漏雨,头昌村委会,第二网格,2022-07-01,乡镇,2022-07-09,已办结,满意\r\n";
    let (report, _) = import_bytes(&store, Kind::Cases, &gbk(csv), "台账.csv").await;
    assert!(report.summary.committed, "{:?}", report.errors);
    let after = store
        .resolution_summary(&leader_scope, from, to)
        .await
        .unwrap();
    assert_eq!(after.closed, closed_before + 2);
}

#[test]
fn the_cli_refuses_a_bad_ledger_and_marks_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let bin = env!("CARGO_BIN_EXE_xiangzhi");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    assert_eq!(run(&["demo", "--no-serve", "--json"]).0, Some(0));
    let file = dir.path().join("台账.csv");
    std::fs::write(
        &file,
        "类别,事件标题,所属村,所属网格,登记日期,办结层级,办结日期\n\
         信访,征地补偿,头昌村委会,第一网格,2023-03-01,乡镇,2023-03-20\n\
         邻里纠纷,通道纠纷,头昌村委会,第一网格,2023-03-01,网格,2023-02-01\n",
    )
    .unwrap();
    let (code, out) = run(&[
        "import",
        "cases",
        file.to_str().unwrap(),
        "--org",
        "361002201",
    ]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("第2行"), "{out}");
    assert!(out.contains("第3行"), "{out}");
    assert!(Path::new(&dir.path().join("台账-错误报告.xlsx")).exists());
}
