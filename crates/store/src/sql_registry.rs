//! The registry's SQL, shared by both backends like [`crate::impl_sql_store!`] (read its header).
//! Besides the items listed there, a backend provides `fn vault(&self) -> &Arc<Vault>`.
//!
//! Citizen IDs and phones are bound only sealed (`*_sealed`) and as keyed hashes
//! (`*_hash`); masked forms are computed on the way out, never stored (a stored mask plus the
//! stored birth date would give the ID back).

/// Columns of a person as the store returns it.
pub const PERSON_SELECT: &str = "SELECT p.id, p.name, p.id_sealed, p.sex, p.birth_date, p.phone_sealed, \
     p.household_id, h.household_no, p.relation, p.status, p.org_code, p.org_path, o.name AS org_name, p.tags \
     FROM persons p LEFT JOIN households h ON h.id = p.household_id JOIN org_units o ON o.code = p.org_code";

pub const HOUSEHOLD_SELECT: &str = "SELECT h.id, h.household_no, h.address, h.status, h.org_code, h.org_path, \
     o.name AS org_name, \
     (SELECT MIN(m.id) FROM persons m WHERE m.household_id = h.id AND m.relation = 'head' AND m.status = 'registered') AS head_id, \
     (SELECT MIN(m.name) FROM persons m WHERE m.household_id = h.id AND m.relation = 'head' AND m.status = 'registered') AS head_name, \
     (SELECT COUNT(*) FROM persons m WHERE m.household_id = h.id AND m.status = 'registered') AS member_count \
     FROM households h JOIN org_units o ON o.code = h.org_code";

pub const ENTERPRISE_SELECT: &str = "SELECT e.id, e.name, e.credit_code, e.credit_code_ok, e.kind, k.label AS kind_label, \
     e.registered_capital, e.settled_on, e.org_code, e.org_path, o.name AS org_name, e.contact_name, \
     e.contact_phone_sealed, e.active \
     FROM enterprises e JOIN enterprise_kinds k ON k.code = e.kind JOIN org_units o ON o.code = e.org_code";

/// Secondary indexes of `persons`, exactly as the migrations create them: a bulk load on
/// SQLite drops and rebuilds them inside its transaction.
pub const PERSON_INDEXES: &[(&str, &str)] = &[
    (
        "persons_path",
        "CREATE INDEX persons_path ON persons (org_path, status)",
    ),
    (
        "persons_household",
        "CREATE INDEX persons_household ON persons (household_id)",
    ),
    (
        "persons_name_birth",
        "CREATE INDEX persons_name_birth ON persons (name, birth_date)",
    ),
    (
        "persons_phone",
        "CREATE INDEX persons_phone ON persons (phone_hash) WHERE phone_hash IS NOT NULL",
    ),
];

/// The row triggers that keep `registry_tallies` on inserts, exactly as migration 0012
/// creates them on SQLite: a bulk load drops them, adds its counts in one pass and
/// recreates them in the same transaction (per row they cost 2 µs, over a second at 600,000).
pub const TALLY_INSERT_TRIGGERS: &[(&str, &str)] = &[
    (
        "persons_tally_insert",
        "CREATE TRIGGER persons_tally_insert AFTER INSERT ON persons BEGIN
    INSERT INTO registry_tallies (org_path, entity, state, n) VALUES (NEW.org_path, 'person', NEW.status, 1)
        ON CONFLICT (org_path, entity, state) DO UPDATE SET n = n + 1;
END",
    ),
    (
        "households_tally_insert",
        "CREATE TRIGGER households_tally_insert AFTER INSERT ON households BEGIN
    INSERT INTO registry_tallies (org_path, entity, state, n) VALUES (NEW.org_path, 'household', NEW.status, 1)
        ON CONFLICT (org_path, entity, state) DO UPDATE SET n = n + 1;
END",
    ),
];

/// A set of keys from an import file (household numbers, id hashes): foldhash, seeded per
/// process, is several times faster than SipHash on these.
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
/// [`FastSet`]'s map.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Inserts from which a person import counts as a bulk load.
pub const BULK_ROWS: usize = 50_000;

/// Also a bulk load: at least this many inserts, and no fewer than the persons already
/// stored (rebuilding the indexes then costs less than growing them row by row).
pub const BULK_MIN_ROWS: usize = 1_000;

/// People per packed part of a person import (see `bulk::Packed`): a few megabytes, so the
/// writer starts after milliseconds and each part sits in the processor's caches.
pub const PERSON_PART_ROWS: usize = 8192;

/// Items per block of [`par_map`] and [`par_map_split`].
const PAR_BLOCK: usize = 4096;

/// Threads for the `par_*` helpers: the cores, up to four.
fn par_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4)
}

/// Runs `f(k)` for every `k` in `0..blocks` on up to four threads, each taking the next
/// block as it finishes one: fixed halves left one core idle for a quarter of a second of a
/// county's import when one thread ran slower. A panic in `f` is resumed here, after every
/// thread has stopped.
fn run_blocks(blocks: usize, f: impl Fn(usize) + Sync) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || loop {
        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if k >= blocks {
            return;
        }
        f(k);
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..par_threads().min(blocks))
            .map(|_| s.spawn(work))
            .collect();
        for h in handles {
            h.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
    });
}

/// Maps `f` over `items` on up to four threads, keeping order (sealing 1.2 million values
/// takes a second on one core). Each block is written where it ends up in the result:
/// gathering the blocks afterwards moved a county's worth of values once more, on one core.
pub fn par_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    par_map_split(items, |item| {
        Ok::<U, Vec<std::convert::Infallible>>(f(item))
    })
    .0
}

/// [`par_map`] of a fallible `f`: the values of the items it accepts, in order, and the
/// errors of the others, in order. The values are written in place; only when some item
/// fails are the blocks moved together.
pub fn par_map_split<T: Sync, U: Send, E: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<U, Vec<E>> + Sync,
) -> (Vec<U>, Vec<E>) {
    let mut ok: Vec<U> = Vec::with_capacity(items.len());
    let mut errs: Vec<E> = Vec::new();
    if par_threads() < 2 || items.len() <= PAR_BLOCK {
        for item in items {
            match f(item) {
                Ok(v) => ok.push(v),
                Err(e) => errs.extend(e),
            }
        }
        return (ok, errs);
    }
    let blocks: Vec<&[T]> = items.chunks(PAR_BLOCK).collect();
    // per block: how many values it wrote at the front of its slots, and its errors
    let done: Vec<std::sync::Mutex<(usize, Vec<E>)>> = (0..blocks.len())
        .map(|_| std::sync::Mutex::new((0, Vec::new())))
        .collect();
    {
        let slots: Vec<std::sync::Mutex<&mut [std::mem::MaybeUninit<U>]>> = ok.spare_capacity_mut()
            [..items.len()]
            .chunks_mut(PAR_BLOCK)
            .map(std::sync::Mutex::new)
            .collect();
        run_blocks(blocks.len(), |k| {
            let mut slot = slots[k]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut filled = 0;
            let mut block_errs = Vec::new();
            for item in blocks[k] {
                match f(item) {
                    Ok(v) => {
                        slot[filled].write(v);
                        filled += 1;
                    }
                    Err(e) => block_errs.extend(e),
                }
            }
            *done[k]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = (filled, block_errs);
        });
    }
    let base = ok.as_mut_ptr();
    let mut len = 0;
    for (k, d) in done.into_iter().enumerate() {
        let (filled, block_errs) = d
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let start = k * PAR_BLOCK;
        if start != len {
            // SAFETY: slots start..start+filled hold values block k wrote; len <= start, and
            // ptr::copy allows the ranges to overlap. The values are moved: their old slots
            // are past the final length and are never read or dropped.
            unsafe { std::ptr::copy(base.add(start), base.add(len), filled) };
        }
        len += filled;
        errs.extend(block_errs);
    }
    // SAFETY: slots 0..len hold the moved values, each once.
    unsafe { ok.set_len(len) };
    (ok, errs)
}

/// `f` of each block of `items` (up to `block` each, in order) on up to four threads; all
/// `items` as one block when they are no more than that.
pub fn par_blocks<T: Sync, R: Send>(
    items: &[T],
    block: usize,
    f: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    if par_threads() < 2 || items.len() <= block {
        return vec![f(items)];
    }
    let blocks: Vec<&[T]> = items.chunks(block.max(1)).collect();
    let out: Vec<std::sync::Mutex<Option<R>>> = (0..blocks.len())
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    run_blocks(blocks.len(), |k| {
        let r = f(blocks[k]);
        *out[k]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
    });
    out.into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .expect("every block is run once")
        })
        .collect()
}

