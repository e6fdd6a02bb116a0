//! Conformance stories for what the assistance pages added to the store: payee bank accounts
//! sealed at rest and carried only into the bank file, cross-check runs kept per scope, the
//! monitored households a village checklist (村村清) sums up, and program edits kept to
//! county-level administrators. Run on every backend through
//! [`crate::assistance_conformance_tests!`].

use xiangzhi_domain::assistance::{MIN_LIVING, MONITORING};
use xiangzhi_domain::assistance_monitoring::{
    ChecklistItem, MonitoringDetail, MonitoringType, RiskCause,
};
use xiangzhi_domain::bank_account::BankAccount;
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;

use crate::assistance::*;
use crate::audit::AuditFilter;
use crate::conformance::{TestStore, actor_at};
use crate::conformance_assistance::{activate, application, d, family, people};
use crate::error::StoreError;
use crate::model::*;

const TOUCHANG: &str = "361002201211";
const SHETOU: &str = "361002201208";
const TOWNSHIP: &str = "361002201";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

pub async fn assistance_payee_accounts_are_sealed_and_in_the_bank_file(store: TestStore) {
    let p = people(&store).await;
    let (h, members) = family(&store, &p.clerk, "A001", TOUCHANG, 2, 300).await;
    let e = store
        .apply(&p.cadre, application(MIN_LIVING, Some(h.id), None, "rural"))
        .await
        .unwrap();
    activate(&store, &p, e.id).await;
    let account = BankAccount::parse("6217 0012 3456 7890 123").unwrap();
    // Outside the scope: the same answer as for a person who does not exist.
    assert!(matches!(
        store
            .set_payee_account(&p.shetou, members[0], "农商银行", &account)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.payee_account(&p.shetou.scope, members[0]).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .set_payee_account(&p.cadre, members[0], " ", &account)
            .await,
        Err(StoreError::Invalid(m)) if m.contains("开户银行")
    ));
    assert_eq!(
        store
            .payee_account(&p.cadre.scope, members[0])
            .await
            .unwrap(),
        None
    );
    let saved = store
        .set_payee_account(&p.cadre, members[0], "农商银行临川支行", &account)
        .await
        .unwrap();
    assert_eq!(saved.account_masked, "6217***********0123");
    let read = store
        .payee_account(&p.clerk.scope, members[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.account_masked, saved.account_masked);
    assert_eq!(read.bank_name, "农商银行临川支行");

    // The audit row names the masked number only.
    let audit = store
        .audit_list(
            &Scope::all(),
            &AuditFilter {
                entity: Some("person".into()),
                entity_id: Some(members[0].to_string()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let row = audit
        .iter()
        .find(|a| a.action == "payee_account_set")
        .expect("audited");
    let text = format!("{:?}{:?}", row.old_value, row.new_value);
    assert!(text.contains("6217***********0123"), "{text}");
    assert!(!text.contains(account.as_str()), "{text}");

    // The bank file carries it in full.
    let payroll = store
        .generate_payroll(&p.clerk, MIN_LIVING, &code(TOWNSHIP), "202305")
        .await
        .unwrap();
    store.approve_payroll(&p.leader, payroll.id).await.unwrap();
    let lines = store
        .payroll_bank_lines(&p.clerk, payroll.id)
        .await
        .unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].account, account.as_str());
    assert_eq!(lines[0].bank_name, "农商银行临川支行");

    // Changing it is audited with both masked numbers.
    let other = BankAccount::parse("6230580000111122223").unwrap();
    store
        .set_payee_account(&p.cadre, members[0], "邮储银行", &other)
        .await
        .unwrap();
    assert_eq!(
        store
            .payee_account(&p.cadre.scope, members[0])
            .await
            .unwrap()
            .unwrap()
            .account_masked,
        other.masked()
    );
}

pub async fn assistance_check_runs_are_kept_per_scope(store: TestStore) {
    let p = people(&store).await;
    let (h, _) = family(&store, &p.clerk, "K001", TOUCHANG, 2, 320).await;
    let e = store
        .apply(&p.cadre, application(MIN_LIVING, Some(h.id), None, "rural"))
        .await
        .unwrap();
    activate(&store, &p, e.id).await;
    let options = CheckOptions {
        today: d("2024-06-01"),
        period: None,
        capital_threshold: Money::from_yuan(500_000).unwrap(),
    };
    assert!(
        store
            .latest_check_run(&p.clerk.scope)
            .await
            .unwrap()
            .is_none()
    );
    let nightly = Actor {
        username: "system:nightly-check".into(),
        role: None,
        ..p.clerk.clone()
    };
    let run = store.record_check_run(&nightly, &options).await.unwrap();
    assert!(
        run.hits.iter().any(|h| h.check == CheckKind::ReviewOverdue
            && h.records
                .iter()
                .any(|r| r.kind == "enrollment" && r.id == e.id)),
        "{:?}",
        run.hits
    );
    let latest = store
        .latest_check_run(&p.clerk.scope)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, run.id);
    assert_eq!(latest.run_by, "system:nightly-check");
    assert_eq!(latest.hits, run.hits);
    assert_eq!(latest.options.today, d("2024-06-01"));
    // A village sees no run computed over the whole township.
    assert!(
        store
            .latest_check_run(&p.cadre.scope)
            .await
            .unwrap()
            .is_none()
    );
    // A later run over the same scope replaces it on the page.
    let clean = CheckOptions {
        today: d("2023-06-01"),
        ..options
    };
    let second = store.record_check_run(&nightly, &clean).await.unwrap();
    assert!(second.hits.is_empty(), "{:?}", second.hits);
    let latest = store
        .latest_check_run(&p.clerk.scope)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, second.id);
}

