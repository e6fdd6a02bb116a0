//! The registry end to end: imports of real LibreOffice-made files (tests/fixtures/registry,
//! made by its make-fixtures.sh), export neutralisation and masking, a SIGKILL in the middle of a
//! large import commit, and a byte scan of the SQLite file for plain IDs and phones.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use xiangzhi::import::{self, Kind};
use xiangzhi_domain::citizen_id::CitizenId;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_exchange::{Cell, Limits};
use xiangzhi_store::registry::*;
use xiangzhi_store::{Actor, Scope, Store};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/registry")
        .join(name)
}

fn township() -> DivisionCode {
    DivisionCode::parse("361002201").unwrap()
}

/// A fresh demo database (org tree, grids, users and the demo registry) in its own directory.
async fn demo_db() -> (Arc<dyn Store>, PathBuf) {
    let dir = tempfile::tempdir().unwrap().keep();
    let db = dir.join("xz.db");
    let store = xiangzhi::open_store(db.to_str().unwrap(), None)
        .await
        .unwrap();
    xiangzhi::demo::load(&store).await.unwrap();
    (store, dir)
}

async fn import_file(
    store: &Arc<dyn Store>,
    kind: Kind,
    name: &str,
    dry_run: bool,
) -> (import::ImportReport, xiangzhi_exchange::Sheet) {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let sheet = import::read_sheet(kind, &bytes, name, &Limits::default()).unwrap();
    let actor = Actor::system("test");
    let report = import::import_sheet(store, &actor, kind, &sheet, &township(), dry_run)
        .await
        .unwrap();
    (report, sheet)
}

