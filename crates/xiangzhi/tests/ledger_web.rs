//! Ledgers through the web: a ledger defined from a TOML file (no code change) is filled in the
//! generated form, imported from its own template and queried through the API; a village cadre
//! cannot fill, see or import into another village's rows; the demo's ledgers give the seed's
//! 2023 figures.

mod common;

use common::*;
use xiangzhi::cli_ledger::LedgerCommand;
use xiangzhi_domain::ledger::FieldValue;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_exchange::{Cell, Limits};
use xiangzhi_store::Scope;
use xiangzhi_store::ledger::{EntryQuery, LedgerQuery};

/// A ledger nobody wrote code for: every field type, a range, a cross-field rule.
const POND: &str = r#"
code = "pond_check"
name = "山塘水库巡查台账"
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
max = 50

[[fields]]
key = "hazards"
label = "隐患"
type = "integer"
unit = "处"
min = 0

[[fields]]
key = "fixed"
label = "已整改"
type = "integer"
unit = "处"
min = 0

[[fields]]
key = "safe"
label = "运行安全"
type = "bool"

[[fields]]
key = "kinds"
label = "隐患类型"
type = "multi_choice"
options = ["渗漏", "裂缝", "溢洪道堵塞"]

[[fields]]
key = "risk"
label = "风险等级"
type = "choice"
options = ["低", "中", "高"]

[[fields]]
key = "spot"
label = "位置"
type = "location"

[[fields]]
key = "keeper"
label = "巡查员"
type = "person"

[[fields]]
key = "photo"
label = "现场照片"
type = "attachment"
max_kb = 100
accept = ["png", "jpg"]

[[rules]]
check = "fixed <= hazards"
message = "已整改数不能多于隐患数"
"#;

const PERIOD: &str = "202405";

async fn define_pond(app: &TestApp) {
    let dir = TempDir::new("pond");
    let file = dir.path().join("山塘巡查.toml");
    std::fs::write(&file, POND).unwrap();
    xiangzhi::cli_ledger::run(
        LedgerCommand::Define {
            file: Some(file),
            builtin: None,
        },
        Some(&app.store),
        true,
    )
    .await
    .unwrap();
}

fn form(csrf: &str, fields: &[(&str, &str)]) -> reqwest::multipart::Form {
    let mut f = reqwest::multipart::Form::new().text("csrf", csrf.to_string());
    for (k, v) in fields {
        f = f.text(k.to_string(), v.to_string());
    }
    f
}

