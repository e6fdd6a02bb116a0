//! Pages of the registry (人口户籍): search first, then the record with its timeline, life-event
//! forms, and reveal of a full ID or phone (a permissioned, audited act).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, RawForm, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use xiangzhi_domain::citizen_id::CitizenId;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::phone::Phone;
use xiangzhi_domain::role::Permission;
use xiangzhi_store::registry::{
    DuplicateGroup, Enterprise, EnterpriseQuery, Household, HouseholdDetail, HouseholdQuery,
    IdOwner, LifeEvent, NewHousehold, NewPerson, Person, PersonQuery, PersonStatus, PersonTag,
    RegistryCounts, RegistryEvent, Relation, RevealField,
};

use xiangzhi_store::Scope;

use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::pages::Chrome;
use crate::state::AppState;

const PAGE: u32 = 50;

/// One line of a record's timeline.
pub struct EventView {
    date: String,
    kind: &'static str,
    detail: String,
    by: String,
}

fn timeline(events: Vec<RegistryEvent>) -> Vec<EventView> {
    events
        .into_iter()
        .map(|e| {
            let detail = match &e.detail {
                serde_json::Value::Object(m) => m
                    .iter()
                    // sealed values (an ID replaced by a correction) stay in the store
                    .filter(|(k, _)| !k.ends_with("_sealed"))
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => format!("{k}：{s}"),
                        other => format!("{k}：{other}"),
                    })
                    .collect::<Vec<_>>()
                    .join("；"),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            EventView {
                date: e.effective.to_string(),
                kind: e.kind.label(),
                detail,
                by: e.recorded_by,
            }
        })
        .collect()
}

fn some(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A query parameter as it goes back into a "next page" link.
fn enc(s: &Option<String>) -> String {
    url::form_urlencoded::byte_serialize(s.as_deref().unwrap_or("").as_bytes()).collect()
}

fn org_filter(s: &Option<String>) -> AppResult<Option<DivisionCode>> {
    some(s)
        .map(|c| DivisionCode::parse(&c).map_err(|e| AppError::bad(e.to_string())))
        .transpose()
}

fn date(s: &str, what: &str) -> AppResult<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Utc::now().date_naive());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| AppError::bad(format!("{what}格式应为 2024-01-01")))
}

fn notice(ok: Option<&str>) -> Option<&'static str> {
    Some(match ok? {
        "created" => "已登记",
        "event" => "已记录",
        "corrected" => "身份证号已更正",
        "updated" => "已保存",
        "closed" => "已标记为注销/迁出",
        _ => return None,
    })
}

#[derive(Deserialize, Default)]
pub struct PersonSearch {
    q: Option<String>,
    org: Option<String>,
    status: Option<String>,
    tag: Option<String>,
    after: Option<i64>,
}

#[derive(Template)]
#[template(path = "persons.html")]
struct PersonsPage {
    chrome: Chrome,
    q: String,
    org: String,
    status: String,
    tag: String,
    persons: Vec<Person>,
    counts: RegistryCounts,
    next: Option<String>,
    statuses: Vec<(&'static str, &'static str)>,
    relations: Vec<(&'static str, &'static str)>,
    can_write: bool,
}

/// The scope's registry counts, kept between requests while no write happens: summing the
/// county's 5,900 tallies was half of a person-list page.
async fn kept_counts(state: &AppState, scope: &Scope) -> AppResult<RegistryCounts> {
    let version = state.store.data_version().await?;
    let key = scope.path.as_str().to_string();
    if let Some(c) = state.registry_counts.get(version, &key) {
        return Ok((*c).clone());
    }
    let c = state.store.registry_counts(scope).await?;
    state
        .registry_counts
        .file(version, key, std::sync::Arc::new(c.clone()));
    Ok(c)
}

