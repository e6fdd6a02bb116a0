//! Open311 GeoReport v2: the public's way in. Services are the public-facing leaves of the
//! case category tree (12345-type requests, environmental incidents, safety hazards); a POSTed
//! request becomes a case registered by the operator `open311` at the unit named by
//! `jurisdiction_id` (a township, village or grid code), at that unit's tier. Request lists
//! show only requests that came in this way, and never the requester's name or contact.
//! JSON and XML, as the format suffix says. POSTs are limited per client address
//! ([`crate::rate_limit`]) and, when the installation says so, need an `api_key` (kept hashed).
//!
//! These routes carry no session: CSRF protects cookie-authenticated forms, and nothing here
//! acts with anyone's cookie, so `security` lets them through without a token.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use xiangzhi_domain::case::CaseKind;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_store::case::{
    Case, CaseCategory, CaseQuery, CaseRules, NewCase, PartyInput, PartyRole,
};
use xiangzhi_store::{Actor, Scope};

use crate::security::ClientIp;
use crate::state::AppState;

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    Xml,
}

fn public_kind(k: CaseKind) -> bool {
    matches!(
        k,
        CaseKind::Complaint | CaseKind::Incident | CaseKind::Hazard
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `{"a": 1}` as `<a>1</a>`; arrays repeat the element named `item`.
fn to_xml(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.push_str(&format!("<{k}>"));
                to_xml(v, out);
                out.push_str(&format!("</{k}>"));
            }
        }
        Value::Null => {}
        Value::String(s) => out.push_str(&xml_escape(s)),
        other => out.push_str(&xml_escape(&other.to_string())),
    }
}

/// A list as the format wants it: a JSON array, or `<root><item>…</item>…</root>`.
fn respond(
    format: Format,
    status: StatusCode,
    root: &str,
    item: &str,
    items: Vec<Value>,
) -> Response {
    let (body, ctype) = match format {
        Format::Json => (
            Value::Array(items).to_string(),
            "application/json; charset=utf-8",
        ),
        Format::Xml => {
            let mut s = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><{root}>");
            for i in &items {
                s.push_str(&format!("<{item}>"));
                to_xml(i, &mut s);
                s.push_str(&format!("</{item}>"));
            }
            s.push_str(&format!("</{root}>"));
            (s, "text/xml; charset=utf-8")
        }
    };
    let mut res = (status, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    res
}

fn error(format: Format, status: StatusCode, message: &str) -> Response {
    respond(
        format,
        status,
        "errors",
        "error",
        vec![json!({ "code": status.as_u16(), "description": message })],
    )
}

fn service_json(c: &CaseCategory, parent: &str) -> Value {
    json!({
        "service_code": c.code,
        "service_name": c.label,
        "description": c.label,
        "metadata": false,
        "type": "realtime",
        "keywords": "",
        "group": parent,
    })
}

async fn services_of(state: &AppState) -> Result<Vec<Value>, Response> {
    let cats = state.store.case_categories().await.map_err(|e| {
        error(
            Format::Json,
            StatusCode::INTERNAL_SERVER_ERROR,
            &e.to_string(),
        )
    })?;
    Ok(cats
        .iter()
        .filter(|c| c.parent_code.is_some() && public_kind(c.kind))
        .map(|c| {
            let parent = cats
                .iter()
                .find(|p| Some(&p.code) == c.parent_code.as_ref())
                .map_or("", |p| p.label.as_str());
            service_json(c, parent)
        })
        .collect())
}

async fn services(state: AppState, format: Format) -> Response {
    match services_of(&state).await {
        Ok(items) => respond(format, StatusCode::OK, "services", "service", items),
        Err(r) => r,
    }
}

pub async fn services_json(State(state): State<AppState>) -> Response {
    services(state, Format::Json).await
}

pub async fn services_xml(State(state): State<AppState>) -> Response {
    services(state, Format::Xml).await
}

fn split_format(file: &str) -> Option<(&str, Format)> {
    if let Some(s) = file.strip_suffix(".json") {
        Some((s, Format::Json))
    } else {
        file.strip_suffix(".xml").map(|s| (s, Format::Xml))
    }
}

/// `GET /open311/v2/services/{code}.json`: no extra attributes (metadata is false).
pub async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Response {
    let Some((code, format)) = split_format(&file) else {
        return error(
            Format::Json,
            StatusCode::NOT_FOUND,
            "未知的格式，应为 .json 或 .xml",
        );
    };
    let items = match services_of(&state).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    if !items.iter().any(|s| s["service_code"] == code) {
        return error(format, StatusCode::NOT_FOUND, "没有该服务");
    }
    let body = json!({ "service_code": code, "attributes": [] });
    match format {
        Format::Json => json_response(body),
        Format::Xml => {
            let mut s =
                String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><service_definition>");
            s.push_str(&format!(
                "<service_code>{}</service_code><attributes/>",
                xml_escape(code)
            ));
            s.push_str("</service_definition>");
            let mut res = s.into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=utf-8"),
            );
            res
        }
    }
}

