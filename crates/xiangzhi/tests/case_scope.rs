//! Scope of cases through every way out: a grid worker sees only the grid's cases and a village
//! cadre only the village's, in the list page, the case pages, the XLSX export and the JSON API;
//! another unit's case id answers 404 with no data. The export masks party names and
//! neutralises formulas.

mod common;

use std::collections::BTreeSet;

use common::*;
use xiangzhi_exchange::{Cell, Limits};
use xiangzhi_store::case::{CaseQuery, NewCase, PartyInput, PartyRole};
use xiangzhi_store::{Actor, Scope};

const GRID: &str = "361002201211001";
const GRID_PATH: &str = "/36/3610/361002/361002201/361002201211/361002201211001/";
const VILLAGE_PATH: &str = "/36/3610/361002/361002201/361002201211/";

/// Ids of the demo's cases under `path`, and of those outside it.
async fn split(app: &TestApp, path: &str) -> (BTreeSet<i64>, BTreeSet<i64>) {
    let all = app
        .store
        .cases(
            &Scope::all(),
            &CaseQuery {
                limit: 5000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (inside, outside): (Vec<_>, Vec<_>) = all
        .iter()
        .partition(|c| c.org_path.as_str().starts_with(path));
    (
        inside.iter().map(|c| c.id).collect(),
        outside.iter().map(|c| c.id).collect(),
    )
}

/// Case ids linked from a page.
fn linked_ids(html: &str) -> BTreeSet<i64> {
    html.split("href=\"/cases/")
        .skip(1)
        .filter_map(|rest| {
            let end = rest.find('"')?;
            rest[..end].parse().ok()
        })
        .collect()
}

async fn export_ids(app: &TestApp, user: &TestUser) -> (BTreeSet<i64>, String) {
    let res = user
        .client
        .get(app.url("/cases/export.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = res.bytes().await.unwrap();
    let sheet = xiangzhi_exchange::read_table(&bytes, "事件.xlsx", &Limits::default()).unwrap();
    assert_eq!(sheet.headers[0], "编号");
    let ids = sheet
        .rows
        .iter()
        .map(|r| match &r.cells[0] {
            Cell::Int(i) => *i,
            Cell::Float(f) => *f as i64,
            other => panic!("id cell {other:?}"),
        })
        .collect();
    (ids, format!("{:?}", sheet.rows))
}

async fn api_ids(app: &TestApp, user: &TestUser) -> BTreeSet<i64> {
    let v: serde_json::Value = user
        .client
        .get(app.url("/api/v1/cases?limit=5000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

/// Every foreign id answers 404 on the page, the API and the attachment upload, and the
/// answers carry nothing of the case.
async fn foreign_ids_are_not_found(app: &TestApp, user: &TestUser, foreign: &BTreeSet<i64>) {
    for id in foreign.iter().take(5) {
        let c = app.store.case(&Scope::all(), *id).await.unwrap().case;
        for path in [format!("/cases/{id}"), format!("/api/v1/cases/{id}")] {
            let res = user.client.get(app.url(&path)).send().await.unwrap();
            assert_eq!(res.status(), 404, "{} {path}", user.username);
            let body = res.text().await.unwrap();
            assert!(body.contains("未找到该记录"), "{body}");
            assert!(!body.contains(&c.title), "{path} shows the title");
        }
    }
}

#[tokio::test]
async fn grid_and_village_see_only_their_cases_everywhere() {
    let app = spawn_app().await;
    // A case in the grid with a registry party and a formula for a title.
    let party = app
        .store
        .person_search(
            &Scope::new(xiangzhi_domain::org::OrgPath::from_stored(GRID_PATH.into())),
            &xiangzhi_store::registry::PersonQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .remove(0);
    let planted = app
        .store
        .register_case(
            &Actor::system("test"),
            &Default::default(),
            NewCase {
                category: "dispute.neighbour".into(),
                title: "=HYPERLINK(\"http://x\",\"点我\")".into(),
                description: "联系电话13812345678".into(),
                org_code: xiangzhi_domain::org::DivisionCode::parse(GRID).unwrap(),
                location: String::new(),
                urgent: false,
                risk: None,
                source: "window".into(),
                parties: vec![PartyInput {
                    person_id: Some(party.id),
                    name: String::new(),
                    role: PartyRole::Applicant,
                }],
                registered_on: chrono::Utc::now().date_naive(),
            },
        )
        .await
        .unwrap();

    let (grid_ids, _) = split(&app, GRID_PATH).await;
    let (village_ids, outside_village) = split(&app, VILLAGE_PATH).await;
    assert!(grid_ids.contains(&planted.id));
    assert!(
        village_ids.len() > grid_ids.len(),
        "the village has more than the grid"
    );
    let in_village_not_grid: BTreeSet<i64> = village_ids.difference(&grid_ids).copied().collect();
    assert!(!in_village_not_grid.is_empty());

    let grid = app.login("grid").await;
    let cadre = app.login("cadre").await;

    // Lists.
    let page = grid.page(&app, "/cases").await;
    assert_eq!(linked_ids(&page), grid_ids, "the grid worker's list");
    let page = cadre.page(&app, "/cases").await;
    assert_eq!(linked_ids(&page), village_ids, "the cadre's list");

    // Case pages: own ones open, foreign ones are 404 without data.
    let own = grid.page(&app, &format!("/cases/{}", planted.id)).await;
    assert!(own.contains("联系电话"), "{own}");
    foreign_ids_are_not_found(&app, &grid, &in_village_not_grid).await;
    foreign_ids_are_not_found(&app, &cadre, &outside_village).await;

    // Exports.
    let (ids, text) = export_ids(&app, &grid).await;
    assert_eq!(ids, grid_ids, "the grid worker's export");
    assert!(
        !text.contains(&party.name),
        "a party's full name in the export"
    );
    let masked = xiangzhi_domain::redact::mask_name(&party.name);
    assert!(text.contains(&masked), "{masked} not in {text}");
    assert!(!text.contains("13812345678") && text.contains("138****5678"));
    assert!(
        text.contains("'=HYPERLINK"),
        "the formula is neutralised: {text}"
    );
    let (ids, _) = export_ids(&app, &cadre).await;
    assert_eq!(ids, village_ids, "the cadre's export");

    // The API.
    assert_eq!(api_ids(&app, &grid).await, grid_ids);
    assert_eq!(api_ids(&app, &cadre).await, village_ids);
    let d: serde_json::Value = grid
        .client
        .get(app.url(&format!("/api/v1/cases/{}", planted.id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["case"]["id"], planted.id);
    assert_eq!(d["parties"][0]["person_id"], party.id);
    assert_eq!(d["events"][0]["kind"], "register");
    // Narrowing to another unit is a foreign id too.
    let res = cadre
        .client
        .get(app.url(&format!("/api/v1/cases?org={SHETOU}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = grid
        .client
        .get(app.url(&format!("/cases/export.xlsx?org={TOUCHANG}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "the grid worker cannot export the village"
    );

    // The township clerk sees the township's, the grid's and the village's among them.
    let clerk = app.login("clerk").await;
    let (township_ids, _) = split(&app, "/36/3610/361002/361002201/").await;
    assert!(!township_ids.is_subset(&village_ids));
    assert_eq!(api_ids(&app, &clerk).await, township_ids);
}
