//! The registry through the browser's eyes: search, person and household pages, reveal (audited),
//! life events, and an import uploaded as a file: preview, error report, commit.

mod common;

use common::{SHETOU, TOUCHANG, spawn_app};
use xiangzhi_domain::citizen_id;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_store::registry::{NewHousehold, NewPerson, Relation};
use xiangzhi_store::{Actor, AuditFilter, Scope};

fn birth(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A CSV in the import layout, as a clerk would save it from Excel (UTF-8 with BOM).
fn person_csv(rows: &[(&str, String, &str, &str)]) -> Vec<u8> {
    let mut s = String::from("\u{feff}姓名,身份证号,户号,与户主关系,所属村\n");
    for (name, id, household, relation) in rows {
        s.push_str(&format!("{name},{id},{household},{relation},头昌村\n"));
    }
    s.into_bytes()
}

async fn upload(
    user: &common::TestUser,
    app: &common::TestApp,
    file: Vec<u8>,
    name: &str,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("csrf", user.csrf.clone())
        .text("kind", "persons")
        .text("org", TOUCHANG)
        .part(
            "file",
            reqwest::multipart::Part::bytes(file).file_name(name.to_string()),
        );
    user.client
        .post(app.url("/registry/import"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The upload token in a preview page's commit or error-report link.
fn preview_token(html: &str) -> String {
    html.split("/registry/import/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("a link with the upload token")
        .to_string()
}

async fn commit(user: &common::TestUser, app: &common::TestApp, token: &str) -> reqwest::Response {
    user.client
        .post(app.url(&format!("/registry/import/{token}/commit")))
        .form(&[("csrf", user.csrf.as_str())])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn import_previews_then_commits_all_or_nothing() {
    let app = spawn_app().await;
    let cadre = app.login("cadre").await;
    let good = person_csv(&[
        (
            "导入甲",
            citizen_id::generate("361002", birth(1960, 5, 1), 11, true)
                .as_str()
                .to_string(),
            "TC-900",
            "户主",
        ),
        (
            "导入乙",
            citizen_id::generate("361002", birth(1962, 6, 2), 12, false)
                .as_str()
                .to_string(),
            "TC-900",
            "配偶",
        ),
    ]);
    let rows_before = app.audit_rows().await;
    let res = upload(&cadre, &app, good.clone(), "花名册.csv").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("导入预览"), "{html}");
    assert_eq!(
        app.audit_rows().await,
        rows_before,
        "a preview writes nothing"
    );
    let token = preview_token(&html);

    // Another user cannot commit someone else's upload.
    let clerk = app.login("clerk").await;
    let res = commit(&clerk, &app, &token).await;
    assert_eq!(res.status(), 404);

    let res = commit(&cadre, &app, &token).await;
    let html = res.text().await.unwrap();
    assert!(html.contains("导入完成"), "{html}");
    let found = app
        .store
        .person_search(
            &Scope::all(),
            &xiangzhi_store::registry::PersonQuery {
                q: Some("导入甲".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    // A file with one bad ID and one Excel-mangled ID: nothing is written, every bad row listed.
    let bad = person_csv(&[
        (
            "导入丙",
            citizen_id::generate("361002", birth(1970, 1, 1), 13, true)
                .as_str()
                .to_string(),
            "TC-901",
            "户主",
        ),
        ("导入丁", "361002197001010000".to_string(), "TC-901", "配偶"),
        ("导入戊", "3.61002E+17".to_string(), "TC-901", "子女"),
    ]);
    let rows_before = app.audit_rows().await;
    let html = upload(&cadre, &app, bad, "有错.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("校验位") && html.contains("科学计数法"),
        "{html}"
    );
    let token = preview_token(&html);
    let report = cadre
        .client
        .get(app.url(&format!("/registry/import/{token}/errors.xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 200);
    let bytes = report.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an XLSX file");
    let res = commit(&cadre, &app, &token).await;
    assert!(res.text().await.unwrap().contains("未写入任何数据"));
    assert_eq!(app.audit_rows().await, rows_before);

    // Importing into another village is refused like any foreign id.
    let form = reqwest::multipart::Form::new()
        .text("csrf", cadre.csrf.clone())
        .text("kind", "persons")
        .text("org", SHETOU)
        .part(
            "file",
            reqwest::multipart::Part::bytes(good).file_name("x.csv"),
        );
    let res = cadre
        .client
        .post(app.url("/registry/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // Without the CSRF field the upload is refused before it is read.
    let form = reqwest::multipart::Form::new()
        .text("kind", "persons")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.csv"),
        );
    let res = cadre
        .client
        .post(app.url("/registry/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn person_pages_mask_reveal_with_audit_and_record_events() {
    let app = spawn_app().await;
    let cadre = app.login("cadre").await;
    let id = citizen_id::generate("361002", birth(1958, 3, 4), 21, true);
    let csv = person_csv(&[("页面测试", id.as_str().to_string(), "TC-902", "户主")]);
    let html = upload(&cadre, &app, csv, "a.csv")
        .await
        .text()
        .await
        .unwrap();
    let token = preview_token(&html);
    commit(&cadre, &app, &token).await;

    // Search by the full ID finds the person; the list shows the ID masked.
    let html = cadre
        .client
        .get(app.url(&format!("/persons?q={}", id.as_str())))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("页面测试"), "{html}");
    let echo = format!("value=\"{}\"", id.as_str());
    assert!(
        !html.replace(&echo, "").contains(id.as_str()),
        "only the search boxes echo the typed ID"
    );
    assert!(html.contains(&id.masked()));
    let person_id: i64 = html
        .split("/persons/")
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .next()
        .expect("a link to the person");

    let page = cadre.page(&app, &format!("/persons/{person_id}")).await;
    assert!(page.contains(&id.masked()) && !page.contains(id.as_str()));

    let revealed = cadre
        .client
        .post(app.url(&format!("/persons/{person_id}/reveal")))
        .form(&[("field", "citizen_id"), ("csrf", cadre.csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(revealed.contains(id.as_str()));
    let audit = app
        .store
        .audit_list(
            &Scope::all(),
            &AuditFilter {
                action: Some("reveal".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert!(
        !audit[0]
            .new_value
            .clone()
            .unwrap_or_default()
            .contains(id.as_str()),
        "the audit row holds no plain ID"
    );

    // A grid worker may not reveal.
    let grid = app.login("grid").await;
    let res = grid
        .client
        .post(app.url(&format!("/persons/{person_id}/reveal")))
        .form(&[("field", "citizen_id"), ("csrf", grid.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(res.status() == 403 || res.status() == 404);

    // Move out: status changes, the timeline shows it, nothing is deleted.
    let res = cadre
        .client
        .post(app.url(&format!("/persons/{person_id}/events")))
        .form(&[
            ("kind", "move_out"),
            ("date", "2024-03-01"),
            ("note", "南昌市"),
            ("csrf", cadre.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = cadre.page(&app, &format!("/persons/{person_id}")).await;
    assert!(
        page.contains("迁出") && page.contains("2024-03-01") && page.contains("南昌市"),
        "{page}"
    );

    // Registering the same ID again is refused with a link to the existing record.
    let res = cadre
        .client
        .post(app.url("/persons"))
        .form(&[
            ("name", "重复"),
            ("citizen_id", id.as_str()),
            ("org_code", TOUCHANG),
            ("csrf", cadre.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(&format!("/persons/{person_id}"))
    );
}

/// A person registered straight in the store, in a new household of 头昌村.
async fn registered(
    app: &common::TestApp,
    household_no: &str,
    members: &[(&str, xiangzhi_domain::citizen_id::CitizenId, Relation)],
) -> (i64, Vec<i64>) {
    let actor = Actor::system("test");
    let h = app
        .store
        .create_household(
            &actor,
            NewHousehold {
                household_no: household_no.into(),
                address: "头昌村测试组".into(),
                org_code: DivisionCode::parse(TOUCHANG).unwrap(),
            },
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (name, id, relation) in members {
        let p = app
            .store
            .create_person(
                &actor,
                NewPerson {
                    name: (*name).into(),
                    citizen_id: id.clone(),
                    phone: None,
                    household_id: Some(h.id),
                    relation: Some(*relation),
                    org_code: None,
                    tags: Vec::new(),
                },
            )
            .await
            .unwrap();
        ids.push(p.id);
    }
    (h.id, ids)
}

#[tokio::test]
async fn birth_date_stays_hidden_until_reveal_and_a_clerk_corrects_a_wrong_id() {
    let app = spawn_app().await;
    let wrong = citizen_id::generate("361002", birth(1958, 3, 4), 31, true);
    let right = citizen_id::generate("361002", birth(1959, 8, 17), 32, true);
    let (_, ids) = registered(
        &app,
        "TC-950",
        &[("更正测试", wrong.clone(), Relation::Head)],
    )
    .await;
    let pid = ids[0];
    let path = format!("/persons/{pid}");

    // Masked ID and birth year only: the full date would give back 14 of 18 characters.
    let cadre = app.login("cadre").await;
    let html = cadre.page(&app, &path).await;
    assert!(
        html.contains(&wrong.masked()) && html.contains("1958"),
        "{html}"
    );
    assert!(!html.contains("1958-03-04"), "{html}");
    let list = cadre.page(&app, "/persons?q=更正测试").await;
    assert!(list.contains(&wrong.masked()) && !list.contains("1958-03-04"));
    let revealed = cadre
        .client
        .post(app.url(&format!("/persons/{pid}/reveal")))
        .form(&[("field", "citizen_id"), ("csrf", cadre.csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(revealed.contains(wrong.as_str()) && revealed.contains("1958-03-04"));

    // A village cadre may not correct an ID; the form is not even offered.
    assert!(!html.contains("/citizen-id"));
    let res = cadre
        .client
        .post(app.url(&format!("/persons/{pid}/citizen-id")))
        .form(&[
            ("citizen_id", right.as_str()),
            ("reason", "录错"),
            ("csrf", cadre.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // The township clerk can: a bad ID is refused in Chinese, a good one replaces it.
    let clerk = app.login("clerk").await;
    assert!(clerk.page(&app, &path).await.contains("/citizen-id"));
    let mut bad = right.as_str().to_string();
    bad.replace_range(17..18, if bad.ends_with('1') { "2" } else { "1" });
    let res = clerk
        .client
        .post(app.url(&format!("/persons/{pid}/citizen-id")))
        .form(&[
            ("citizen_id", bad.as_str()),
            ("reason", "录错"),
            ("csrf", clerk.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("校验"));
    let res = clerk
        .client
        .post(app.url(&format!("/persons/{pid}/citizen-id")))
        .form(&[
            ("citizen_id", right.as_str()),
            ("reason", "依据户口簿更正"),
            ("csrf", clerk.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let html = clerk.page(&app, &path).await;
    assert!(
        html.contains(&right.masked()) && html.contains("1959"),
        "{html}"
    );
    assert!(html.contains("更正身份证号") && html.contains("依据户口簿更正"));
    assert!(
        html.contains(&wrong.masked()),
        "the timeline names the old ID, masked"
    );
    assert!(
        !html.contains("v1:") && !html.contains(wrong.as_str()),
        "the sealed old value stays in the store"
    );
    let audit = app
        .store
        .audit_list(
            &Scope::all(),
            &AuditFilter {
                action: Some("correct_citizen_id".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_name, "clerk");
}

#[tokio::test]
async fn household_split_form_moves_the_chosen_members_to_a_new_household() {
    let app = spawn_app().await;
    let (hid, ids) = registered(
        &app,
        "TC-960",
        &[
            (
                "分户父",
                citizen_id::generate("361002", birth(1950, 1, 2), 41, true),
                Relation::Head,
            ),
            (
                "分户子",
                citizen_id::generate("361002", birth(1975, 2, 3), 43, true),
                Relation::Child,
            ),
            (
                "分户媳",
                citizen_id::generate("361002", birth(1977, 4, 5), 44, false),
                Relation::Other,
            ),
        ],
    )
    .await;
    let cadre = app.login("cadre").await;
    let html = cadre.page(&app, &format!("/households/{hid}")).await;
    assert!(html.contains(&format!("/households/{hid}/split")), "{html}");

    let split = |form: Vec<(&'static str, String)>| {
        let mut form = form;
        form.push(("csrf", cadre.csrf.clone()));
        cadre
            .client
            .post(app.url(&format!("/households/{hid}/split")))
            .form(&form)
            .send()
    };
    let res = split(vec![("household_no", "TC-961".into())])
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "no member chosen");
    let res = split(vec![
        ("members", ids[1].to_string()),
        ("members", ids[2].to_string()),
        ("new_head", ids[1].to_string()),
        ("household_no", "TC-961".into()),
        ("address", "头昌村新宅".into()),
        ("date", "2024-05-06".into()),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 303);

    let scope = Scope::all();
    let new = app.store.household_by_no(&scope, "TC-961").await.unwrap();
    assert_eq!(new.member_count, 2);
    assert_eq!(new.head_name.as_deref(), Some("分户子"));
    assert_eq!(new.address, "头昌村新宅");
    let old = app.store.household(&scope, hid).await.unwrap();
    assert_eq!(old.member_count, 1);
    assert_eq!(old.head_name.as_deref(), Some("分户父"));
    let html = cadre.page(&app, &format!("/households/{hid}")).await;
    assert!(
        html.contains("分户") && html.contains("2024-05-06"),
        "{html}"
    );
    let html = cadre.page(&app, &format!("/persons/{}", ids[2])).await;
    assert!(html.contains("TC-961"), "{html}");
}

#[tokio::test]
async fn person_edit_and_enterprise_create_close_forms_are_audited() {
    let app = spawn_app().await;
    let (_, ids) = registered(
        &app,
        "TC-960",
        &[(
            "改前姓名",
            citizen_id::generate("361002", birth(1971, 2, 3), 41, false),
            Relation::Head,
        )],
    )
    .await;
    let pid = ids[0];
    let path = format!("/persons/{pid}");
    let cadre = app.login("cadre").await;
    let html = cadre.page(&app, &path).await;
    assert!(
        html.contains(&format!("action=\"/persons/{pid}\"")),
        "{html}"
    );

    // a bad phone is refused in Chinese and nothing changes
    let res = cadre
        .client
        .post(app.url(&path))
        .form(&[
            ("name", "改后姓名"),
            ("phone", "12345"),
            ("csrf", cadre.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("联系电话无效"));
    assert!(cadre.page(&app, &path).await.contains("改前姓名"));

    // name, phone and tags with the details of 残疾 from the selects
    let rows_before = app.audit_rows().await;
    let res = cadre
        .client
        .post(app.url(&path))
        .form(&[
            ("name", "改后姓名"),
            ("phone", "13912345678"),
            ("tags", "党员;留守:老人"),
            ("disability_category", "视力"),
            ("disability_grade", "三级"),
            ("csrf", cadre.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(app.audit_rows().await, rows_before + 1);
    let html = cadre.page(&app, &format!("{path}?ok=updated")).await;
    assert!(
        html.contains("改后姓名") && html.contains("139****5678"),
        "{html}"
    );
    assert!(
        html.contains("党员")
            && html.contains("留守（老人）")
            && html.contains("残疾（视力，三级）"),
        "{html}"
    );
    assert!(!html.contains("13912345678"), "the phone stays masked");
    let p = app.store.person(&Scope::all(), pid).await.unwrap();
    assert_eq!(p.name, "改后姓名");
    // "无残疾" takes the tag off again, the rest stays
    let res = cadre
        .client
        .post(app.url(&path))
        .form(&[
            ("tags", "党员;留守:老人;残疾:视力:三级"),
            ("disability_category", "none"),
            ("csrf", cadre.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let p = app.store.person(&Scope::all(), pid).await.unwrap();
    let tags: Vec<&str> = p.tags.iter().map(|t| t.tag.as_str()).collect();
    assert_eq!(tags, ["党员", "留守"]);
    // the auditor reads but may not write
    let auditor = app.login("auditor").await;
    let res = auditor
        .client
        .post(app.url(&path))
        .form(&[("name", "审计改名"), ("csrf", auditor.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // an enterprise: created by the clerk, then closed, never deleted
    let clerk = app.login("clerk").await;
    assert!(clerk.page(&app, "/enterprises").await.contains("登记企业"));
    let res = clerk
        .client
        .post(app.url("/enterprises"))
        .form(&[
            ("name", "表单测试物流有限公司"),
            ("credit_code", "91361002MA35ABCDE6"),
            ("kind", "logistics"),
            ("capital", "500"),
            ("settled_on", "2023-05-06"),
            ("org_code", TOUCHANG),
            ("contact_name", "王联系"),
            ("contact_phone", "13800001111"),
            ("csrf", clerk.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let at = res.headers()["location"].to_str().unwrap().to_string();
    let html = clerk.page(&app, &at).await;
    assert!(
        html.contains("表单测试物流有限公司") && html.contains("500.00 万元"),
        "{html}"
    );
    assert!(html.contains("138****1111") && !html.contains("13800001111"));
    let eid: i64 = at
        .trim_start_matches("/enterprises/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // a bad credit code is refused in Chinese
    let res = clerk
        .client
        .post(app.url("/enterprises"))
        .form(&[
            ("name", "坏代码公司"),
            ("credit_code", "123"),
            ("kind", "logistics"),
            ("org_code", TOUCHANG),
            ("csrf", clerk.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("统一社会信用代码"));
    let res = clerk
        .client
        .post(app.url(&format!("/enterprises/{eid}/close")))
        .form(&[("date", "2023-12-01"), ("csrf", clerk.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let html = clerk.page(&app, &format!("/enterprises/{eid}")).await;
    assert!(
        html.contains("已注销/迁出") && !html.contains("确认注销"),
        "{html}"
    );
    let list = clerk.page(&app, "/enterprises?q=表单测试").await;
    assert!(list.contains("表单测试物流有限公司"), "kept on record");
    let audit = app
        .store
        .audit_list(
            &Scope::all(),
            &AuditFilter {
                action: Some("close".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a.actor_name == "clerk"));
    // without the CSRF token nothing is written
    let res = clerk
        .client
        .post(app.url(&format!("/enterprises/{eid}/close")))
        .form(&[("date", "2023-12-02")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}