fn find(store: &Arc<dyn Store>, q: &str) -> impl std::future::Future<Output = Vec<Person>> {
    let store = store.clone();
    let q = q.to_string();
    async move {
        store
            .person_search(
                &Scope::all(),
                &PersonQuery {
                    q: Some(q),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn imports_of_real_files_cover_the_quirks() {
    let (store, _dir) = demo_db().await;
    let before = store
        .person_count(&Scope::all(), &PersonQuery::default())
        .await
        .unwrap();

    // the same four people as XLSX (IDs typed as text), legacy XLS and a GBK CSV
    for f in ["persons.xlsx", "persons.xls", "persons-gbk.csv"] {
        let (r, _) = import_file(&store, Kind::Persons, f, true).await;
        assert_eq!(
            (
                r.rows,
                r.summary.new,
                r.summary.invalid,
                r.summary.households_created
            ),
            (4, 4, 0, 2),
            "{f}: {:?}",
            r.errors
        );
        assert!(!r.summary.committed);
    }
    assert_eq!(
        store
            .person_count(&Scope::all(), &PersonQuery::default())
            .await
            .unwrap(),
        before,
        "previews write nothing"
    );
    let (r, _) = import_file(&store, Kind::Persons, "persons.xlsx", false).await;
    assert!(r.summary.committed);
    for f in ["persons.xls", "persons-gbk.csv"] {
        let (r, _) = import_file(&store, Kind::Persons, f, false).await;
        assert_eq!(
            (r.summary.unchanged, r.summary.new, r.summary.updated),
            (4, 0, 0),
            "{f}: the same people, read the same"
        );
    }
    // the 15-digit legacy ID was widened to 18; full-width digits were normalised
    let kid = find(&store, "361002199003151231").await;
    assert_eq!(kid.len(), 1);
    assert_eq!(kid[0].name, "陈小明");
    assert_eq!(kid[0].tags[0].display(), "残疾（肢体，二级）");
    let li = find(&store, "361002197811053112").await;
    assert_eq!(li[0].org_name, "第二网格");
    assert!(
        li[0].org_path.as_str().contains("361002201208"),
        "舍头村委会/第二网格"
    );
    assert_eq!(li[0].phone_masked.as_deref(), Some("0794-***2345"));
    // a phone typed with spaces is found however it is written
    assert_eq!(find(&store, "13807945678").await[0].name, "黄秀英");
    let hh = store.household_by_no(&Scope::all(), "T0001").await.unwrap();
    assert_eq!(
        (
            hh.member_count,
            hh.head_name.as_deref(),
            hh.address.as_str()
        ),
        (3, Some("陈国华"), "头昌村1组3号")
    );

    // IDs that Excel stored as numbers lost their last digits: each row says so, nothing written
    let (r, _) = import_file(&store, Kind::Persons, "persons-numbers.xlsx", false).await;
    assert!(!r.summary.committed);
    assert_eq!(r.summary.invalid, 2);
    assert!(
        r.errors
            .iter()
            .all(|e| e.column == "身份证号" && e.reason.contains("科学计数法")),
        "{:?}",
        r.errors
    );

    // every bad row reported with row, column and reason; the report file marks them
    let count = store
        .person_count(&Scope::all(), &PersonQuery::default())
        .await
        .unwrap();
    let (r, sheet) = import_file(&store, Kind::Persons, "persons-bad.xlsx", false).await;
    assert!(!r.summary.committed);
    assert_eq!((r.rows, r.summary.unchanged, r.summary.invalid), (7, 1, 6));
    let by_line: Vec<(usize, &str)> = r
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    for expected in [
        (4, "身份证号"),
        (5, "性别"),
        (6, "与户主关系"),
        (7, "身份证号"),
        (8, "所属网格"),
        (9, "联系电话"),
    ] {
        assert!(
            by_line.contains(&expected),
            "{expected:?} missing from {by_line:?}"
        );
    }
    assert!(
        r.errors
            .iter()
            .any(|e| e.line == 7 && e.reason.contains("第3行")),
        "the header is on row 2 below a title row"
    );
    assert_eq!(
        store
            .person_count(&Scope::all(), &PersonQuery::default())
            .await
            .unwrap(),
        count
    );
    let report = import::error_report(&sheet, &r).unwrap();
    let back = xiangzhi_exchange::read_table(&report, "report.xlsx", &Limits::default()).unwrap();
    assert_eq!(back.headers.last().map(String::as_str), Some("错误原因"));
    let reasons = back.col("错误原因").unwrap();
    let row9 = back
        .rows
        .iter()
        .find(|row| row.cells[0] == Cell::Text("郑十".into()))
        .unwrap();
    assert!(row9.get(reasons).display().contains("手机号应为11位"));

    // enterprises: a failing credit-code check is a warning; an unknown kind is an error
    let (r, _) = import_file(&store, Kind::Enterprises, "enterprises.xlsx", true).await;
    assert_eq!((r.summary.new, r.summary.invalid), (2, 1));
    assert_eq!(r.credit_code_warnings.len(), 1);
    assert_eq!(r.credit_code_warnings[0].0, 3);
    assert!(r.errors[0].reason.contains("航天"));

    // templates read back with their own specs
    for kind in [Kind::Persons, Kind::Households, Kind::Enterprises] {
        let t = import::template(kind).unwrap();
        let sheet = import::read_sheet(kind, &t, "template.xlsx", &Limits::default()).unwrap();
        assert!(!sheet.headers.is_empty(), "{kind:?}");
    }
}

#[tokio::test]
async fn cli_import_dry_run_then_commit_and_export() {
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
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, _, err) = run(&["demo", "--no-serve", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        dir.path().join("xiangzhi.key").exists(),
        "key file created beside the database"
    );
    let f = fixture("persons.xlsx");
    let (code, out, err) = run(&[
        "import",
        "persons",
        f.to_str().unwrap(),
        "--org",
        "361002201",
        "--dry-run",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            v["summary"]["new"].as_u64(),
            v["summary"]["committed"].as_bool()
        ),
        (Some(4), Some(false))
    );
    let (code, out, _) = run(&[
        "import",
        "persons",
        f.to_str().unwrap(),
        "--org",
        "361002201",
        "--json",
    ]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["committed"].as_bool(), Some(true));
    let bad = fixture("persons-bad.xlsx");
    let report = dir.path().join("errors.xlsx");
    let (code, _, _) = run(&[
        "import",
        "persons",
        bad.to_str().unwrap(),
        "--org",
        "361002201",
        "--error-report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "invalid rows exit with 2");
    assert!(report.exists());

    // export: masked, and formula-like text neutralised
    let store = xiangzhi::open_store(db.to_str().unwrap(), None)
        .await
        .unwrap();
    let clerk = Actor::system("test");
    let hh = store.household_by_no(&Scope::all(), "T0001").await.unwrap();
    let id = xiangzhi_domain::citizen_id::generate(
        "361002",
        chrono::NaiveDate::from_ymd_opt(2001, 1, 1).unwrap(),
        499,
        true,
    );
    store
        .create_person(
            &clerk,
            NewPerson {
                name: "=HYPERLINK(\"http://x\")".into(),
                citizen_id: id.clone(),
                phone: None,
                household_id: Some(hh.id),
                relation: Some(Relation::Other),
                org_code: None,
                tags: vec![],
            },
        )
        .await
        .unwrap();
    drop(store);
    for ext in ["csv", "xlsx"] {
        let out_file = dir.path().join(format!("persons.{ext}"));
        let (code, _, err) = run(&[
            "export",
            "persons",
            "--org",
            "361002201211",
            "-o",
            out_file.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(0), "{err}");
        let bytes = std::fs::read(&out_file).unwrap();
        let sheet =
            xiangzhi_exchange::read_table(&bytes, out_file.to_str().unwrap(), &Limits::default())
                .unwrap();
        let ids = sheet.col("身份证号").unwrap();
        assert!(
            sheet
                .rows
                .iter()
                .all(|r| r.get(ids).display().contains("********")),
            "{ext}: IDs masked"
        );
        let names = sheet.col("姓名").unwrap();
        let evil = sheet
            .rows
            .iter()
            .find(|r| r.get(names).display().contains("HYPERLINK"))
            .unwrap();
        assert!(
            evil.get(names).display().starts_with("'="),
            "{ext}: {:?}",
            evil.get(names)
        );
        assert!(sheet.rows.len() > 2000, "{ext}: the whole village, paged");
        // beside a masked ID, the birth year only (the full date gives back 8 masked digits)
        assert!(sheet.col("出生日期").is_none(), "{ext}: no full birth date");
        let years = sheet.col("出生年份").expect("a birth year column");
        assert!(
            sheet.rows.iter().all(|r| {
                let y = r.get(years).display();
                y.len() == 4 && y.parse::<i32>().is_ok_and(|y| (1900..=2030).contains(&y))
            }),
            "{ext}: years, not dates"
        );
    }
}

fn count_persons(db: &Path) -> i64 {
    let out = Command::new(env!("CARGO_BIN_EXE_xiangzhi"))
        .arg("--db")
        .arg(db)
        .args(["audit", "verify", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "audit chain intact after a kill: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let conn = std::process::Command::new("sqlite3")
        .arg(db)
        .arg("SELECT COUNT(*) FROM persons")
        .output();
    match conn {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().parse().unwrap(),
        _ => {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let store = xiangzhi::open_store(db.to_str().unwrap(), None)
                    .await
                    .unwrap();
                store
                    .person_count(&Scope::all(), &PersonQuery::default())
                    .await
                    .unwrap()
            })
        }
    }
}

/// The SQLite store at `db`, with the key file the CLI made next to it.
async fn open_beside_key(db: &Path) -> xiangzhi_store_sqlite::SqliteStore {
    let vault = Arc::new(
        xiangzhi_store::Vault::open_or_create(&db.with_file_name("xiangzhi.key")).unwrap(),
    );
    xiangzhi_store_sqlite::SqliteStore::open(db.to_str().unwrap(), vault)
        .await
        .unwrap()
}

/// The journal mode a fresh open leaves, and what SQLite finds wrong with the file (pages
/// or foreign keys).
fn file_state(db: &Path) -> (String, Vec<String>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = open_beside_key(db).await;
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(store.write_pool())
            .await
            .unwrap();
        let problems = store.file_problems().await.unwrap();
        store.close().await.unwrap();
        (mode, problems)
    })
}

/// The demo township in `db`, and `n` generated people (from `seed`) in a CSV beside it.
fn demo_and_people(db: &Path, n: i64, seed: u64) -> PathBuf {
    let csv = db.with_extension("csv");
    let steps: [Vec<String>; 2] = [
        vec!["demo".into(), "--no-serve".into()],
        vec![
            "bench-data".into(),
            "persons".into(),
            "--out".into(),
            csv.to_str().unwrap().into(),
            "--count".into(),
            n.to_string(),
            "--seed".into(),
            seed.to_string(),
        ],
    ];
    for args in steps {
        let ok = Command::new(env!("CARGO_BIN_EXE_xiangzhi"))
            .arg("--db")
            .arg(db)
            .args(&args)
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
    }
    csv
}

/// Kills `xiangzhi import` with SIGKILL at moments spread over its run (the last ones while
/// the commit writes its pages) and checks the table holds all rows or none. 60,000 rows
/// take the bulk path: with the file to itself the import commits through a rollback journal
/// (see `SqliteStore::bulk_begin`), so the commit shows as the main file growing, not the
/// WAL; killed there, the next open rolls the journal back and is in WAL again.
#[test]
fn killing_an_import_mid_commit_leaves_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let bin = env!("CARGO_BIN_EXE_xiangzhi");
    let n: i64 = 60_000;
    let csv = demo_and_people(&db, n, 7);
    let base = count_persons(&db);
    let wal = dir.path().join("crash.db-wal");
    // the same database for the last part (no process has it open now)
    let shared = dir.path().join("shared.db");
    std::fs::copy(&db, &shared).unwrap();
    if wal.exists() {
        std::fs::copy(&wal, dir.path().join("shared.db-wal")).unwrap();
    }
    let size = |f: &Path| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
    let mut saw_none = 0;
    let mut killed_writing = 0;
    let mut saw_all = false;
    for attempt in 0..8 {
        let wal_before = size(&wal);
        let db_before = size(&db);
        let mut child = Command::new(bin)
            .arg("--db")
            .arg(&db)
            .args([
                "import",
                "persons",
                csv.to_str().unwrap(),
                "--org",
                "361002201",
                "--json",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        // the first attempts kill while parsing/planning; later ones as soon as the WAL grows
        let deadline = Duration::from_millis(300 * (attempt + 1));
        loop {
            std::thread::sleep(Duration::from_millis(5));
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            let grown = size(&wal) > wal_before + (1 << 20) || size(&db) > db_before + (1 << 20);
            if (attempt >= 3 && grown)
                || (attempt < 3 && started.elapsed() > deadline)
                || started.elapsed() > Duration::from_secs(120)
            {
                child.kill().unwrap(); // SIGKILL
                killed_writing += usize::from(grown);
                break;
            }
        }
        let _ = child.wait();
        let (mode, problems) = file_state(&db);
        assert_eq!(mode, "wal", "attempt {attempt}: journal mode after a kill");
        assert!(problems.is_empty(), "attempt {attempt}: {problems:?}");
        let now = count_persons(&db);
        assert!(
            now == base || now == base + n,
            "attempt {attempt}: {now} persons, expected {base} or {}",
            base + n
        );
        if now == base {
            saw_none += 1;
        } else {
            saw_all = true;
            break;
        }
    }
    assert!(
        saw_none > 0,
        "at least one kill landed before the commit finished"
    );
    assert!(
        killed_writing > 0,
        "no kill landed while the commit wrote its pages"
    );
    if !saw_all {
        let ok = Command::new(bin)
            .arg("--db")
            .arg(&db)
            .args([
                "import",
                "persons",
                csv.to_str().unwrap(),
                "--org",
                "361002201",
            ])
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stdout)
        );
        assert_eq!(count_persons(&db), base + n);
    }

    // With the file open elsewhere (here: this test process) the load cannot leave WAL;
    // it commits in WAL as any other write.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let holder = rt.block_on(async {
        let store = open_beside_key(&shared).await;
        sqlx::query("SELECT COUNT(*) FROM org_units")
            .fetch_one(store.write_pool())
            .await
            .unwrap();
        store
    });
    let out = Command::new(bin)
        .arg("--db")
        .arg(&shared)
        .args(["import", "persons", csv.to_str().unwrap()])
        .args(["--org", "361002201", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        size(&dir.path().join("shared.db-wal")) > 1 << 20,
        "the load did not go through the WAL"
    );
    rt.block_on(holder.close()).unwrap();
    assert_eq!(file_state(&shared), ("wal".to_string(), Vec::new()));
    assert_eq!(count_persons(&shared), base + n);
}

/// Every byte of the SQLite file and its WAL, searched for every demo ID and phone.
#[tokio::test]
async fn the_database_file_holds_no_plain_id_or_phone() {
    let (store, dir) = demo_db().await;
    let all = Scope::all();
    let mut grids = Vec::new();
    for v in store.org_children(&all, Some(&township())).await.unwrap() {
        for g in store.org_children(&all, Some(&v.code)).await.unwrap() {
            grids.push((g.code, v.name.clone()));
        }
    }
    let rows = xiangzhi::demo_registry::person_rows(&grids, 8_000, 2023);
    let ids: HashSet<String> = rows
        .iter()
        .map(|r| r.citizen_id.as_str().to_string())
        .collect();
    let phones: HashSet<String> = rows
        .iter()
        .filter_map(|r| r.phone.as_ref())
        .map(|p| p.as_str().to_string())
        .collect();
    assert!(ids.len() > 20_000 && phones.len() > 10_000);
    // the rows really are the stored ones: a sample is found by its ID
    let sample: &CitizenId = &rows[1234].citizen_id;
    assert_eq!(
        store.citizen_id_owner(&all, sample).await.unwrap(),
        IdOwner::InScope {
            person_id: 1235,
            name: rows[1234].name.clone()
        }
    );
    drop(store);
    let mut hits = Vec::new();
    for f in ["xz.db", "xz.db-wal"] {
        let Ok(bytes) = std::fs::read(dir.join(f)) else {
            continue;
        };
        assert!(bytes.len() > 1 << 20 || f.ends_with("wal"));
        // every maximal run of digits/X, every 18- and 11-character window of it
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'X') {
                i += 1;
            }
            let run = &bytes[start..i];
            for w in [18usize, 11] {
                if run.len() >= w {
                    for win in run.windows(w) {
                        let s = std::str::from_utf8(win).unwrap();
                        if ids.contains(s) || phones.contains(s) {
                            hits.push(format!("{f}: {s}"));
                        }
                    }
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "plain personal data in the database: {:?}",
        &hits[..hits.len().min(5)]
    );
}

/// A load large enough to plan its people while its households are written (see
/// `write_import_persons`), with one row only the plan refuses (an ID a second time):
/// nothing of it stays, the row is reported, and the file is whole and back in WAL. The same
/// file without that row then goes in whole.
#[test]
fn a_large_import_with_a_refused_row_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("refused.db");
    let n: i64 = 60_000;
    let csv = demo_and_people(&db, n, 11);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_xiangzhi"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap()
    };
    let clean = std::fs::read_to_string(&csv).unwrap();
    let first_row = clean.lines().nth(1).unwrap().to_string();
    let mut twice = clean.clone();
    if !twice.ends_with('\n') {
        twice.push('\n');
    }
    twice.push_str(&first_row);
    twice.push('\n');
    let bad = dir.path().join("twice.csv");
    std::fs::write(&bad, &twice).unwrap();
    let households = |db: &Path| -> i64 {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = open_beside_key(db).await;
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM households")
                .fetch_one(store.write_pool())
                .await
                .unwrap();
            store.close().await.unwrap();
            n
        })
    };
    let (persons_before, households_before) = (count_persons(&db), households(&db));
    let import = |file: &Path| {
        let out = run(&[
            "import",
            "persons",
            file.to_str().unwrap(),
            "--org",
            "361002201",
            "--json",
        ]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), report)
    };

    let (code, report) = import(&bad);
    assert_eq!(code, Some(2), "{report}");
    assert_eq!(report["summary"]["committed"], false, "{report}");
    let errors = report["errors"].as_array().unwrap();
    let last_line = n as u64 + 2;
    assert!(
        errors.iter().any(|e| e["line"] == last_line
            && e["reason"]
                .as_str()
                .unwrap()
                .contains("与第2行的身份证号重复")),
        "{errors:?}"
    );
    assert_eq!(count_persons(&db), persons_before);
    assert_eq!(households(&db), households_before);
    let (mode, problems) = file_state(&db);
    assert_eq!(mode, "wal");
    assert!(problems.is_empty(), "{problems:?}");

    let (code, report) = import(&csv);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["summary"]["committed"], true, "{report}");
    assert_eq!(count_persons(&db), persons_before + n);
    assert!(households(&db) > households_before);
    stored_people_match_the_file(&db, &clean);
}

