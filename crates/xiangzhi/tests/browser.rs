//! A real headless Chromium, driven through chromedriver with fantoccini: log in, browse the
//! org tree, search, add a grid through the form, and the login page on a phone-sized window.
//!
//! Runs when `XIANGZHI_BROWSER_TEST` is set (scripts/test.sh sets it when chromedriver and
//! chromium are installed) or `XIANGZHI_REQUIRE_ALL=1` (CI), which also turns a missing browser
//! into a failure instead of a skip. Leaves a screenshot of the org page in /tmp/xiangzhi-org.png.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use common::*;
use fantoccini::{Client, ClientBuilder, Locator};

const SCREENSHOT: &str = "/tmp/xiangzhi-org.png";
const WAIT: Duration = Duration::from_secs(15);

fn find_program(env: &str, name: &str, default: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    if Path::new(default).exists() {
        return Some(default.into());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.exists())
    })
}

/// chromedriver as a child process, killed on drop.
struct Chromedriver {
    child: Child,
    port: u16,
    _log_dir: TempDir,
}

impl Chromedriver {
    fn start(program: &Path) -> Result<Chromedriver> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log_dir = TempDir::new("xiangzhi-chromedriver");
        let log = std::fs::File::create(log_dir.path().join("chromedriver.log"))?;
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let mut driver = Chromedriver {
            child,
            port,
            _log_dir: log_dir,
        };
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = driver.child.try_wait()? {
                bail!("chromedriver exited early: {status}");
            }
            ensure!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether to run, and with which programs; `None` means skip (already reported).
fn browser_programs() -> Option<(PathBuf, PathBuf)> {
    let required = std::env::var("XIANGZHI_REQUIRE_ALL").as_deref() == Ok("1");
    let wanted = std::env::var_os("XIANGZHI_BROWSER_TEST").is_some();
    let skip = |why: String| {
        if required {
            panic!("browser test required (XIANGZHI_REQUIRE_ALL=1) but {why}");
        }
        println!("browser test SKIPPED: {why}");
        eprintln!("browser test SKIPPED: {why}");
        None
    };
    if !wanted && !required {
        return skip("XIANGZHI_BROWSER_TEST is not set".into());
    }
    let Some(driver) = find_program(
        "XIANGZHI_CHROMEDRIVER",
        "chromedriver",
        "/usr/bin/chromedriver",
    ) else {
        return skip("chromedriver not found (apt-get install chromium-driver)".into());
    };
    let Some(chromium) = find_program("XIANGZHI_CHROMIUM", "chromium", "/usr/bin/chromium") else {
        return skip("chromium not found (apt-get install chromium)".into());
    };
    Some((driver, chromium))
}

async fn connect(driver: &Chromedriver, chromium: &Path, profile: &Path) -> Result<Client> {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium.to_string_lossy(),
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--lang=zh-CN",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .context("connecting to chromedriver")
}

#[tokio::test]
async fn browse_the_tree_and_add_a_grid_in_chromium() {
    let Some((driver_bin, chromium)) = browser_programs() else {
        return;
    };
    let app = spawn_app().await;
    let driver = Chromedriver::start(&driver_bin).expect("chromedriver starts");
    let profile = TempDir::new("xiangzhi-chromium-profile");
    let client = connect(&driver, &chromium, profile.path())
        .await
        .expect("a Chromium session");
    let outcome = scenario(&client, &app).await;
    let diagnostics = if outcome.is_err() {
        let url = client.current_url().await.map(|u| u.to_string());
        let source = client.source().await.unwrap_or_default();
        format!(
            "\nat {url:?}\n{}",
            source.chars().take(3000).collect::<String>()
        )
    } else {
        String::new()
    };
    let _ = client.close().await;
    drop(driver);
    if let Err(e) = outcome {
        panic!("browser scenario failed: {e:#}{diagnostics}");
    }
}

async fn wait_for_path(client: &Client, app: &TestApp, path_and_query: &str) -> Result<()> {
    let want = app.url(path_and_query);
    let deadline = Instant::now() + WAIT;
    loop {
        let now = client.current_url().await?.to_string();
        if now == want {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "expected to land on {want}, still at {now}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn text_of(client: &Client, css: &str) -> Result<String> {
    Ok(client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("no element {css}"))?
        .text()
        .await?)
}

async fn log_in(client: &Client, app: &TestApp, username: &str) -> Result<()> {
    client.goto(&app.url("/login")).await?;
    let user = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input[name=username]"))
        .await?;
    user.clear().await?;
    user.send_keys(username).await?;
    client
        .find(Locator::Css("input[name=password]"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    client
        .find(Locator::Css("form button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_for_path(client, app, "/").await
}

async fn log_out(client: &Client, app: &TestApp) -> Result<()> {
    client
        .find(Locator::Css("header form[action='/logout'] button"))
        .await?
        .click()
        .await?;
    wait_for_path(client, app, "/login").await
}

async fn scenario(client: &Client, app: &TestApp) -> Result<()> {
    client.set_window_size(1366, 768).await?;

    // The village cadre logs in and lands on the home page of 头昌村.
    log_in(client, app, "cadre").await?;
    let h1 = text_of(client, "main h1").await?;
    ensure!(h1 == TOUCHANG_NAME, "home page heading is {h1:?}");
    let who = text_of(client, "header .who").await?;
    ensure!(who.contains("张村主任"), "header shows {who:?}");

    // 组织架构 → the village → its three grids.
    client
        .find(Locator::LinkText("组织架构"))
        .await?
        .click()
        .await?;
    wait_for_path(client, app, "/org").await?;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::LinkText(TOUCHANG_NAME))
        .await?
        .click()
        .await?;
    wait_for_path(client, app, &format!("/org/{TOUCHANG}")).await?;
    let title = text_of(client, "#unit-name").await?;
    ensure!(title.contains(TOUCHANG_NAME), "unit heading is {title:?}");
    let children = text_of(client, "#children tbody").await?;
    for grid in ["第一网格", "第二网格", "第三网格"] {
        ensure!(children.contains(grid), "{grid} not listed in {children:?}");
    }
    let rows = client.find_all(Locator::Css("#children tbody tr")).await?;
    ensure!(rows.len() == 3, "{} rows of children", rows.len());
    ensure!(
        client
            .find_all(Locator::Css("form[action$='/grids']"))
            .await?
            .len()
            == 1,
        "a village cadre may add grids"
    );

    // The screenshot for the lead, at office-screen size.
    let png = client.screenshot().await?;
    ensure!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
    std::fs::write(SCREENSHOT, &png).with_context(|| format!("writing {SCREENSHOT}"))?;
    println!("screenshot of the org page: {SCREENSHOT}");

    // Searching another village finds nothing.
    let q = client
        .find(Locator::Css("form.search input[name=q]"))
        .await?;
    q.send_keys("舍头").await?;
    client
        .find(Locator::Css("form.search button"))
        .await?
        .click()
        .await?;
    wait_for_path(client, app, "/org?q=%E8%88%8D%E5%A4%B4").await?;
    let body = text_of(client, "main").await?;
    ensure!(body.contains("0 个结果"), "search page says {body:?}");
    ensure!(body.contains("您的管辖范围内没有匹配的单位"));
    ensure!(!body.contains(SHETOU_NAME), "a foreign village was shown");
    // Typing its address does not help either.
    client.goto(&app.url(&format!("/org/{SHETOU}"))).await?;
    let body = text_of(client, "body").await?;
    ensure!(
        body.contains("未找到该记录，或不在您的管辖范围内"),
        "{body:?}"
    );
    ensure!(!body.contains(SHETOU_NAME));
    client.goto(&app.url("/")).await?;
    log_out(client, app).await?;

    // The township clerk adds a grid through the form and sees it listed.
    log_in(client, app, "clerk").await?;
    client.goto(&app.url(&format!("/org/{TOUCHANG}"))).await?;
    let name = "第四网格（浏览器）";
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("form[action$='/grids'] input[name=name]"))
        .await?
        .send_keys(name)
        .await?;
    client
        .find(Locator::Css("form[action$='/grids'] button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_for_path(client, app, &format!("/org/{TOUCHANG}?ok=grid")).await?;
    let notice = text_of(client, ".notice").await?;
    ensure!(notice == "已新增网格", "notice is {notice:?}");
    let children = text_of(client, "#children tbody").await?;
    ensure!(children.contains(name), "new grid not listed: {children:?}");
    ensure!(
        client
            .find_all(Locator::Css("#children tbody tr"))
            .await?
            .len()
            == 4,
        "four grids after adding one"
    );
    log_out(client, app).await?;

    // A phone: the login form fits the screen and still works.
    client.set_window_size(390, 844).await?;
    client.goto(&app.url("/login")).await?;
    let width: f64 = client
        .execute("return window.innerWidth;", vec![])
        .await?
        .as_f64()
        .context("innerWidth")?;
    for css in [
        "input[name=username]",
        "input[name=password]",
        "button[type=submit]",
    ] {
        let el = client.find(Locator::Css(css)).await?;
        ensure!(el.is_displayed().await?, "{css} hidden on a phone");
        let (x, _, w, _) = el.rectangle().await?;
        ensure!(
            x >= 0.0 && x + w <= width + 0.5,
            "{css} spills out of a {width}px screen: x={x} w={w}"
        );
    }
    let scroll: f64 = client
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await?
        .as_f64()
        .context("scrollWidth")?;
    ensure!(
        scroll <= width + 0.5,
        "login page scrolls sideways on a phone"
    );
    log_in(client, app, "grid").await?;
    let h1 = text_of(client, "main h1").await?;
    ensure!(h1 == "第一网格", "grid worker's home heading is {h1:?}");
    Ok(())
}

/// A ledger nobody wrote code for, defined from TOML text as `ledger define` would.
const WELL: &str = r#"
code = "well_check"
name = "山塘巡查台账"
department = "应急办"
period = "month"
level = "village"

[[fields]]
key = "pond"
label = "山塘名称"
type = "text"
required = true

[[fields]]
key = "checked_on"
label = "巡查日期"
type = "date"
required = true

[[fields]]
key = "water_level"
label = "水位"
type = "decimal"
unit = "米"
min = 0

[[fields]]
key = "safe"
label = "运行安全"
type = "bool"

[[fields]]
key = "kinds"
label = "隐患类型"
type = "multi_choice"
options = ["渗漏", "裂缝"]
"#;

#[tokio::test]
async fn fill_and_import_a_ledger_defined_from_toml_on_a_phone() {
    let Some((driver_bin, chromium)) = browser_programs() else {
        return;
    };
    let app = spawn_app().await;
    let def = xiangzhi_domain::ledger::LedgerDefinition::from_toml(WELL).expect("valid TOML");
    xiangzhi_store::LedgerStore::define_ledger(
        app.store.as_ref(),
        &xiangzhi_store::Actor::system("test"),
        &def,
    )
    .await
    .expect("defined");
    let driver = Chromedriver::start(&driver_bin).expect("chromedriver starts");
    let profile = TempDir::new("xiangzhi-chromium-profile");
    let client = connect(&driver, &chromium, profile.path())
        .await
        .expect("a Chromium session");
    let files = TempDir::new("xiangzhi-ledger-upload");
    let outcome = ledger_scenario(&client, &app, files.path()).await;
    let diagnostics = if outcome.is_err() {
        let url = client.current_url().await.map(|u| u.to_string());
        let source = client.source().await.unwrap_or_default();
        format!(
            "\nat {url:?}\n{}",
            source.chars().take(3000).collect::<String>()
        )
    } else {
        String::new()
    };
    let _ = client.close().await;
    drop(driver);
    if let Err(e) = outcome {
        panic!("browser ledger scenario failed: {e:#}{diagnostics}");
    }
}

async fn no_sideways_scroll(client: &Client, what: &str) -> Result<()> {
    let width = client
        .execute("return window.innerWidth;", vec![])
        .await?
        .as_f64()
        .context("innerWidth")?;
    let scroll = client
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await?
        .as_f64()
        .context("scrollWidth")?;
    ensure!(scroll <= width + 0.5, "{what} scrolls sideways on a phone");
    Ok(())
}

async fn ledger_scenario(client: &Client, app: &TestApp, dir: &Path) -> Result<()> {
    client.set_window_size(390, 844).await?;
    log_in(client, app, "cadre").await?;
    client
        .find(Locator::LinkText("台账"))
        .await?
        .click()
        .await?;
    wait_for_path(client, app, "/ledgers").await?;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::LinkText("山塘巡查台账"))
        .await?
        .click()
        .await?;
    wait_for_path(client, app, "/ledgers/well_check").await?;
    client
        .goto(&app.url("/ledgers/well_check/entries?period=202405"))
        .await?;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("a[href^='/ledgers/well_check/entries/new']"))
        .await?
        .click()
        .await?;
    let pond = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input[name=f_pond]"))
        .await?;
    no_sideways_scroll(client, "the entry form").await?;
    pond.send_keys("东风塘").await?;
    client
        .execute(
            "document.querySelector('input[name=f_checked_on]').value = '2024-05-06';",
            vec![],
        )
        .await?;
    client
        .find(Locator::Css("input[name=f_water_level]"))
        .await?
        .send_keys("很高")
        .await?;
    client
        .find(Locator::Css("input[name=f_kinds][value='渗漏']"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Css("form.entry button[type=submit]"))
        .await?
        .click()
        .await?;
    // The message beside the field; what was typed is still there.
    let err = text_of(client, "#error-water_level").await?;
    ensure!(err.contains("不是数字"), "error beside 水位: {err:?}");
    let kept = client
        .find(Locator::Css("input[name=f_pond]"))
        .await?
        .prop("value")
        .await?;
    ensure!(kept.as_deref() == Some("东风塘"), "pond kept: {kept:?}");
    ensure!(
        client
            .find(Locator::Css("input[name=f_kinds][value='渗漏']"))
            .await?
            .prop("checked")
            .await?
            .as_deref()
            == Some("true"),
        "the ticked option stays ticked"
    );
    let level = client
        .find(Locator::Css("input[name=f_water_level]"))
        .await?;
    level.clear().await?;
    level.send_keys("3.5").await?;
    client
        .find(Locator::Css("form.entry button[type=submit]"))
        .await?
        .click()
        .await?;
    let notice = text_of(client, ".notice").await?;
    ensure!(notice == "已保存", "notice is {notice:?}");
    let rows = text_of(client, "#entries tbody").await?;
    ensure!(
        rows.contains("东风塘") && rows.contains("3.5米"),
        "{rows:?}"
    );
    no_sideways_scroll(client, "the entry list").await?;

    // Upload a filled sheet with the ledger's own headers: preview, then commit.
    let file = dir.join("山塘巡查.csv");
    std::fs::write(
        &file,
        format!(
            "单位代码,期间,山塘名称,巡查日期,水位（米）,运行安全\n{TOUCHANG},202405,红旗塘,2024-05-08,2.1,是\n"
        ),
    )?;
    client
        .find(Locator::Css("details.card summary"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Css("input[type=file][name=file]"))
        .await?
        .send_keys(&file.to_string_lossy())
        .await?;
    client
        .find(Locator::Css("form[action$='/import'] button[type=submit]"))
        .await?
        .click()
        .await?;
    let summary = text_of(client, "#summary").await?;
    ensure!(
        summary.contains("新增 1") || summary.contains("新增\t1") || summary.contains("新增\n1"),
        "preview: {summary:?}"
    );
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("form[action$='/commit'] button"))
        .await?
        .click()
        .await?;
    let done = text_of(client, ".notice").await?;
    ensure!(done == "已全部写入。", "after commit: {done:?}");

    // Queryable: the aggregate API adds both.
    client
        .goto(&app.url("/api/v1/ledgers/well_check/aggregate?level=village&period=2024"))
        .await?;
    let json = text_of(client, "body").await?;
    let rows: serde_json::Value = serde_json::from_str(&json).context("aggregate JSON")?;
    ensure!(rows[0]["entries"] == 2, "{rows}");
    ensure!(rows[0]["fields"]["water_level"]["sum"] == 5.6, "{rows}");
    Ok(())
}