pub async fn persons(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(f): Query<PersonSearch>,
) -> AppResult<Response> {
    let scope = me.scope();
    let status = some(&f.status)
        .map(|s| PersonStatus::parse(&s).ok_or_else(|| AppError::bad("未知的人员状态")))
        .transpose()?;
    let query = PersonQuery {
        q: some(&f.q).map(|q| q.chars().take(50).collect()),
        org_code: org_filter(&f.org)?,
        status,
        tag: some(&f.tag),
        household_id: None,
        after_id: f.after,
        limit: PAGE,
    };
    let persons = state.store.person_search(&scope, &query).await?;
    let counts = kept_counts(&state, &scope).await?;
    let next = (persons.len() as u32 == PAGE).then(|| {
        format!(
            "/persons?q={}&org={}&status={}&tag={}&after={}",
            enc(&f.q),
            enc(&f.org),
            enc(&f.status),
            enc(&f.tag),
            persons.last().map(|p| p.id).unwrap_or_default()
        )
    });
    Ok(render(PersonsPage {
        chrome: Chrome::of(&me),
        q: f.q.unwrap_or_default(),
        org: f.org.unwrap_or_default(),
        status: f.status.unwrap_or_default(),
        tag: f.tag.unwrap_or_default(),
        persons,
        counts,
        next,
        statuses: PersonStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        relations: Relation::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        can_write: me.can(Permission::Write),
    }))
}

#[derive(Deserialize)]
pub struct NewPersonForm {
    name: String,
    citizen_id: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    household_no: String,
    #[serde(default)]
    relation: String,
    #[serde(default)]
    org_code: String,
    #[serde(default)]
    tags: String,
}

fn new_person(f: &NewPersonForm, household_id: Option<i64>) -> AppResult<NewPerson> {
    let citizen_id = CitizenId::parse(&f.citizen_id).map_err(|e| AppError::bad(e.to_string()))?;
    let phone = match f.phone.trim() {
        "" => None,
        p => Some(Phone::parse(p).map_err(|e| AppError::bad(e.to_string()))?),
    };
    let relation = match f.relation.trim() {
        "" => None,
        r => Some(Relation::parse(r).ok_or_else(|| AppError::bad("未知的与户主关系"))?),
    };
    let org_code = match f.org_code.trim() {
        "" => None,
        c => Some(DivisionCode::parse(c).map_err(|e| AppError::bad(e.to_string()))?),
    };
    let tags = PersonTag::parse_list(&f.tags).map_err(AppError::BadRequest)?;
    Ok(NewPerson {
        name: f.name.trim().to_string(),
        citizen_id,
        phone,
        household_id,
        relation,
        org_code,
        tags,
    })
}

/// Registers one person. The same ID twice is refused with a link to the existing record when
/// it is in the clerk's scope, or "registered elsewhere" without details.
pub async fn create_person(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<NewPersonForm>,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let scope = me.scope();
    let household_id = match f.household_no.trim() {
        "" => None,
        no => Some(
            state
                .store
                .household_by_no(&scope, no)
                .await
                .map_err(|_| AppError::bad(format!("户号“{no}”不存在或不在您的管辖范围内")))?
                .id,
        ),
    };
    let person = new_person(&f, household_id)?;
    match state
        .store
        .citizen_id_owner(&scope, &person.citizen_id)
        .await?
    {
        IdOwner::Nobody => {}
        IdOwner::InScope { person_id, name } => {
            return Err(AppError::Conflict(format!(
                "该身份证号已登记：{name}（/persons/{person_id}），同一人不能重复登记"
            )));
        }
        IdOwner::Elsewhere => {
            return Err(AppError::Conflict(
                "该身份证号已在其他地区登记，请联系上级核实".into(),
            ));
        }
    }
    let p = state.store.create_person(&me.actor(), person).await?;
    Ok(Redirect::to(&format!("/persons/{}?ok=created", p.id)).into_response())
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    chrome: Chrome,
    p: Person,
    history: Vec<EventView>,
    can_write: bool,
    can_reveal: bool,
    can_correct: bool,
    /// Only once the full ID is revealed: with the masked ID it would give the ID back.
    full_birth_date: bool,
    revealed: Option<(&'static str, String)>,
    notice: Option<&'static str>,
    today: String,
    /// The tags in the form's list format, and 残疾's (category, grade) for the selects.
    tags_text: String,
    disability: (String, String),
    disability_categories: &'static [&'static str],
    disability_grades: &'static [&'static str],
}

#[derive(Deserialize, Default)]
pub struct OkQuery {
    ok: Option<String>,
}