pub async fn assistance_monitored_households_by_village(store: TestStore) {
    let p = people(&store).await;
    let (h1, _) = family(&store, &p.clerk, "V001", TOUCHANG, 3, 340).await;
    let (h2, _) = family(&store, &p.clerk, "V002", SHETOU, 2, 350).await;
    let e1 = store
        .apply(
            &p.cadre,
            application(MONITORING, Some(h1.id), None, "edge_of_poverty"),
        )
        .await
        .unwrap();
    let e1 = activate(&store, &p, e1.id).await;
    let e2 = store
        .apply(
            &p.shetou,
            application(MONITORING, Some(h2.id), None, "sudden_hardship"),
        )
        .await
        .unwrap();
    let detail = MonitoringDetail {
        kind: MonitoringType::EdgeOfPoverty,
        causes: vec![RiskCause::Illness],
        measures: Vec::new(),
        responsible: p.cadre.username.clone(),
        visits: Vec::new(),
        incomes: Vec::new(),
        checklist: ChecklistItem::ALL.to_vec(),
    };
    store
        .save_monitoring(&p.cadre, e1.id, &detail)
        .await
        .unwrap();

    let all = store.monitored(&p.clerk.scope, None).await.unwrap();
    let ids: Vec<i64> = all.iter().map(|m| m.enrollment.id).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&e1.id) && ids.contains(&e2.id));
    let one = all.iter().find(|m| m.enrollment.id == e1.id).unwrap();
    assert_eq!(one.detail.as_ref(), Some(&detail));
    assert!(
        all.iter()
            .find(|m| m.enrollment.id == e2.id)
            .unwrap()
            .detail
            .is_none()
    );

    let village = store
        .monitored(&p.clerk.scope, Some(&code(TOUCHANG)))
        .await
        .unwrap();
    assert_eq!(village.len(), 1);
    assert_eq!(village[0].enrollment.id, e1.id);
    assert_eq!(
        store.monitored(&p.cadre.scope, None).await.unwrap().len(),
        1
    );
    assert!(matches!(
        store.monitored(&p.cadre.scope, Some(&code(SHETOU))).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn assistance_programs_are_county_wide(store: TestStore) {
    people(&store).await;
    let mut prog = store.program(MONITORING).await.unwrap();
    assert_eq!(prog.income_line, Money::from_yuan(600));
    prog.income_line = Money::from_yuan(650);
    let township_admin = actor_at(&store, TOWNSHIP, Role::Admin).await;
    assert!(matches!(
        store.save_program(&township_admin, &prog).await,
        Err(StoreError::Forbidden(m)) if m.contains("县级")
    ));
    let county_admin = actor_at(&store, "361002", Role::Admin).await;
    store.save_program(&county_admin, &prog).await.unwrap();
    assert_eq!(
        store.program(MONITORING).await.unwrap().income_line,
        Money::from_yuan(650)
    );
}