fn json_response(v: Value) -> Response {
    let mut res = v.to_string().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    res
}

fn request_json(c: &Case) -> Value {
    let closed = !c.state.status.is_open();
    let date = |d: chrono::NaiveDate| format!("{d}T00:00:00+08:00");
    json!({
        "service_request_id": c.id.to_string(),
        "status": if closed { "closed" } else { "open" },
        "status_notes": c.state.status.label(),
        "service_name": c.category_label,
        "service_code": c.category_code,
        "description": c.description,
        "agency_responsible": format!("{}级", c.state.tier.label()),
        "service_notice": "",
        "requested_datetime": date(c.state.registered_on),
        "updated_datetime": c.updated_at,
        "expected_datetime": c.state.active_deadline().map(date),
        "address": c.location,
        "address_id": "",
        "zipcode": "",
        "media_url": "",
    })
}

#[derive(Deserialize, Default)]
pub struct RequestFilter {
    service_request_id: Option<String>,
    service_code: Option<String>,
    status: Option<String>,
    jurisdiction_id: Option<String>,
}

async fn requests(state: AppState, format: Format, f: RequestFilter) -> Response {
    let scope = match f
        .jurisdiction_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Scope::all(),
        Some(code) => {
            let Ok(code) = DivisionCode::parse(code) else {
                return error(
                    format,
                    StatusCode::BAD_REQUEST,
                    "jurisdiction_id 不是有效的区划代码",
                );
            };
            match state.store.org_unit(&Scope::all(), &code).await {
                Ok(u) => Scope::new(u.path),
                Err(_) => return error(format, StatusCode::NOT_FOUND, "没有该辖区"),
            }
        }
    };
    let cases = match state
        .store
        .cases(
            &scope,
            &CaseQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
    {
        Ok(c) => c,
        Err(e) => return error(format, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let list = |s: &Option<String>| -> Option<Vec<String>> {
        s.as_deref().map(|v| {
            v.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
    };
    let ids = list(&f.service_request_id);
    let codes = list(&f.service_code);
    let statuses = list(&f.status);
    let items = cases
        .iter()
        .filter(|c| c.source == "open311")
        .filter(|c| ids.as_ref().is_none_or(|v| v.contains(&c.id.to_string())))
        .filter(|c| codes.as_ref().is_none_or(|v| v.contains(&c.category_code)))
        .map(request_json)
        .filter(|r| {
            statuses
                .as_ref()
                .is_none_or(|v| v.iter().any(|s| r["status"] == s.as_str()))
        })
        .collect();
    respond(format, StatusCode::OK, "service_requests", "request", items)
}

pub async fn requests_json(
    State(state): State<AppState>,
    Query(f): Query<RequestFilter>,
) -> Response {
    requests(state, Format::Json, f).await
}

pub async fn requests_xml(
    State(state): State<AppState>,
    Query(f): Query<RequestFilter>,
) -> Response {
    requests(state, Format::Xml, f).await
}

/// `GET /open311/v2/requests/{id}.json|xml`: the one request, as a list of one (GeoReport v2),
/// 404 when it is not a public request.
pub async fn request_by_id(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((id, format)) = split_format(&file) else {
        return error(
            Format::Json,
            StatusCode::NOT_FOUND,
            "未知的格式，应为 .json 或 .xml",
        );
    };
    let Ok(id) = id.parse::<i64>() else {
        return error(format, StatusCode::NOT_FOUND, "没有该诉求");
    };
    match state.store.case(&Scope::all(), id).await {
        Ok(d) if d.case.source == "open311" => respond(
            format,
            StatusCode::OK,
            "service_requests",
            "request",
            vec![request_json(&d.case)],
        ),
        _ => error(format, StatusCode::NOT_FOUND, "没有该诉求"),
    }
}

#[derive(Deserialize, Default)]
pub struct NewRequest {
    service_code: Option<String>,
    jurisdiction_id: Option<String>,
    description: Option<String>,
    address_string: Option<String>,
    lat: Option<String>,
    long: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    api_key: Option<String>,
}

/// The per-client budget and, when configured, the API key: 429 or 403 before anything else.
async fn admit(
    state: &AppState,
    format: Format,
    ip: &ClientIp,
    r: &NewRequest,
) -> Result<(), Response> {
    let client = ip.0.clone().unwrap_or_else(|| "unknown".into());
    let budget = state.config.open311_posts_per_minute;
    if !state
        .open311_posts
        .allow(&client, budget, std::time::Instant::now())
    {
        return Err(error(
            format,
            StatusCode::TOO_MANY_REQUESTS,
            &format!("提交过于频繁：每分钟最多{budget}次，请稍后再试"),
        ));
    }
    if state.config.open311_require_key {
        let key = r.api_key.as_deref().map(str::trim).unwrap_or("");
        let valid =
            !key.is_empty()
                && state.store.open311_key_valid(key).await.map_err(|e| {
                    error(format, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
                })?;
        if !valid {
            return Err(error(
                format,
                StatusCode::FORBIDDEN,
                "api_key 缺失或无效：提交诉求须使用发放的接口密钥",
            ));
        }
    }
    Ok(())
}

async fn create(state: AppState, format: Format, ip: ClientIp, r: NewRequest) -> Response {
    if let Err(refused) = admit(&state, format, &ip, &r).await {
        return refused;
    }
    let trim = |s: &Option<String>| s.as_deref().map(str::trim).unwrap_or("").to_string();
    let code = trim(&r.service_code);
    let services = match services_of(&state).await {
        Ok(s) => s,
        Err(e) => return e,
    };
    if !services.iter().any(|s| s["service_code"] == code.as_str()) {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "service_code 无效：请从服务列表中选择",
        );
    }
    let Ok(org) = DivisionCode::parse(&trim(&r.jurisdiction_id)) else {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "须用 jurisdiction_id 指明受理的乡镇、村或网格代码",
        );
    };
    let description = trim(&r.description);
    if description.is_empty() {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "请填写诉求内容（description）",
        );
    }
    let mut location = trim(&r.address_string);
    let (lat, long) = (trim(&r.lat), trim(&r.long));
    if !lat.is_empty() && !long.is_empty() {
        location = format!("{location}（{lat}, {long}）").trim().to_string();
    }
    let name = format!("{}{}", trim(&r.last_name), trim(&r.first_name));
    let title: String = description.chars().take(30).collect();
    let parties = if name.is_empty() {
        Vec::new()
    } else {
        vec![PartyInput {
            person_id: None,
            name,
            role: PartyRole::Applicant,
        }]
    };
    let new = NewCase {
        category: code,
        title,
        description,
        org_code: org,
        location,
        urgent: false,
        risk: None,
        source: "open311".into(),
        parties,
        registered_on: Utc::now().date_naive(),
    };
    match state
        .store
        .register_case(&Actor::system("open311"), &CaseRules::default(), new)
        .await
    {
        Ok(c) => respond(
            format,
            StatusCode::CREATED,
            "service_requests",
            "request",
            vec![json!({
                "service_request_id": c.id.to_string(),
                "service_notice": format!("已登记，受理期限{}", c.state.acceptance_deadline),
                "account_id": Value::Null,
            })],
        ),
        Err(xiangzhi_store::StoreError::NotFound) => {
            error(format, StatusCode::NOT_FOUND, "没有该辖区")
        }
        Err(e) => error(format, StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

pub async fn create_json(
    State(state): State<AppState>,
    Extension(ip): Extension<ClientIp>,
    Form(r): Form<NewRequest>,
) -> Response {
    create(state, Format::Json, ip, r).await
}

pub async fn create_xml(
    State(state): State<AppState>,
    Extension(ip): Extension<ClientIp>,
    Form(r): Form<NewRequest>,
) -> Response {
    create(state, Format::Xml, ip, r).await
}
