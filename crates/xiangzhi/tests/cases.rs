//! The demo's cases through the command line: `case list --json` as the grid worker and the
//! village cadre shows only their own unit's cases; the resolution summary is the figure the
//! listed records give; an action through `case act --as` lands in the timeline; bad input is
//! refused in Chinese and changes nothing; loading the demo twice adds nothing.

mod common;

use std::process::Command;

use common::TempDir;
use serde_json::Value;
use xiangzhi_store::Scope;
use xiangzhi_store::case::CaseQuery;

fn xz(db: &str, args: &[&str]) -> (bool, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xiangzhi"))
        .arg("--db")
        .arg(db)
        .arg("--json")
        .args(args)
        .output()
        .expect("run xiangzhi");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.success(), json, stderr)
}

fn org_paths(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a JSON array")
        .iter()
        .map(|c| c["org_path"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn demo_cases_through_the_command_line() {
    let dir = TempDir::new("xiangzhi-cases");
    let db = format!("sqlite://{}", dir.path().join("d.db").display());
    let store = xiangzhi::open_store(&db, None).await.unwrap();
    xiangzhi::demo::load(&store).await.unwrap();
    let all = store
        .cases(
            &Scope::all(),
            &CaseQuery {
                limit: 5000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(all.len() >= 50, "{} demo cases", all.len());
    xiangzhi::demo::load(&store).await.unwrap();
    let again = store
        .cases(
            &Scope::all(),
            &CaseQuery {
                limit: 5000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(again.len(), all.len(), "a second load adds nothing");
    drop(store);

    // Scope: the grid worker sees the grid's cases only, the cadre the village's.
    let grid_path = "/36/3610/361002/361002201/361002201211/361002201211001/";
    let village_path = "/36/3610/361002/361002201/361002201211/";
    let (ok, grid, err) = xz(&db, &["case", "list", "--as", "grid"]);
    assert!(ok, "{err}");
    let grid = org_paths(&grid);
    assert!(!grid.is_empty());
    assert!(grid.iter().all(|p| p.starts_with(grid_path)), "{grid:?}");
    let (ok, village, err) = xz(&db, &["case", "list", "--as", "cadre"]);
    assert!(ok, "{err}");
    let village = org_paths(&village);
    assert!(village.len() > grid.len());
    assert!(village.iter().all(|p| p.starts_with(village_path)));
    let (_, township, _) = xz(&db, &["case", "list", "--as", "clerk", "--limit", "5000"]);
    let township = org_paths(&township);
    assert_eq!(township.len(), all.len());
    assert!(township.iter().any(|p| !p.starts_with(village_path)));
    // A case of another village is not found for the cadre.
    let foreign = all
        .iter()
        .find(|c| !c.org_path.as_str().starts_with(village_path))
        .unwrap();
    let (ok, _, err) = xz(
        &db,
        &["case", "show", &foreign.id.to_string(), "--as", "cadre"],
    );
    assert!(!ok);
    assert!(err.contains("未找到"), "{err}");

    // The summary is the figure the closed records give.
    let (ok, s, err) = xz(
        &db,
        &[
            "case",
            "summary",
            "--from",
            "2023-01-01",
            "--to",
            "2023-12-31",
        ],
    );
    assert!(ok, "{err}");
    let closed: Vec<_> = all
        .iter()
        .filter(|c| {
            c.state.closed_on.is_some() && c.state.registered_on.format("%Y").to_string() == "2023"
        })
        .collect();
    let in_village = closed
        .iter()
        .filter(|c| c.state.resolved_in_village() == Some(true))
        .count();
    assert_eq!(s["closed"].as_u64().unwrap() as usize, closed.len());
    let share = s["within_village"].as_f64().unwrap();
    assert!((share - in_village as f64 / closed.len() as f64).abs() < 1e-9);
    assert!(share > 0.0 && share < 1.0, "a real share: {share}");

    // Two petitions in two different 八大重点领域, open and supervised.
    let (_, cats, _) = xz(&db, &["case", "categories"]);
    let key_areas: Vec<&str> = cats
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["key_area"] == true)
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(key_areas.len(), 8);
    let (_, petitions, _) = xz(&db, &["case", "list", "--kind", "信访", "--open"]);
    let areas: std::collections::BTreeSet<&str> = petitions
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category_code"].as_str().unwrap())
        .filter(|c| key_areas.contains(c))
        .collect();
    assert_eq!(areas.len(), 2);

    // An action through the CLI as the cadre: the case assigned to the cadre gets a reply.
    let (_, mine, _) = xz(
        &db,
        &[
            "case",
            "list",
            "--as",
            "cadre",
            "--assignee",
            "cadre",
            "--open",
        ],
    );
    let id = mine.as_array().unwrap()[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let (ok, _, err) = xz(&db, &["case", "act", &id, "close", "--as", "cadre"]);
    assert!(!ok, "closing before a reply is refused");
    assert!(err.contains("不能办结"), "{err}");
    let (ok, after, err) = xz(
        &db,
        &[
            "case",
            "act",
            &id,
            "reply",
            "--text",
            "已上门答复",
            "--as",
            "cadre",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(after["state"]["status"], "replied");
    let (_, shown, _) = xz(&db, &["case", "show", &id, "--as", "cadre"]);
    let last = shown["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "reply");
    assert_eq!(last["actor_name"], "cadre");
    // The grid worker cannot act on a village-tier case.
    let (ok, _, err) = xz(&db, &["case", "act", &id, "remind", "--as", "grid"]);
    assert!(!ok);
    assert!(err.contains("未找到") || err.contains("不能"), "{err}");

    // Projects: 800万 funds won; tasks: per-village completion for every village.
    let (_, projects, _) = xz(&db, &["project", "list", "--year", "2023"]);
    let won: i64 = projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["funds_won_yuan"].as_i64().unwrap())
        .sum();
    assert_eq!(won, 8_000_000);
    let (_, completion, _) = xz(&db, &["task", "completion", "--by", "village"]);
    assert_eq!(completion.as_array().unwrap().len(), 12);
    let (_, due, _) = xz(&db, &["key-person", "list", "--as", "cadre"]);
    assert!(
        org_paths(&due).iter().all(|p| p.starts_with(village_path)),
        "key persons in scope"
    );
}

/// The pages: my to-do list, the filtered list, the case page with its timeline, and a step
/// taken through its form (with the session's CSRF token); a foreign case is not found.
#[tokio::test]
async fn case_pages_show_the_to_do_list_and_take_steps() {
    let app = common::spawn_app().await;
    let cadre = app.login("cadre").await;
    let get = |u: &common::TestUser, path: &str| {
        let req = u.client.get(app.url(path));
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let (status, todo) = get(&cadre, "/todo").await;
    assert_eq!(status, 200);
    assert!(
        todo.contains("12345求助：低保政策咨询"),
        "assigned to the cadre"
    );
    assert!(todo.contains("危房安全排查"), "the cadre's overdue task");
    assert!(todo.contains("重复信访人员"), "a due visit");
    let (_, petitions) = get(&cadre, "/cases?kind=petition").await;
    assert!(petitions.contains("集镇道路拓宽征地补偿诉求"));
    assert!(!petitions.contains("宅基地滴水纠纷"), "filtered by kind");

    let mine = app
        .store
        .cases(
            &Scope::all(),
            &xiangzhi_store::case::CaseQuery {
                assignee: Some("cadre".into()),
                open_only: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let c = &mine[0];
    let (status, page) = get(&cadre, &format!("/cases/{}", c.id)).await;
    assert_eq!(status, 200);
    assert!(page.contains("办理过程") && page.contains("开始办理"));
    assert!(
        page.contains("value=\"reply\""),
        "the reply form is offered"
    );
    assert!(
        !page.contains("value=\"accept\""),
        "no form for a step not allowed now"
    );
    let post = |form: Vec<(&'static str, String)>| {
        let mut form = form;
        form.push(("csrf", cadre.csrf.clone()));
        cadre
            .client
            .post(app.url(&format!("/cases/{}/act", c.id)))
            .form(&form)
            .send()
    };
    let res = post(vec![("action", "close".into())]).await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("不能办结"));
    let res = post(vec![
        ("action", "reply".into()),
        ("text", "已入户答复".into()),
        ("version", c.version.to_string()),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 303);
    let after = app.store.case(&Scope::all(), c.id).await.unwrap();
    assert_eq!(after.events.last().unwrap().description, "反馈：已入户答复");
    // The same form again carries a stale version: refused.
    let res = post(vec![
        ("action", "follow_up".into()),
        ("satisfied", "yes".into()),
        ("version", c.version.to_string()),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 409);

    // Key persons, projects and tasks pages; a visit through the form moves the next one.
    let (_, kps) = get(&cadre, "/key-persons?due=1").await;
    assert!(kps.contains("重复信访人员"));
    let kp = app
        .store
        .key_persons(
            &cadre_scope(&app).await,
            &xiangzhi_store::case::KeyPersonQuery::default(),
        )
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.categories == ["repeat_petitioner"])
        .unwrap();
    let res = cadre
        .client
        .post(app.url(&format!("/key-persons/{}/visits", kp.id)))
        .form(&[
            ("note", "上门走访，情绪稳定"),
            ("csrf", cadre.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (after, visits) = app.store.key_person(&Scope::all(), kp.id).await.unwrap();
    assert!(after.next_visit_on > kp.next_visit_on);
    assert_eq!(visits[0].visitor, "cadre");
    let clerk = app.login("clerk").await;
    let (_, projects) = get(&clerk, "/projects").await;
    assert!(projects.contains("连城中心粮库") && projects.contains("争取资金合计 800.00 万元"));
    let (_, tasks) = get(&cadre, "/tasks").await;
    assert!(tasks.contains("危房安全排查") && tasks.contains("超期"));
    assert!(
        !tasks.contains("舍头村委会"),
        "only the own village's tasks"
    );

    // Another village's case is not found for the grid worker of 头昌村.
    let grid = app.login("grid").await;
    let foreign = app
        .store
        .cases(
            &Scope::all(),
            &xiangzhi_store::case::CaseQuery {
                limit: 5000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .find(|c| !c.org_code.as_str().starts_with("361002201211001"))
        .unwrap();
    let (status, _) = get(&grid, &format!("/cases/{}", foreign.id)).await;
    assert_eq!(status, 404);
    let (_, list) = get(&grid, "/cases").await;
    assert!(!list.contains(&format!("href=\"/cases/{}\"", foreign.id)));
}

async fn cadre_scope(app: &common::TestApp) -> Scope {
    let unit = app
        .store
        .org_unit(
            &Scope::all(),
            &xiangzhi_domain::org::DivisionCode::parse(common::TOUCHANG).unwrap(),
        )
        .await
        .unwrap();
    Scope::new(unit.path)
}
