//! 民生保障 through the web, on the demo township: an application walked through every step by
//! the roles that take them, with the refusals (skipped step, wrong role, self-approval, wrong
//! scope) shown as Chinese errors; the 公示 notice (HTML and DOCX) naming no one in full; the
//! to-do list; a monitored household's record to 风险消除 and 村村清; a payroll from
//! generation to reconciliation with a masked bank account; the cross-checks on demand and as
//! the nightly run stores them; and program editing by a county administrator.

mod common;

use std::io::Read as _;

use chrono::{Datelike, Days, Months, NaiveDate, Utc};
use common::*;
use reqwest::StatusCode;
use xiangzhi_domain::assistance::{MIN_LIVING, MONITORING};
use xiangzhi_domain::assistance_lifecycle::EnrollmentStatus;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_exchange::{Cell, Limits};
use xiangzhi_store::assistance::{LineStatus, PayrollStatus};
use xiangzhi_store::registry::{NewHousehold, NewPerson, Relation};
use xiangzhi_store::{Actor, AuditFilter, Scope};

/// A new household with `size` members in `village`; returns the head's id. Names are made
/// for this test so a leak is seen.
async fn household(app: &TestApp, village: &str, no: &str, names: &[&str], seq: u16) -> i64 {
    let actor = Actor::system("test");
    let h = app
        .store
        .create_household(
            &actor,
            NewHousehold {
                household_no: no.into(),
                address: format!("{no}号"),
                org_code: DivisionCode::parse(village).unwrap(),
            },
        )
        .await
        .unwrap();
    let mut head = 0;
    for (i, name) in names.iter().enumerate() {
        let birth = NaiveDate::from_ymd_opt(1960 + i as i32, 3, 1 + seq as u32 % 27).unwrap();
        let p = app
            .store
            .create_person(
                &actor,
                NewPerson {
                    name: (*name).into(),
                    citizen_id: xiangzhi_domain::citizen_id::generate(
                        "361002",
                        birth,
                        700 + seq + i as u16,
                        true,
                    ),
                    phone: None,
                    household_id: Some(h.id),
                    relation: Some(if i == 0 {
                        Relation::Head
                    } else {
                        Relation::Child
                    }),
                    org_code: None,
                    tags: Vec::new(),
                },
            )
            .await
            .unwrap();
        if i == 0 {
            head = p.id;
        }
    }
    head
}

