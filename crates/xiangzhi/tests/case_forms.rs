//! The 社会治理 forms against the running server: registering a case with a party picked from
//! the registry and an attachment (a refused file stores nothing), township time limits and
//! categories set in the UI and used by the next case, 一键催办 landing in the assignee's to-do
//! and the timeline, key persons, projects (create, then a stage change) and supervised tasks;
//! roles that may not are refused.

mod common;

use chrono::{Duration, Utc};
use common::*;
use reqwest::multipart::{Form, Part};
use xiangzhi_domain::calendar::WorkCalendar;
use xiangzhi_domain::case::{CaseAction, CaseKind, Tier, TimeLimit, TimeLimits};
use xiangzhi_domain::org::{DivisionCode, OrgPath};
use xiangzhi_store::case::{CaseQuery, CaseRules, KeyPersonQuery, NewCase, ProjectStage};
use xiangzhi_store::registry::{EnterpriseQuery, PersonQuery};
use xiangzhi_store::{Actor, Scope};

const GRID: &str = "361002201211001";
const GRID_PATH: &str = "/36/3610/361002/361002201/361002201211/361002201211001/";
const TOWNSHIP: &str = "361002201";

async fn case_count(app: &TestApp) -> usize {
    app.store
        .cases(
            &Scope::all(),
            &CaseQuery {
                limit: 5000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len()
}

fn case_form(user: &TestUser, go: &str) -> Form {
    Form::new()
        .text("csrf", user.csrf.clone())
        .text("category", "dispute.neighbour")
        .text("title", "排水沟堵塞引发邻里纠纷")
        .text("description", "两户因排水沟堵塞争执，需要调解")
        .text("org", GRID)
        .text("location", "头昌村1组")
        .text("risk", "yellow")
        .text("source", "grid")
        .text("go", go.to_string())
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_case_is_registered_with_a_party_and_an_attachment() {
    let app = spawn_app().await;
    let grid = app.login("grid").await;
    let scope = Scope::new(OrgPath::from_stored(GRID_PATH.into()));
    let person = app
        .store
        .person_search(
            &scope,
            &PersonQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .remove(0);

    let page = grid.page(&app, "/cases/new").await;
    assert!(page.contains("登记事件") && page.contains("dispute.neighbour"));

    // Searching offers the person as a checkbox, masked ID and all; nothing is stored.
    let before = case_count(&app).await;
    let res = grid
        .client
        .post(app.url("/cases"))
        .multipart(case_form(&grid, "search").text("party_q", person.name.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let token = format!("id:{}|applicant", person.id);
    assert!(html.contains(&token), "{html}");
    assert!(html.contains(&person.citizen_id_masked));
    assert_eq!(case_count(&app).await, before);

    // A refused attachment: the form comes back with the reason, and no case is made.
    let res = grid
        .client
        .post(app.url("/cases"))
        .multipart(
            case_form(&grid, "save")
                .text("party", token.clone())
                .part("files", Part::bytes(b"MZ".to_vec()).file_name("tool.exe")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("类型不允许"), "{html}");
    assert!(
        html.contains("排水沟堵塞引发邻里纠纷"),
        "typed values are kept"
    );
    assert_eq!(case_count(&app).await, before);

    // A party from another village is not the grid worker's to pick.
    let foreign = app
        .store
        .person_search(
            &Scope::new(OrgPath::from_stored(
                "/36/3610/361002/361002201/361002201208/".into(),
            )),
            &PersonQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .remove(0);
    let res = grid
        .client
        .post(app.url("/cases"))
        .multipart(case_form(&grid, "save").text("party", format!("id:{}|applicant", foreign.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(case_count(&app).await, before);

    // Saved: party, attachment and risk on the case page; the file downloads.
    let photo = b"\x89PNG photo of the ditch".to_vec();
    let res = grid
        .client
        .post(app.url("/cases"))
        .multipart(
            case_form(&grid, "save")
                .text("party", token)
                .text("other_parties", "外村张某")
                .part("files", Part::bytes(photo.clone()).file_name("现场.png")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let to = location(&res);
    let id: i64 = to
        .trim_start_matches("/cases/")
        .trim_end_matches("?ok=1")
        .parse()
        .unwrap();
    let d = app.store.case(&Scope::all(), id).await.unwrap();
    assert_eq!(d.case.org_code.as_str(), GRID);
    assert_eq!(d.case.state.tier, Tier::Grid);
    assert_eq!(d.parties.len(), 2);
    assert_eq!(d.parties[0].person_id, Some(person.id));
    assert_eq!(d.parties[1].name, "外村张某");
    let page = grid.page(&app, &to).await;
    assert!(
        page.contains(&person.name) && page.contains("现场.png"),
        "{page}"
    );
    let files = app.store.case_attachments(&Scope::all(), id).await.unwrap();
    let res = grid
        .client
        .get(app.url(&format!("/case-files/{}", files[0].sha256)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().to_vec(), photo);

    // More attachments later, on the case page.
    let res = grid
        .client
        .post(app.url(&format!("/cases/{id}/attachments")))
        .multipart(Form::new().text("csrf", grid.csrf.clone()).part(
            "files",
            Part::bytes(b"%PDF-1.4".to_vec()).file_name("调解书.pdf"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.store
            .case_attachments(&Scope::all(), id)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// The limits form with every kind at its default, `dispute` acceptance changed.
fn limits_form(user: &TestUser, dispute_acceptance: u32) -> Vec<(String, String)> {
    let defaults = TimeLimits::default();
    let mut f = vec![("csrf".to_string(), user.csrf.clone())];
    for k in CaseKind::ALL {
        let l = defaults.for_kind(k);
        let count = |t: TimeLimit| match t.count {
            xiangzhi_domain::case::DayCount::Working => "working",
            xiangzhi_domain::case::DayCount::Calendar => "calendar",
        };
        let acc = if k == CaseKind::Dispute {
            dispute_acceptance
        } else {
            l.acceptance.days
        };
        for (field, v) in [
            ("acc_days", acc.to_string()),
            ("acc_count", count(l.acceptance).to_string()),
            ("close_days", l.closing.days.to_string()),
            ("close_count", count(l.closing).to_string()),
            ("ext_n", l.max_extensions.to_string()),
            ("ext_days", l.max_extension_days.to_string()),
        ] {
            f.push((format!("{}_{field}", k.as_str()), v));
        }
    }
    f
}

#[tokio::test]
async fn township_settings_drive_the_next_case() {
    let app = spawn_app().await;
    let clerk = app.login("clerk").await;
    let cadre = app.login("cadre").await;
    let grid = app.login("grid").await;

    let page = clerk
        .page(&app, &format!("/case-settings/{TOWNSHIP}"))
        .await;
    assert!(
        page.contains("办理时限") && page.contains("系统默认时限"),
        "{page}"
    );
    // A cadre may look at the village's, not change the township's.
    let res = cadre
        .client
        .post(app.url(&format!("/case-settings/{TOWNSHIP}/limits")))
        .form(&limits_form(&cadre, 6))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Zero days: refused in Chinese, nothing changed.
    let res = clerk
        .client
        .post(app.url(&format!("/case-settings/{TOWNSHIP}/limits")))
        .form(&limits_form(&clerk, 0))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("矛盾纠纷的受理期限"));
    let res = clerk
        .client
        .post(app.url(&format!("/case-settings/{TOWNSHIP}/limits")))
        .form(&limits_form(&clerk, 6))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = clerk
        .page(&app, &format!("/case-settings/{TOWNSHIP}"))
        .await;
    assert!(page.contains(&format!("现行时限由 {TOWNSHIP} 设置")));
    let audit = app
        .store
        .audit_list(
            &Scope::all(),
            &xiangzhi_store::AuditFilter {
                entity: Some("case_time_limits".into()),
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);

    // A category of the township's own, offered in the case form below it.
    let res = clerk
        .client
        .post(app.url(&format!("/case-settings/{TOWNSHIP}/categories")))
        .form(&[
            ("csrf", clerk.csrf.as_str()),
            ("parent", "dispute"),
            ("label", "农田灌溉纠纷"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let cat = app
        .store
        .case_categories_in(&clerk_scope())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.label == "农田灌溉纠纷")
        .unwrap();
    assert!(grid.page(&app, "/cases/new").await.contains("农田灌溉纠纷"));

    // The next case counts with the township's limits.
    let res = grid
        .client
        .post(app.url("/cases"))
        .multipart(case_form(&grid, "save").text("category", cat.code.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let id: i64 = location(&res)
        .trim_start_matches("/cases/")
        .trim_end_matches("?ok=1")
        .parse()
        .unwrap();
    let c = app.store.case(&Scope::all(), id).await.unwrap().case;
    let today = Utc::now().date_naive();
    assert_eq!(c.category_code, cat.code);
    assert_eq!(
        c.state.acceptance_deadline,
        TimeLimit::working(6).due(today, &WorkCalendar::china_2023_2024())
    );
}

fn clerk_scope() -> Scope {
    Scope::new(OrgPath::from_stored("/36/3610/361002/361002201/".into()))
}

#[tokio::test]
async fn leaders_remind_and_the_assignee_sees_it() {
    let app = spawn_app().await;
    let rules = CaseRules::default();
    let grid_actor = Actor {
        user_id: None,
        username: "grid".into(),
        role: Some(xiangzhi_domain::role::Role::GridWorker),
        ip: None,
        scope: Scope::new(OrgPath::from_stored(GRID_PATH.into())),
    };
    let start = Utc::now().date_naive() - Duration::days(30);
    let c = app
        .store
        .register_case(
            &grid_actor,
            &rules,
            NewCase {
                category: "dispute.neighbour".into(),
                title: "久拖未办的纠纷".into(),
                description: "超期测试".into(),
                org_code: DivisionCode::parse(GRID).unwrap(),
                location: String::new(),
                urgent: false,
                risk: None,
                source: "grid".into(),
                parties: Vec::new(),
                registered_on: start,
            },
        )
        .await
        .unwrap();
    for action in [
        CaseAction::Accept,
        CaseAction::Assign {
            to_tier: Tier::Grid,
            assignee: "grid".into(),
        },
    ] {
        app.store
            .act_on_case(&grid_actor, &rules, c.id, &action, start, None)
            .await
            .unwrap();
    }
    let grid = app.login("grid").await;
    assert!(grid.page(&app, "/todo").await.contains("没有被催办的事件"));

    // A village cadre is no leader.
    let cadre = app.login("cadre").await;
    let res = cadre
        .client
        .post(app.url("/cases/remind"))
        .form(&[("csrf", cadre.csrf.as_str()), ("org", TOUCHANG)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let leader = app.login("leader").await;
    assert!(leader.page(&app, "/cases").await.contains("一键催办"));
    let res = leader
        .client
        .post(app.url("/cases/remind"))
        .form(&[("csrf", leader.csrf.as_str()), ("org", TOWNSHIP)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let to = location(&res);
    let n: usize = to.trim_start_matches("/cases?reminded=").parse().unwrap();
    assert!(n >= 1, "{to}");
    let todo = grid.page(&app, "/todo").await;
    let pressed = &todo[todo.find("id=\"pressed\"").unwrap()..todo.find("分派给我的事件").unwrap()];
    assert!(
        pressed.contains("久拖未办的纠纷") && pressed.contains("已催办1次"),
        "{pressed}"
    );
    let page = grid.page(&app, &format!("/cases/{}", c.id)).await;
    assert!(page.contains("催办（第1次）：超期"), "{page}");
    // Once a day: a second press reminds nobody again.
    let res = leader
        .client
        .post(app.url("/cases/remind"))
        .form(&[("csrf", leader.csrf.as_str()), ("org", TOWNSHIP)])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/cases?reminded=0");
}

#[tokio::test]
async fn key_persons_projects_and_tasks_through_forms() {
    let app = spawn_app().await;
    let cadre = app.login("cadre").await;
    let clerk = app.login("clerk").await;
    let village = Scope::new(OrgPath::from_stored(
        "/36/3610/361002/361002201/361002201211/".into(),
    ));

    // A key person: someone of the village not yet on the list.
    let listed: Vec<i64> = app
        .store
        .key_persons(&Scope::all(), &KeyPersonQuery::default())
        .await
        .unwrap()
        .iter()
        .map(|k| k.person_id)
        .collect();
    let person = app
        .store
        .person_search(
            &village,
            &PersonQuery {
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .find(|p| !listed.contains(&p.id))
        .unwrap();
    assert!(
        cadre
            .page(&app, "/key-persons/new")
            .await
            .contains("留守老人")
    );
    let token = format!("id:{}", person.id);
    let form = [
        ("csrf", cadre.csrf.as_str()),
        ("person", token.as_str()),
        ("categories", "left_behind_elderly"),
        ("categories", "repeat_petitioner"),
        ("risk", "4"),
        ("cadre", "cadre"),
        ("since", "2024-03-01"),
        ("go", "save"),
    ];
    let res = cadre
        .client
        .post(app.url("/key-persons"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let kp = app
        .store
        .key_persons(&village, &KeyPersonQuery::default())
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.person_id == person.id)
        .unwrap();
    assert_eq!(kp.categories.len(), 2);
    assert_eq!(kp.visit_days, 7, "risk 4 visits weekly");
    // Twice is refused in the form, in Chinese.
    let res = cadre
        .client
        .post(app.url("/key-persons"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("已在重点人员名单中"));

    // A project found by its enterprise, then moved on a stage; a cadre may not.
    let ent = app
        .store
        .enterprise_search(
            &clerk_scope(),
            &EnterpriseQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .remove(0);
    let project = |user: &TestUser, stage: &'static str, completed: &'static str| {
        vec![
            ("csrf".to_string(), user.csrf.clone()),
            ("name".into(), "粮库扩建项目".into()),
            ("kind".into(), "key".into()),
            ("stage".into(), stage.into()),
            ("org".into(), TOWNSHIP.into()),
            ("year".into(), "2024".into()),
            ("planned_wan".into(), "2000".into()),
            ("completed_wan".into(), completed.into()),
            ("funds_won_wan".into(), "80".into()),
            ("enterprise".into(), format!("id:{}", ent.id)),
            ("members".into(), "王乡长 组长\n李办事员 成员".into()),
            ("go".into(), "save".into()),
        ]
    };
    // The enterprise lies outside the cadre's village, so without it: refused by role.
    let mut by_cadre = project(&cadre, "talks", "0");
    by_cadre.retain(|(k, _)| k != "enterprise");
    let res = cadre
        .client
        .post(app.url("/projects"))
        .form(&by_cadre)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(clerk.page(&app, "/projects/new").await.contains("工作专班"));
    let res = clerk
        .client
        .post(app.url("/projects"))
        .form(&project(&clerk, "talks", "0"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let p = app
        .store
        .projects(&Scope::all(), Some(2024))
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "粮库扩建项目")
        .unwrap();
    assert_eq!(p.planned_yuan, 20_000_000);
    assert_eq!(p.funds_won_yuan, 800_000);
    assert_eq!(p.enterprises[0].id, ent.id);
    assert_eq!(p.members.len(), 2);
    let edit = clerk.page(&app, &format!("/projects/{}", p.id)).await;
    assert!(edit.contains("粮库扩建项目") && edit.contains(&format!("id:{}", ent.id)));
    let res = clerk
        .client
        .post(app.url(&format!("/projects/{}", p.id)))
        .form(&project(&clerk, "building", "500"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let p = app.store.project(&Scope::all(), p.id).await.unwrap();
    assert_eq!(p.stage, ProjectStage::Building);
    assert_eq!(p.completed_yuan, 5_000_000);
    // Bad amounts come back in the form.
    let mut bad = project(&clerk, "building", "五百");
    bad.retain(|(k, _)| k != "enterprise");
    let res = clerk
        .client
        .post(app.url(&format!("/projects/{}", p.id)))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("完成投资应为万元数"));
    assert_eq!(
        app.store
            .project(&Scope::all(), p.id)
            .await
            .unwrap()
            .enterprises
            .len(),
        1
    );

    // A supervised task for the village's cadre.
    let task = |user: &TestUser| {
        vec![
            ("csrf".to_string(), user.csrf.clone()),
            ("title".into(), "春耕备耕督查".into()),
            ("org".into(), TOUCHANG.into()),
            ("owner".into(), "cadre".into()),
            ("deadline".into(), "2030-04-30".into()),
        ]
    };
    let res = cadre
        .client
        .post(app.url("/tasks"))
        .form(&task(&cadre))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = clerk
        .client
        .post(app.url("/tasks"))
        .form(&task(&clerk))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(cadre.page(&app, "/tasks").await.contains("春耕备耕督查"));
}