/// Every row of `csv` (a `bench-data persons` file) is stored as written: its sealed ID
/// and phone open to the file's, and its household number and birth date are the file's.
/// The bulk path gathers each row from the plan and seals it on another thread; a row
/// bound to its neighbour's values, or to the wrong new household, shows here.
fn stored_people_match_the_file(db: &Path, csv: &str) {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (id_col, phone_col, no_col) = (col("身份证号"), col("联系电话"), col("户号"));
    let file: std::collections::HashMap<String, (String, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[id_col].to_string(),
                (f[phone_col].to_string(), f[no_col].to_string()),
            )
        })
        .collect();
    let vault = xiangzhi_store::Vault::open_or_create(&db.with_file_name("xiangzhi.key")).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = open_beside_key(db).await;
        let rows: Vec<(String, Option<String>, Option<String>, String)> = sqlx::query_as(
            "SELECT p.id_sealed, p.phone_sealed, h.household_no, p.birth_date \
             FROM persons p LEFT JOIN households h ON h.id = p.household_id",
        )
        .fetch_all(store.write_pool())
        .await
        .unwrap();
        let mut matched = 0;
        for (id_sealed, phone_sealed, no, birth) in rows {
            let id = vault.open(&id_sealed).unwrap();
            let Some((phone, file_no)) = file.get(&id) else {
                continue; // one of the demo's people
            };
            matched += 1;
            let stored_phone = phone_sealed.map(|s| vault.open(&s).unwrap());
            assert_eq!(stored_phone.as_deref().unwrap_or(""), phone, "{id}");
            assert_eq!(no.as_deref().unwrap_or(""), file_no, "{id}");
            let citizen = CitizenId::parse(&id).unwrap();
            assert_eq!(
                birth,
                citizen.birth_date().format("%Y-%m-%d").to_string(),
                "{id}"
            );
        }
        assert_eq!(matched, file.len());
        store.close().await.unwrap();
    });
}