/// Posts a form with the user's CSRF token: `(status, Location, body)`.
async fn post(
    app: &TestApp,
    user: &TestUser,
    url: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let mut form = form.to_vec();
    form.push(("csrf", user.csrf.as_str()));
    let res = user
        .client
        .post(app.url(url))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

/// Posts and expects the redirect back to the page: returns the Location.
async fn ok(app: &TestApp, user: &TestUser, url: &str, form: &[(&str, &str)]) -> String {
    let (status, location, body) = post(app, user, url, form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "POST {url} {form:?}: {body}");
    location
}

/// Posts and expects a refusal with `status` whose page says `message`.
async fn refused(
    app: &TestApp,
    user: &TestUser,
    url: &str,
    form: &[(&str, &str)],
    status: StatusCode,
    message: &str,
) {
    let (got, _, body) = post(app, user, url, form).await;
    assert_eq!(got, status, "POST {url} {form:?}: {body}");
    assert!(
        body.contains(message),
        "POST {url}: wanted “{message}” in {body}"
    );
}

fn day(d: NaiveDate) -> String {
    d.to_string()
}

fn id_in(location: &str) -> i64 {
    location
        .trim_start_matches("/assistance/enrollments/")
        .trim_start_matches("/assistance/payrolls/")
        .split(['?', '/'])
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no id in {location}"))
}

async fn status_of(app: &TestApp, id: i64) -> EnrollmentStatus {
    app.store
        .enrollment(&Scope::all(), id)
        .await
        .unwrap()
        .state
        .status
}

/// The text of `word/document.xml` inside a DOCX.
fn docx_text(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a DOCX is a zip");
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .expect("document.xml")
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

#[tokio::test]
async fn an_application_walks_every_step_with_refusals_and_a_masked_notice() {
    let app = spawn_app().await;
    let cadre = app.login("cadre").await;
    let clerk = app.login("clerk").await;
    let leader = app.login("leader").await;
    let county = app.login("county").await;
    let grid = app.login("grid").await;
    let head = household(&app, TOUCHANG, "W001", &["欧阳明华", "欧阳小梅"], 1).await;
    let today = Utc::now().date_naive();
    let d = |n: u64| day(today - Days::new(n));

    // The applicant is found in the registry within scope and picked.
    let page = cadre
        .page(
            &app,
            "/assistance/apply?program=min_living&q=%E6%AC%A7%E9%98%B3%E6%98%8E",
        )
        .await;
    assert!(page.contains("欧阳明华"), "{page}");
    assert!(page.contains(&format!("value=\"{head}\"")));
    assert!(!page.contains("36100219"), "a full ID on the form: {page}");
    let head_s = head.to_string();
    let location = ok(
        &app,
        &cadre,
        "/assistance/enrollments",
        &[
            ("program", MIN_LIVING),
            ("person_id", &head_s),
            ("category", "rural"),
            ("source", "cadre_screening"),
            ("applied_on", &d(40)),
            ("note", "户主因病丧失劳动能力"),
        ],
    )
    .await;
    let id = id_in(&location);
    let url = format!("/assistance/enrollments/{id}/step");
    let page = cadre
        .page(&app, &format!("/assistance/enrollments/{id}"))
        .await;
    assert!(
        page.contains("待村级评议") && page.contains("评议会议记录"),
        "{page}"
    );
    assert!(page.contains("干部排查"));

    // A skipped step, a missing minute, a step outside the grid worker's scope.
    refused(
        &app,
        &cadre,
        &url,
        &[("action", "public_notice"), ("on", &d(39))],
        StatusCode::BAD_REQUEST,
        "不能跳到“公示”",
    )
    .await;
    refused(
        &app,
        &cadre,
        &url,
        &[
            ("action", "village_review"),
            ("decision", "approve"),
            ("text", " "),
            ("on", &d(39)),
        ],
        StatusCode::BAD_REQUEST,
        "评议会议记录",
    )
    .await;
    let (status, _, body) = post(
        &app,
        &grid,
        &url,
        &[
            ("action", "village_review"),
            ("decision", "approve"),
            ("text", "越权评议"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("未找到该记录，或不在您的管辖范围内"));
    assert_eq!(status_of(&app, id).await, EnrollmentStatus::Applied);

    ok(
        &app,
        &cadre,
        &url,
        &[
            ("action", "village_review"),
            ("decision", "approve"),
            ("text", "村民代表会议评议，到会11人，一致同意"),
            ("on", &d(38)),
        ],
    )
    .await;
    ok(
        &app,
        &cadre,
        &url,
        &[("action", "public_notice"), ("on", &d(37))],
    )
    .await;
    let e = app.store.enrollment(&Scope::all(), id).await.unwrap();
    assert_eq!(
        e.state.notice_end,
        Some(today - Days::new(31)),
        "seven days of notice"
    );

    // The notice names the household partly masked, and nothing personal besides.
    let notice = cadre
        .page(
            &app,
            &format!("/assistance/notice?program=min_living&on={}", d(35)),
        )
        .await;
    assert!(notice.contains("欧**华"), "{notice}");
    assert!(!notice.contains("欧阳明华"), "a full name on the notice");
    assert!(!notice.contains("36100219"), "an ID on the notice");
    assert!(!notice.contains("因病"), "health details on the notice");
    let res = cadre
        .client
        .get(app.url(&format!(
            "/assistance/notice.docx?program=min_living&on={}",
            d(35)
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("wordprocessingml")
    );
    let xml = docx_text(&res.bytes().await.unwrap());
    assert!(xml.contains("欧**华") && xml.contains("公示"), "{xml}");
    assert!(!xml.contains("欧阳明华") && !xml.contains("36100219") && !xml.contains("因病"));

    // Township review: not by the village, not before the notice ends.
    refused(
        &app,
        &cadre,
        &url,
        &[
            ("action", "township_review"),
            ("decision", "approve"),
            ("text", "村里批"),
            ("on", &d(30)),
        ],
        StatusCode::FORBIDDEN,
        "乡镇审核人员",
    )
    .await;
    refused(
        &app,
        &clerk,
        &url,
        &[
            ("action", "township_review"),
            ("decision", "approve"),
            ("text", "提前审"),
            ("on", &d(33)),
        ],
        StatusCode::BAD_REQUEST,
        "公示期满",
    )
    .await;
    ok(
        &app,
        &clerk,
        &url,
        &[
            ("action", "township_review"),
            ("decision", "approve"),
            ("text", "经入户核查符合条件"),
            ("on", &d(30)),
        ],
    )
    .await;
    refused(
        &app,
        &leader,
        &url,
        &[
            ("action", "county_approval"),
            ("decision", "approve"),
            ("text", "乡里批"),
            ("on", &d(29)),
        ],
        StatusCode::FORBIDDEN,
        "县级审批人员",
    )
    .await;
    ok(
        &app,
        &county,
        &url,
        &[
            ("action", "county_approval"),
            ("decision", "approve"),
            ("text", "同意纳入"),
            ("on", &d(28)),
        ],
    )
    .await;
    assert_eq!(status_of(&app, id).await, EnrollmentStatus::Active);
    let page = cadre
        .page(&app, &format!("/assistance/enrollments/{id}"))
        .await;
    for text in [
        "在保",
        "村民代表会议评议，到会11人，一致同意",
        "经入户核查符合条件",
        "同意纳入",
        "复核",
    ] {
        assert!(page.contains(text), "{text} missing: {page}");
    }

    // 复核 and exit with a reason.
    ok(
        &app,
        &clerk,
        &url,
        &[
            ("action", "review"),
            ("decision", "approve"),
            ("text", "收入仍低于标准"),
            ("on", &d(5)),
        ],
    )
    .await;
    refused(
        &app,
        &cadre,
        &url,
        &[
            ("action", "exit"),
            ("reason", "other"),
            ("text", ""),
            ("on", &d(2)),
        ],
        StatusCode::BAD_REQUEST,
        "退出原因说明",
    )
    .await;
    ok(
        &app,
        &cadre,
        &url,
        &[
            ("action", "exit"),
            ("reason", "income_above_line"),
            ("text", "子女务工收入稳定"),
            ("on", &d(2)),
        ],
    )
    .await;
    let e = app.store.enrollment(&Scope::all(), id).await.unwrap();
    assert_eq!(e.state.status, EnrollmentStatus::Exited);
    let steps = app.store.enrollment_steps(&Scope::all(), id).await.unwrap();
    let actors: Vec<&str> = steps.iter().map(|s| s.actor.as_str()).collect();
    assert_eq!(
        actors,
        [
            "cadre", "cadre", "cadre", "clerk", "county", "clerk", "cadre"
        ]
    );

    // Self-approval: the clerk entered this one, so the leader reviews it.
    let head2 = household(&app, TOUCHANG, "W002", &["司马光明"], 5)
        .await
        .to_string();
    let id2 = id_in(
        &ok(
            &app,
            &clerk,
            "/assistance/enrollments",
            &[
                ("program", MIN_LIVING),
                ("person_id", &head2),
                ("category", "rural"),
                ("source", "household"),
                ("applied_on", &d(40)),
            ],
        )
        .await,
    );
    let url2 = format!("/assistance/enrollments/{id2}/step");
    ok(
        &app,
        &cadre,
        &url2,
        &[
            ("action", "village_review"),
            ("decision", "approve"),
            ("text", "评议通过"),
            ("on", &d(38)),
        ],
    )
    .await;
    ok(
        &app,
        &cadre,
        &url2,
        &[("action", "public_notice"), ("on", &d(37))],
    )
    .await;
    refused(
        &app,
        &clerk,
        &url2,
        &[
            ("action", "township_review"),
            ("decision", "approve"),
            ("text", "自审"),
            ("on", &d(30)),
        ],
        StatusCode::FORBIDDEN,
        "不能审核或审批同一申请",
    )
    .await;
    ok(
        &app,
        &leader,
        &url2,
        &[
            ("action", "township_review"),
            ("decision", "reject"),
            ("text", "家庭有经营性车辆"),
        ],
    )
    .await;
    assert_eq!(status_of(&app, id2).await, EnrollmentStatus::Rejected);

    // Applying outside the scope, and for a program that enrolls households without one.
    let shetou = household(&app, SHETOU, "W003", &["舍头某某"], 9)
        .await
        .to_string();
    let (status, _, _) = post(
        &app,
        &cadre,
        "/assistance/enrollments",
        &[
            ("program", MIN_LIVING),
            ("person_id", &shetou),
            ("category", "rural"),
            ("source", "household"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    refused(
        &app,
        &cadre,
        "/assistance/enrollments",
        &[
            ("program", MIN_LIVING),
            ("category", "rural"),
            ("source", "household"),
        ],
        StatusCode::BAD_REQUEST,
        "请从户籍中选择申请人",
    )
    .await;

    // The roster lists by program, status and unit; the foreign village is not a choice.
    let roster = cadre
        .page(&app, "/assistance?program=min_living&status=exited")
        .await;
    assert!(
        roster.contains(&format!("/assistance/enrollments/{id}\"")),
        "{roster}"
    );
    assert!(!roster.contains(&format!("/assistance/enrollments/{id2}\"")));
    assert!(!roster.contains(SHETOU_NAME));
    let res = cadre
        .client
        .get(app.url(&format!("/assistance?org={SHETOU}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_todo_list_and_overdue_items() {
    let app = spawn_app().await;
    let cadre = app.login("cadre").await;
    let clerk = app.login("clerk").await;
    // The demo leaves two 头昌村 applications open (one awaiting 评议, one in notice) and one
    // 2021 低保 household whose review was forgotten.
    let todo = cadre.page(&app, "/todo").await;
    assert!(todo.contains("待我办理的救助申请"), "{todo}");
    assert!(todo.contains("应开展的回头看"), "{todo}");
    let title = todo.split("</title>").next().unwrap();
    assert!(
        title.ends_with("<title>我的待办 · 乡治"),
        "the to-do lists belong in the page, not its title: {title}"
    );
    let open = app
        .store
        .enrollments(
            &Scope::all(),
            &xiangzhi_store::assistance::EnrollmentQuery {
                status: Some(EnrollmentStatus::Applied),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mine = open
        .iter()
        .find(|e| e.org_code.as_str().starts_with(TOUCHANG))
        .expect("an open application in 头昌村");
    assert!(
        todo.contains(&format!("/assistance/enrollments/{}\"", mine.id)),
        "{todo}"
    );
    assert!(todo.contains("超期的救助事项"));
    let overdue = clerk.page(&app, "/assistance?overdue=1").await;
    assert!(overdue.contains("已超期"), "{overdue}");
    let all = clerk.page(&app, "/assistance").await;
    let n_all = all.matches("<tr").count();
    let n_overdue = overdue.matches("<tr").count();
    assert!(n_overdue < n_all, "the overdue filter narrows the list");
}

#[tokio::test]
async fn a_monitored_household_to_risk_cleared_and_the_village_checklist() {
    let app = spawn_app().await;
    let cadre = app.login("cadre").await;
    let clerk = app.login("clerk").await;
    let head = household(&app, TOUCHANG, "M001", &["监测甲", "监测乙", "监测丙"], 20)
        .await
        .to_string();
    let today = Utc::now().date_naive();
    let d = |n: u64| day(today - Days::new(n));
    let id = id_in(
        &ok(
            &app,
            &cadre,
            "/assistance/enrollments",
            &[
                ("program", MONITORING),
                ("person_id", &head),
                ("category", "sudden_hardship"),
                ("source", "department_warning"),
                ("applied_on", &d(20)),
            ],
        )
        .await,
    );
    let url = format!("/assistance/enrollments/{id}/step");
    ok(
        &app,
        &cadre,
        &url,
        &[
            ("action", "village_review"),
            ("decision", "approve"),
            ("text", "评议纳入监测"),
            ("on", &d(19)),
        ],
    )
    .await;
    ok(
        &app,
        &cadre,
        &url,
        &[("action", "public_notice"), ("on", &d(18))],
    )
    .await;
    ok(
        &app,
        &clerk,
        &url,
        &[
            ("action", "township_review"),
            ("decision", "approve"),
            ("text", "纳入监测"),
            ("on", &d(10)),
        ],
    )
    .await;
    assert_eq!(
        status_of(&app, id).await,
        EnrollmentStatus::Active,
        "the township approves monitoring"
    );

    let murl = format!("/assistance/enrollments/{id}/monitoring");
    refused(
        &app,
        &cadre,
        &murl,
        &[
            ("op", "measure"),
            ("measure_kind", "medical"),
            ("description", "大病救助"),
            ("start", &d(9)),
        ],
        StatusCode::BAD_REQUEST,
        "请先登记监测对象类型",
    )
    .await;
    refused(
        &app,
        &cadre,
        &murl,
        &[
            ("op", "basic"),
            ("kind", "sudden_hardship"),
            ("responsible", "cadre"),
        ],
        StatusCode::BAD_REQUEST,
        "至少选择一项风险类型",
    )
    .await;
    let five: Vec<(&str, &str)> = [
        "food",
        "clothing",
        "compulsory_education",
        "basic_medical",
        "housing_safety",
    ]
    .into_iter()
    .map(|i| ("item", i))
    .collect();
    let mut basic = vec![
        ("op", "basic"),
        ("kind", "sudden_hardship"),
        ("cause", "illness"),
        ("cause", "lack_of_labour"),
        ("responsible", "cadre"),
    ];
    basic.extend(five.iter().copied());
    ok(&app, &cadre, &murl, &basic).await;
    ok(
        &app,
        &cadre,
        &murl,
        &[
            ("op", "measure"),
            ("measure_kind", "medical"),
            ("description", "大病医疗救助"),
            ("start", &d(9)),
        ],
    )
    .await;
    ok(&app, &cadre, &murl, &[("op", "visit"), ("due", &d(1))]).await;
    let this_month = today.with_day(1).unwrap();
    for k in 1..=6 {
        let m = (this_month - Months::new(k)).format("%Y%m").to_string();
        ok(
            &app,
            &cadre,
            &murl,
            &[("op", "income"), ("month", &m), ("per_capita", "720")],
        )
        .await;
    }
    let detail = app.store.monitoring(&Scope::all(), id).await.unwrap();
    assert_eq!(detail.causes.len(), 2);
    assert_eq!(detail.measures.len(), 1);
    assert_eq!(detail.incomes.len(), 6);
    let page = cadre.page(&app, &murl).await;
    for text in [
        "因病",
        "缺劳动力",
        "大病医疗救助",
        "户户清未完成：饮水安全有保障",
    ] {
        assert!(page.contains(text), "{text}: {page}");
    }

    // The visit is due: on the responsible cadre's to-do list.
    let todo = cadre.page(&app, "/todo").await;
    assert!(todo.contains(&format!("{murl}\"")), "{todo}");

    // 村村清: the village is not clear while a checklist item is open.
    let villages = cadre.page(&app, "/assistance/villages").await;
    assert!(
        villages.contains(TOUCHANG_NAME) && villages.contains("未清"),
        "{villages}"
    );
    let village = cadre
        .page(&app, &format!("/assistance/villages/{TOUCHANG}"))
        .await;
    assert!(
        village.contains("监测甲") && village.contains("✗"),
        "{village}"
    );
    let res = cadre
        .client
        .get(app.url(&format!("/assistance/villages/{SHETOU}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // 风险消除 is refused with the reason, then allowed once the checklist is complete.
    let clear = format!("/assistance/enrollments/{id}/clear-risk");
    refused(
        &app,
        &cadre,
        &clear,
        &[],
        StatusCode::BAD_REQUEST,
        "户户清未完成：饮水安全有保障",
    )
    .await;
    assert_eq!(status_of(&app, id).await, EnrollmentStatus::Active);
    ok(
        &app,
        &cadre,
        &murl,
        &[
            ("op", "visit_done"),
            ("visit", "0"),
            ("done_on", &d(0)),
            ("by", "张村主任"),
            ("note", "已恢复务工"),
        ],
    )
    .await;
    basic.push(("item", "drinking_water"));
    ok(&app, &cadre, &murl, &basic).await;
    ok(&app, &cadre, &clear, &[]).await;
    let e = app.store.enrollment(&Scope::all(), id).await.unwrap();
    assert_eq!(e.state.status, EnrollmentStatus::Exited);
    assert_eq!(
        e.state.exit_reason.map(|r| r.as_str()),
        Some("risk_cleared")
    );
    // The household stays on record.
    let page = cadre.page(&app, &murl).await;
    assert!(
        page.contains("风险消除") && page.contains("大病医疗救助"),
        "{page}"
    );
}

#[tokio::test]
async fn a_payroll_from_generation_to_reconciliation_with_a_masked_account() {
    let app = spawn_app().await;
    let cadre = app.login("cadre").await;
    let clerk = app.login("clerk").await;
    let leader = app.login("leader").await;
    let scope = Scope::all();

    // A bank account for one 头昌村 低保 payee, through the enrollment page.
    let active = app
        .store
        .enrollments(
            &scope,
            &xiangzhi_store::assistance::EnrollmentQuery {
                program: Some(MIN_LIVING.into()),
                status: Some(EnrollmentStatus::Active),
                org: Some(DivisionCode::parse(TOUCHANG).unwrap()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let e = active.first().expect("an active 低保 household in 头昌村");
    let account_url = format!("/assistance/enrollments/{}/account", e.id);
    refused(
        &app,
        &cadre,
        &account_url,
        &[("bank_name", "农商银行"), ("account", "6217AB")],
        StatusCode::BAD_REQUEST,
        "只能包含数字",
    )
    .await;
    ok(
        &app,
        &cadre,
        &account_url,
        &[
            ("bank_name", "农商银行临川支行"),
            ("account", "6217 0012 3456 7890 123"),
        ],
    )
    .await;
    let page = cadre
        .page(&app, &format!("/assistance/enrollments/{}", e.id))
        .await;
    assert!(page.contains("6217***********0123"), "{page}");
    assert!(!page.contains("6217001234567890123"));

    // Generated by the clerk; the clerk may not approve it, the leader may.
    let location = ok(
        &app,
        &clerk,
        "/assistance/payrolls",
        &[
            ("program", MIN_LIVING),
            ("org", "361002201"),
            ("period", "202401"),
        ],
    )
    .await;
    let id = id_in(&location);
    let (status, _, body) = post(
        &app,
        &clerk,
        "/assistance/payrolls",
        &[
            ("program", MIN_LIVING),
            ("org", "361002201"),
            ("period", "202401"),
        ],
    )
    .await;
    assert!(
        matches!(status, StatusCode::BAD_REQUEST | StatusCode::CONFLICT),
        "a second payroll for the month: {status} {body}"
    );
    refused(
        &app,
        &clerk,
        "/assistance/payrolls",
        &[
            ("program", MIN_LIVING),
            ("org", "361002201"),
            ("period", "2024"),
        ],
        StatusCode::BAD_REQUEST,
        "应为月份",
    )
    .await;
    let page = clerk
        .page(&app, &format!("/assistance/payrolls/{id}"))
        .await;
    assert!(page.contains("待审批"), "{page}");
    let bank = format!("/assistance/payrolls/{id}/bank-file");
    refused(
        &app,
        &clerk,
        &bank,
        &[],
        StatusCode::BAD_REQUEST,
        "审批后才能导出",
    )
    .await;
    refused(
        &app,
        &clerk,
        &format!("/assistance/payrolls/{id}/approve"),
        &[],
        StatusCode::FORBIDDEN,
        "不能审批同一张表",
    )
    .await;
    refused(
        &app,
        &cadre,
        &format!("/assistance/payrolls/{id}/approve"),
        &[],
        StatusCode::FORBIDDEN,
        "只有乡镇审核人员",
    )
    .await;
    let (status, _, _) = post(
        &app,
        &cadre,
        &format!("/assistance/payrolls/{id}/lines"),
        &[("s_1", "paid")],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the township's payroll is outside the village"
    );
    ok(
        &app,
        &leader,
        &format!("/assistance/payrolls/{id}/approve"),
        &[],
    )
    .await;

    // The bank file carries the account in full.
    let res = clerk
        .client
        .post(app.url(&bank))
        .form(&[("csrf", clerk.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    let sheet = xiangzhi_exchange::read_table(&bytes, "代发.xlsx", &Limits::default()).unwrap();
    let payroll = app.store.payroll(&scope, id).await.unwrap();
    assert_eq!(payroll.status, PayrollStatus::Exported);
    assert_eq!(sheet.rows.len() as i64, payroll.lines);
    let with_account: Vec<_> = sheet
        .rows
        .iter()
        .filter(|r| matches!(&r.cells[5], Cell::Text(a) if a == "6217001234567890123"))
        .collect();
    assert_eq!(with_account.len(), 1, "{:?}", sheet.rows.first());
    assert!(matches!(&with_account[0].cells[4], Cell::Text(b) if b == "农商银行临川支行"));

    // Lines marked as the bank reported, then reconciled.
    let lines = app.store.payroll_lines(&scope, id, None, 0).await.unwrap();
    assert!(lines.len() >= 2);
    let (a, b) = (lines[0].id.to_string(), lines[1].id.to_string());
    let lines_url = format!("/assistance/payrolls/{id}/lines");
    let sa = format!("s_{a}");
    let sb = format!("s_{b}");
    let nb = format!("n_{b}");
    refused(
        &app,
        &clerk,
        &lines_url,
        &[(&sa, "paid"), (&sb, "failed")],
        StatusCode::BAD_REQUEST,
        "发放失败需注明原因",
    )
    .await;
    assert!(
        app.store
            .payroll_lines(&scope, id, None, 0)
            .await
            .unwrap()
            .iter()
            .all(|l| l.status == LineStatus::Pending),
        "a refused form changes nothing"
    );
    ok(
        &app,
        &clerk,
        &lines_url,
        &[(&sa, "paid"), (&sb, "failed"), (&nb, "账户已销户")],
    )
    .await;
    refused(
        &app,
        &leader,
        &format!("/assistance/payrolls/{id}/reconcile"),
        &[],
        StatusCode::BAD_REQUEST,
        "未登记发放结果",
    )
    .await;
    let rest: Vec<(String, String)> = lines[2..]
        .iter()
        .map(|l| (format!("s_{}", l.id), "paid".to_string()))
        .collect();
    if !rest.is_empty() {
        let form: Vec<(&str, &str)> = rest.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        ok(&app, &clerk, &lines_url, &form).await;
    }
    ok(
        &app,
        &leader,
        &format!("/assistance/payrolls/{id}/reconcile"),
        &[],
    )
    .await;
    let page = clerk
        .page(&app, &format!("/assistance/payrolls/{id}"))
        .await;
    assert!(
        page.contains("已对账") && page.contains("账户已销户"),
        "{page}"
    );
    let p = app.store.payroll(&scope, id).await.unwrap();
    assert_eq!(
        (p.status, p.failed, p.paid),
        (PayrollStatus::Reconciled, 1, p.lines - 1)
    );

    // The audit log holds the account masked, never in full.
    let audit = app
        .store
        .audit_list(
            &scope,
            &AuditFilter {
                action: Some("payee_account_set".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    let text = format!("{:?}", audit[0].new_value);
    assert!(text.contains("6217***********0123") && !text.contains("6217001234567890123"));
}

#[tokio::test]
async fn cross_checks_on_demand_and_the_nightly_run() {
    let app = spawn_app().await;
    let clerk = app.login("clerk").await;
    let cadre = app.login("cadre").await;
    let page = clerk.page(&app, "/assistance/checks").await;
    assert!(page.contains("尚无核查记录"), "{page}");
    // On demand: the demo's forgotten review is found and links to its enrollment.
    let page = clerk.page(&app, "/assistance/checks?run=1").await;
    assert!(page.contains("超过复核日期未复核"), "{page}");
    assert!(page.contains("href=\"/assistance/enrollments/"), "{page}");
    assert!(page.contains("未保存"));
    assert!(
        clerk
            .page(&app, "/assistance/checks")
            .await
            .contains("尚无核查记录"),
        "an on-demand run is not stored"
    );

    let before = app.audit_rows().await;
    let today = Utc::now().date_naive();
    let runs = xiangzhi_web::check_pages::nightly_once(&app.store, today)
        .await
        .unwrap();
    assert!(runs >= 3, "one run per distinct user scope, got {runs}");
    assert_eq!(
        app.audit_rows().await,
        before + runs as u64,
        "each stored run is audited"
    );
    let page = clerk.page(&app, "/assistance/checks").await;
    assert!(
        page.contains(xiangzhi_web::check_pages::NIGHTLY_ACTOR),
        "{page}"
    );
    assert!(
        page.contains("超过复核日期未复核") && page.contains("href=\"/assistance/enrollments/")
    );
    // The village sees the run over its own scope only.
    let page = cadre.page(&app, "/assistance/checks").await;
    assert!(
        page.contains(xiangzhi_web::check_pages::NIGHTLY_ACTOR),
        "{page}"
    );
    assert!(!page.contains(SHETOU_NAME));
    let run = app
        .store
        .latest_check_run(&Scope::new(xiangzhi_domain::org::OrgPath::from_stored(
            "/36/3610/361002/361002201/".into(),
        )))
        .await
        .unwrap()
        .expect("the township's run");
    assert_eq!(run.run_by, xiangzhi_web::check_pages::NIGHTLY_ACTOR);
}

#[tokio::test]
async fn programs_are_edited_by_a_county_administrator_and_audited() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let clerk = app.login("clerk").await;
    let page = admin.page(&app, "/assistance/programs/min_living").await;
    assert!(page.contains("保存（记入审计日志）"), "{page}");
    let standards = app
        .store
        .program(MIN_LIVING)
        .await
        .unwrap()
        .standards
        .iter()
        .map(|s| format!("{} {} {} 每人", s.year, s.category, s.amount))
        .collect::<Vec<_>>()
        .join("\n");
    let with_2025 = format!("{standards}\n2025 rural 700 每人");
    let form = |notice: &'static str, standards: &str| {
        vec![
            ("name".to_string(), "城乡低保".to_string()),
            ("notice_days".into(), notice.into()),
            ("review_months".into(), "12".into()),
            ("lim_village_review".into(), "10".into()),
            ("lim_public_notice".into(), "3".into()),
            ("lim_township_review".into(), "10".into()),
            ("lim_county_approval".into(), "15".into()),
            ("means_tested".into(), "1".into()),
            ("incompatible".into(), "near_min_living".into()),
            ("incompatible".into(), "extreme_poverty".into()),
            ("standards".into(), standards.to_string()),
        ]
    };
    let send = async |user: &TestUser, f: Vec<(String, String)>| {
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        post(&app, user, "/assistance/programs/min_living", &f).await
    };
    let (status, _, body) = send(&clerk, form("5", &with_2025)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = send(&admin, form("5", "2025 rural 七百 每人")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("发放标准第1行"), "{body}");
    let (status, _, body) = send(&admin, form("0", &with_2025)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("公示天数"), "{body}");
    assert_eq!(
        app.store.program(MIN_LIVING).await.unwrap().notice_days,
        7,
        "refused edits change nothing"
    );
    let (status, _, body) = send(&admin, form("5", &with_2025)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let p = app.store.program(MIN_LIVING).await.unwrap();
    assert_eq!(p.notice_days, 5);
    assert!(p.standard_for(2025, TOUCHANG, "rural").is_some());
    let audit = app
        .store
        .audit_list(
            &Scope::all(),
            &AuditFilter {
                action: Some("program_update".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_name, "admin");
}

/// The cells of the first row of table `id` that contains `needle`, tags stripped.
fn table_row(html: &str, id: &str, needle: &str) -> Option<Vec<String>> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let table = &html[start..start + html[start..].find("</table>")?];
    let row = table.split("<tr").find(|r| r.contains(needle))?;
    Some(
        row.split("<td>")
            .skip(1)
            .map(|c| c.split("</td>").next().unwrap_or_default().to_string())
            .collect(),
    )
}

/// The scope of a unit, as the store gives it to a user placed there.
async fn scope_of(app: &TestApp, code: &str) -> Scope {
    let unit = app
        .store
        .org_unit(&Scope::all(), &DivisionCode::parse(code).unwrap())
        .await
        .unwrap();
    Scope::new(unit.path)
}

/// Every payout of the year in the store, whoever recorded it.
async fn payouts_2023(app: &TestApp) -> usize {
    app.store
        .payouts(&Scope::all(), None, Some(2023))
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_cash_payout_and_a_distribution_in_kind_through_the_form() {
    let app = spawn_app().await;
    let cadre = app.login("cadre").await;
    let head = household(&app, TOUCHANG, "P001", &["救助甲某", "救助乙某"], 40).await;
    let token = format!("id:{head}");
    let scope = scope_of(&app, TOUCHANG).await;
    let before = app.store.payout_totals(&scope, 2023).await.unwrap();
    let total = |t: &[xiangzhi_store::assistance::PayoutTotal], item: Option<&str>| {
        t.iter()
            .find(|t| t.program_code == "temporary_relief" && t.item.as_deref() == item)
            .map_or((0, 0), |t| (t.amount.fen(), t.quantity))
    };

    // Linked from the roster; the recipient is found in the registry and picked.
    let roster = cadre.page(&app, "/assistance").await;
    assert!(
        roster.contains("href=\"/assistance/payouts/new\""),
        "{roster}"
    );
    let form = cadre.page(&app, "/assistance/payouts/new").await;
    assert!(form.contains("登记临时救助或实物发放"), "{form}");
    let (status, _, page) = post(
        &app,
        &cadre,
        "/assistance/payouts",
        &[("q", "救助甲"), ("go", "search")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&format!("value=\"{token}\"")), "{page}");
    assert!(!page.contains("36100219"), "a full ID on the form: {page}");

    let audit = app.audit_rows().await;
    let location = ok(
        &app,
        &cadre,
        "/assistance/payouts",
        &[
            ("person", &token),
            ("to", "household"),
            ("program", "temporary_relief"),
            ("kind", "cash"),
            ("amount", "1,315.50"),
            ("paid_on", "2023-03-20"),
            ("note", "因病住院"),
            ("go", "save"),
        ],
    )
    .await;
    assert!(
        location.starts_with("/assistance/payouts?year=2023"),
        "{location}"
    );
    ok(
        &app,
        &cadre,
        "/assistance/payouts",
        &[
            ("person", &token),
            ("to", "person"),
            ("program", "temporary_relief"),
            ("kind", "in_kind"),
            ("item", "棉被"),
            ("quantity", "2"),
            ("paid_on", "2023-12-18"),
            ("note", "<b>冬季送温暖</b>"),
            ("go", "save"),
        ],
    )
    .await;
    assert!(
        app.audit_rows().await >= audit + 2,
        "each payout is audited"
    );
    let mine: Vec<_> = app
        .store
        .payouts(&scope, Some("temporary_relief"), Some(2023))
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.recipient == "救助甲某")
        .collect();
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert_eq!(mine[0].amount.map(|a| a.fen()), Some(131_550));
    assert_eq!(mine[0].person_id, None, "paid to the household");
    assert_eq!(mine[1].item.as_deref(), Some("棉被"));
    assert_eq!(mine[1].person_id, Some(head), "given to the person");

    // The list: names masked, the year's totals moved by what was recorded.
    let after = app.store.payout_totals(&scope, 2023).await.unwrap();
    assert_eq!(
        total(&after, None).0 - total(&before, None).0,
        131_550,
        "{after:?}"
    );
    assert_eq!(
        total(&after, Some("棉被")).1 - total(&before, Some("棉被")).1,
        2
    );
    let list = cadre
        .page(
            &app,
            "/assistance/payouts?year=2023&program=temporary_relief",
        )
        .await;
    assert!(
        !list.contains("救助甲某"),
        "a full name in the list: {list}"
    );
    let cash = table_row(&list, "payouts", "因病住院").expect("the cash line");
    assert_eq!(cash[3], "救**某（户）", "{cash:?}");
    assert_eq!(cash[4], TOUCHANG_NAME);
    assert_eq!(cash[5], "1315.50 元");
    let quilt = table_row(&list, "payouts", "冬季送温暖").expect("the quilt line");
    assert!(
        !quilt[6].contains('<') && quilt[6].contains("冬季送温暖"),
        "the note is escaped: {quilt:?}"
    );
    assert_eq!(
        (quilt[3].as_str(), quilt[5].as_str()),
        ("救**某", "棉被 × 2")
    );
    let cash_total = table_row(&list, "payout-totals", "<td>资金</td>").expect("cash total");
    let (fen, _) = total(&after, None);
    let money = xiangzhi_domain::money::Money::from_fen(fen);
    assert_eq!(cash_total[6], money.to_string(), "{cash_total:?}");
    assert_eq!(cash_total[7], money.to_wan(4));
    let quilts = table_row(&list, "payout-totals", "<td>棉被</td>").expect("quilt total");
    assert_eq!(quilts[8], total(&after, Some("棉被")).1.to_string());
}

#[tokio::test]
async fn payout_form_refusals_write_nothing() {
    let app = spawn_app().await;
    let cadre = app.login("cadre").await;
    let auditor = app.login("auditor").await;
    let own = format!(
        "id:{}",
        household(&app, TOUCHANG, "P002", &["拒收甲某"], 41).await
    );
    let other_head = household(&app, SHETOU, "P003", &["舍头乙某"], 42).await;
    let other = format!("id:{other_head}");
    let rows = payouts_2023(&app).await;
    let audit = app.audit_rows().await;
    let form = |person: &str, kind: &str, extra: &[(&'static str, &'static str)]| {
        let mut f = vec![
            ("person".to_string(), person.to_string()),
            ("to".into(), "household".into()),
            ("program".into(), "temporary_relief".into()),
            ("kind".into(), kind.into()),
            ("paid_on".into(), "2023-05-06".into()),
            ("go".into(), "save".into()),
        ];
        f.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        f
    };
    let cases = [
        (form(&own, "cash", &[("amount", "-100")]), "发放金额应大于0"),
        (form(&own, "cash", &[("amount", "0")]), "发放金额应大于0"),
        (form(&own, "cash", &[("amount", "一百元")]), "格式不对"),
        (form(&own, "cash", &[]), "金额为空"),
        (
            form(&own, "in_kind", &[("quantity", "3")]),
            "实物发放请填写物品名称",
        ),
        (
            form(&own, "in_kind", &[("item", "棉被"), ("quantity", "0")]),
            "数量“0”应为大于0的整数",
        ),
        (
            form(&own, "in_kind", &[("item", "大衣"), ("quantity", "两件")]),
            "应为大于0的整数",
        ),
        (
            form(&own, "in_kind", &[("item", "大衣"), ("quantity", "1.5")]),
            "应为大于0的整数",
        ),
        (
            form("", "cash", &[("amount", "100")]),
            "请先查找并选择发放对象",
        ),
        (form(&own, "", &[("amount", "100")]), "请选择发放方式"),
    ];
    for (f, message) in &cases {
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        refused(
            &app,
            &cadre,
            "/assistance/payouts",
            &f,
            StatusCode::BAD_REQUEST,
            message,
        )
        .await;
    }

    // A household of 舍头村 is not the 头昌村 cadre's to pay: not found, in the web and in
    // the store alike.
    refused(
        &app,
        &cadre,
        "/assistance/payouts",
        &[
            ("person", other.as_str()),
            ("to", "household"),
            ("program", "temporary_relief"),
            ("kind", "cash"),
            ("amount", "500"),
            ("paid_on", "2023-05-06"),
        ],
        StatusCode::NOT_FOUND,
        "未找到该记录，或不在您的管辖范围内",
    )
    .await;
    let other_household = app
        .store
        .person(&Scope::all(), other_head)
        .await
        .unwrap()
        .household_id;
    let cadre_actor = Actor {
        user_id: Some(cadre.id),
        username: cadre.username.clone(),
        role: Some(xiangzhi_domain::role::Role::VillageCadre),
        ip: None,
        scope: scope_of(&app, TOUCHANG).await,
    };
    let refused_in_store = app
        .store
        .record_payout(
            &cadre_actor,
            xiangzhi_store::assistance::NewPayout {
                kind: xiangzhi_store::assistance::PayoutKind::Cash,
                program: "temporary_relief".into(),
                enrollment_id: None,
                household_id: other_household,
                person_id: None,
                paid_on: NaiveDate::from_ymd_opt(2023, 5, 6).unwrap(),
                amount: Some(xiangzhi_domain::money::Money::from_fen(50_000)),
                item: None,
                quantity: None,
                note: String::new(),
            },
        )
        .await;
    assert!(
        matches!(refused_in_store, Err(xiangzhi_store::StoreError::NotFound)),
        "{refused_in_store:?}"
    );

    // No CSRF token, or a role that may not write: refused before anything is looked up.
    let good = form(&own, "cash", &[("amount", "100")]);
    let res = cadre
        .client
        .post(app.url("/assistance/payouts"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("CSRF"));
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    refused(
        &app,
        &auditor,
        "/assistance/payouts",
        &good,
        StatusCode::FORBIDDEN,
        "该角色不能登记发放",
    )
    .await;

    assert_eq!(
        payouts_2023(&app).await,
        rows,
        "a refused payout writes nothing"
    );
    assert_eq!(app.audit_rows().await, audit, "and audits nothing");
    // The same form, corrected, goes through.
    ok(&app, &cadre, "/assistance/payouts", &good).await;
    assert_eq!(payouts_2023(&app).await, rows + 1);
}

#[tokio::test]
async fn the_roster_downloads_as_xlsx_without_ids_or_phones_within_scope() {
    use xiangzhi_domain::assistance_lifecycle::ApplySource;
    use xiangzhi_store::assistance::NewEnrollment;
    let app = spawn_app().await;
    let cadre = app.login("cadre").await;
    let clerk = app.login("clerk").await;
    let actor = Actor::system("test");
    // One applicant in each village; a household number a spreadsheet would take for a
    // formula.
    for (village, no, name, seq) in [
        (TOUCHANG, "=1+2", "头昌名单某", 43),
        (SHETOU, "R002", "舍头名单某", 44),
    ] {
        let head = household(&app, village, no, &[name], seq).await;
        let hid = app
            .store
            .person(&Scope::all(), head)
            .await
            .unwrap()
            .household_id;
        app.store
            .apply(
                &actor,
                NewEnrollment {
                    program: MIN_LIVING.into(),
                    household_id: hid,
                    person_id: None,
                    category: "rural".into(),
                    source: ApplySource::Household,
                    applied_on: Utc::now().date_naive(),
                    note: String::new(),
                },
            )
            .await
            .unwrap();
    }
    let roster = clerk.page(&app, "/assistance?program=min_living").await;
    assert!(
        roster.contains("href=\"/assistance/roster.xlsx?program=min_living\""),
        "{roster}"
    );
    let download = async |user: &TestUser| {
        user.xlsx(&app, "/assistance/roster.xlsx?program=min_living")
            .await
    };
    let texts = sheet_texts;
    let township = download(&clerk).await;
    let all = texts(&township);
    let expected = app
        .store
        .enrollments(
            &scope_of(&app, "361002201").await,
            &xiangzhi_store::assistance::EnrollmentQuery {
                program: Some(MIN_LIVING.into()),
                limit: 10_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(township.rows.len(), expected.len());
    assert!(all.contains(&"头昌名单某".to_string()) && all.contains(&"舍头名单某".to_string()));
    assert!(
        all.contains(&"'=1+2".to_string()),
        "the formula is neutralised"
    );
    assert!(!all.contains(&"=1+2".to_string()));
    // No citizen ID, no phone: no such column, and no value that is one.
    assert!(
        township
            .headers
            .iter()
            .all(|h| !h.contains("身份证") && !h.contains("电话")),
        "{:?}",
        township.headers
    );
    for t in &all {
        for token in t.split(|c: char| !c.is_ascii_alphanumeric()) {
            assert!(
                xiangzhi_domain::citizen_id::CitizenId::parse(token).is_err(),
                "a citizen ID in the roster: {t}"
            );
            assert!(
                !(token.len() == 11 && token.starts_with('1')),
                "a phone number in the roster: {t}"
            );
        }
    }
    // The cadre's download holds 头昌村 only.
    let village = download(&cadre).await;
    let mine = texts(&village);
    assert!(mine.contains(&"头昌名单某".to_string()));
    assert!(!mine.contains(&"舍头名单某".to_string()));
    let unit = township
        .headers
        .iter()
        .position(|h| h == "所属单位")
        .unwrap();
    let touchang_units: Vec<String> = std::iter::once(TOUCHANG_NAME.to_string())
        .chain(
            app.store
                .org_children(&Scope::all(), Some(&DivisionCode::parse(TOUCHANG).unwrap()))
                .await
                .unwrap()
                .into_iter()
                .map(|u| u.name),
        )
        .collect();
    assert!(!village.rows.is_empty());
    assert!(village.rows.len() < township.rows.len());
    for r in &village.rows {
        assert!(
            matches!(&r.cells[unit], Cell::Text(u) if touchang_units.contains(u)),
            "{:?}",
            r.cells
        );
    }
    // Another village named in the filter is not the cadre's to download.
    let res = cadre
        .client
        .get(app.url(&format!("/assistance/roster.xlsx?org={SHETOU}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
