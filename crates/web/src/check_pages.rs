//! 核查: the cross-checks on demand and nightly. The page shows the latest stored run over the
//! user's scope (the nightly one, run by `system:nightly-check`) or, on request, a fresh run
//! that is shown and not stored; each hit links to the records behind it.
//!
//! The nightly run goes once per distinct scope of the active users, so every user's page has
//! a run computed over exactly what they may see, never a wider area filtered afterwards.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use xiangzhi_domain::money::Money;
use xiangzhi_store::assistance::{CheckHit, CheckOptions, DEFAULT_CAPITAL_WAN, RecordRef};
use xiangzhi_store::{Actor, Scope, Store, StoreResult};

use crate::assistance_pages::{given, today};
use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::pages::Chrome;
use crate::state::AppState;

/// Who the nightly run is recorded as.
pub const NIGHTLY_ACTOR: &str = "system:nightly-check";

fn options(today: NaiveDate, period: Option<String>, capital_wan: i64) -> AppResult<CheckOptions> {
    Ok(CheckOptions {
        today,
        period,
        capital_threshold: capital_wan
            .checked_mul(10_000)
            .and_then(Money::from_yuan)
            .filter(|m| !m.is_negative())
            .ok_or_else(|| AppError::bad("注册资本阈值无效"))?,
    })
}

/// Runs the checks once over the scope of every active user and stores each run. Returns
/// how many runs were stored.
pub async fn nightly_once(store: &Arc<dyn Store>, today: NaiveDate) -> StoreResult<usize> {
    let mut scopes: Vec<_> = store
        .list_users(&Scope::all())
        .await?
        .into_iter()
        .filter(|u| u.active)
        .map(|u| u.org_path)
        .collect();
    scopes.sort();
    scopes.dedup();
    let options = CheckOptions {
        today,
        period: None,
        capital_threshold: Money::from_yuan(DEFAULT_CAPITAL_WAN * 10_000).expect("small amount"),
    };
    for path in &scopes {
        let actor = Actor {
            scope: Scope::new(path.clone()),
            ..Actor::system("nightly-check")
        };
        store.record_check_run(&actor, &options).await?;
    }
    Ok(scopes.len())
}

/// `serve`'s background task: the checks every night at 02:00 Beijing time. Not at start: a
/// county's run takes seconds of both cores and its stored runs are writes, which drop every
/// page kept since the last write, so a restart in office hours would be felt; the page runs
/// them on demand meanwhile.
pub fn spawn_nightly(store: Arc<dyn Store>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(until_next_night(chrono::Utc::now())).await;
        let mut every = tokio::time::interval(std::time::Duration::from_secs(24 * 60 * 60));
        loop {
            every.tick().await;
            match nightly_once(&store, today()).await {
                Ok(n) => tracing::info!(scopes = n, "nightly assistance checks stored"),
                Err(e) => tracing::error!(error = %e, "nightly assistance checks failed"),
            }
        }
    })
}

/// How long from `now` until the next 02:00 in Beijing (18:00 UTC).
fn until_next_night(now: chrono::DateTime<chrono::Utc>) -> std::time::Duration {
    let today_at = now
        .date_naive()
        .and_hms_opt(18, 0, 0)
        .expect("valid time")
        .and_utc();
    let next = if today_at > now {
        today_at
    } else {
        today_at + chrono::Duration::days(1)
    };
    (next - now).to_std().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::until_next_night;
    use chrono::TimeZone;

    #[test]
    fn the_nightly_run_waits_for_two_in_the_morning_in_beijing() {
        let at = |h, m| chrono::Utc.with_ymd_and_hms(2024, 3, 1, h, m, 0).unwrap();
        assert_eq!(until_next_night(at(17, 0)).as_secs(), 3600);
        assert_eq!(until_next_night(at(18, 0)).as_secs(), 24 * 3600);
        assert_eq!(until_next_night(at(19, 30)).as_secs(), 22 * 3600 + 1800);
    }
}

/// A hit as shown: its check, message and a link per record.
pub struct HitRow {
    check: &'static str,
    message: String,
    links: Vec<(String, String)>,
}

fn href(r: &RecordRef, payroll: Option<i64>) -> String {
    match r.kind.as_str() {
        "person" => format!("/persons/{}", r.id),
        "household" => format!("/households/{}", r.id),
        "enterprise" => format!("/enterprises/{}", r.id),
        "enrollment" => format!("/assistance/enrollments/{}", r.id),
        "payroll" => format!("/assistance/payrolls/{}", r.id),
        "payroll_line" => match payroll {
            Some(p) => format!("/assistance/payrolls/{p}#line-{}", r.id),
            None => "/assistance/payrolls".to_string(),
        },
        _ => "/assistance".to_string(),
    }
}

fn hit_rows(hits: Vec<CheckHit>) -> Vec<HitRow> {
    hits.into_iter()
        .map(|h| {
            let mut payroll = None;
            let links = h
                .records
                .iter()
                .map(|r| {
                    if r.kind == "payroll" {
                        payroll = Some(r.id);
                    }
                    (href(r, payroll), format!("{} #{}", r.label, r.id))
                })
                .collect();
            HitRow {
                check: h.check.label(),
                message: h.message,
                links,
            }
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct ChecksQuery {
    run: Option<String>,
    period: Option<String>,
    capital_wan: Option<String>,
}

#[derive(Template)]
#[template(path = "checks.html")]
struct ChecksPage {
    chrome: Chrome,
    /// What the hits come from: the stored run or a fresh one.
    source: String,
    ran: bool,
    hits: Vec<HitRow>,
    period: String,
    capital_wan: String,
}

pub async fn checks(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<ChecksQuery>,
) -> AppResult<Response> {
    let scope = me.scope();
    let capital_wan = match given(&q.capital_wan) {
        Some(s) => s
            .parse()
            .map_err(|_| AppError::bad("注册资本阈值应为整数（万元）"))?,
        None => DEFAULT_CAPITAL_WAN,
    };
    let period = given(&q.period).map(str::to_string);
    let (source, ran, hits) = if given(&q.run).is_some() {
        let o = options(today(), period.clone(), capital_wan)?;
        let hits = state.store.run_checks(&scope, &o).await?;
        (format!("本次核查（{}，未保存）", o.today), true, hits)
    } else {
        match state.store.latest_check_run(&scope).await? {
            Some(run) => (
                format!("最近一次核查：{}，由 {} 执行", run.run_at, run.run_by),
                true,
                run.hits,
            ),
            None => (
                "尚无核查记录：每日夜间自动核查，也可立即核查".to_string(),
                false,
                Vec::new(),
            ),
        }
    };
    Ok(render(ChecksPage {
        chrome: Chrome::of(&me),
        source,
        ran,
        hits: hit_rows(hits),
        period: period.unwrap_or_default(),
        capital_wan: capital_wan.to_string(),
    }))
}