pub async fn person(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    person_page(&state, &me, id, None, notice(q.ok.as_deref())).await
}

async fn person_page(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    revealed: Option<(&'static str, String)>,
    notice: Option<&'static str>,
) -> AppResult<Response> {
    let scope = me.scope();
    let p = state.store.person(&scope, id).await?;
    let history = timeline(state.store.person_history(&scope, id).await?);
    Ok(render(PersonPage {
        chrome: Chrome::of(me),
        history,
        can_write: me.can(Permission::Write),
        can_reveal: me.can(Permission::RevealPersonalData),
        can_correct: me.can(Permission::CorrectCitizenId),
        full_birth_date: revealed.as_ref().is_some_and(|(l, _)| *l == ID_LABEL),
        revealed,
        notice,
        today: Utc::now().date_naive().to_string(),
        tags_text: PersonTag::format_list(&p.tags),
        disability: disability_of(&p.tags),
        disability_categories: crate::registry_forms::DISABILITY_CATEGORIES,
        disability_grades: crate::registry_forms::DISABILITY_GRADES,
        p,
    }))
}

/// `(category, grade)` of a 残疾 tag, blank without one.
fn disability_of(tags: &[PersonTag]) -> (String, String) {
    let Some(t) = tags.iter().find(|t| t.tag == "残疾") else {
        return Default::default();
    };
    let get = |k: &str| {
        t.detail
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    (get("category"), get("grade"))
}

#[derive(Deserialize)]
pub struct RevealForm {
    field: String,
}

/// Shows the full value once, on this response only; the store checks the permission and
/// writes the audit entry.
pub async fn reveal(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<RevealForm>,
) -> AppResult<Response> {
    me.require(Permission::RevealPersonalData)?;
    let (field, label) = match f.field.as_str() {
        "citizen_id" => (RevealField::CitizenId, ID_LABEL),
        "phone" => (RevealField::Phone, "联系电话"),
        _ => return Err(AppError::bad("未知的字段")),
    };
    let value = state.store.reveal(&me.actor(), id, field).await?;
    person_page(&state, &me, id, Some((label, value)), None).await
}

const ID_LABEL: &str = "身份证号";

#[derive(Deserialize)]
pub struct CorrectIdForm {
    citizen_id: String,
    #[serde(default)]
    reason: String,
}

/// Corrects a wrongly entered citizen ID (permission, reason and audit in the store).
pub async fn correct_citizen_id(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<CorrectIdForm>,
) -> AppResult<Response> {
    me.require(Permission::CorrectCitizenId)?;
    let new_id = CitizenId::parse(&f.citizen_id).map_err(|e| AppError::bad(e.to_string()))?;
    state
        .store
        .correct_citizen_id(&me.actor(), id, &new_id, &f.reason)
        .await?;
    Ok(Redirect::to(&format!("/persons/{id}?ok=corrected")).into_response())
}

#[derive(Deserialize)]
pub struct PersonEventForm {
    kind: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    spouse_id: Option<i64>,
    #[serde(default)]
    join_household: Option<String>,
}

pub async fn person_event(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<PersonEventForm>,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let date = date(&f.date, "日期")?;
    let event = match f.kind.as_str() {
        "death" => LifeEvent::Death {
            person_id: id,
            date,
            note: f.note.trim().to_string(),
        },
        "move_out" => {
            if f.note.trim().is_empty() {
                return Err(AppError::bad("请填写迁往何处"));
            }
            LifeEvent::MoveOut {
                person_id: id,
                date,
                to: f.note.trim().to_string(),
            }
        }
        "marriage" => LifeEvent::Marriage {
            person_id: id,
            spouse_id: f
                .spouse_id
                .ok_or_else(|| AppError::bad("请填写配偶的人员编号"))?,
            date,
            join_household: f.join_household.is_some(),
        },
        _ => return Err(AppError::bad("未知的事项")),
    };
    state.store.record_life_event(&me.actor(), event).await?;
    Ok(Redirect::to(&format!("/persons/{id}?ok=event")).into_response())
}

#[derive(Deserialize, Default)]
pub struct HouseholdSearch {
    q: Option<String>,
    org: Option<String>,
    after: Option<i64>,
}

#[derive(Template)]
#[template(path = "households.html")]
struct HouseholdsPage {
    chrome: Chrome,
    q: String,
    org: String,
    households: Vec<Household>,
    next: Option<String>,
}

pub async fn households(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(f): Query<HouseholdSearch>,
) -> AppResult<Response> {
    let query = HouseholdQuery {
        q: some(&f.q).map(|q| q.chars().take(50).collect()),
        org_code: org_filter(&f.org)?,
        status: None,
        after_id: f.after,
        limit: PAGE,
    };
    let households = state.store.household_search(&me.scope(), &query).await?;
    let next = (households.len() as u32 == PAGE).then(|| {
        format!(
            "/households?q={}&org={}&after={}",
            enc(&f.q),
            enc(&f.org),
            households.last().map(|h| h.id).unwrap_or_default()
        )
    });
    Ok(render(HouseholdsPage {
        chrome: Chrome::of(&me),
        q: f.q.unwrap_or_default(),
        org: f.org.unwrap_or_default(),
        households,
        next,
    }))
}

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    chrome: Chrome,
    d: HouseholdDetail,
    history: Vec<EventView>,
    can_write: bool,
    relations: Vec<(&'static str, &'static str)>,
    notice: Option<&'static str>,
    today: String,
}

pub async fn household(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let scope = me.scope();
    let d = state.store.household_detail(&scope, id).await?;
    let history = timeline(state.store.household_history(&scope, id).await?);
    Ok(render(HouseholdPage {
        chrome: Chrome::of(&me),
        d,
        history,
        can_write: me.can(Permission::Write),
        relations: Relation::ALL
            .iter()
            .filter(|r| **r != Relation::Head)
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        notice: notice(q.ok.as_deref()),
        today: Utc::now().date_naive().to_string(),
    }))
}

#[derive(Deserialize)]
pub struct HouseholdEventForm {
    kind: String,
    #[serde(default)]
    date: String,
    // birth / move in
    #[serde(default)]
    name: String,
    #[serde(default)]
    citizen_id: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    relation: String,
    #[serde(default)]
    from: String,
    // change head
    #[serde(default)]
    new_head: Option<i64>,
    #[serde(default)]
    old_head_relation: String,
    // merge
    #[serde(default)]
    into_household_no: String,
}

pub async fn household_event(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<HouseholdEventForm>,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let scope = me.scope();
    let date = date(&f.date, "日期")?;
    let person = |f: &HouseholdEventForm| {
        new_person(
            &NewPersonForm {
                name: f.name.clone(),
                citizen_id: f.citizen_id.clone(),
                phone: f.phone.clone(),
                household_no: String::new(),
                relation: f.relation.clone(),
                org_code: String::new(),
                tags: String::new(),
            },
            Some(id),
        )
    };
    let event = match f.kind.as_str() {
        "birth" => LifeEvent::Birth {
            household_id: id,
            person: person(&f)?,
            date,
        },
        "move_in" => LifeEvent::MoveIn {
            household_id: id,
            person: person(&f)?,
            date,
            from: f.from.trim().to_string(),
        },
        "change_head" => LifeEvent::ChangeHead {
            household_id: id,
            new_head: f.new_head.ok_or_else(|| AppError::bad("请选择新户主"))?,
            old_head_relation: Relation::parse(&f.old_head_relation)
                .ok_or_else(|| AppError::bad("请选择原户主与新户主的关系"))?,
            date,
        },
        "merge" => {
            let no = f.into_household_no.trim();
            let into = state
                .store
                .household_by_no(&scope, no)
                .await
                .map_err(|_| AppError::bad(format!("户号“{no}”不存在或不在您的管辖范围内")))?;
            LifeEvent::Merge {
                from_id: id,
                into_id: into.id,
                date,
            }
        }
        _ => return Err(AppError::bad("未知的事项")),
    };
    state.store.record_life_event(&me.actor(), event).await?;
    Ok(Redirect::to(&format!("/households/{id}?ok=event")).into_response())
}

/// 分户: the chosen members leave for a new household. Checkboxes repeat `members`, which a
/// `Form` struct cannot take, so the body is read pair by pair.
pub async fn split_household(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    RawForm(body): RawForm,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    // scope first: a foreign id is "not found" whatever the form holds
    let household = state.store.household(&me.scope(), id).await?;
    let mut members = Vec::new();
    let (mut no, mut address, mut org, mut head, mut day) = (
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    );
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "members" => members.push(
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| AppError::bad("成员编号无效"))?,
            ),
            "household_no" => no = v.trim().to_string(),
            "address" => address = v.trim().to_string(),
            "org_code" => org = v.trim().to_string(),
            "new_head" => head = v.trim().to_string(),
            "date" => day = v.into_owned(),
            _ => {}
        }
    }
    if members.is_empty() {
        return Err(AppError::bad("请勾选分出的成员"));
    }
    if no.is_empty() {
        return Err(AppError::bad("请填写新户的户号"));
    }
    let org_code = match org.as_str() {
        "" => household.org_code,
        c => DivisionCode::parse(c).map_err(|e| AppError::bad(e.to_string()))?,
    };
    let new_head = match head.as_str() {
        "" => None,
        h => Some(h.parse::<i64>().map_err(|_| AppError::bad("新户主无效"))?),
    };
    let event = LifeEvent::Split {
        household_id: id,
        members,
        new_head,
        new_household: NewHousehold {
            household_no: no,
            address,
            org_code,
        },
        date: date(&day, "日期")?,
    };
    state.store.record_life_event(&me.actor(), event).await?;
    Ok(Redirect::to(&format!("/households/{id}?ok=event")).into_response())
}

