//! Putting a registry person on the key-person list (重点人员): the person picked within scope,
//! categories, risk level 0-5 and the responsible cadre (专人). The store derives the visit
//! interval from categories and risk, checks scope and writes the audit.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use xiangzhi_store::case::NewKeyPerson;

use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::pages::Chrome;
use crate::pickers::{self, Pick};
use crate::state::AppState;

/// The form as typed.
#[derive(Default)]
pub struct KeyPersonForm {
    person: String,
    q: String,
    categories: Vec<String>,
    risk: String,
    cadre: String,
    note: String,
    since: String,
    go: String,
}

#[derive(Template)]
#[template(path = "key_person_new.html")]
struct KeyPersonPage {
    chrome: Chrome,
    f: KeyPersonForm,
    person: Option<Pick>,
    candidates: Vec<Pick>,
    categories: Vec<(String, String, bool)>,
    errors: Vec<String>,
}

async fn page(
    state: &AppState,
    me: &CurrentUser,
    f: KeyPersonForm,
    person: Option<Pick>,
    candidates: Vec<Pick>,
    errors: Vec<String>,
) -> AppResult<Response> {
    let categories = state
        .store
        .key_person_categories()
        .await?
        .into_iter()
        .map(|c| {
            let on = f.categories.contains(&c.code);
            (
                c.code,
                format!("{}（每{}天走访）", c.label, c.visit_days),
                on,
            )
        })
        .collect();
    Ok(render(KeyPersonPage {
        chrome: Chrome::of(me),
        f,
        person,
        candidates,
        categories,
        errors,
    }))
}

pub async fn new_key_person(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let f = KeyPersonForm {
        cadre: me.user.username.clone(),
        risk: "0".into(),
        since: Utc::now().date_naive().to_string(),
        ..Default::default()
    };
    page(&state, &me, f, None, Vec::new(), Vec::new()).await
}

/// Read as pairs, since `categories` repeats.
pub async fn create_key_person(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let mut f = KeyPersonForm::default();
    for (k, v) in pairs {
        match k.as_str() {
            "person" => f.person = v,
            "q" => f.q = v,
            "categories" => f.categories.push(v),
            "risk" => f.risk = v,
            "cadre" => f.cadre = v,
            "note" => f.note = v,
            "since" => f.since = v,
            "go" => f.go = v,
            _ => {}
        }
    }
    let pickers::PersonPick {
        person,
        candidates,
        mut errors,
    } = pickers::pick_person(&state, &me, &f.person, &mut f.q, f.go == "search").await?;
    if person.is_none() && errors.is_empty() && f.go != "search" {
        errors.push("请先查找并选择人员".into());
    }
    let risk: Option<u8> = f.risk.trim().parse().ok();
    if risk.is_none() {
        errors.push("风险等级应为0至5的整数".into());
    }
    let since = NaiveDate::parse_from_str(f.since.trim(), "%Y-%m-%d").ok();
    if since.is_none() {
        errors.push("起算日期格式应为 2024-03-01".into());
    }
    if let Some(p) = &person {
        f.person = p.token.clone();
    }
    let ready = errors.is_empty() && f.go != "search";
    let (Some(p), Some(risk), Some(since), true) = (person.clone(), risk, since, ready) else {
        return page(&state, &me, f, person, candidates, errors).await;
    };
    let new = NewKeyPerson {
        person_id: p.id,
        categories: f.categories.clone(),
        risk,
        cadre: f.cadre.clone(),
        note: f.note.clone(),
        since,
    };
    match state.store.add_key_person(&me.actor(), new).await {
        Ok(_) => Ok(Redirect::to("/key-persons").into_response()),
        Err(xiangzhi_store::StoreError::Invalid(m) | xiangzhi_store::StoreError::Conflict(m)) => {
            page(&state, &me, f, person, candidates, vec![m]).await
        }
        Err(e) => Err(AppError::from(e)),
    }
}
