//! Bulk assistance data for the payroll benchmark: households, their members (with sealed,
//! valid citizen IDs) and active 低保 enrollments, written directly so that what is measured is
//! payroll generation and export, not the generator.

use chrono::{Days, NaiveDate};
use xiangzhi_domain::citizen_id;
use xiangzhi_store::{StoreError, StoreResult};

use crate::SqliteStore;

impl SqliteStore {
    /// `n` households spread round-robin over `villages` (code, path), each with 1-4
    /// registered members, each enrolled in `min_living` (rural), active from 2023-01-01.
    /// Not audited: for benchmark databases only.
    pub async fn bench_fill_assistance(
        &self,
        villages: &[(String, String)],
        n: u64,
    ) -> StoreResult<()> {
        if villages.is_empty() {
            return Err(StoreError::invalid("没有村"));
        }
        let map = Self::map_err;
        let mut tx = self.begin_write().await?;
        let now = xiangzhi_store::sql::now_text();
        let base = NaiveDate::from_ymd_opt(1940, 1, 1).expect("date");
        let mut person = 0u64;
        let ids: Vec<u64> = (0..n).collect();
        for chunk in ids.chunks(2000) {
            let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO households (id, household_no, address, status, org_code, org_path, created_at) ",
            );
            qb.push_values(chunk, |mut b, i| {
                let (code, path) = &villages[(*i as usize) % villages.len()];
                b.push_bind(*i as i64 + 1)
                    .push_bind(format!("BENCH{i:07}"))
                    .push_bind(format!("测试地址{i}号"))
                    .push_bind("active")
                    .push_bind(code.clone())
                    .push_bind(path.clone())
                    .push_bind(now.clone());
            });
            qb.build().execute(&mut *tx).await.map_err(map)?;
            let mut people = Vec::new();
            for i in chunk {
                for m in 0..(1 + i % 4) {
                    let j = person;
                    person += 1;
                    let birth = base + Days::new(j % 25_000);
                    let id = citizen_id::generate(
                        "361002",
                        birth,
                        (j / 25_000) as u16,
                        j.is_multiple_of(2),
                    );
                    let (code, path) = &villages[(*i as usize) % villages.len()];
                    people.push((
                        j as i64 + 1,
                        format!("测试{j}"),
                        self.vault().lookup(id.as_str()),
                        self.vault().seal(id.as_str()),
                        if j.is_multiple_of(2) {
                            "male"
                        } else {
                            "female"
                        },
                        birth.format("%Y-%m-%d").to_string(),
                        *i as i64 + 1,
                        if m == 0 { "head" } else { "child" },
                        code.clone(),
                        path.clone(),
                    ));
                }
            }
            for part in people.chunks(2000) {
                let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO persons (id, name, id_hash, id_sealed, sex, birth_date, household_id, relation, status, org_code, org_path, created_at) ",
                );
                qb.push_values(part, |mut b, p| {
                    b.push_bind(p.0)
                        .push_bind(p.1.clone())
                        .push_bind(p.2.clone())
                        .push_bind(p.3.clone())
                        .push_bind(p.4)
                        .push_bind(p.5.clone())
                        .push_bind(p.6)
                        .push_bind(p.7)
                        .push_bind("registered")
                        .push_bind(p.8.clone())
                        .push_bind(p.9.clone())
                        .push_bind(now.clone());
                });
                qb.build().execute(&mut *tx).await.map_err(map)?;
            }
            let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO enrollments (program_code, household_id, category, source, org_code, org_path, status, entered_by, \
                 applied_on, since, start_on, next_review, note, created_at) ",
            );
            qb.push_values(chunk, |mut b, i| {
                let (code, path) = &villages[(*i as usize) % villages.len()];
                b.push_bind("min_living")
                    .push_bind(*i as i64 + 1)
                    .push_bind("rural")
                    .push_bind("household")
                    .push_bind(code.clone())
                    .push_bind(path.clone())
                    .push_bind("active")
                    .push_bind("bench")
                    .push_bind("2022-12-01")
                    .push_bind("2022-12-20")
                    .push_bind("2023-01-01")
                    .push_bind("2023-12-20")
                    .push_bind("")
                    .push_bind(now.clone());
            });
            qb.build().execute(&mut *tx).await.map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }
}