#[derive(Deserialize, Default)]
pub struct EnterpriseSearch {
    q: Option<String>,
    kind: Option<String>,
    org: Option<String>,
    after: Option<i64>,
}

#[derive(Template)]
#[template(path = "enterprises.html")]
struct EnterprisesPage {
    chrome: Chrome,
    q: String,
    kind: String,
    kinds: Vec<(String, String)>,
    enterprises: Vec<Enterprise>,
    next: Option<String>,
    can_write: bool,
}

pub async fn enterprises(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(f): Query<EnterpriseSearch>,
) -> AppResult<Response> {
    let query = EnterpriseQuery {
        q: some(&f.q).map(|q| q.chars().take(50).collect()),
        kind: some(&f.kind),
        org_code: org_filter(&f.org)?,
        after_id: f.after,
        limit: PAGE,
        ..Default::default()
    };
    let enterprises = state.store.enterprise_search(&me.scope(), &query).await?;
    let kinds = state
        .store
        .enterprise_kinds()
        .await?
        .into_iter()
        .map(|k| (k.code, k.label))
        .collect();
    let next = (enterprises.len() as u32 == PAGE).then(|| {
        format!(
            "/enterprises?q={}&kind={}&after={}",
            enc(&f.q),
            enc(&f.kind),
            enterprises.last().map(|e| e.id).unwrap_or_default()
        )
    });
    Ok(render(EnterprisesPage {
        chrome: Chrome::of(&me),
        q: f.q.unwrap_or_default(),
        kind: f.kind.unwrap_or_default(),
        kinds,
        enterprises,
        next,
        can_write: me.can(Permission::Write),
    }))
}

#[derive(Template)]
#[template(path = "enterprise.html")]
struct EnterprisePage {
    chrome: Chrome,
    e: Enterprise,
    history: Vec<EventView>,
    can_write: bool,
    notice: Option<&'static str>,
    today: String,
}

pub async fn enterprise(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let scope = me.scope();
    let e = state.store.enterprise(&scope, id).await?;
    let history = timeline(state.store.enterprise_history(&scope, id).await?);
    Ok(render(EnterprisePage {
        chrome: Chrome::of(&me),
        e,
        history,
        can_write: me.can(Permission::Write),
        notice: notice(q.ok.as_deref()),
        today: Utc::now().date_naive().to_string(),
    }))
}

#[derive(Template)]
#[template(path = "duplicates.html")]
struct DuplicatesPage {
    chrome: Chrome,
    groups: Vec<DuplicateGroup>,
}

pub async fn duplicates(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let groups = state.store.likely_duplicates(&me.scope(), 200).await?;
    Ok(render(DuplicatesPage {
        chrome: Chrome::of(&me),
        groups,
    }))
}