#[macro_export]
macro_rules! impl_registry_store {
    ($Store:ty, $DB:ty) => {
        #[allow(clippy::too_many_arguments)]
        mod __sql_registry {
            use super::*;
            use ::chrono::{NaiveDate, Utc};
            use ::sqlx::Row as _;
            use ::std::collections::HashMap;
            use $crate::audit::{AuditEntry, AuditRecord};
            use $crate::bulk::{self, Val};
            use $crate::model::*;
            use $crate::registry::*;
            use $crate::registry_plan::{self, ExistingHousehold, ExistingPerson, HouseholdRef, OrgRef};
            use $crate::sql::like_escape;
            use $crate::sql_registry::{par_map, BULK_MIN_ROWS, BULK_ROWS, ENTERPRISE_SELECT, HOUSEHOLD_SELECT, PERSON_INDEXES, PERSON_SELECT, TALLY_INSERT_TRIGGERS};
            use $crate::vault::Vault;
            use $crate::{StoreError, StoreResult};
            use ::xiangzhi_domain::citizen_id::{CitizenId, Sex};
            use ::xiangzhi_domain::money::Money;
            use ::xiangzhi_domain::org::{DivisionCode, OrgLevel, OrgPath};
            use ::xiangzhi_domain::phone::Phone;
            use ::xiangzhi_domain::role::Permission;

            type Tx = ::sqlx::Transaction<'static, $DB>;
            type DbRow = <$DB as ::sqlx::Database>::Row;

            fn q(sql: String) -> ::sqlx::AssertSqlSafe<String> {
                ::sqlx::AssertSqlSafe(sql)
            }
            fn err(e: ::sqlx::Error) -> StoreError {
                <$Store>::map_err(e)
            }
            use $crate::sql::{bad_row, now_text};
            fn code(s: &str) -> StoreResult<DivisionCode> {
                DivisionCode::parse(s).map_err(|_| bad_row("区划代码"))
            }
            fn limit_of(l: u32) -> i64 {
                i64::from(if l == 0 { 50 } else { l.min(5000) })
            }
            fn in_scope(actor: &Actor, path: &str) -> StoreResult<()> {
                if path.starts_with(actor.scope.path.as_str()) { Ok(()) } else { Err(StoreError::NotFound) }
            }
            fn can_write(actor: &Actor) -> StoreResult<()> {
                match actor.role {
                    Some(r) if !r.can(Permission::Write) => Err(StoreError::Forbidden("该角色不能修改登记信息".into())),
                    _ => Ok(()),
                }
            }
            fn check_name(name: &str) -> StoreResult<String> {
                let n = ::xiangzhi_domain::normalize::normalize_text(name);
                if n.is_empty() {
                    return Err(StoreError::invalid("姓名/名称不能为空"));
                }
                if n.chars().count() > 100 {
                    return Err(StoreError::invalid("姓名/名称过长（最多100字）"));
                }
                Ok(n)
            }

            fn mask_id(vault: &Vault, sealed: &str) -> StoreResult<String> {
                let plain = vault.open(sealed)?;
                Ok(CitizenId::parse(&plain).map(|c| c.masked()).unwrap_or_else(|_| "******".into()))
            }
            fn mask_phone(vault: &Vault, sealed: Option<&str>) -> StoreResult<Option<String>> {
                match sealed {
                    None => Ok(None),
                    Some(s) => {
                        let plain = vault.open(s)?;
                        Ok(Some(Phone::parse(&plain).map(|p| p.masked()).unwrap_or_else(|_| "****".into())))
                    }
                }
            }

            fn person_from_row(vault: &Vault, r: &DbRow) -> StoreResult<Person> {
                let sealed: String = r.try_get("id_sealed").map_err(err)?;
                let phone: Option<String> = r.try_get("phone_sealed").map_err(err)?;
                let sex: String = r.try_get("sex").map_err(err)?;
                let relation: Option<String> = r.try_get("relation").map_err(err)?;
                let status: String = r.try_get("status").map_err(err)?;
                let org: String = r.try_get("org_code").map_err(err)?;
                let tags: String = r.try_get("tags").map_err(err)?;
                Ok(Person {
                    id: r.try_get("id").map_err(err)?,
                    name: r.try_get("name").map_err(err)?,
                    citizen_id_masked: mask_id(vault, &sealed)?,
                    sex: if sex == "male" { Sex::Male } else { Sex::Female },
                    birth_date: r.try_get("birth_date").map_err(err)?,
                    phone_masked: mask_phone(vault, phone.as_deref())?,
                    household_id: r.try_get("household_id").map_err(err)?,
                    household_no: r.try_get("household_no").map_err(err)?,
                    relation: relation.as_deref().and_then(Relation::parse),
                    status: PersonStatus::parse(&status).ok_or_else(|| bad_row("人员状态"))?,
                    org_code: code(&org)?,
                    org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                    org_name: r.try_get("org_name").map_err(err)?,
                    tags: ::serde_json::from_str(&tags).map_err(|_| bad_row("标签"))?,
                })
            }

            fn household_from_row(r: &DbRow) -> StoreResult<Household> {
                let status: String = r.try_get("status").map_err(err)?;
                let org: String = r.try_get("org_code").map_err(err)?;
                Ok(Household {
                    id: r.try_get("id").map_err(err)?,
                    household_no: r.try_get("household_no").map_err(err)?,
                    address: r.try_get("address").map_err(err)?,
                    status: HouseholdStatus::parse(&status).ok_or_else(|| bad_row("户状态"))?,
                    org_code: code(&org)?,
                    org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                    org_name: r.try_get("org_name").map_err(err)?,
                    head_id: r.try_get("head_id").map_err(err)?,
                    head_name: r.try_get("head_name").map_err(err)?,
                    member_count: r.try_get("member_count").map_err(err)?,
                })
            }

            fn enterprise_from_row(vault: &Vault, r: &DbRow) -> StoreResult<Enterprise> {
                let org: String = r.try_get("org_code").map_err(err)?;
                let phone: Option<String> = r.try_get("contact_phone_sealed").map_err(err)?;
                let capital: Option<i64> = r.try_get("registered_capital").map_err(err)?;
                Ok(Enterprise {
                    id: r.try_get("id").map_err(err)?,
                    name: r.try_get("name").map_err(err)?,
                    credit_code: r.try_get("credit_code").map_err(err)?,
                    credit_code_ok: r.try_get("credit_code_ok").map_err(err)?,
                    kind: r.try_get("kind").map_err(err)?,
                    kind_label: r.try_get("kind_label").map_err(err)?,
                    registered_capital: capital.map(Money::from_fen),
                    settled_on: r.try_get("settled_on").map_err(err)?,
                    org_code: code(&org)?,
                    org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                    org_name: r.try_get("org_name").map_err(err)?,
                    contact_name: r.try_get("contact_name").map_err(err)?,
                    contact_phone_masked: mask_phone(vault, phone.as_deref())?,
                    active: r.try_get("active").map_err(err)?,
                })
            }

            fn event_from_row(r: &DbRow) -> StoreResult<RegistryEvent> {
                let entity: String = r.try_get("entity").map_err(err)?;
                let kind: String = r.try_get("kind").map_err(err)?;
                let detail: String = r.try_get("detail").map_err(err)?;
                Ok(RegistryEvent {
                    id: r.try_get("id").map_err(err)?,
                    entity: EntityKind::parse(&entity).ok_or_else(|| bad_row("事件对象"))?,
                    entity_id: r.try_get("entity_id").map_err(err)?,
                    kind: EventKind::parse(&kind).ok_or_else(|| bad_row("事件类型"))?,
                    effective: r.try_get("effective").map_err(err)?,
                    detail: ::serde_json::from_str(&detail).unwrap_or(::serde_json::Value::Null),
                    recorded_by: r.try_get("recorded_by").map_err(err)?,
                    recorded_at: r.try_get("recorded_at").map_err(err)?,
                })
            }

            /// A person's stored state, inside a write transaction.
            struct PersonState {
                id: i64,
                name: String,
                id_sealed: String,
                household_id: Option<i64>,
                relation: Option<String>,
                status: String,
                org_code: String,
                org_path: String,
            }

            struct HouseholdState {
                id: i64,
                household_no: String,
                status: String,
                org_code: String,
                org_path: String,
            }

            impl $Store {
                async fn person_state(tx: &mut Tx, actor: &Actor, id: i64) -> StoreResult<PersonState> {
                    let r = ::sqlx::query(
                        "SELECT id, name, id_sealed, household_id, relation, status, org_code, org_path FROM persons WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(err)?
                    .ok_or(StoreError::NotFound)?;
                    let s = PersonState {
                        id: r.try_get("id").map_err(err)?,
                        name: r.try_get("name").map_err(err)?,
                        id_sealed: r.try_get("id_sealed").map_err(err)?,
                        household_id: r.try_get("household_id").map_err(err)?,
                        relation: r.try_get("relation").map_err(err)?,
                        status: r.try_get("status").map_err(err)?,
                        org_code: r.try_get("org_code").map_err(err)?,
                        org_path: r.try_get("org_path").map_err(err)?,
                    };
                    in_scope(actor, &s.org_path)?;
                    Ok(s)
                }

                async fn household_state(tx: &mut Tx, actor: &Actor, id: i64) -> StoreResult<HouseholdState> {
                    let r = ::sqlx::query("SELECT id, household_no, status, org_code, org_path FROM households WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let s = HouseholdState {
                        id: r.try_get("id").map_err(err)?,
                        household_no: r.try_get("household_no").map_err(err)?,
                        status: r.try_get("status").map_err(err)?,
                        org_code: r.try_get("org_code").map_err(err)?,
                        org_path: r.try_get("org_path").map_err(err)?,
                    };
                    in_scope(actor, &s.org_path)?;
                    Ok(s)
                }

                /// A village or grid the actor may file records under: `(code, path)`.
                async fn record_org(tx: &mut Tx, actor: &Actor, c: &DivisionCode) -> StoreResult<(String, String)> {
                    let r = ::sqlx::query("SELECT code, path, level, valid_to FROM org_units WHERE code = $1")
                        .bind(c.as_str())
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let path: String = r.try_get("path").map_err(err)?;
                    in_scope(actor, &path)?;
                    let level: String = r.try_get("level").map_err(err)?;
                    let valid_to: Option<NaiveDate> = r.try_get("valid_to").map_err(err)?;
                    if !matches!(OrgLevel::parse(&level), Some(OrgLevel::Village | OrgLevel::Grid)) || valid_to.is_some() {
                        return Err(StoreError::invalid(format!("{} 不是现行的村/社区或网格，不能登记人员或企业", c.as_str())));
                    }
                    Ok((c.as_str().to_string(), path))
                }

                async fn insert_event(
                    tx: &mut Tx,
                    actor: &Actor,
                    entity: EntityKind,
                    entity_id: i64,
                    kind: EventKind,
                    effective: NaiveDate,
                    detail: &::serde_json::Value,
                    org_path: &str,
                ) -> StoreResult<i64> {
                    let r = ::sqlx::query(
                        "INSERT INTO registry_events (entity, entity_id, kind, effective, detail, org_path, recorded_by, recorded_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    )
                    .bind(entity.as_str())
                    .bind(entity_id)
                    .bind(kind.as_str())
                    .bind(effective)
                    .bind(detail.to_string())
                    .bind(org_path)
                    .bind(&actor.username)
                    .bind(now_text())
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(err)?;
                    r.try_get("id").map_err(err)
                }

                async fn audit_registry(
                    tx: &mut Tx,
                    actor: &Actor,
                    action: &'static str,
                    entity: &'static str,
                    id: i64,
                    path: &str,
                    old: Option<::serde_json::Value>,
                    new: Option<::serde_json::Value>,
                ) -> StoreResult<()> {
                    <$Store>::audit(
                        tx,
                        actor,
                        AuditRecord {
                            action,
                            entity,
                            entity_id: id.to_string(),
                            scope_path: path.to_string(),
                            old_value: old,
                            new_value: new,
                        },
                    )
                    .await
                }

                /// Inserts one person (ID not yet registered: checked by the caller or the
                /// unique index). Returns the id.
                async fn insert_person(
                    &self,
                    tx: &mut Tx,
                    p: &NewPerson,
                    household_id: Option<i64>,
                    relation: Option<Relation>,
                    status: PersonStatus,
                    org: &(String, String),
                ) -> StoreResult<i64> {
                    let name = check_name(&p.name)?;
                    let v = self.vault();
                    let r = ::sqlx::query(
                        "INSERT INTO persons (name, id_hash, id_sealed, sex, birth_date, phone_hash, phone_sealed, household_id, \
                         relation, status, org_code, org_path, tags, created_at) \
                         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) RETURNING id",
                    )
                    .bind(&name)
                    .bind(v.lookup(p.citizen_id.as_str()))
                    .bind(v.seal(p.citizen_id.as_str()))
                    .bind(if p.citizen_id.sex() == Sex::Male { "male" } else { "female" })
                    .bind(p.citizen_id.birth_date())
                    .bind(p.phone.as_ref().map(|ph| v.lookup(ph.as_str())))
                    .bind(p.phone.as_ref().map(|ph| v.seal(ph.as_str())))
                    .bind(household_id)
                    .bind(relation.map(Relation::as_str))
                    .bind(status.as_str())
                    .bind(&org.0)
                    .bind(&org.1)
                    .bind(registry_plan::tags_json(&p.tags))
                    .bind(now_text())
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(|e| match err(e) {
                        StoreError::Conflict(_) => StoreError::Conflict("该身份证号已登记，不能重复登记".into()),
                        other => other,
                    })?;
                    r.try_get("id").map_err(err)
                }

                fn person_audit_value(p: &NewPerson, org: &str, household_id: Option<i64>, relation: Option<Relation>) -> ::serde_json::Value {
                    ::serde_json::json!({
                        "name": p.name,
                        "citizen_id": p.citizen_id.masked(),
                        "phone": p.phone.as_ref().map(|x| x.masked()),
                        "household_id": household_id,
                        "relation": relation.map(Relation::as_str),
                        "org": org,
                        "tags": p.tags,
                    })
                }

                async fn refuse_known_id(&self, actor: &Actor, id: &CitizenId) -> StoreResult<()> {
                    match $crate::registry::RegistryStore::citizen_id_owner(self, &actor.scope, id).await? {
                        IdOwner::Nobody => Ok(()),
                        IdOwner::InScope { person_id, name } => Err(StoreError::Conflict(format!(
                            "身份证号 {} 已登记为“{name}”（人员编号 {person_id}），不能重复登记",
                            id.masked()
                        ))),
                        IdOwner::Elsewhere => Err(StoreError::Conflict(format!(
                            "身份证号 {} 已在其他地区登记，不能重复登记；如属迁入，请由原地办理迁出",
                            id.masked()
                        ))),
                    }
                }

                async fn events_of(&self, entity: EntityKind, id: i64) -> StoreResult<Vec<RegistryEvent>> {
                    let rows = ::sqlx::query(
                        "SELECT id, entity, entity_id, kind, effective, detail, recorded_by, recorded_at FROM registry_events \
                         WHERE entity = $1 AND entity_id = $2 ORDER BY effective, id",
                    )
                    .bind(entity.as_str())
                    .bind(id)
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?;
                    rows.iter().map(event_from_row).collect()
                }

                /// Sets a person's household and relation, with one event on the person.
                async fn move_member(
                    tx: &mut Tx,
                    actor: &Actor,
                    p: &PersonState,
                    household: &HouseholdState,
                    relation: Relation,
                    kind: EventKind,
                    date: NaiveDate,
                ) -> StoreResult<i64> {
                    ::sqlx::query("UPDATE persons SET household_id = $1, relation = $2 WHERE id = $3")
                        .bind(household.id)
                        .bind(relation.as_str())
                        .bind(p.id)
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                    <$Store>::insert_event(
                        tx,
                        actor,
                        EntityKind::Person,
                        p.id,
                        kind,
                        date,
                        &::serde_json::json!({
                            "from_household": p.household_id,
                            "household_id": household.id,
                            "household_no": household.household_no,
                            "relation": relation.as_str(),
                        }),
                        &p.org_path,
                    )
                    .await
                }

                async fn life_event_in_tx(&self, tx: &mut Tx, actor: &Actor, event: LifeEvent) -> StoreResult<(Vec<i64>, &'static str, String, ::serde_json::Value)> {
                    let mut ids = Vec::new();
                    match event {
                        LifeEvent::Birth { household_id, person, date } => {
                            let h = <$Store>::household_state(tx, actor, household_id).await?;
                            if h.status != HouseholdStatus::Active.as_str() {
                                return Err(StoreError::invalid("该户已合并或注销"));
                            }
                            if person.citizen_id.birth_date() != date {
                                return Err(StoreError::invalid(format!(
                                    "出生日期{date}与身份证号中的出生日期{}不一致",
                                    person.citizen_id.birth_date()
                                )));
                            }
                            let org = match &person.org_code {
                                Some(c) => <$Store>::record_org(tx, actor, c).await?,
                                None => (h.org_code.clone(), h.org_path.clone()),
                            };
                            let relation = person.relation.unwrap_or(Relation::Child);
                            let pid = self.insert_person(tx, &person, Some(h.id), Some(relation), PersonStatus::Registered, &org).await?;
                            let detail = ::serde_json::json!({"household_id": h.id, "household_no": h.household_no, "name": person.name});
                            ids.push(<$Store>::insert_event(tx, actor, EntityKind::Person, pid, EventKind::Birth, date, &detail, &org.1).await?);
                            ids.push(<$Store>::insert_event(tx, actor, EntityKind::Household, h.id, EventKind::Birth, date, &::serde_json::json!({"person_id": pid, "name": person.name}), &h.org_path).await?);
                            let audit = <$Store>::person_audit_value(&person, &org.0, Some(h.id), Some(relation));
                            Ok((ids, "birth", org.1, ::serde_json::json!({"person_id": pid, "person": audit, "date": date})))
                        }
                        LifeEvent::MoveIn { household_id, person, date, from } => {
                            let h = <$Store>::household_state(tx, actor, household_id).await?;
                            if h.status != HouseholdStatus::Active.as_str() {
                                return Err(StoreError::invalid("该户已合并或注销"));
                            }
                            let org = match &person.org_code {
                                Some(c) => <$Store>::record_org(tx, actor, c).await?,
                                None => (h.org_code.clone(), h.org_path.clone()),
                            };
                            let relation = person.relation.unwrap_or(Relation::Other);
                            let hash = self.vault().lookup(person.citizen_id.as_str());
                            let existing = ::sqlx::query("SELECT id, status, org_path FROM persons WHERE id_hash = $1")
                                .bind(&hash)
                                .fetch_optional(&mut **tx)
                                .await
                                .map_err(err)?;
                            let pid = match existing {
                                None => self.insert_person(tx, &person, Some(h.id), Some(relation), PersonStatus::Registered, &org).await?,
                                Some(r) => {
                                    // A record that moved out earlier comes back; anyone else is a duplicate.
                                    let status: String = r.try_get("status").map_err(err)?;
                                    if status != PersonStatus::MovedOut.as_str() {
                                        drop(r);
                                        self.refuse_known_id(actor, &person.citizen_id).await?;
                                        return Err(StoreError::Conflict("该身份证号已登记".into()));
                                    }
                                    let pid: i64 = r.try_get("id").map_err(err)?;
                                    ::sqlx::query("UPDATE persons SET status = $1, household_id = $2, relation = $3, org_code = $4, org_path = $5 WHERE id = $6")
                                        .bind(PersonStatus::Registered.as_str())
                                        .bind(h.id)
                                        .bind(relation.as_str())
                                        .bind(&org.0)
                                        .bind(&org.1)
                                        .bind(pid)
                                        .execute(&mut **tx)
                                        .await
                                        .map_err(err)?;
                                    pid
                                }
                            };
                            let detail = ::serde_json::json!({"household_id": h.id, "household_no": h.household_no, "from": from, "relation": relation.as_str()});
                            ids.push(<$Store>::insert_event(tx, actor, EntityKind::Person, pid, EventKind::MoveIn, date, &detail, &org.1).await?);
                            ids.push(<$Store>::insert_event(tx, actor, EntityKind::Household, h.id, EventKind::MoveIn, date, &::serde_json::json!({"person_id": pid, "name": person.name, "from": from}), &h.org_path).await?);
                            let audit = <$Store>::person_audit_value(&person, &org.0, Some(h.id), Some(relation));
                            Ok((ids, "move_in", org.1, ::serde_json::json!({"person_id": pid, "person": audit, "date": date, "from": from})))
                        }
                        LifeEvent::Death { person_id, date, note } => {
                            self.leave(tx, actor, person_id, date, PersonStatus::Deceased, EventKind::Death, ::serde_json::json!({"note": note})).await
                        }
                        LifeEvent::MoveOut { person_id, date, to } => {
                            self.leave(tx, actor, person_id, date, PersonStatus::MovedOut, EventKind::MoveOut, ::serde_json::json!({"to": to})).await
                        }
                        LifeEvent::Marriage { person_id, spouse_id, date, join_household } => {
                            if person_id == spouse_id {
                                return Err(StoreError::invalid("结婚双方不能是同一人"));
                            }
                            let a = <$Store>::person_state(tx, actor, person_id).await?;
                            let b = <$Store>::person_state(tx, actor, spouse_id).await?;
                            for p in [&a, &b] {
                                if p.status != PersonStatus::Registered.as_str() {
                                    return Err(StoreError::invalid(format!("“{}”不在册，不能登记结婚", p.name)));
                                }
                            }
                            ids.push(<$Store>::insert_event(tx, actor, EntityKind::Person, a.id, EventKind::Marriage, date, &::serde_json::json!({"spouse_id": b.id, "spouse": b.name}), &a.org_path).await?);
                            ids.push(<$Store>::insert_event(tx, actor, EntityKind::Person, b.id, EventKind::Marriage, date, &::serde_json::json!({"spouse_id": a.id, "spouse": a.name}), &b.org_path).await?);
                            if join_household {
                                let hid = a.household_id.ok_or_else(|| StoreError::invalid(format!("“{}”尚未入户，无法随迁", a.name)))?;
                                let h = <$Store>::household_state(tx, actor, hid).await?;
                                let rel = if a.relation.as_deref() == Some(Relation::Head.as_str()) { Relation::Spouse } else { Relation::Other };
                                ids.push(<$Store>::move_member(tx, actor, &b, &h, rel, EventKind::MoveIn, date).await?);
                                ::sqlx::query("UPDATE persons SET org_code = $1, org_path = $2 WHERE id = $3")
                                    .bind(&h.org_code).bind(&h.org_path).bind(b.id)
                                    .execute(&mut **tx).await.map_err(err)?;
                            }
                            Ok((ids, "marriage", a.org_path.clone(), ::serde_json::json!({"person_id": a.id, "spouse_id": b.id, "date": date, "join_household": join_household})))
                        }
                        LifeEvent::Split { household_id, members, new_head, new_household, date } => {
                            if members.is_empty() {
                                return Err(StoreError::invalid("分户须至少选择一名成员"));
                            }
                            let old = <$Store>::household_state(tx, actor, household_id).await?;
                            if old.status != HouseholdStatus::Active.as_str() {
                                return Err(StoreError::invalid("该户已合并或注销"));
                            }
                            let new_id = self.insert_household(tx, actor, &new_household).await?;
                            let new = <$Store>::household_state(tx, actor, new_id).await?;
                            let head = new_head.unwrap_or(members[0]);
                            if !members.contains(&head) {
                                return Err(StoreError::invalid("新户主须是分出的成员之一"));
                            }
                            for m in &members {
                                let p = <$Store>::person_state(tx, actor, *m).await?;
                                if p.household_id != Some(old.id) || p.status != PersonStatus::Registered.as_str() {
                                    return Err(StoreError::invalid(format!("“{}”不是该户的在册成员", p.name)));
                                }
                                let rel = if *m == head { Relation::Head } else { Relation::Other };
                                ids.push(<$Store>::move_member(tx, actor, &p, &new, rel, EventKind::Split, date).await?);
                            }
                            let d = ::serde_json::json!({"from_household": old.id, "from_no": old.household_no, "to_household": new.id, "to_no": new.household_no, "members": members});
                            ids.push(<$Store>::insert_event(tx, actor, EntityKind::Household, old.id, EventKind::Split, date, &d, &old.org_path).await?);
                            ids.push(<$Store>::insert_event(tx, actor, EntityKind::Household, new.id, EventKind::Split, date, &d, &new.org_path).await?);
                            self.close_if_empty(tx, actor, &old, date).await?;
                            Ok((ids, "split", old.org_path.clone(), d))
                        }
                        LifeEvent::Merge { from_id, into_id, date } => {
                            if from_id == into_id {
                                return Err(StoreError::invalid("不能与本户合并"));
                            }
                            let from = <$Store>::household_state(tx, actor, from_id).await?;
                            let into = <$Store>::household_state(tx, actor, into_id).await?;
                            for h in [&from, &into] {
                                if h.status != HouseholdStatus::Active.as_str() {
                                    return Err(StoreError::invalid(format!("户号 {} 已合并或注销", h.household_no)));
                                }
                            }
                            let members: Vec<i64> = ::sqlx::query("SELECT id FROM persons WHERE household_id = $1 AND status = $2 ORDER BY id")
                                .bind(from.id)
                                .bind(PersonStatus::Registered.as_str())
                                .fetch_all(&mut **tx)
                                .await
                                .map_err(err)?
                                .iter()
                                .map(|r| r.try_get::<i64, _>("id"))
                                .collect::<Result<_, _>>()
                                .map_err(err)?;
                            for m in &members {
                                let p = <$Store>::person_state(tx, actor, *m).await?;
                                ids.push(<$Store>::move_member(tx, actor, &p, &into, Relation::Other, EventKind::Merge, date).await?);
                            }
                            ::sqlx::query("UPDATE households SET status = $1 WHERE id = $2")
                                .bind(HouseholdStatus::Merged.as_str())
                                .bind(from.id)
                                .execute(&mut **tx)
                                .await
                                .map_err(err)?;
                            let d = ::serde_json::json!({"from_household": from.id, "from_no": from.household_no, "into_household": into.id, "into_no": into.household_no, "members": members});
                            ids.push(<$Store>::insert_event(tx, actor, EntityKind::Household, from.id, EventKind::Merge, date, &d, &from.org_path).await?);
                            ids.push(<$Store>::insert_event(tx, actor, EntityKind::Household, into.id, EventKind::Merge, date, &d, &into.org_path).await?);
                            Ok((ids, "merge", into.org_path.clone(), d))
                        }
                        LifeEvent::ChangeHead { household_id, new_head, old_head_relation, date } => {
                            if old_head_relation == Relation::Head {
                                return Err(StoreError::invalid("原户主的新关系不能仍是户主"));
                            }
                            let h = <$Store>::household_state(tx, actor, household_id).await?;
                            let p = <$Store>::person_state(tx, actor, new_head).await?;
                            if p.household_id != Some(h.id) || p.status != PersonStatus::Registered.as_str() {
                                return Err(StoreError::invalid(format!("“{}”不是该户的在册成员", p.name)));
                            }
                            let old_heads: Vec<i64> = ::sqlx::query("SELECT id FROM persons WHERE household_id = $1 AND relation = $2 AND id <> $3")
                                .bind(h.id)
                                .bind(Relation::Head.as_str())
                                .bind(p.id)
                                .fetch_all(&mut **tx)
                                .await
                                .map_err(err)?
                                .iter()
                                .map(|r| r.try_get::<i64, _>("id"))
                                .collect::<Result<_, _>>()
                                .map_err(err)?;
                            ::sqlx::query("UPDATE persons SET relation = $1 WHERE household_id = $2 AND relation = $3 AND id <> $4")
                                .bind(old_head_relation.as_str())
                                .bind(h.id)
                                .bind(Relation::Head.as_str())
                                .bind(p.id)
                                .execute(&mut **tx)
                                .await
                                .map_err(err)?;
                            ::sqlx::query("UPDATE persons SET relation = $1 WHERE id = $2")
                                .bind(Relation::Head.as_str())
                                .bind(p.id)
                                .execute(&mut **tx)
                                .await
                                .map_err(err)?;
                            let d = ::serde_json::json!({"new_head": p.id, "new_head_name": p.name, "old_heads": old_heads, "old_head_relation": old_head_relation.as_str()});
                            ids.push(<$Store>::insert_event(tx, actor, EntityKind::Household, h.id, EventKind::ChangeHead, date, &d, &h.org_path).await?);
                            ids.push(<$Store>::insert_event(tx, actor, EntityKind::Person, p.id, EventKind::ChangeHead, date, &d, &p.org_path).await?);
                            for o in &old_heads {
                                ids.push(<$Store>::insert_event(tx, actor, EntityKind::Person, *o, EventKind::ChangeHead, date, &d, &h.org_path).await?);
                            }
                            Ok((ids, "change_head", h.org_path.clone(), d))
                        }
                    }
                }

                /// Death or move-out: the status changes, the person stays on the household's
                /// record; an emptied household is closed.
                async fn leave(
                    &self,
                    tx: &mut Tx,
                    actor: &Actor,
                    person_id: i64,
                    date: NaiveDate,
                    status: PersonStatus,
                    kind: EventKind,
                    detail: ::serde_json::Value,
                ) -> StoreResult<(Vec<i64>, &'static str, String, ::serde_json::Value)> {
                    let p = <$Store>::person_state(tx, actor, person_id).await?;
                    if p.status != PersonStatus::Registered.as_str() {
                        return Err(StoreError::invalid(format!("“{}”已不在册", p.name)));
                    }
                    ::sqlx::query("UPDATE persons SET status = $1 WHERE id = $2")
                        .bind(status.as_str())
                        .bind(p.id)
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                    let mut ids = vec![<$Store>::insert_event(tx, actor, EntityKind::Person, p.id, kind, date, &detail, &p.org_path).await?];
                    if let Some(hid) = p.household_id {
                        let h = <$Store>::household_state(tx, actor, hid).await?;
                        ids.push(<$Store>::insert_event(tx, actor, EntityKind::Household, h.id, kind, date, &::serde_json::json!({"person_id": p.id, "name": p.name}), &h.org_path).await?);
                        self.close_if_empty(tx, actor, &h, date).await?;
                    }
                    let d = ::serde_json::json!({"person_id": p.id, "name": p.name, "date": date, "status": [p.status, status.as_str()], "detail": detail});
                    Ok((ids, kind.as_str(), p.org_path.clone(), d))
                }

                async fn close_if_empty(&self, tx: &mut Tx, actor: &Actor, h: &HouseholdState, date: NaiveDate) -> StoreResult<()> {
                    let n: i64 = ::sqlx::query("SELECT COUNT(*) AS n FROM persons WHERE household_id = $1 AND status = $2")
                        .bind(h.id)
                        .bind(PersonStatus::Registered.as_str())
                        .fetch_one(&mut **tx)
                        .await
                        .and_then(|r| r.try_get("n"))
                        .map_err(err)?;
                    if n == 0 {
                        ::sqlx::query("UPDATE households SET status = $1 WHERE id = $2")
                            .bind(HouseholdStatus::Dissolved.as_str())
                            .bind(h.id)
                            .execute(&mut **tx)
                            .await
                            .map_err(err)?;
                        <$Store>::insert_event(tx, actor, EntityKind::Household, h.id, EventKind::Close, date, &::serde_json::json!({"reason": "无在册成员"}), &h.org_path).await?;
                    }
                    Ok(())
                }

                async fn insert_household(&self, tx: &mut Tx, actor: &Actor, h: &NewHousehold) -> StoreResult<i64> {
                    let no = ::xiangzhi_domain::normalize::normalize_compact(&h.household_no);
                    if no.is_empty() || no.chars().count() > 32 {
                        return Err(StoreError::invalid("户号不能为空，且不超过32个字符"));
                    }
                    let org = <$Store>::record_org(tx, actor, &h.org_code).await?;
                    let address = ::xiangzhi_domain::normalize::normalize_text(&h.address);
                    let r = ::sqlx::query(
                        "INSERT INTO households (household_no, address, status, org_code, org_path, created_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
                    )
                    .bind(&no)
                    .bind(&address)
                    .bind(HouseholdStatus::Active.as_str())
                    .bind(&org.0)
                    .bind(&org.1)
                    .bind(now_text())
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(|e| match err(e) {
                        StoreError::Conflict(_) => StoreError::Conflict(format!("户号“{no}”已存在")),
                        other => other,
                    })?;
                    let id: i64 = r.try_get("id").map_err(err)?;
                    <$Store>::insert_event(tx, actor, EntityKind::Household, id, EventKind::Register, Utc::now().date_naive(), &::serde_json::json!({"household_no": no, "address": address}), &org.1).await?;
                    <$Store>::audit_registry(tx, actor, "create", "household", id, &org.1, None, Some(::serde_json::json!({"household_no": no, "address": address, "org": org.0}))).await?;
                    Ok(id)
                }

                async fn kind_code(&self, kind: &str) -> StoreResult<String> {
                    let r = ::sqlx::query("SELECT code FROM enterprise_kinds WHERE code = $1 OR label = $2")
                        .bind(kind.trim())
                        .bind(kind.trim())
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?;
                    match r {
                        Some(r) => r.try_get("code").map_err(err),
                        None => Err(StoreError::invalid(format!("企业类型“{}”未配置", kind.trim()))),
                    }
                }

                fn enterprise_value(e: &NewEnterprise, kind: &str) -> ::serde_json::Value {
                    ::serde_json::json!({
                        "name": e.name,
                        "credit_code": e.credit_code.as_str(),
                        "kind": kind,
                        "registered_capital": e.registered_capital,
                        "settled_on": e.settled_on,
                        "org": e.org_code.as_str(),
                        "contact_name": e.contact_name,
                        "contact_phone": e.contact_phone.as_ref().map(|p| p.masked()),
                    })
                }

                /// Units under `org` that records may be filed under, by code.
                async fn import_orgs(&self, actor: &Actor, org: &DivisionCode) -> StoreResult<(OrgPath, $crate::sql_registry::FastMap<String, OrgRef>)> {
                    let root = $crate::Store::org_unit(self, &actor.scope, org).await?.path;
                    let rows = ::sqlx::query("SELECT code, path, level FROM org_units WHERE path >= $1 AND path < $2 AND valid_to IS NULL")
                        .bind(root.as_str())
                        .bind(root.upper_bound())
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                    let mut map = $crate::sql_registry::FastMap::default();
                    for r in &rows {
                        let level: String = r.try_get("level").map_err(err)?;
                        if matches!(OrgLevel::parse(&level), Some(OrgLevel::Village | OrgLevel::Grid)) {
                            let code: String = r.try_get("code").map_err(err)?;
                            map.insert(code.clone(), OrgRef { code, path: r.try_get("path").map_err(err)? });
                        }
                    }
                    Ok((root, map))
                }

                /// Of `keys` (repeats allowed), those `column` of `table` holds, each once: when
                /// the file is large beside the table, one scan of the column's unique index beats
                /// a lookup per key (a first import of 600,000 people into a township's 26,000
                /// asked 75 queries of 8,000).
                async fn stored_keys<'k>(&self, table: &str, entity: &str, column: &str, keys: &[&'k str]) -> StoreResult<Vec<&'k str>> {
                    use $crate::sql_registry::FastSet;
                    // the kept tallies count every row (each status), without a scan
                    let stored: i64 = ::sqlx::query("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM registry_tallies WHERE entity = $1")
                        .bind(entity)
                        .fetch_one(self.read()).await.and_then(|r| r.try_get("n")).map_err(err)?;
                    let stored = stored.max(0) as usize;
                    if stored > keys.len() * 2 {
                        let distinct: FastSet<&str> = keys.iter().copied().collect();
                        return Ok(distinct.into_iter().collect());
                    }
                    use ::futures_util::TryStreamExt as _;
                    let sql = q(format!("SELECT {column} AS k FROM {table}"));
                    let mut rows = ::sqlx::query(sql).fetch(self.read());
                    let mut found: FastSet<&str> = FastSet::default();
                    if stored < keys.len() {
                        // the smaller side goes in the set: hashing a county's 680,000 keys to
                        // probe a township's rows took longer than the scan
                        let mut held: FastSet<String> = FastSet::with_capacity_and_hasher(stored, Default::default());
                        while let Some(r) = rows.try_next().await.map_err(err)? {
                            held.insert(r.try_get("k").map_err(err)?);
                        }
                        if !held.is_empty() {
                            found.extend(keys.iter().copied().filter(|k| held.contains(*k)));
                        }
                    } else {
                        let wanted: FastSet<&str> = keys.iter().copied().collect();
                        while let Some(r) = rows.try_next().await.map_err(err)? {
                            let k: &str = r.try_get("k").map_err(err)?;
                            if let Some(hit) = wanted.get(k) {
                                found.insert(*hit);
                            }
                        }
                    }
                    Ok(found.into_iter().collect())
                }

                async fn existing_persons(&self, hashes: &[&str]) -> StoreResult<HashMap<String, ExistingPerson>> {
                    let mut out = HashMap::new();
                    let hashes = self.stored_keys("persons", "person", "id_hash", hashes).await?;
                    for chunk in hashes.chunks(8000) {
                        let mut b = ::sqlx::QueryBuilder::<$DB>::new(
                            "SELECT id, id_hash, name, phone_hash, household_id, relation, status, org_code, org_path, tags FROM persons WHERE id_hash IN (",
                        );
                        let mut sep = b.separated(", ");
                        for h in chunk {
                            sep.push_bind(h.to_string());
                        }
                        b.push(")");
                        for r in b.build().fetch_all(self.read()).await.map_err(err)? {
                            out.insert(
                                r.try_get("id_hash").map_err(err)?,
                                ExistingPerson {
                                    id: r.try_get("id").map_err(err)?,
                                    name: r.try_get("name").map_err(err)?,
                                    phone_hash: r.try_get("phone_hash").map_err(err)?,
                                    household_id: r.try_get("household_id").map_err(err)?,
                                    relation: r.try_get("relation").map_err(err)?,
                                    status: r.try_get("status").map_err(err)?,
                                    org_code: r.try_get("org_code").map_err(err)?,
                                    org_path: r.try_get("org_path").map_err(err)?,
                                    tags: r.try_get("tags").map_err(err)?,
                                },
                            );
                        }
                    }
                    Ok(out)
                }

                async fn existing_households(&self, nos: &[&str]) -> StoreResult<HashMap<String, ExistingHousehold>> {
                    let mut out = HashMap::new();
                    let nos = self.stored_keys("households", "household", "household_no", nos).await?;
                    for chunk in nos.chunks(8000) {
                        let mut b = ::sqlx::QueryBuilder::<$DB>::new(
                            "SELECT id, household_no, address, org_code, org_path, status FROM households WHERE household_no IN (",
                        );
                        let mut sep = b.separated(", ");
                        for h in chunk {
                            sep.push_bind(h.to_string());
                        }
                        b.push(")");
                        for r in b.build().fetch_all(self.read()).await.map_err(err)? {
                            out.insert(
                                r.try_get("household_no").map_err(err)?,
                                ExistingHousehold {
                                    id: r.try_get("id").map_err(err)?,
                                    address: r.try_get("address").map_err(err)?,
                                    org_code: r.try_get("org_code").map_err(err)?,
                                    org_path: r.try_get("org_path").map_err(err)?,
                                    status: r.try_get("status").map_err(err)?,
                                },
                            );
                        }
                    }
                    Ok(out)
                }

                /// Narrows a scope to an org unit inside it (for `org_code` filters).
                async fn narrowed(&self, scope: &Scope, org: Option<&DivisionCode>) -> StoreResult<OrgPath> {
                    match org {
                        None => Ok(scope.path.clone()),
                        Some(c) => Ok($crate::Store::org_unit(self, scope, c).await?.path),
                    }
                }

                /// The name a search looks for: the query unless it is a full citizen ID or a phone.
                fn name_query(query: &PersonQuery) -> Option<String> {
                    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty())?;
                    if CitizenId::parse(q).is_ok() || Self::phone_query(q).is_some() {
                        return None;
                    }
                    Some(::xiangzhi_domain::normalize::normalize_text(q))
                }

                fn phone_query(q: &str) -> Option<Phone> {
                    Phone::parse(q).ok().filter(|_| q.chars().filter(char::is_ascii_digit).count() >= 7)
                }

                /// Names compare bytewise on both backends (SQLite's BINARY; "C" on PostgreSQL),
                /// so a name prefix is a range of the name index.
                fn name_collate() -> &'static str {
                    if <$Store>::BACKEND == "postgres" { " COLLATE \"C\"" } else { "" }
                }

                /// `off_path_index`: the caller reads a page in id or name order. Driven by the
                /// path index, the planner would read and sort every person of the scope first
                /// (over a second for 600,000); walking by id (or the name index for a name
                /// search) stops at the first page of matches. `|| ''` keeps the path test (and
                /// its collation) but takes it off the index. Counts keep the index, which
                /// covers them. A name matches from its start (张 finds 张三), which the name
                /// index answers as a range instead of a scan of every name.
                fn person_filters(&self, b: &mut ::sqlx::QueryBuilder<$DB>, path: &OrgPath, query: &PersonQuery, off_path_index: bool) {
                    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
                    let path_col = if off_path_index { "p.org_path || ''" } else { "p.org_path" };
                    b.push(format!(" WHERE {path_col} >= ")).push_bind(path.as_str().to_string());
                    b.push(format!(" AND {path_col} < ")).push_bind(path.upper_bound());
                    if let Some(q) = q {
                        if let Ok(id) = CitizenId::parse(q) {
                            b.push(" AND p.id_hash = ").push_bind(self.vault().lookup(id.as_str()));
                        } else if let Some(ph) = Self::phone_query(q) {
                            b.push(" AND p.phone_hash = ").push_bind(self.vault().lookup(ph.as_str()));
                        } else if let Some(n) = Self::name_query(query) {
                            let c = Self::name_collate();
                            b.push(format!(" AND p.name{c} >= ")).push_bind(n.clone());
                            b.push(format!(" AND p.name{c} < ")).push_bind(format!("{n}\u{10FFFF}"));
                        }
                    }
                    if let Some(s) = query.status {
                        b.push(" AND p.status = ").push_bind(s.as_str());
                    }
                    if let Some(t) = &query.tag {
                        b.push(" AND p.tags LIKE ").push_bind(format!("%\"tag\":\"{}\"%", like_escape(t.trim())));
                        b.push(" ESCAPE '\\'");
                    }
                    if let Some(h) = query.household_id {
                        b.push(" AND p.household_id = ").push_bind(h);
                    }
                }

                /// Writes the plan `make_plan` returns, with `new_households`, in one transaction;
                /// `inserts` is how many people it is expected to insert. The plan comes back with
                /// whether it was written: one with issues, or with nothing to write, is not.
                #[allow(clippy::too_many_arguments)]
                async fn write_import_persons<'p>(
                    &self,
                    actor: &Actor,
                    org: &DivisionCode,
                    root: &OrgPath,
                    rows: &'p [PersonImportRow],
                    new_households: &[registry_plan::NewHouseholdPlan<'p>],
                    inserts: usize,
                    make_plan: impl FnOnce() -> registry_plan::PersonPlan<'p> + Send,
                    t: &mut $crate::timing::Phases,
                ) -> StoreResult<(registry_plan::PersonPlan<'p>, bool)> {
                    // A bulk load on SQLite: keep the secondary indexes and the tally triggers out
                    // of the way and rebuild them afterwards (in the same transaction), and insert
                    // in id-hash order so the unique index grows at its end. Random-order index
                    // inserts are what made a 600,000-row load take 25 s instead of a few.
                    let bulk = <$Store>::BACKEND == "sqlite" && {
                        let stored = $crate::registry::RegistryStore::registry_counts(self, &Scope::all()).await?;
                        let stored = stored.persons_registered + stored.persons_deceased + stored.persons_moved_out;
                        inserts >= BULK_ROWS || (inserts >= BULK_MIN_ROWS && inserts as i64 >= stored)
                    };
                    let large = bulk && inserts >= BULK_ROWS;
                    let mode = self.bulk_begin(large).await?;
                    let cache_kib = <$Store>::bulk_cache_kib(mode);
                    let rebuild = <$Store>::index_rebuild_pragmas(mode);
                    let written = self.write_import_persons_tx(actor, org, root, rows, new_households, make_plan, bulk, large, cache_kib, rebuild, t).await;
                    // The connection goes back to how it was whether or not the load committed.
                    // If it cannot, bulk_end has closed it and every new connection opens in WAL
                    // with foreign keys on: the load's own outcome is what the caller is told.
                    if let Err(e) = self.bulk_end(mode).await {
                        ::tracing::warn!("批量导入后未能恢复数据库连接设置（连接已关闭）：{e}");
                    }
                    let (plan, committed) = written?;
                    if committed && <$Store>::BACKEND == "postgres" && plan.inserts.len() >= BULK_MIN_ROWS {
                        // A bulk load changes the tables at once; until autovacuum analyzes them
                        // the planner reads households' members by sequential scans (a page of
                        // 669 households took 1.3 s after the demo's load).
                        let mut tx = self.begin_write().await?;
                        ::sqlx::query("ANALYZE persons, households").execute(&mut *tx).await.map_err(err)?;
                        tx.commit().await.map_err(err)?;
                        t.mark("analyze");
                    }
                    Ok((plan, committed))
                }

                #[allow(clippy::too_many_arguments)]
                async fn write_import_persons_tx<'p>(
                    &self,
                    actor: &Actor,
                    org: &DivisionCode,
                    root: &OrgPath,
                    rows: &'p [PersonImportRow],
                    new_households: &[registry_plan::NewHouseholdPlan<'p>],
                    make_plan: impl FnOnce() -> registry_plan::PersonPlan<'p> + Send,
                    bulk: bool,
                    large: bool,
                    cache_kib: Option<i64>,
                    rebuild: &[&str],
                    t: &mut $crate::timing::Phases,
                ) -> StoreResult<(registry_plan::PersonPlan<'p>, bool)> {
                    let vault = self.vault();
                    let created = now_text();
                    let today = Utc::now().date_naive();
                    let mut tx = self.begin_write().await?;
                    t.mark("begin");
                    // Pages are taken as needed, so a small import stays small (see
                    // bulk_cache_kib for the sizes; PostgreSQL has none to set)
                    if let Some(kib) = cache_kib {
                        ::sqlx::query(q(format!("PRAGMA cache_size = -{kib}"))).execute(&mut *tx).await.map_err(err)?;
                    }
                    if bulk {
                        for (name, _) in TALLY_INSERT_TRIGGERS {
                            ::sqlx::query(q(format!("DROP TRIGGER IF EXISTS {name}"))).execute(&mut *tx).await.map_err(err)?;
                        }
                        for (name, _) in PERSON_INDEXES {
                            ::sqlx::query(q(format!("DROP INDEX IF EXISTS {name}"))).execute(&mut *tx).await.map_err(err)?;
                        }
                        t.mark("drop_indexes");
                    }
                    let active = HouseholdStatus::Active.as_str();
                    // A large load writes its new households in 户号 order: the unique index on
                    // it then grows at its end. In file order every insert searched it, 0.44 s
                    // of one core for a county's 200,000 against 0.16 (sqlite3, user time).
                    let mut hh_order: Vec<usize> = (0..new_households.len()).collect();
                    if large {
                        hh_order.sort_unstable_by_key(|k| new_households[*k].household_no);
                    }
                    let mut values: Vec<Val<'_>> = Vec::with_capacity(new_households.len() * bulk::HOUSEHOLDS.width());
                    for h in hh_order.iter().map(|k| &new_households[*k]) {
                        values.extend([
                            Val::Text(&h.household_no),
                            Val::Text(&h.address),
                            Val::Text(active),
                            Val::Text(&h.org_code),
                            Val::Text(&h.org_path),
                            Val::Text(&created),
                        ]);
                    }
                    // The people are planned (when the caller has not yet) on another core while
                    // the households go in: a plan with issues then rolls them back. Only a
                    // large load pays for id-hash order: a smaller one (the demo's township)
                    // keeps row order, so its person ids follow the file.
                    let plan_and_order = move || {
                        let mut plan = make_plan();
                        let order = if bulk && plan.issues.is_empty() && plan.inserts.len() >= BULK_ROWS {
                            ::std::mem::take(&mut plan.hash_order)
                        } else {
                            (0..plan.inserts.len()).collect()
                        };
                        (plan, order)
                    };
                    let (ids, (plan, order)) = <$Store>::bulk_insert_while(&mut tx, &bulk::HOUSEHOLDS, &values, true, plan_and_order).await?;
                    drop(values);
                    // the new ids by position in new_households, as the plan refers to them
                    let mut new_ids = vec![0i64; new_households.len()];
                    for (k, id) in hh_order.iter().zip(ids) {
                        new_ids[*k] = id;
                    }
                    t.mark("insert_households");
                    if !plan.issues.is_empty() || (plan.inserts.is_empty() && plan.updates.is_empty()) {
                        tx.rollback().await.map_err(err)?;
                        return Ok((plan, false));
                    }
                    let hh_id = |h: &HouseholdRef| -> Option<i64> {
                        match h {
                            HouseholdRef::None => None,
                            HouseholdRef::Existing(id) => Some(*id),
                            HouseholdRef::New(k) => new_ids.get(*k).copied(),
                        }
                    };
                    // The rows are packed (gathered in id-hash order, their ID and phone sealed)
                    // on another core while the writer inserts the part before: the writer then
                    // reads each part front to back, and the sealing costs it nothing.
                    let sealer = vault.sealer();
                    let part_rows = $crate::sql_registry::PERSON_PART_ROWS;
                    let fill = |k: usize, out: &mut $crate::bulk::Packed| {
                        let part = &order[k * part_rows..((k + 1) * part_rows).min(order.len())];
                        for (j, i) in part.iter().enumerate() {
                            // a few rows ahead, as each load gives the address of the next
                            // (see bulk::prefetch)
                            if let Some(a) = part.get(j + 16) {
                                $crate::bulk::prefetch(&plan.inserts[*a]);
                            }
                            if let Some(a) = part.get(j + 8) {
                                $crate::bulk::prefetch(&rows[plan.inserts[*a].row]);
                            }
                            if let Some(a) = part.get(j + 4) {
                                let r = &rows[plan.inserts[*a].row];
                                $crate::bulk::prefetch(r.citizen_id.as_str().as_ptr());
                                $crate::bulk::prefetch(r.name.as_ptr());
                            }
                            let p = &plan.inserts[*i];
                            let row = &rows[p.row];
                            out.text(&row.name);
                            out.text(&p.id_hash);
                            out.write(|t| sealer.seal_into(row.citizen_id.as_str(), t));
                            out.text(if row.citizen_id.sex() == Sex::Male { "male" } else { "female" });
                            out.date(row.citizen_id.birth_date());
                            out.opt_text(p.phone_hash.as_deref());
                            match &row.phone {
                                Some(ph) => out.write(|t| sealer.seal_into(ph.as_str(), t)),
                                None => out.null(),
                            }
                            out.int(hh_id(&p.household));
                            out.opt_text(p.relation);
                            out.text(p.status);
                            out.text(&p.org_code);
                            out.text(&p.org_path);
                            out.text(&p.tags);
                            out.text(&created);
                        }
                    };
                    <$Store>::bulk_insert_packed(&mut tx, &bulk::PERSONS, order.len().div_ceil(part_rows), fill).await.map_err(|e| match e {
                        StoreError::Conflict(_) => StoreError::Conflict("该身份证号已登记，不能重复登记".into()),
                        other => other,
                    })?;
                    t.mark("insert_persons");
                    if bulk {
                        // faster settings only: the rebuild is the same without them
                        for sql in rebuild {
                            if let Err(e) = ::sqlx::query(q(sql.to_string())).execute(&mut *tx).await {
                                ::tracing::debug!("索引重建前的设置未生效：{e}");
                            }
                        }
                        for (_, ddl) in PERSON_INDEXES {
                            ::sqlx::query(*ddl).execute(&mut *tx).await.map_err(err)?;
                        }
                        t.mark("create_indexes");
                        let mut tallies: $crate::sql_registry::FastMap<(&str, &str, &str), i64> = Default::default();
                        for h in new_households {
                            *tallies.entry((h.org_path, "household", active)).or_default() += 1;
                        }
                        for p in &plan.inserts {
                            *tallies.entry((p.org_path, "person", p.status)).or_default() += 1;
                        }
                        // 200 counts per statement: a county's 3,000 one at a time were a fifth
                        // of a second
                        let tallies: Vec<((&str, &str, &str), i64)> = tallies.into_iter().collect();
                        for part in tallies.chunks(200) {
                            let mut b = ::sqlx::QueryBuilder::<$DB>::new("INSERT INTO registry_tallies (org_path, entity, state, n) ");
                            b.push_values(part, |mut row, ((path, entity, state), n)| {
                                row.push_bind(*path).push_bind(*entity).push_bind(*state).push_bind(*n);
                            });
                            b.push(" ON CONFLICT (org_path, entity, state) DO UPDATE SET n = registry_tallies.n + excluded.n");
                            b.build().execute(&mut *tx).await.map_err(err)?;
                        }
                        for (_, ddl) in TALLY_INSERT_TRIGGERS {
                            ::sqlx::query(*ddl).execute(&mut *tx).await.map_err(err)?;
                        }
                    }
                    t.mark("tallies");
                    for (id, p, changes) in &plan.updates {
                        let row = &rows[p.row];
                        let phone_sealed = match (&row.phone, changes.get("phone")) {
                            (Some(ph), Some(_)) => Some(vault.seal(ph.as_str())),
                            _ => None,
                        };
                        ::sqlx::query(
                            "UPDATE persons SET name = $1, phone_hash = $2, phone_sealed = COALESCE($3, phone_sealed), household_id = $4, \
                             relation = $5, status = $6, org_code = $7, org_path = $8, tags = $9 WHERE id = $10",
                        )
                        .bind(&row.name)
                        .bind(&p.phone_hash)
                        .bind(phone_sealed)
                        .bind(hh_id(&p.household))
                        .bind(p.relation)
                        .bind(p.status)
                        .bind(&p.org_code)
                        .bind(&p.org_path)
                        .bind(&p.tags)
                        .bind(*id)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                        <$Store>::insert_event(&mut tx, actor, EntityKind::Person, *id, EventKind::Import, today, changes, &p.org_path).await?;
                    }
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "import",
                            entity: "person",
                            entity_id: "*".into(),
                            scope_path: root.to_string(),
                            old_value: None,
                            new_value: Some(::serde_json::json!({
                                "org": org.as_str(),
                                "new": plan.summary.new,
                                "updated": plan.summary.updated,
                                "unchanged": plan.summary.unchanged,
                                "households_created": plan.summary.households_created,
                            })),
                        },
                    )
                    .await?;
                    t.mark("updates_audit");
                    tx.commit().await.map_err(err)?;
                    t.mark("commit");
                    Ok((plan, true))
                }
            }

            #[::async_trait::async_trait]
            impl $crate::registry::RegistryStore for $Store {
                async fn create_person(&self, actor: &Actor, person: NewPerson) -> StoreResult<Person> {
                    can_write(actor)?;
                    self.refuse_known_id(actor, &person.citizen_id).await?;
                    let mut tx = self.begin_write().await?;
                    let household = match person.household_id {
                        Some(h) => Some(<$Store>::household_state(&mut tx, actor, h).await?),
                        None => None,
                    };
                    let org = match (&person.org_code, &household) {
                        (Some(c), _) => <$Store>::record_org(&mut tx, actor, c).await?,
                        (None, Some(h)) => (h.org_code.clone(), h.org_path.clone()),
                        (None, None) => return Err(StoreError::invalid("请填写所属网格（或所属村）")),
                    };
                    let id = self.insert_person(&mut tx, &person, person.household_id, person.relation, PersonStatus::Registered, &org).await?;
                    let today = Utc::now().date_naive();
                    <$Store>::insert_event(&mut tx, actor, EntityKind::Person, id, EventKind::Register, today, &::serde_json::json!({"name": person.name}), &org.1).await?;
                    let v = <$Store>::person_audit_value(&person, &org.0, person.household_id, person.relation);
                    <$Store>::audit_registry(&mut tx, actor, "create", "person", id, &org.1, None, Some(v)).await?;
                    tx.commit().await.map_err(err)?;
                    self.person(&actor.scope, id).await
                }

                async fn person(&self, scope: &Scope, id: i64) -> StoreResult<Person> {
                    let r = ::sqlx::query(q(format!("{PERSON_SELECT} WHERE p.id = $1 AND p.org_path >= $2 AND p.org_path < $3")))
                        .bind(id)
                        .bind(scope.path.as_str())
                        .bind(scope.path.upper_bound())
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    person_from_row(self.vault(), &r)
                }

                async fn citizen_id_owner(&self, scope: &Scope, id: &CitizenId) -> StoreResult<IdOwner> {
                    let r = ::sqlx::query("SELECT id, name, org_path FROM persons WHERE id_hash = $1")
                        .bind(self.vault().lookup(id.as_str()))
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?;
                    let Some(r) = r else { return Ok(IdOwner::Nobody) };
                    let path: String = r.try_get("org_path").map_err(err)?;
                    if path.starts_with(scope.path.as_str()) {
                        Ok(IdOwner::InScope { person_id: r.try_get("id").map_err(err)?, name: r.try_get("name").map_err(err)? })
                    } else {
                        Ok(IdOwner::Elsewhere)
                    }
                }

                /// A page in id order, or for a name search in (name, birth date, id) order, which
                /// the name index gives without sorting; `after_id` continues after that person.
                async fn person_search(&self, scope: &Scope, query: &PersonQuery) -> StoreResult<Vec<Person>> {
                    let path = self.narrowed(scope, query.org_code.as_ref()).await?;
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new(PERSON_SELECT);
                    self.person_filters(&mut b, &path, query, true);
                    let by_name = Self::name_query(query).is_some() && query.household_id.is_none();
                    let c = Self::name_collate();
                    match query.after_id {
                        Some(a) if by_name => {
                            let cursor = ::sqlx::query("SELECT name, birth_date FROM persons WHERE id = $1")
                                .bind(a)
                                .fetch_optional(self.read())
                                .await
                                .map_err(err)?;
                            if let Some(r) = cursor {
                                let name: String = r.try_get("name").map_err(err)?;
                                let birth: NaiveDate = r.try_get("birth_date").map_err(err)?;
                                b.push(format!(" AND (p.name{c} > ")).push_bind(name.clone());
                                b.push(format!(" OR (p.name{c} = ")).push_bind(name);
                                b.push(" AND (p.birth_date > ").push_bind(birth);
                                b.push(" OR (p.birth_date = ").push_bind(birth);
                                b.push(" AND p.id > ").push_bind(a).push("))))");
                            }
                        }
                        Some(a) => {
                            b.push(" AND p.id > ").push_bind(a);
                        }
                        None => {}
                    }
                    if by_name {
                        b.push(format!(" ORDER BY p.name{c}, p.birth_date, p.id LIMIT "));
                    } else {
                        b.push(" ORDER BY p.id LIMIT ");
                    }
                    b.push_bind(limit_of(query.limit));
                    let rows = b.build().fetch_all(self.read()).await.map_err(err)?;
                    rows.iter().map(|r| person_from_row(self.vault(), r)).collect()
                }

                async fn person_count(&self, scope: &Scope, query: &PersonQuery) -> StoreResult<i64> {
                    let path = self.narrowed(scope, query.org_code.as_ref()).await?;
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new("SELECT COUNT(*) AS n FROM persons p");
                    self.person_filters(&mut b, &path, query, false);
                    b.build().fetch_one(self.read()).await.and_then(|r| r.try_get("n")).map_err(err)
                }

                async fn update_person(&self, actor: &Actor, id: i64, update: PersonUpdate) -> StoreResult<Person> {
                    can_write(actor)?;
                    let before = self.person(&actor.scope, id).await?;
                    let mut tx = self.begin_write().await?;
                    let state = <$Store>::person_state(&mut tx, actor, id).await?;
                    let mut old = ::serde_json::Map::new();
                    let mut new = ::serde_json::Map::new();
                    if let Some(n) = &update.name {
                        let n = check_name(n)?;
                        if n != before.name {
                            ::sqlx::query("UPDATE persons SET name = $1 WHERE id = $2").bind(&n).bind(id).execute(&mut *tx).await.map_err(err)?;
                            old.insert("name".into(), before.name.clone().into());
                            new.insert("name".into(), n.into());
                        }
                    }
                    if let Some(phone) = &update.phone {
                        let v = self.vault();
                        ::sqlx::query("UPDATE persons SET phone_hash = $1, phone_sealed = $2 WHERE id = $3")
                            .bind(phone.as_ref().map(|p| v.lookup(p.as_str())))
                            .bind(phone.as_ref().map(|p| v.seal(p.as_str())))
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                        old.insert("phone".into(), ::serde_json::json!(before.phone_masked));
                        new.insert("phone".into(), ::serde_json::json!(phone.as_ref().map(|p| p.masked())));
                    }
                    let mut path = state.org_path.clone();
                    if let Some(c) = &update.org_code {
                        let org = <$Store>::record_org(&mut tx, actor, c).await?;
                        if org.0 != state.org_code {
                            ::sqlx::query("UPDATE persons SET org_code = $1, org_path = $2 WHERE id = $3")
                                .bind(&org.0).bind(&org.1).bind(id).execute(&mut *tx).await.map_err(err)?;
                            old.insert("org".into(), state.org_code.clone().into());
                            new.insert("org".into(), org.0.clone().into());
                            path = org.1;
                        }
                    }
                    if let Some(tags) = &update.tags {
                        if *tags != before.tags {
                            ::sqlx::query("UPDATE persons SET tags = $1 WHERE id = $2")
                                .bind(registry_plan::tags_json(tags)).bind(id).execute(&mut *tx).await.map_err(err)?;
                            old.insert("tags".into(), ::serde_json::json!(before.tags));
                            new.insert("tags".into(), ::serde_json::json!(tags));
                        }
                    }
                    if new.is_empty() {
                        return Ok(before);
                    }
                    let today = Utc::now().date_naive();
                    let detail = ::serde_json::json!({"old": old, "new": new});
                    <$Store>::insert_event(&mut tx, actor, EntityKind::Person, id, EventKind::Update, today, &detail, &path).await?;
                    <$Store>::audit_registry(&mut tx, actor, "update", "person", id, &path, Some(old.into()), Some(new.into())).await?;
                    tx.commit().await.map_err(err)?;
                    self.person(&actor.scope, id).await
                }

                async fn correct_citizen_id(&self, actor: &Actor, person_id: i64, new_id: &CitizenId, reason: &str) -> StoreResult<Person> {
                    if let Some(r) = actor.role && !r.can(Permission::CorrectCitizenId) {
                        return Err(StoreError::Forbidden("该角色不能更正身份证号（须乡镇业务员或以上）".into()));
                    }
                    let reason = ::xiangzhi_domain::normalize::normalize_text(reason);
                    if reason.is_empty() {
                        return Err(StoreError::invalid("请填写更正原因（如：登记时录错，依据户口簿更正）"));
                    }
                    if reason.chars().count() > 200 {
                        return Err(StoreError::invalid("更正原因过长（最多200字）"));
                    }
                    let v = self.vault();
                    let new_hash = v.lookup(new_id.as_str());
                    let mut tx = self.begin_write().await?;
                    let state = <$Store>::person_state(&mut tx, actor, person_id).await?;
                    let old_plain = v.open(&state.id_sealed)?;
                    if v.lookup(&old_plain) == new_hash {
                        return Err(StoreError::invalid("新身份证号与原号码相同，无需更正"));
                    }
                    let holder = ::sqlx::query("SELECT id, name, org_path FROM persons WHERE id_hash = $1")
                        .bind(&new_hash)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    if let Some(h) = holder {
                        let path: String = h.try_get("org_path").map_err(err)?;
                        return Err(if path.starts_with(actor.scope.path.as_str()) {
                            let id: i64 = h.try_get("id").map_err(err)?;
                            let name: String = h.try_get("name").map_err(err)?;
                            StoreError::Conflict(format!("身份证号 {} 已登记为“{name}”（人员编号 {id}），不能更正为该号码", new_id.masked()))
                        } else {
                            StoreError::Conflict(format!("身份证号 {} 已在其他地区登记，不能更正为该号码", new_id.masked()))
                        });
                    }
                    ::sqlx::query("UPDATE persons SET id_hash = $1, id_sealed = $2, sex = $3, birth_date = $4 WHERE id = $5")
                        .bind(&new_hash)
                        .bind(v.seal(new_id.as_str()))
                        .bind(if new_id.sex() == Sex::Male { "male" } else { "female" })
                        .bind(new_id.birth_date())
                        .bind(person_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| match err(e) {
                            StoreError::Conflict(_) => StoreError::Conflict("该身份证号已登记，不能更正为该号码".into()),
                            other => other,
                        })?;
                    let old_masked = CitizenId::parse(&old_plain).map(|c| c.masked()).unwrap_or_else(|_| "******".into());
                    let today = Utc::now().date_naive();
                    // The old value is kept sealed (never masked-only): a correction that turns
                    // out wrong can be undone by someone allowed to reveal it.
                    let detail = ::serde_json::json!({
                        "old": old_masked,
                        "new": new_id.masked(),
                        "reason": reason,
                        "old_id_sealed": state.id_sealed,
                    });
                    <$Store>::insert_event(&mut tx, actor, EntityKind::Person, person_id, EventKind::CorrectId, today, &detail, &state.org_path).await?;
                    <$Store>::audit_registry(
                        &mut tx, actor, "correct_citizen_id", "person", person_id, &state.org_path,
                        Some(::serde_json::json!({"citizen_id": old_masked})),
                        Some(::serde_json::json!({"citizen_id": new_id.masked(), "reason": reason})),
                    ).await?;
                    tx.commit().await.map_err(err)?;
                    self.person(&actor.scope, person_id).await
                }

                async fn reveal(&self, actor: &Actor, person_id: i64, field: RevealField) -> StoreResult<String> {
                    if let Some(r) = actor.role && !r.can(Permission::RevealPersonalData) {
                        return Err(StoreError::Forbidden("该角色不能查看完整的身份证号和电话".into()));
                    }
                    let mut tx = self.begin_write().await?;
                    let state = <$Store>::person_state(&mut tx, actor, person_id).await?;
                    let sealed: Option<String> = match field {
                        RevealField::CitizenId => Some(state.id_sealed.clone()),
                        RevealField::Phone => ::sqlx::query("SELECT phone_sealed FROM persons WHERE id = $1")
                            .bind(person_id)
                            .fetch_one(&mut *tx)
                            .await
                            .and_then(|r| r.try_get("phone_sealed"))
                            .map_err(err)?,
                    };
                    let sealed = sealed.ok_or_else(|| StoreError::invalid("未登记电话号码"))?;
                    let plain = self.vault().open(&sealed)?;
                    let field_name = match field { RevealField::CitizenId => "citizen_id", RevealField::Phone => "phone" };
                    <$Store>::audit_registry(&mut tx, actor, "reveal", "person", person_id, &state.org_path, None, Some(::serde_json::json!({"field": field_name}))).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(plain)
                }

                async fn person_history(&self, scope: &Scope, id: i64) -> StoreResult<Vec<RegistryEvent>> {
                    self.person(scope, id).await?;
                    self.events_of(EntityKind::Person, id).await
                }

                async fn likely_duplicates(&self, scope: &Scope, limit: u32) -> StoreResult<Vec<DuplicateGroup>> {
                    let rows = ::sqlx::query(
                        "SELECT name, birth_date FROM persons WHERE org_path >= $1 AND org_path < $2 AND status = $3 \
                         GROUP BY name, birth_date HAVING COUNT(*) > 1 ORDER BY name, birth_date LIMIT $4",
                    )
                    .bind(scope.path.as_str())
                    .bind(scope.path.upper_bound())
                    .bind(PersonStatus::Registered.as_str())
                    .bind(limit_of(limit))
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?;
                    let mut out = Vec::new();
                    for r in &rows {
                        let name: String = r.try_get("name").map_err(err)?;
                        let birth: NaiveDate = r.try_get("birth_date").map_err(err)?;
                        let ps = ::sqlx::query(q(format!(
                            "{PERSON_SELECT} WHERE p.name = $1 AND p.birth_date = $2 AND p.status = $3 AND p.org_path >= $4 AND p.org_path < $5 ORDER BY p.id"
                        )))
                        .bind(&name)
                        .bind(birth)
                        .bind(PersonStatus::Registered.as_str())
                        .bind(scope.path.as_str())
                        .bind(scope.path.upper_bound())
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                        let persons = ps.iter().map(|r| person_from_row(self.vault(), r)).collect::<StoreResult<Vec<_>>>()?;
                        out.push(DuplicateGroup { name, birth_date: birth, persons });
                    }
                    Ok(out)
                }

                async fn create_household(&self, actor: &Actor, household: NewHousehold) -> StoreResult<Household> {
                    can_write(actor)?;
                    let mut tx = self.begin_write().await?;
                    let id = self.insert_household(&mut tx, actor, &household).await?;
                    tx.commit().await.map_err(err)?;
                    self.household(&actor.scope, id).await
                }

                async fn household(&self, scope: &Scope, id: i64) -> StoreResult<Household> {
                    let r = ::sqlx::query(q(format!("{HOUSEHOLD_SELECT} WHERE h.id = $1 AND h.org_path >= $2 AND h.org_path < $3")))
                        .bind(id)
                        .bind(scope.path.as_str())
                        .bind(scope.path.upper_bound())
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    household_from_row(&r)
                }

                async fn household_by_no(&self, scope: &Scope, household_no: &str) -> StoreResult<Household> {
                    let no = ::xiangzhi_domain::normalize::normalize_compact(household_no);
                    let r = ::sqlx::query(q(format!("{HOUSEHOLD_SELECT} WHERE h.household_no = $1 AND h.org_path >= $2 AND h.org_path < $3")))
                        .bind(no)
                        .bind(scope.path.as_str())
                        .bind(scope.path.upper_bound())
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    household_from_row(&r)
                }

                async fn household_detail(&self, scope: &Scope, id: i64) -> StoreResult<HouseholdDetail> {
                    let household = self.household(scope, id).await?;
                    let rows = ::sqlx::query(q(format!(
                        "{PERSON_SELECT} WHERE p.household_id = $1 ORDER BY CASE WHEN p.status = 'registered' THEN 0 ELSE 1 END, \
                         CASE WHEN p.relation = 'head' THEN 0 ELSE 1 END, p.birth_date, p.id"
                    )))
                    .bind(id)
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?;
                    let members = rows
                        .iter()
                        .map(|r| person_from_row(self.vault(), r))
                        .collect::<StoreResult<Vec<_>>>()?
                        .into_iter()
                        .filter(|p| scope.contains(&p.org_path))
                        .collect();
                    Ok(HouseholdDetail { household, members })
                }

                async fn household_search(&self, scope: &Scope, query: &HouseholdQuery) -> StoreResult<Vec<Household>> {
                    let path = self.narrowed(scope, query.org_code.as_ref()).await?;
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new(HOUSEHOLD_SELECT);
                    b.push(" WHERE h.org_path >= ").push_bind(path.as_str().to_string());
                    b.push(" AND h.org_path < ").push_bind(path.upper_bound());
                    if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                        let n = ::xiangzhi_domain::normalize::normalize_text(q);
                        let pat = like_escape(&n);
                        b.push(" AND (h.household_no LIKE ").push_bind(format!("{pat}%"));
                        b.push(" ESCAPE '\\' OR h.address LIKE ").push_bind(format!("%{pat}%"));
                        b.push(" ESCAPE '\\' OR EXISTS (SELECT 1 FROM persons m WHERE m.household_id = h.id AND m.relation = 'head' AND m.name LIKE ")
                            .push_bind(format!("%{pat}%"));
                        b.push(" ESCAPE '\\'))");
                    }
                    if let Some(s) = query.status {
                        b.push(" AND h.status = ").push_bind(s.as_str());
                    }
                    if let Some(a) = query.after_id {
                        b.push(" AND h.id > ").push_bind(a);
                    }
                    b.push(" ORDER BY h.id LIMIT ").push_bind(limit_of(query.limit));
                    let rows = b.build().fetch_all(self.read()).await.map_err(err)?;
                    rows.iter().map(household_from_row).collect()
                }

                async fn set_household_address(&self, actor: &Actor, id: i64, address: &str) -> StoreResult<Household> {
                    can_write(actor)?;
                    let before = self.household(&actor.scope, id).await?;
                    let address = ::xiangzhi_domain::normalize::normalize_text(address);
                    if address == before.address {
                        return Ok(before);
                    }
                    let mut tx = self.begin_write().await?;
                    let h = <$Store>::household_state(&mut tx, actor, id).await?;
                    ::sqlx::query("UPDATE households SET address = $1 WHERE id = $2").bind(&address).bind(id).execute(&mut *tx).await.map_err(err)?;
                    let detail = ::serde_json::json!({"old": {"address": before.address}, "new": {"address": address}});
                    <$Store>::insert_event(&mut tx, actor, EntityKind::Household, id, EventKind::Update, Utc::now().date_naive(), &detail, &h.org_path).await?;
                    <$Store>::audit_registry(&mut tx, actor, "update", "household", id, &h.org_path, Some(detail["old"].clone()), Some(detail["new"].clone())).await?;
                    tx.commit().await.map_err(err)?;
                    self.household(&actor.scope, id).await
                }

                async fn household_history(&self, scope: &Scope, id: i64) -> StoreResult<Vec<RegistryEvent>> {
                    self.household(scope, id).await?;
                    self.events_of(EntityKind::Household, id).await
                }

                async fn record_life_event(&self, actor: &Actor, event: LifeEvent) -> StoreResult<Vec<i64>> {
                    can_write(actor)?;
                    if let LifeEvent::Birth { person, .. } = &event {
                        self.refuse_known_id(actor, &person.citizen_id).await?;
                    }
                    let mut tx = self.begin_write().await?;
                    let (ids, action, path, value) = self.life_event_in_tx(&mut tx, actor, event).await?;
                    let first = ids.first().copied().unwrap_or_default();
                    <$Store>::audit_registry(&mut tx, actor, action, "registry_event", first, &path, None, Some(value)).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(ids)
                }

                async fn enterprise_kinds(&self) -> StoreResult<Vec<EnterpriseKind>> {
                    let rows = ::sqlx::query("SELECT code, label FROM enterprise_kinds ORDER BY sort, code")
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                    rows.iter()
                        .map(|r| Ok(EnterpriseKind { code: r.try_get("code").map_err(err)?, label: r.try_get("label").map_err(err)? }))
                        .collect()
                }

                async fn add_enterprise_kind(&self, actor: &Actor, code: &str, label: &str) -> StoreResult<EnterpriseKind> {
                    if let Some(r) = actor.role && !r.can(Permission::ManageOrg) {
                        return Err(StoreError::Forbidden("只有系统管理员可以配置企业类型".into()));
                    }
                    let code = code.trim().to_ascii_lowercase();
                    let label = ::xiangzhi_domain::normalize::normalize_text(label);
                    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') || label.is_empty() {
                        return Err(StoreError::invalid("企业类型代码须为小写英文字母，名称不能为空"));
                    }
                    let mut tx = self.begin_write().await?;
                    ::sqlx::query("INSERT INTO enterprise_kinds (code, label, sort) VALUES ($1, $2, (SELECT COALESCE(MAX(sort), 0) + 1 FROM enterprise_kinds))")
                        .bind(&code)
                        .bind(&label)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "create",
                        entity: "enterprise_kind",
                        entity_id: code.clone(),
                        scope_path: "/".into(),
                        old_value: None,
                        new_value: Some(::serde_json::json!({"code": code, "label": label})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(EnterpriseKind { code, label })
                }

                async fn create_enterprise(&self, actor: &Actor, e: NewEnterprise) -> StoreResult<Enterprise> {
                    can_write(actor)?;
                    let name = check_name(&e.name)?;
                    let kind = self.kind_code(&e.kind).await?;
                    let v = self.vault();
                    let mut tx = self.begin_write().await?;
                    let org = <$Store>::record_org(&mut tx, actor, &e.org_code).await?;
                    let r = ::sqlx::query(
                        "INSERT INTO enterprises (name, credit_code, credit_code_ok, kind, registered_capital, settled_on, org_code, org_path, \
                         contact_name, contact_phone_hash, contact_phone_sealed, active, created_at) \
                         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id",
                    )
                    .bind(&name)
                    .bind(e.credit_code.as_str())
                    .bind(e.credit_code.check_ok())
                    .bind(&kind)
                    .bind(e.registered_capital.map(Money::fen))
                    .bind(e.settled_on)
                    .bind(&org.0)
                    .bind(&org.1)
                    .bind(&e.contact_name)
                    .bind(e.contact_phone.as_ref().map(|p| v.lookup(p.as_str())))
                    .bind(e.contact_phone.as_ref().map(|p| v.seal(p.as_str())))
                    .bind(true)
                    .bind(now_text())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|x| match err(x) {
                        StoreError::Conflict(_) => StoreError::Conflict(format!("统一社会信用代码 {} 已登记", e.credit_code.as_str())),
                        other => other,
                    })?;
                    let id: i64 = r.try_get("id").map_err(err)?;
                    let value = <$Store>::enterprise_value(&e, &kind);
                    <$Store>::insert_event(&mut tx, actor, EntityKind::Enterprise, id, EventKind::Register, e.settled_on.unwrap_or_else(|| Utc::now().date_naive()), &::serde_json::json!({"name": name}), &org.1).await?;
                    <$Store>::audit_registry(&mut tx, actor, "create", "enterprise", id, &org.1, None, Some(value)).await?;
                    tx.commit().await.map_err(err)?;
                    self.enterprise(&actor.scope, id).await
                }

                async fn enterprise(&self, scope: &Scope, id: i64) -> StoreResult<Enterprise> {
                    let r = ::sqlx::query(q(format!("{ENTERPRISE_SELECT} WHERE e.id = $1 AND e.org_path >= $2 AND e.org_path < $3")))
                        .bind(id)
                        .bind(scope.path.as_str())
                        .bind(scope.path.upper_bound())
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    enterprise_from_row(self.vault(), &r)
                }

                async fn enterprise_search(&self, scope: &Scope, query: &EnterpriseQuery) -> StoreResult<Vec<Enterprise>> {
                    let path = self.narrowed(scope, query.org_code.as_ref()).await?;
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new(ENTERPRISE_SELECT);
                    b.push(" WHERE e.org_path >= ").push_bind(path.as_str().to_string());
                    b.push(" AND e.org_path < ").push_bind(path.upper_bound());
                    if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                        let n = ::xiangzhi_domain::normalize::normalize_text(q);
                        let pat = like_escape(&n);
                        b.push(" AND (e.name LIKE ").push_bind(format!("%{pat}%"));
                        b.push(" ESCAPE '\\' OR e.credit_code LIKE ").push_bind(format!("{}%", pat.to_ascii_uppercase()));
                        b.push(" ESCAPE '\\')");
                    }
                    if let Some(k) = &query.kind {
                        let k = self.kind_code(k).await?;
                        b.push(" AND e.kind = ").push_bind(k);
                    }
                    if let Some(d) = query.settled_from {
                        b.push(" AND e.settled_on >= ").push_bind(d);
                    }
                    if let Some(d) = query.settled_to {
                        b.push(" AND e.settled_on <= ").push_bind(d);
                    }
                    if let Some(a) = query.after_id {
                        b.push(" AND e.id > ").push_bind(a);
                    }
                    b.push(" ORDER BY e.id LIMIT ").push_bind(limit_of(query.limit));
                    let rows = b.build().fetch_all(self.read()).await.map_err(err)?;
                    rows.iter().map(|r| enterprise_from_row(self.vault(), r)).collect()
                }

                async fn update_enterprise(&self, actor: &Actor, id: i64, e: NewEnterprise) -> StoreResult<Enterprise> {
                    can_write(actor)?;
                    let before = self.enterprise(&actor.scope, id).await?;
                    let name = check_name(&e.name)?;
                    let kind = self.kind_code(&e.kind).await?;
                    let v = self.vault();
                    let mut tx = self.begin_write().await?;
                    let org = <$Store>::record_org(&mut tx, actor, &e.org_code).await?;
                    ::sqlx::query(
                        "UPDATE enterprises SET name = $1, credit_code = $2, credit_code_ok = $3, kind = $4, registered_capital = $5, \
                         settled_on = $6, org_code = $7, org_path = $8, contact_name = $9, contact_phone_hash = $10, contact_phone_sealed = $11 \
                         WHERE id = $12",
                    )
                    .bind(&name)
                    .bind(e.credit_code.as_str())
                    .bind(e.credit_code.check_ok())
                    .bind(&kind)
                    .bind(e.registered_capital.map(Money::fen))
                    .bind(e.settled_on)
                    .bind(&org.0)
                    .bind(&org.1)
                    .bind(&e.contact_name)
                    .bind(e.contact_phone.as_ref().map(|p| v.lookup(p.as_str())))
                    .bind(e.contact_phone.as_ref().map(|p| v.seal(p.as_str())))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    let old = ::serde_json::to_value(&before).unwrap_or_default();
                    let new = <$Store>::enterprise_value(&e, &kind);
                    <$Store>::insert_event(&mut tx, actor, EntityKind::Enterprise, id, EventKind::Update, Utc::now().date_naive(), &::serde_json::json!({"name": name}), &org.1).await?;
                    <$Store>::audit_registry(&mut tx, actor, "update", "enterprise", id, &org.1, Some(old), Some(new)).await?;
                    tx.commit().await.map_err(err)?;
                    self.enterprise(&actor.scope, id).await
                }

                async fn close_enterprise(&self, actor: &Actor, id: i64, date: NaiveDate) -> StoreResult<Enterprise> {
                    can_write(actor)?;
                    let before = self.enterprise(&actor.scope, id).await?;
                    if !before.active {
                        return Ok(before);
                    }
                    let mut tx = self.begin_write().await?;
                    ::sqlx::query("UPDATE enterprises SET active = $1, closed_on = $2 WHERE id = $3")
                        .bind(false).bind(date).bind(id).execute(&mut *tx).await.map_err(err)?;
                    <$Store>::insert_event(&mut tx, actor, EntityKind::Enterprise, id, EventKind::Close, date, &::serde_json::json!({}), before.org_path.as_str()).await?;
                    <$Store>::audit_registry(&mut tx, actor, "close", "enterprise", id, before.org_path.as_str(), Some(::serde_json::json!({"active": true})), Some(::serde_json::json!({"active": false, "closed_on": date}))).await?;
                    tx.commit().await.map_err(err)?;
                    self.enterprise(&actor.scope, id).await
                }

                async fn enterprise_history(&self, scope: &Scope, id: i64) -> StoreResult<Vec<RegistryEvent>> {
                    self.enterprise(scope, id).await?;
                    self.events_of(EntityKind::Enterprise, id).await
                }

                async fn reveal_enterprise_phone(&self, actor: &Actor, id: i64) -> StoreResult<String> {
                    if let Some(r) = actor.role && !r.can(Permission::RevealPersonalData) {
                        return Err(StoreError::Forbidden("该角色不能查看完整的电话号码".into()));
                    }
                    let e = self.enterprise(&actor.scope, id).await?;
                    let sealed: Option<String> = ::sqlx::query("SELECT contact_phone_sealed FROM enterprises WHERE id = $1")
                        .bind(id)
                        .fetch_one(self.read())
                        .await
                        .and_then(|r| r.try_get("contact_phone_sealed"))
                        .map_err(err)?;
                    let plain = self.vault().open(&sealed.ok_or_else(|| StoreError::invalid("未登记联系电话"))?)?;
                    let mut tx = self.begin_write().await?;
                    <$Store>::audit_registry(&mut tx, actor, "reveal", "enterprise", id, e.org_path.as_str(), None, Some(::serde_json::json!({"field": "contact_phone"}))).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(plain)
                }

                async fn import_persons(&self, actor: &Actor, org: &DivisionCode, rows: &[PersonImportRow], dry_run: bool) -> StoreResult<ImportOutcome> {
                    can_write(actor)?;
                    let mut t = $crate::timing::Phases::start("import persons (store)");
                    let (root, orgs) = self.import_orgs(actor, org).await?;
                    t.mark("orgs");
                    let nos: Vec<&str> = rows.iter().filter_map(|r| r.household_no.as_deref()).collect();
                    let households = self.existing_households(&nos).await?;
                    drop(nos);
                    t.mark("existing_households");
                    let vault = self.vault();
                    // The new households are planned on a thread of their own while the IDs and
                    // phones are hashed: alone, the planning was a quarter of a second of a
                    // county's import with the other core idle.
                    let (hashes, new_households) = ::std::thread::scope(|s| {
                        let planning = s.spawn(|| registry_plan::plan_households(rows, &orgs, &households));
                        let hashes: Vec<($crate::vault::LookupHash, Option<$crate::vault::LookupHash>)> = par_map(rows, |r| {
                            (vault.lookup_inline(r.citizen_id.as_str()), r.phone.as_ref().map(|p| vault.lookup_inline(p.as_str())))
                        });
                        (hashes, planning.join().unwrap_or_else(|panic| ::std::panic::resume_unwind(panic)))
                    });
                    t.mark("hmac_and_households");
                    let hash_refs: Vec<&str> = hashes.iter().map(|(h, _)| h.as_str()).collect();
                    let existing = self.existing_persons(&hash_refs).await?;
                    drop(hash_refs);
                    t.mark("existing_persons");
                    // every row whose ID is not stored is a new person, unless the plan finds
                    // issues (and then nothing is written)
                    let inserts = hashes.iter().filter(|(h, _)| !existing.contains_key(h.as_str())).count();
                    let make_plan = || registry_plan::plan_persons(rows, &hashes, &root, &orgs, &existing, &households, &new_households);
                    // A large load on SQLite plans its people while its households are written
                    // (see write_import_persons); any other plans first, and writes only a plan
                    // without issues.
                    let (plan, committed) = if <$Store>::BACKEND == "sqlite" && !dry_run && inserts >= BULK_ROWS {
                        self.write_import_persons(actor, org, &root, rows, &new_households.list, inserts, make_plan, &mut t).await?
                    } else {
                        let plan = make_plan();
                        t.mark("plan");
                        if dry_run || !plan.issues.is_empty() || (plan.inserts.is_empty() && plan.updates.is_empty()) {
                            (plan, false)
                        } else {
                            let inserts = plan.inserts.len();
                            self.write_import_persons(actor, org, &root, rows, &new_households.list, inserts, move || plan, &mut t).await?
                        }
                    };
                    t.finish(rows.len());
                    let mut summary = plan.summary;
                    summary.committed = committed;
                    Ok(ImportOutcome { summary, issues: if committed { Vec::new() } else { plan.issues } })
                }

                async fn import_households(&self, actor: &Actor, org: &DivisionCode, rows: &[HouseholdImportRow], dry_run: bool) -> StoreResult<ImportOutcome> {
                    can_write(actor)?;
                    let (root, orgs) = self.import_orgs(actor, org).await?;
                    let mut nos: Vec<&str> = rows.iter().map(|r| r.household_no.as_str()).collect();
                    nos.sort_unstable();
                    nos.dedup();
                    let existing = self.existing_households(&nos).await?;
                    let heads: Vec<String> = rows.iter().filter_map(|r| r.head.as_ref()).map(|c| self.vault().lookup(c.as_str())).collect();
                    let head_refs: Vec<&str> = heads.iter().map(String::as_str).collect();
                    let persons = self.existing_persons(&head_refs).await?;
                    let mut outcome = ImportOutcome::default();
                    let mut seen: HashMap<&str, usize> = HashMap::new();
                    // (row, existing id, head person id, org)
                    let mut work: Vec<(&HouseholdImportRow, Option<i64>, Option<i64>, OrgRef)> = Vec::new();
                    for r in rows {
                        let mut issue = |column: &str, reason: String| outcome.issues.push(ImportIssue { line: r.line, column: column.into(), reason });
                        if let Some(first) = seen.insert(r.household_no.as_str(), r.line) {
                            issue("户号", format!("与第{first}行的户号重复"));
                            continue;
                        }
                        let Some(o) = orgs.get(r.org_code.as_str()) else {
                            issue("所属网格", format!("“{}”不在本次导入的单位之下，或不是村/网格", r.org_code.as_str()));
                            continue;
                        };
                        let old = existing.get(&r.household_no);
                        if let Some(h) = old && !registry_plan::within(&root, &h.org_path) {
                            issue("户号", "该户号已在其他地区登记".into());
                            continue;
                        }
                        let head = match &r.head {
                            None => None,
                            Some(c) => match persons.get(&self.vault().lookup(c.as_str())) {
                                Some(p) if registry_plan::within(&root, &p.org_path) && p.status == PersonStatus::Registered.as_str() => Some(p),
                                Some(_) => {
                                    issue("户主身份证号", "该人员不在本单位在册人员中".into());
                                    continue;
                                }
                                None => {
                                    issue("户主身份证号", "该人员尚未登记：请先导入人员".into());
                                    continue;
                                }
                            },
                        };
                        let changed = match old {
                            None => true,
                            Some(h) => {
                                h.org_code != o.code
                                    || h.address != ::xiangzhi_domain::normalize::normalize_text(&r.address)
                                    || head.is_some_and(|p| p.household_id != Some(h.id) || p.relation.as_deref() != Some(Relation::Head.as_str()))
                            }
                        };
                        match old {
                            None => outcome.summary.new += 1,
                            Some(_) if changed => outcome.summary.updated += 1,
                            Some(_) => {}
                        }
                        work.push((r, old.map(|h| h.id), head.map(|p| p.id), o.clone()));
                    }
                    let mut lines: Vec<usize> = outcome.issues.iter().map(|i| i.line).collect();
                    lines.sort_unstable();
                    lines.dedup();
                    outcome.summary.invalid = lines.len() as u64;
                    outcome.summary.unchanged = work.len() as u64 - outcome.summary.new - outcome.summary.updated;
                    if dry_run || !outcome.issues.is_empty() || outcome.summary.new + outcome.summary.updated == 0 {
                        return Ok(outcome);
                    }
                    let mut tx = self.begin_write().await?;
                    let today = Utc::now().date_naive();
                    let created = now_text();
                    for (r, old_id, head, o) in &work {
                        let address = ::xiangzhi_domain::normalize::normalize_text(&r.address);
                        let id = match old_id {
                            None => {
                                let row = ::sqlx::query("INSERT INTO households (household_no, address, status, org_code, org_path, created_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id")
                                    .bind(&r.household_no).bind(&address).bind(HouseholdStatus::Active.as_str()).bind(&o.code).bind(&o.path).bind(&created)
                                    .fetch_one(&mut *tx).await.map_err(err)?;
                                row.try_get::<i64, _>("id").map_err(err)?
                            }
                            Some(id) => {
                                let res = ::sqlx::query("UPDATE households SET address = $1, org_code = $2, org_path = $3 WHERE id = $4 AND (address <> $5 OR org_code <> $6)")
                                    .bind(&address).bind(&o.code).bind(&o.path).bind(*id).bind(&address).bind(&o.code)
                                    .execute(&mut *tx).await.map_err(err)?;
                                let mut changed = res.rows_affected() > 0;
                                if let Some(p) = head {
                                    let res = ::sqlx::query("UPDATE persons SET relation = $1 WHERE household_id = $2 AND relation = $3 AND id <> $4")
                                        .bind(Relation::Other.as_str()).bind(*id).bind(Relation::Head.as_str()).bind(*p)
                                        .execute(&mut *tx).await.map_err(err)?;
                                    changed |= res.rows_affected() > 0;
                                }
                                if changed {
                                    <$Store>::insert_event(&mut tx, actor, EntityKind::Household, *id, EventKind::Import, today, &::serde_json::json!({"address": address, "org": o.code}), &o.path).await?;
                                }
                                *id
                            }
                        };
                        if let Some(p) = head {
                            let res = ::sqlx::query("UPDATE persons SET household_id = $1, relation = $2 WHERE id = $3 AND (household_id IS NULL OR household_id <> $4 OR relation IS NULL OR relation <> $5)")
                                .bind(id).bind(Relation::Head.as_str()).bind(*p).bind(id).bind(Relation::Head.as_str())
                                .execute(&mut *tx).await.map_err(err)?;
                            if res.rows_affected() > 0 && old_id.is_some() {
                                <$Store>::insert_event(&mut tx, actor, EntityKind::Person, *p, EventKind::ChangeHead, today, &::serde_json::json!({"household_id": id, "via": "import"}), &o.path).await?;
                            }
                        }
                    }
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "import",
                        entity: "household",
                        entity_id: "*".into(),
                        scope_path: root.to_string(),
                        old_value: None,
                        new_value: Some(::serde_json::json!({"org": org.as_str(), "new": outcome.summary.new, "updated": outcome.summary.updated, "unchanged": outcome.summary.unchanged})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    outcome.summary.committed = true;
                    Ok(outcome)
                }

                async fn import_enterprises(&self, actor: &Actor, org: &DivisionCode, rows: &[EnterpriseImportRow], dry_run: bool) -> StoreResult<ImportOutcome> {
                    can_write(actor)?;
                    let (root, orgs) = self.import_orgs(actor, org).await?;
                    let kinds = self.enterprise_kinds().await?;
                    let mut outcome = ImportOutcome::default();
                    let mut seen: HashMap<String, usize> = HashMap::new();
                    let mut work: Vec<(&EnterpriseImportRow, String, OrgRef, Option<Enterprise>)> = Vec::new();
                    for r in rows {
                        let e = &r.enterprise;
                        let mut issue = |column: &str, reason: String| outcome.issues.push(ImportIssue { line: r.line, column: column.into(), reason });
                        if let Some(first) = seen.insert(e.credit_code.as_str().to_string(), r.line) {
                            issue("统一社会信用代码", format!("与第{first}行重复"));
                            continue;
                        }
                        let Some(kind) = kinds.iter().find(|k| k.code == e.kind.trim() || k.label == e.kind.trim()) else {
                            let labels: Vec<&str> = kinds.iter().map(|k| k.label.as_str()).collect();
                            issue("企业类型", format!("“{}”未配置：可选 {}", e.kind, labels.join("、")));
                            continue;
                        };
                        let Some(o) = orgs.get(e.org_code.as_str()) else {
                            issue("所属村", format!("“{}”不在本次导入的单位之下，或不是村/网格", e.org_code.as_str()));
                            continue;
                        };
                        let found = ::sqlx::query("SELECT id, org_path FROM enterprises WHERE credit_code = $1")
                            .bind(e.credit_code.as_str())
                            .fetch_optional(self.read())
                            .await
                            .map_err(err)?;
                        let old = match found {
                            None => None,
                            Some(f) => {
                                let path: String = f.try_get("org_path").map_err(err)?;
                                if !registry_plan::within(&root, &path) {
                                    issue("统一社会信用代码", "该企业已在其他地区登记".into());
                                    continue;
                                }
                                Some(self.enterprise(&Scope::all(), f.try_get("id").map_err(err)?).await?)
                            }
                        };
                        match &old {
                            None => outcome.summary.new += 1,
                            Some(x) => {
                                let same = x.name == e.name
                                    && x.kind == kind.code
                                    && x.registered_capital == e.registered_capital
                                    && x.settled_on == e.settled_on
                                    && x.org_code == e.org_code
                                    && x.contact_name == e.contact_name
                                    && x.contact_phone_masked == e.contact_phone.as_ref().map(|p| p.masked());
                                if same {
                                    outcome.summary.unchanged += 1;
                                } else {
                                    outcome.summary.updated += 1;
                                }
                            }
                        }
                        work.push((r, kind.code.clone(), o.clone(), old));
                    }
                    let mut lines: Vec<usize> = outcome.issues.iter().map(|i| i.line).collect();
                    lines.sort_unstable();
                    lines.dedup();
                    outcome.summary.invalid = lines.len() as u64;
                    if dry_run || !outcome.issues.is_empty() || outcome.summary.new + outcome.summary.updated == 0 {
                        return Ok(outcome);
                    }
                    let v = self.vault();
                    let mut tx = self.begin_write().await?;
                    let created = now_text();
                    let today = Utc::now().date_naive();
                    for (r, kind, o, old) in &work {
                        let e = &r.enterprise;
                        let name = check_name(&e.name)?;
                        match old {
                            None => {
                                let row = ::sqlx::query(
                                    "INSERT INTO enterprises (name, credit_code, credit_code_ok, kind, registered_capital, settled_on, org_code, org_path, \
                                     contact_name, contact_phone_hash, contact_phone_sealed, active, created_at) \
                                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id",
                                )
                                .bind(&name).bind(e.credit_code.as_str()).bind(e.credit_code.check_ok()).bind(kind)
                                .bind(e.registered_capital.map(Money::fen)).bind(e.settled_on).bind(&o.code).bind(&o.path)
                                .bind(&e.contact_name)
                                .bind(e.contact_phone.as_ref().map(|p| v.lookup(p.as_str())))
                                .bind(e.contact_phone.as_ref().map(|p| v.seal(p.as_str())))
                                .bind(true).bind(&created)
                                .fetch_one(&mut *tx).await.map_err(err)?;
                                let id: i64 = row.try_get("id").map_err(err)?;
                                <$Store>::insert_event(&mut tx, actor, EntityKind::Enterprise, id, EventKind::Register, e.settled_on.unwrap_or(today), &::serde_json::json!({"name": name, "via": "import"}), &o.path).await?;
                            }
                            Some(x) => {
                                ::sqlx::query(
                                    "UPDATE enterprises SET name = $1, credit_code_ok = $2, kind = $3, registered_capital = $4, settled_on = $5, org_code = $6, \
                                     org_path = $7, contact_name = $8, contact_phone_hash = $9, contact_phone_sealed = $10 WHERE id = $11",
                                )
                                .bind(&name).bind(e.credit_code.check_ok()).bind(kind)
                                .bind(e.registered_capital.map(Money::fen)).bind(e.settled_on).bind(&o.code).bind(&o.path)
                                .bind(&e.contact_name)
                                .bind(e.contact_phone.as_ref().map(|p| v.lookup(p.as_str())))
                                .bind(e.contact_phone.as_ref().map(|p| v.seal(p.as_str())))
                                .bind(x.id)
                                .execute(&mut *tx).await.map_err(err)?;
                                <$Store>::insert_event(&mut tx, actor, EntityKind::Enterprise, x.id, EventKind::Import, today, &<$Store>::enterprise_value(e, kind), &o.path).await?;
                            }
                        }
                    }
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "import",
                        entity: "enterprise",
                        entity_id: "*".into(),
                        scope_path: root.to_string(),
                        old_value: None,
                        new_value: Some(::serde_json::json!({"org": org.as_str(), "new": outcome.summary.new, "updated": outcome.summary.updated, "unchanged": outcome.summary.unchanged})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    outcome.summary.committed = true;
                    Ok(outcome)
                }

                /// From the kept tallies (migration 0012): a few rows per org unit, not a count of
                /// every person in the scope.
                async fn registry_counts(&self, scope: &Scope) -> StoreResult<RegistryCounts> {
                    // One pass over the scope's range of the key, summing each count on the way: a
                    // GROUP BY sorted the county's 5,900 tallies on every page of the person list.
                    let sum = |entity: &str, state: &str| {
                        format!("CAST(COALESCE(SUM(CASE WHEN entity = '{entity}' AND state = '{state}' THEN n END), 0) AS BIGINT)")
                    };
                    let sql = format!(
                        "SELECT {}, {}, {}, {}, {} FROM registry_tallies WHERE org_path >= $1 AND org_path < $2",
                        sum("person", PersonStatus::Registered.as_str()),
                        sum("person", PersonStatus::Deceased.as_str()),
                        sum("person", PersonStatus::MovedOut.as_str()),
                        sum("household", HouseholdStatus::Active.as_str()),
                        sum("enterprise", "active"),
                    );
                    let r = ::sqlx::query(q(sql))
                        .bind(scope.path.as_str())
                        .bind(scope.path.upper_bound())
                        .fetch_one(self.read())
                        .await
                        .map_err(err)?;
                    let n = |i: usize| -> StoreResult<i64> { r.try_get(i).map_err(err) };
                    Ok(RegistryCounts {
                        persons_registered: n(0)?,
                        persons_deceased: n(1)?,
                        persons_moved_out: n(2)?,
                        households_active: n(3)?,
                        enterprises_active: n(4)?,
                    })
                }

                async fn person_export_page(&self, actor: &Actor, query: &PersonQuery, reveal: bool) -> StoreResult<Vec<(Person, Option<String>, Option<String>)>> {
                    if reveal && let Some(r) = actor.role && !r.can(Permission::RevealPersonalData) {
                        return Err(StoreError::Forbidden("该角色不能导出完整的身份证号和电话".into()));
                    }
                    let path = self.narrowed(&actor.scope, query.org_code.as_ref()).await?;
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new(PERSON_SELECT);
                    self.person_filters(&mut b, &path, query, true);
                    if let Some(a) = query.after_id {
                        b.push(" AND p.id > ").push_bind(a);
                    }
                    b.push(" ORDER BY p.id LIMIT ").push_bind(limit_of(query.limit));
                    let rows = b.build().fetch_all(self.read()).await.map_err(err)?;
                    let v = self.vault();
                    let mut out = Vec::with_capacity(rows.len());
                    for r in &rows {
                        let p = person_from_row(v, r)?;
                        if reveal {
                            let id_sealed: String = r.try_get("id_sealed").map_err(err)?;
                            let phone_sealed: Option<String> = r.try_get("phone_sealed").map_err(err)?;
                            out.push((p, Some(v.open(&id_sealed)?), phone_sealed.map(|s| v.open(&s)).transpose()?));
                        } else {
                            out.push((p, None, None));
                        }
                    }
                    if reveal && !out.is_empty() {
                        let mut tx = self.begin_write().await?;
                        <$Store>::audit(&mut tx, actor, AuditRecord {
                            action: "export_reveal",
                            entity: "person",
                            entity_id: format!("{}..{}", out[0].0.id, out[out.len() - 1].0.id),
                            scope_path: path.to_string(),
                            old_value: None,
                            new_value: Some(::serde_json::json!({"rows": out.len()})),
                        }).await?;
                        tx.commit().await.map_err(err)?;
                    }
                    Ok(out)
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::{PAR_BLOCK, par_blocks, par_map, par_map_split};

    /// Sizes around the block size and the serial threshold, and one of many blocks.
    const SIZES: [usize; 7] = [
        0,
        1,
        PAR_BLOCK,
        PAR_BLOCK + 1,
        3 * PAR_BLOCK - 1,
        10_000,
        50_003,
    ];

    #[test]
    fn par_map_keeps_order() {
        for n in SIZES {
            let items: Vec<u64> = (0..n as u64).collect();
            // owned values: a slot written twice or never would show as a wrong or
            // missing text (and a double free)
            let out = par_map(&items, |i| format!("{}", i * 3));
            let expected: Vec<String> = items.iter().map(|i| format!("{}", i * 3)).collect();
            assert_eq!(out, expected, "{n} items");
        }
    }

    #[test]
    fn par_map_split_keeps_order_of_values_and_errors() {
        for n in SIZES {
            let items: Vec<u64> = (0..n as u64).collect();
            // failures clustered in some blocks, scattered in others, none in the rest
            let fails = |i: u64| (i % 7 == 3 && i < 20_000) || (30_000..30_100).contains(&i);
            let f = |i: &u64| {
                if fails(*i) {
                    Err(vec![format!("e{i}a"), format!("e{i}b")])
                } else {
                    Ok(i.to_string())
                }
            };
            let (ok, errs) = par_map_split(&items, f);
            let mut expected_ok = Vec::new();
            let mut expected_errs = Vec::new();
            for i in &items {
                match f(i) {
                    Ok(v) => expected_ok.push(v),
                    Err(e) => expected_errs.extend(e),
                }
            }
            assert_eq!(ok, expected_ok, "{n} items");
            assert_eq!(errs, expected_errs, "{n} items");
        }
    }

    #[test]
    fn par_blocks_gives_each_block_in_order() {
        let items: Vec<usize> = (0..1000).collect();
        let sums = par_blocks(&items, 7, |b| (b[0], b.len()));
        let expected: Vec<(usize, usize)> = items.chunks(7).map(|b| (b[0], b.len())).collect();
        assert_eq!(sums, expected);
        assert_eq!(par_blocks(&items[..5], 7, <[usize]>::len), vec![5]);
    }
}
