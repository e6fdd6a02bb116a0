//! `xiangzhi backup` and `xiangzhi restore` on SQLite, through the real binary: a backup taken
//! while the server writes is a consistent snapshot that restores and verifies; a quiet round
//! trip reproduces every table row for row; a damaged or foreign backup is refused and leaves
//! nothing behind.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{PASSWORD, TOUCHANG, TempDir, client, csrf_field};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_store::{RegistryStore, Scope, Store, Vault};
use xiangzhi_store_sqlite::SqliteStore;

const BIN: &str = env!("CARGO_BIN_EXE_xiangzhi");

fn xiangzhi(db: &str, key: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--db")
        .arg(db)
        .arg("--key-file")
        .arg(key)
        .env("XIANGZHI_LOG", "error");
    c
}

fn run(mut c: Command) -> (bool, String) {
    let out = c.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A demo database in `dir`; returns its URL and key file.
fn demo(dir: &Path) -> (String, PathBuf) {
    let db = format!("sqlite://{}", dir.join("live.db").display());
    let key = dir.join("xiangzhi.key");
    let mut c = xiangzhi(&db, &key);
    c.args(["demo", "--no-serve"]);
    let (ok, out) = run(c);
    assert!(ok, "{out}");
    (db, key)
}

async fn open(path: &Path, key: &Path) -> SqliteStore {
    SqliteStore::open(
        path.to_str().unwrap(),
        Arc::new(Vault::open_or_create(key).unwrap()),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_the_server_writes_is_a_consistent_snapshot() {
    let dir = TempDir::new("xiangzhi-backup");
    let (db, key) = demo(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = xiangzhi(&db, &key)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let c = client();
    let started = Instant::now();
    while c.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let html = c
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let pre = csrf_field(&html).unwrap();
    c.post(format!("{base}/login"))
        .form(&[
            ("username", "clerk"),
            ("password", PASSWORD),
            ("csrf", pre.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let me: serde_json::Value = c
        .get(format!("{base}/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = me["csrf_token"].as_str().unwrap().to_string();

    // One writer adds grids 0, 1, 2, … in order while backups are taken.
    let writer = {
        let (c, base, csrf) = (c.clone(), base.clone(), csrf.clone());
        tokio::spawn(async move {
            let mut n = 0;
            let stop = Instant::now() + Duration::from_secs(4);
            // A village holds at most 999 grids.
            while Instant::now() < stop && n < 900 {
                let res = c
                    .post(format!("{base}/api/v1/org/{TOUCHANG}/grids"))
                    .header("x-csrf-token", &csrf)
                    .json(&serde_json::json!({ "name": format!("备份{n:05}") }))
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                assert_eq!(status, 201, "{}", res.text().await.unwrap());
                n += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            n
        })
    };
    let mut backups = Vec::new();
    for i in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let out = dir.path().join(format!("backup-{i}.db"));
        let mut cmd = xiangzhi(&db, &key);
        cmd.arg("backup").arg(&out);
        let (ok, msg) = tokio::task::spawn_blocking(move || run(cmd)).await.unwrap();
        assert!(ok, "backup {i}: {msg}");
        backups.push(out);
    }
    let written = writer.await.unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(written > 0);

    let mut seen = Vec::new();
    for (i, b) in backups.iter().enumerate() {
        let target = dir.path().join(format!("restored-{i}.db"));
        let mut cmd = xiangzhi(&format!("sqlite://{}", target.display()), &key);
        cmd.arg("restore").arg(b);
        let (ok, msg) = run(cmd);
        assert!(ok, "restore {i}: {msg}");
        assert!(msg.contains("哈希链无断裂"), "{msg}");
        let store = open(&target, &key).await;
        assert!(store.file_problems().await.unwrap().is_empty());
        let grids: Vec<String> = store
            .org_children(&Scope::all(), Some(&DivisionCode::parse(TOUCHANG).unwrap()))
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.name.starts_with("备份"))
            .map(|u| u.name)
            .collect();
        // A snapshot holds grids 0..k without a gap: never a later write without an earlier one.
        let expected: Vec<String> = (0..grids.len()).map(|n| format!("备份{n:05}")).collect();
        let mut sorted = grids.clone();
        sorted.sort();
        assert_eq!(sorted, expected, "backup {i} is not a snapshot");
        seen.push(grids.len());
        store.close().await.unwrap();
    }
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(
        *seen.last().unwrap() > 0,
        "the backups ran while grids were written: {seen:?}"
    );
}

/// Every command writes its WAL back into the file before it exits, so the file alone is the
/// database: a copy of it holds everything, and the next opener has no log to replay (an
/// import's switch to a rollback journal had to replay the 25 MB that `org add-grids` left).
#[tokio::test]
async fn a_command_leaves_the_whole_database_in_its_file() {
    let dir = TempDir::new("xiangzhi-closed");
    let (_, key) = demo(dir.path());
    let live = dir.path().join("live.db");
    let wal = dir.path().join("live.db-wal");
    let wal_len = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(
        wal_len, 0,
        "demo left {wal_len} bytes of WAL beside the file"
    );

    let alone = dir.path().join("alone.db");
    std::fs::copy(&live, &alone).unwrap();
    let store = open(&alone, &key).await;
    let diff = store.differences_from(&live).await.unwrap();
    assert!(diff.is_empty(), "the file alone differs: {diff:?}");
    assert!(
        !store
            .person_search(&Scope::all(), &Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await.unwrap();
}

#[tokio::test]
async fn restore_round_trip_keeps_every_table_and_refuses_bad_backups() {
    let dir = TempDir::new("xiangzhi-restore");
    let (db, key) = demo(dir.path());
    let live = dir.path().join("live.db");
    let backup = dir.path().join("backup.db");
    let mut cmd = xiangzhi(&db, &key);
    cmd.arg("backup").arg(&backup);
    let (ok, msg) = run(cmd);
    assert!(ok, "{msg}");

    let restored = dir.path().join("restored.db");
    let restored_url = format!("sqlite://{}", restored.display());
    let mut cmd = xiangzhi(&restored_url, &key);
    cmd.arg("restore").arg(&backup).arg("--json");
    let (ok, msg) = run(cmd);
    assert!(ok, "{msg}");
    let report: serde_json::Value = serde_json::from_str(msg.trim()).unwrap();
    assert!(report["audit_rows"].as_u64().unwrap() > 0);

    let store = open(&restored, &key).await;
    let tables = store.table_names().await.unwrap();
    assert!(tables.len() >= 30, "{tables:?}");
    let diff = store.differences_from(&live).await.unwrap();
    assert!(
        diff.is_empty(),
        "restored differs from the original: {diff:?}"
    );
    // The sealed personal data opens with the same key.
    let persons = store
        .person_search(&Scope::all(), &Default::default())
        .await
        .unwrap();
    assert!(!persons.is_empty());
    store.close().await.unwrap();

    // An existing target is never overwritten.
    let mut cmd = xiangzhi(&restored_url, &key);
    cmd.arg("restore").arg(&backup);
    let (ok, msg) = run(cmd);
    assert!(!ok && msg.contains("不会覆盖"), "{msg}");

    // A backup whose audit log was edited afterwards is refused, and nothing is left behind.
    let tampered = dir.path().join("tampered.db");
    std::fs::copy(&backup, &tampered).unwrap();
    {
        let s = open(&tampered, &key).await;
        sqlx::query("UPDATE audit_log SET new_value = '{\"name\":\"假\"}' WHERE id = 5")
            .execute(s.write_pool())
            .await
            .unwrap();
        s.close().await.unwrap();
    }
    let target = dir.path().join("from-tampered.db");
    let mut cmd = xiangzhi(&format!("sqlite://{}", target.display()), &key);
    cmd.arg("restore").arg(&tampered);
    let (ok, msg) = run(cmd);
    assert!(!ok && msg.contains("哈希链断裂"), "{msg}");
    assert!(!target.exists(), "a refused restore leaves no file");

    // A truncated file and someone else's database are refused too.
    let bytes = std::fs::read(&backup).unwrap();
    let cut = dir.path().join("cut.db");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let other = dir.path().join("other.db");
    std::fs::write(&other, b"SQLite format 3\0not really").unwrap();
    for bad in [&cut, &other] {
        let target = dir.path().join("from-bad.db");
        let mut cmd = xiangzhi(&format!("sqlite://{}", target.display()), &key);
        cmd.arg("restore").arg(bad);
        let (ok, msg) = run(cmd);
        assert!(!ok, "{}: {msg}", bad.display());
        assert!(!target.exists(), "{}: left a file behind", bad.display());
    }

    // Without the key the backup's sealed IDs would be lost: refused.
    let mut cmd = xiangzhi(
        &format!("sqlite://{}", dir.path().join("nokey.db").display()),
        &dir.path().join("missing.key"),
    );
    cmd.arg("restore").arg(&backup);
    let (ok, msg) = run(cmd);
    assert!(!ok && msg.contains("密钥文件"), "{msg}");
}