async fn post_entry(
    app: &TestApp,
    u: &TestUser,
    path: &str,
    f: reqwest::multipart::Form,
) -> (u16, String, String) {
    let res = u
        .client
        .post(app.url(path))
        .multipart(f)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

/// The upload token in a preview page's commit or error-report link.
fn token(html: &str) -> String {
    let at = html.find("/import/").expect("a link with the upload token") + "/import/".len();
    html[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect()
}

async fn upload(
    app: &TestApp,
    u: &TestUser,
    ledger: &str,
    org: &str,
    bytes: Vec<u8>,
) -> (u16, String) {
    let f = form(&u.csrf, &[("org", org), ("period", PERIOD)]).part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("巡查.xlsx"),
    );
    let res = u
        .client
        .post(app.url(&format!("/ledgers/{ledger}/import")))
        .multipart(f)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_ledger_defined_from_toml_is_fillable_importable_and_queryable() {
    let app = spawn_app().await;
    define_pond(&app).await;
    let cadre = app.login("cadre").await;

    let list = cadre.page(&app, "/ledgers").await;
    assert!(list.contains("山塘水库巡查台账"), "{list}");

    // The form is generated from the definition.
    let html = cadre
        .page(
            &app,
            &format!("/ledgers/pond_check/entries/new?period={PERIOD}"),
        )
        .await;
    for label in [
        "山塘名称",
        "水位（米）",
        "运行安全",
        "渗漏",
        "风险等级",
        "位置",
        "巡查员",
        "现场照片",
    ] {
        assert!(html.contains(label), "the form lacks {label}");
    }
    assert!(html.contains(r#"enctype="multipart/form-data""#));

    // Bad input: Chinese messages beside the fields, nothing lost, nothing saved.
    let audit_before = app.audit_rows().await;
    let bad = form(
        &cadre.csrf,
        &[
            ("org", TOUCHANG),
            ("period", PERIOD),
            ("f_pond", "东风塘"),
            ("f_checked_on", "2024-05-32"),
            ("f_water_level", "很高"),
            ("f_hazards", "2"),
            ("f_fixed", "1"),
            ("f_kinds", "渗漏"),
            ("f_kinds", "裂缝"),
            ("q_keeper", "查无此人某某"),
        ],
    );
    let (status, _, html) = post_entry(&app, &cadre, "/ledgers/pond_check/entries", bad).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("有内容需要修改，尚未保存"));
    assert!(html.contains(r#"id="error-checked_on""#) && html.contains("不是有效日期"));
    assert!(html.contains(r#"id="error-water_level""#) && html.contains("“很高”不是数字"));
    assert!(html.contains(r#"id="error-keeper""#) && html.contains("没有找到“查无此人某某”"));
    assert!(html.contains(r#"value="东风塘""#), "typed text is kept");
    assert!(html.contains(r#"value="2""#));
    assert!(html.contains(r#"value="渗漏" checked"#) && html.contains(r#"value="裂缝" checked"#));
    assert_eq!(app.audit_rows().await, audit_before, "nothing was written");

    // A rule over two fields, and a file of the wrong type.
    let bad = form(
        &cadre.csrf,
        &[
            ("org", TOUCHANG),
            ("period", PERIOD),
            ("f_pond", "东风塘"),
            ("f_checked_on", "2024-05-06"),
            ("f_hazards", "1"),
            ("f_fixed", "3"),
        ],
    )
    .part(
        "f_photo",
        reqwest::multipart::Part::bytes(b"MZ".to_vec()).file_name("病毒.exe"),
    );
    let (status, _, html) = post_entry(&app, &cadre, "/ledgers/pond_check/entries", bad).await;
    assert_eq!(status, 422);
    assert!(html.contains("只接受 png、jpg 文件"), "{html}");
    let good_fields = [
        ("org", TOUCHANG),
        ("period", PERIOD),
        ("f_pond", "东风塘"),
        ("f_checked_on", "2024-05-06"),
        ("f_hazards", "1"),
        ("f_fixed", "3"),
    ];
    let (status, _, html) = post_entry(
        &app,
        &cadre,
        "/ledgers/pond_check/entries",
        form(&cadre.csrf, &good_fields),
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("已整改数不能多于隐患数"), "{html}");

    // A person of the village, found by name in the registry; the derived fields are filled.
    let scope = app
        .store
        .org_unit(&Scope::all(), &DivisionCode::parse(TOUCHANG).unwrap())
        .await
        .unwrap()
        .path;
    let person = app
        .store
        .person_search(
            &Scope::new(scope),
            &xiangzhi_store::registry::PersonQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .remove(0);
    let mut fields = good_fields.to_vec();
    fields.retain(|(k, _)| *k != "f_fixed");
    fields.extend([
        ("f_fixed", "1"),
        ("f_water_level", "3.5"),
        ("f_safe", "是"),
        ("f_risk", "中"),
        ("f_spot", "头昌村东风塘（27.9,116.3）"),
        ("q_keeper", person.name.as_str()),
    ]);
    let photo = b"\x89PNG\r\n\x1a\nfake".to_vec();
    let f = form(&cadre.csrf, &fields).part(
        "f_photo",
        reqwest::multipart::Part::bytes(photo.clone()).file_name("现场.png"),
    );
    let (status, location, html) = post_entry(&app, &cadre, "/ledgers/pond_check/entries", f).await;
    let location = if status == 422 {
        // Several people share the name: the form offers them, the photo is kept.
        let choice = format!("id:{}", person.id);
        assert!(html.contains(&choice), "{html}");
        assert!(html.contains("已上传") && html.contains("现场.png"));
        let kept = html
            .split(r#"name="a_photo" value=""#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("the stored photo travels with the form")
            .to_string();
        let mut fields: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(k, _)| *k != "q_keeper")
            .copied()
            .collect();
        fields.push(("f_keeper", &choice));
        fields.push(("a_photo", &kept));
        let (status, location, html) = post_entry(
            &app,
            &cadre,
            "/ledgers/pond_check/entries",
            form(&cadre.csrf, &fields),
        )
        .await;
        assert_eq!(status, 303, "{html}");
        location
    } else {
        assert_eq!(status, 303, "{html}");
        location
    };
    assert!(location.contains("ok=saved"), "{location}");
    let id: i64 = location.rsplit("#e").next().unwrap().parse().unwrap();

    // The entry shows the derived fields read-only and serves its photo within scope.
    let html = cadre
        .page(&app, &format!("/ledgers/pond_check/entries/{id}"))
        .await;
    assert!(
        html.contains(&person.citizen_id_masked),
        "masked ID derived"
    );
    assert!(html.contains(&person.name));
    assert!(html.contains("岁"), "age derived");
    assert!(html.contains(TOUCHANG_NAME), "village derived");
    let sha = html
        .split("/ledger-files/")
        .nth(1)
        .map(|s| s.chars().take(64).collect::<String>())
        .expect("a link to the photo");
    let res = cadre
        .client
        .get(app.url(&format!("/ledger-files/{sha}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().to_vec(), photo);
    let leader = app.login("leader").await;
    assert_eq!(
        leader
            .client
            .get(app.url(&format!("/ledger-files/{sha}")))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "the township above sees it too"
    );

    // Its own template: download, fill two more rows under the same headers, upload.
    let res = cadre
        .client
        .get(app.url(&format!(
            "/ledgers/pond_check/template?org={TOUCHANG}&period={PERIOD}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let template = res.bytes().await.unwrap().to_vec();
    let sheet = xiangzhi_exchange::read_table(&template, "t.xlsx", &Limits::default()).unwrap();
    assert_eq!(
        sheet.rows.len(),
        1,
        "the entry filled in the form is in the template"
    );
    let headers = sheet.headers.clone();
    // Required columns carry a star; the sheet shows half-width brackets.
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| {
                h.trim_start_matches('*')
                    .replace('(', "（")
                    .replace(')', "）")
                    == name
            })
            .unwrap_or_else(|| panic!("{name} in {headers:?}"))
    };
    let filled = |pond: &str, date: &str, hazards: &str, fixed: &str| {
        let mut cells = vec![Cell::Empty; headers.len()];
        cells[col("单位代码")] = Cell::Text(TOUCHANG.into());
        cells[col("期间")] = Cell::Text(PERIOD.into());
        cells[col("山塘名称")] = Cell::Text(pond.into());
        cells[col("巡查日期")] = Cell::Text(date.into());
        cells[col("隐患（处）")] = Cell::Text(hazards.into());
        cells[col("已整改（处）")] = Cell::Text(fixed.into());
        cells[col("隐患类型")] = Cell::Text("渗漏、裂缝".into());
        cells
    };
    let xlsx = |rows: Vec<Vec<Cell>>| {
        let mut x = xiangzhi_exchange::write::XlsxExport::new("山塘巡查", &headers).unwrap();
        for r in sheet.rows.iter() {
            x.write_row(&r.cells).unwrap();
        }
        for r in rows {
            x.write_row(&r).unwrap();
        }
        x.finish().unwrap()
    };
    let bad = xlsx(vec![
        filled("红旗塘", "2024-05-08", "4", "2"),
        filled("跃进塘", "五月", "1", "5"),
    ]);
    let audit_before = app.audit_rows().await;
    let (status, html) = upload(&app, &cadre, "pond_check", TOUCHANG, bad).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("导入预览") && html.contains("未写入任何数据"),
        "{html}"
    );
    assert!(html.contains("不是有效日期"), "{html}");
    let t = token(&html);
    let report = cadre
        .client
        .get(app.url(&format!("/ledgers/pond_check/import/{t}/errors.xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 200);
    assert!(report.bytes().await.unwrap().starts_with(b"PK"));
    // Committing a file with errors writes nothing.
    let html = cadre
        .client
        .post(app.url(&format!("/ledgers/pond_check/import/{t}/commit")))
        .form(&[("csrf", cadre.csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("已全部写入"));
    assert_eq!(app.audit_rows().await, audit_before);

    let good = xlsx(vec![
        filled("红旗塘", "2024-05-08", "4", "2"),
        filled("跃进塘", "2024-05-09", "5", "1"),
    ]);
    let (status, html) = upload(&app, &cadre, "pond_check", TOUCHANG, good).await;
    assert_eq!(status, 200);
    assert!(html.contains("确认导入"), "{html}");
    let t = token(&html);
    let html = cadre
        .client
        .post(app.url(&format!("/ledgers/pond_check/import/{t}/commit")))
        .form(&[("csrf", cadre.csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("已全部写入"), "{html}");

    // Queryable: the API sums by village and month.
    let rows: serde_json::Value = cadre
        .client
        .get(app.url("/api/v1/ledgers/pond_check/aggregate?level=village&by=month&period=2024"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["org_code"], TOUCHANG);
    assert_eq!(rows[0]["period"], PERIOD);
    assert_eq!(rows[0]["entries"], 3);
    assert_eq!(rows[0]["fields"]["hazards"]["sum"], 10.0, "{rows}");
    assert_eq!(rows[0]["fields"]["fixed"]["sum"], 4.0);
    let entries: serde_json::Value = cadre
        .client
        .get(app.url(&format!(
            "/api/v1/ledgers/pond_check/entries?period={PERIOD}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 3);

    // The county's completion summary is kept between requests, and a submission shows at
    // once: 连城乡's May goes from none of its 12 villages to one.
    let admin = app.login("admin").await;
    let county = admin.page(&app, "/ledgers/pond_check?year=2024").await;
    assert!(county.contains("id=\"completion-summary\""), "{county}");
    assert!(
        county.contains("0/12") && !county.contains("1/12"),
        "{county}"
    );
    assert_eq!(
        admin.page(&app, "/ledgers/pond_check?year=2024").await,
        county
    );

    // Submitted, the period is locked for the village; the township returns it.
    let res = cadre
        .client
        .post(app.url("/ledgers/pond_check/submissions"))
        .form(&[
            ("csrf", cadre.csrf.as_str()),
            ("org", TOUCHANG),
            ("period", PERIOD),
            ("action", "submit"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let county = admin.page(&app, "/ledgers/pond_check?year=2024").await;
    assert!(county.contains("1/12"), "{county}");
    let html = cadre
        .page(&app, &format!("/ledgers/pond_check/entries/{id}"))
        .await;
    assert!(html.contains("本期台账已报送，不能修改"), "{html}");
    let clerk = app.login("clerk").await;
    let grid = clerk.page(&app, "/ledgers/pond_check?year=2024").await;
    assert!(
        grid.contains("已报送") && grid.contains(r#"value="return""#),
        "{grid}"
    );
    let res = clerk
        .client
        .post(app.url("/ledgers/pond_check/submissions"))
        .form(&[
            ("csrf", clerk.csrf.as_str()),
            ("org", TOUCHANG),
            ("period", PERIOD),
            ("action", "return"),
            ("note", "请补充照片"),
            ("back", "grid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let list = cadre
        .page(
            &app,
            &format!("/ledgers/pond_check/entries?period={PERIOD}"),
        )
        .await;
    assert!(
        list.contains("已退回") && list.contains("请补充照片"),
        "{list}"
    );
}

#[tokio::test]
async fn a_village_cadre_cannot_fill_see_or_import_into_another_village() {
    let app = spawn_app().await;
    define_pond(&app).await;
    let all = Scope::all();
    let shetou = DivisionCode::parse(SHETOU).unwrap();
    let shetou_rows = |app: &TestApp| {
        let store = app.store.clone();
        let shetou = shetou.clone();
        async move {
            store
                .entries(
                    &Scope::all(),
                    "anti_fraud",
                    &EntryQuery {
                        org: Some(shetou),
                        limit: 5000,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .iter()
                .map(|e| format!("{} {:?}", e.id, e.values))
                .collect::<Vec<_>>()
        }
    };
    let before = shetou_rows(&app).await;
    let foreign = app
        .store
        .entries(
            &all,
            "anti_fraud",
            &EntryQuery {
                org: Some(shetou.clone()),
                period: Some("202301".into()),
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .remove(0);
    let cadre = app.login("cadre").await;
    let get = |path: String| {
        let c = cadre.client.clone();
        let url = app.url(&path);
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    // see
    assert_eq!(
        get(format!(
            "/ledgers/anti_fraud/entries?org={SHETOU}&period=202301"
        ))
        .await,
        404
    );
    assert_eq!(
        get(format!("/ledgers/anti_fraud/entries/{}", foreign.id)).await,
        404
    );
    assert_eq!(
        get(format!(
            "/ledgers/anti_fraud/template?org={SHETOU}&period=202301"
        ))
        .await,
        404
    );
    assert_eq!(
        get(format!("/api/v1/ledgers/anti_fraud/entries?org={SHETOU}")).await,
        404
    );
    assert_eq!(
        get(format!("/api/v1/ledgers/anti_fraud/aggregate?org={SHETOU}")).await,
        404
    );
    let mine: serde_json::Value = cadre
        .client
        .get(app.url("/api/v1/ledgers/anti_fraud/entries?limit=5000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 12, "the demo's twelve months of 头昌村");
    assert!(mine.iter().all(|e| e["org_code"] == TOUCHANG));
    let grid = cadre.page(&app, "/ledgers/anti_fraud?year=2023").await;
    assert!(grid.contains(TOUCHANG_NAME) && !grid.contains(SHETOU_NAME));

    // fill
    let f = form(
        &cadre.csrf,
        &[
            ("org", SHETOU),
            ("period", "202405"),
            ("f_pond", "越界塘"),
            ("f_checked_on", "2024-05-06"),
        ],
    );
    let (status, _, _) = post_entry(&app, &cadre, "/ledgers/pond_check/entries", f).await;
    assert_eq!(status, 404);
    let f = form(&cadre.csrf, &[("f_sessions", "99"), ("f_people", "999")]);
    let (status, _, _) = post_entry(
        &app,
        &cadre,
        &format!("/ledgers/anti_fraud/entries/{}", foreign.id),
        f,
    )
    .await;
    assert_eq!(status, 404);
    let res = cadre
        .client
        .post(app.url("/ledgers/anti_fraud/submissions"))
        .form(&[
            ("csrf", cadre.csrf.as_str()),
            ("org", SHETOU),
            ("period", "202301"),
            ("action", "submit"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // import: into the other village directly, or by naming it in the rows
    let csv = |org: &str| {
        format!("单位代码,期间,宣传场次（场）,受众人数（人）\n{org},202405,3,90\n").into_bytes()
    };
    let (status, _) = upload(&app, &cadre, "anti_fraud", SHETOU, csv(SHETOU)).await;
    assert_eq!(status, 404);
    let (status, html) = upload(&app, &cadre, "anti_fraud", TOUCHANG, csv(SHETOU)).await;
    assert_eq!(status, 200);
    assert!(html.contains("不在本辖区"), "{html}");
    assert!(!html.contains("确认导入"));
    let t = token(&html);
    let html = cadre
        .client
        .post(app.url(&format!("/ledgers/anti_fraud/import/{t}/commit")))
        .form(&[("csrf", cadre.csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("已全部写入"));
    assert!(!html.contains(SHETOU_NAME));
    assert_eq!(
        shetou_rows(&app).await,
        before,
        "舍头村's rows are untouched"
    );
}

#[tokio::test]
async fn the_demo_ledgers_give_the_seed_figures() {
    use xiangzhi::demo_ledgers::figures;
    let app = spawn_app().await;
    let township = DivisionCode::parse("361002201").unwrap();
    let all = Scope::all();
    let total = |ledger: &'static str, period: &'static str| {
        let store = app.store.clone();
        let township = township.clone();
        async move {
            let rows = store
                .ledger_aggregate(
                    &Scope::all(),
                    ledger,
                    &LedgerQuery {
                        org: Some(township),
                        period_prefix: Some(period.into()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert_eq!(rows.len(), 1);
            rows.into_iter().next().unwrap()
        }
    };
    for (i, year) in ["2023", "2022"].into_iter().enumerate() {
        let agri = total("agri", year).await;
        let sum = |k: &str| agri.fields[k].sum.unwrap();
        assert_eq!(agri.entries, 12, "one row per village");
        assert_eq!(sum("grain_area"), figures::GRAIN_AREA[i]);
        assert_eq!(sum("grain_output"), figures::GRAIN_OUTPUT[i]);
        assert_eq!(sum("veg_area"), figures::VEG_AREA[i]);
        assert_eq!(sum("veg_output"), figures::VEG_OUTPUT[i]);
        assert_eq!(sum("fruit_area"), figures::FRUIT_AREA[i]);
        assert_eq!(sum("fruit_output"), figures::FRUIT_OUTPUT[i]);
        assert_eq!(sum("pigs"), figures::PIGS[i]);
        assert_eq!(sum("poultry"), figures::POULTRY[i]);
        let winter = total("winter_crop", year).await;
        assert_eq!(winter.fields["rape_area"].sum, Some(figures::RAPE[i]));
        assert_eq!(winter.fields["potato_area"].sum, Some(figures::POTATO[i]));
        assert_eq!(winter.fields["veg_area"].sum, Some(figures::WINTER_VEG[i]));
        let toilets = total("toilet", year).await;
        assert_eq!(toilets.entries as usize, figures::TOILETS[i]);
        assert_eq!(
            toilets.fields["investment"].sum,
            Some(figures::TOILETS[i] as f64 * figures::TOILET_COST[i])
        );
        assert_eq!(
            total("cancer_screening", year).await.entries as usize,
            figures::SCREENED[i]
        );
        assert_eq!(
            total("birth_permit", year).await.entries as usize,
            figures::BIRTH_PERMITS[i]
        );
        assert_eq!(
            total("only_child", year).await.entries as usize,
            figures::ONLY_CHILD[i]
        );
    }
    // The seed's wording, in its units: 3.76万亩, 1.65万吨, 0.74万头, 11.62万只, 75万元.
    let agri = total("agri", "2023").await;
    let wan = |k: &str| format!("{:.2}", agri.fields[k].sum.unwrap() / 10_000.0);
    assert_eq!(wan("grain_area"), "3.76");
    assert_eq!(wan("grain_output"), "1.65");
    assert_eq!(wan("veg_area"), "0.80");
    assert_eq!(wan("veg_output"), "2.60");
    assert_eq!(wan("fruit_area"), "0.41");
    assert_eq!(wan("fruit_output"), "0.38");
    assert_eq!(wan("pigs"), "0.74");
    assert_eq!(wan("poultry"), "11.62");
    assert_eq!(
        total("toilet", "2023").await.fields["investment"].sum,
        Some(750_000.0)
    );
    // Every figure grew on 2022 (同比均实现增长).
    let last = total("agri", "2022").await;
    for (k, a) in &agri.fields {
        assert!(a.sum > last.fields[k].sum, "{k} grew year on year");
    }

    // 集体经济: every village over 15万, 头昌村 50万.
    let by_village = app
        .store
        .ledger_aggregate(
            &all,
            "collective_income",
            &LedgerQuery {
                org: Some(township.clone()),
                period_prefix: Some("2023".into()),
                group_level: Some(xiangzhi_domain::org::OrgLevel::Village),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_village.len(), 12);
    for r in &by_village {
        let income = r.fields["income"].sum.unwrap();
        assert!(income >= figures::MIN_INCOME, "{:?} {income}", r.org_name);
        if r.org_code.as_ref().map(|c| c.as_str()) == Some(TOUCHANG) {
            assert_eq!(income, figures::TOUCHANG_INCOME);
        }
    }

    // 高标准农田: 15万元, 5公里 (舍头), near a thousand mu.
    let farm = total("farmland_fix", "2023").await;
    assert_eq!(
        farm.fields["investment"].sum,
        Some(figures::FARMLAND_INVESTMENT)
    );
    assert_eq!(
        farm.fields["canal_km"].sum,
        Some(figures::FARMLAND_CANAL_KM)
    );
    let irrigated = farm.fields["irrigated_area"].sum.unwrap();
    assert!((900.0..1000.0).contains(&irrigated), "近千亩: {irrigated}");
    let shetou = app
        .store
        .entries(
            &all,
            "farmland_fix",
            &EntryQuery {
                period: Some("2023".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(shetou.len(), 1);
    assert_eq!(shetou[0].org_code.as_str(), SHETOU);

    // 集镇整治: cameras 13万, market 11万, 智慧平安 15万, by category.
    let items = app
        .store
        .entries(
            &all,
            "town_improvement",
            &EntryQuery {
                period: Some("2023".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let by = |cat: &str| -> f64 {
        items
            .iter()
            .filter(|e| matches!(e.values.get("category"), Some(FieldValue::Text(c)) if c == cat))
            .filter_map(|e| e.values.get("investment").and_then(|v| v.as_f64()))
            .sum()
    };
    assert_eq!(by("监控摄像头"), figures::CAMERAS);
    assert_eq!(by("市场维修"), figures::MARKET);
    assert_eq!(by("智慧平安中心"), figures::SMART_SAFETY);

    // The same through the API, as the township leader sees it.
    let leader = app.login("leader").await;
    let rows: serde_json::Value = leader
        .client
        .get(app.url("/api/v1/ledgers/agri/aggregate?period=2023"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rows[0]["fields"]["grain_area"]["sum"], 37_600.0, "{rows}");
    assert_eq!(rows[0]["fields"]["poultry"]["sum"], 116_200.0);
}

#[tokio::test]
async fn an_overdue_period_is_locked_until_the_township_unlocks_it() {
    let app = spawn_app().await;
    let toml = POND
        .replace("code = \"pond_check\"", "code = \"pond_due\"")
        .replace(
            "level = \"village\"",
            "level = \"village\"\ndeadline_days = 5",
        );
    let def = xiangzhi_domain::ledger::LedgerDefinition::from_toml(&toml).unwrap();
    app.store
        .define_ledger(&xiangzhi_store::Actor::system("test"), &def)
        .await
        .unwrap();
    let cadre = app.login("cadre").await;
    let fields = [
        ("org", TOUCHANG),
        ("period", "202301"),
        ("f_pond", "东风塘"),
        ("f_checked_on", "2023-01-06"),
    ];
    let (status, _, html) = post_entry(
        &app,
        &cadre,
        "/ledgers/pond_due/entries",
        form(&cadre.csrf, &fields),
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("已过填报截止日期 2023-02-05"), "{html}");
    assert!(html.contains(r#"value="东风塘""#));

    let clerk = app.login("clerk").await;
    let grid = clerk.page(&app, "/ledgers/pond_due?year=2023").await;
    assert!(
        grid.contains("已逾期") && grid.contains(r#"value="unlock""#),
        "{grid}"
    );
    let audit_before = app.audit_rows().await;
    let res = clerk
        .client
        .post(app.url("/ledgers/pond_due/submissions"))
        .form(&[
            ("csrf", clerk.csrf.as_str()),
            ("org", TOUCHANG),
            ("period", "202301"),
            ("action", "unlock"),
            ("back", "grid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.audit_rows().await,
        audit_before + 1,
        "the unlock is audited"
    );
    // The village cannot unlock for itself.
    let res = cadre
        .client
        .post(app.url("/ledgers/pond_due/submissions"))
        .form(&[
            ("csrf", cadre.csrf.as_str()),
            ("org", TOUCHANG),
            ("period", "202302"),
            ("action", "unlock"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (status, location, html) = post_entry(
        &app,
        &cadre,
        "/ledgers/pond_due/entries",
        form(&cadre.csrf, &fields),
    )
    .await;
    assert_eq!(status, 303, "{html}");
    assert!(location.contains("ok=saved"));
}

/// A county's page of a village ledger lists its townships, each with how many villages have
/// reported, and each township opens its own village grid; a unit outside the viewer's scope
/// is not found.
#[tokio::test]
async fn a_county_sees_townships_and_opens_a_townships_grid() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let county = admin.page(&app, "/ledgers/agri?year=2023").await;
    assert!(county.contains("id=\"completion-summary\""), "{county}");
    assert!(
        !county.contains("id=\"completion\""),
        "no grid of every village"
    );
    assert!(
        county.contains("/ledgers/agri?org=361002201&year=2023\">连城乡"),
        "{county}"
    );
    // 连城乡 has 12 villages; a yearly ledger has one period.
    assert!(county.contains("/12</td>"), "{county}");

    let township = admin
        .page(&app, "/ledgers/agri?org=361002201&year=2023")
        .await;
    assert!(township.contains("id=\"completion\""), "{township}");
    assert!(township.contains("头昌村委会"));
    assert!(
        township.contains("name=\"org\" value=\"361002201\""),
        "the year form keeps the unit"
    );

    let cadre = app.login("cadre").await;
    for url in ["/ledgers/agri?org=361002201", "/ledgers/agri?org=361002202"] {
        let res = cadre.client.get(app.url(url)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{url}");
    }
}
