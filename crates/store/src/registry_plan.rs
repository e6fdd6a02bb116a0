//! Planning a person import: what is new, updated, unchanged or refused, decided in memory
//! from the file and a snapshot of what is stored, before any write transaction opens.
//! Shared by both backends (the SQL lives in `sql_registry`).

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::json;
use xiangzhi_domain::org::OrgPath;

use crate::registry_model::*;
use crate::vault::LookupHash;

use crate::sql_registry::FastMap;

/// An org unit an import may file records under (a village or a grid under the import org).
#[derive(Debug, Clone)]
pub struct OrgRef {
    pub code: String,
    pub path: String,
}

/// A stored person, as far as an import compares it.
#[derive(Debug, Clone)]
pub struct ExistingPerson {
    pub id: i64,
    pub name: String,
    pub phone_hash: Option<String>,
    pub household_id: Option<i64>,
    pub relation: Option<String>,
    pub status: String,
    pub org_code: String,
    pub org_path: String,
    pub tags: String,
}

#[derive(Debug, Clone)]
pub struct ExistingHousehold {
    pub id: i64,
    pub address: String,
    pub org_code: String,
    pub org_path: String,
    pub status: String,
}

/// Where a planned person lives: a stored household, one created by this import, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HouseholdRef {
    None,
    Existing(i64),
    /// Position in [`NewHouseholds::list`]: the insert returns the new ids in that order.
    New(usize),
}

/// A person to insert or update. Its text borrows from the import rows, their hashes and the
/// stored snapshot: a load of 680,000 people made six allocations per row here before.
#[derive(Debug, Clone)]
pub struct PlannedPerson<'a> {
    /// Index into the import rows.
    pub row: usize,
    pub id_hash: &'a str,
    pub phone_hash: Option<&'a str>,
    pub household: HouseholdRef,
    pub relation: Option<&'static str>,
    pub status: &'static str,
    pub org_code: &'a str,
    pub org_path: &'a str,
    /// Canonical JSON of the tags.
    pub tags: Cow<'a, str>,
}

#[derive(Debug, Clone)]
pub struct NewHouseholdPlan<'a> {
    pub household_no: &'a str,
    pub address: &'a str,
    pub org_code: &'a str,
    pub org_path: &'a str,
}

/// The households a person import creates (planned before its people, so that they can be
/// written while the people are planned).
#[derive(Debug, Default)]
pub struct NewHouseholds<'a> {
    pub list: Vec<NewHouseholdPlan<'a>>,
    /// `(position in list, org code, org path)` of each, by 户号.
    org: FastMap<&'a str, (usize, &'a str, &'a str)>,
}

#[derive(Debug, Default)]
pub struct PersonPlan<'a> {
    pub summary: ImportSummary,
    pub issues: Vec<ImportIssue>,
    pub inserts: Vec<PlannedPerson<'a>>,
    /// Positions in `inserts` in ascending id-hash order, the order a bulk load writes
    /// them in (its unique index then grows at its end).
    pub hash_order: Vec<usize>,
    /// `(person id, plan, changed fields with old and new values, masked)`.
    pub updates: Vec<(i64, PlannedPerson<'a>, serde_json::Value)>,
}

pub fn tags_json(tags: &[PersonTag]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".into())
}

pub fn within(root: &OrgPath, path: &str) -> bool {
    path.starts_with(root.as_str())
}

/// Households this file creates: filed under the head's org, else the first row's; `orgs`
/// are the units under the import org by code, `households` the stored ones by 户号.
pub fn plan_households<'a>(
    rows: &'a [PersonImportRow],
    orgs: &'a FastMap<String, OrgRef>,
    households: &HashMap<String, ExistingHousehold>,
) -> NewHouseholds<'a> {
    // One pass, one map entry per household, and none for a row of the same household as
    // the row before (a household's members are usually together): three lookups per row
    // were most of this.
    struct Draft<'a> {
        no: &'a str,
        /// The row whose org files it: the first head with an org, else the first row with one.
        pick: Option<(usize, bool)>,
        address: Option<&'a str>,
    }
    let mut drafts: Vec<Draft<'a>> = Vec::new();
    let mut slots: FastMap<&str, usize> = FastMap::default();
    let mut last: Option<(&str, usize)> = None;
    for (i, r) in rows.iter().enumerate() {
        let Some(no) = r.household_no.as_deref() else {
            continue;
        };
        let slot = match last {
            Some((prev, k)) if prev == no => k,
            _ => {
                let k = *slots.entry(no).or_insert_with(|| {
                    drafts.push(Draft {
                        no,
                        pick: None,
                        address: None,
                    });
                    drafts.len() - 1
                });
                last = Some((no, k));
                k
            }
        };
        let d = &mut drafts[slot];
        if d.address.is_none() {
            d.address = r.household_address.as_deref();
        }
        if r.org_code.is_some() {
            let is_head = r.relation == Some(Relation::Head);
            match d.pick {
                Some((_, true)) => {}
                Some((_, false)) if !is_head => {}
                _ => d.pick = Some((i, is_head)),
            }
        }
    }
    drop(slots);
    let mut picked: Vec<(usize, &Draft)> = drafts
        .iter()
        .filter(|d| !households.contains_key(d.no))
        .filter_map(|d| d.pick.map(|(i, _)| (i, d)))
        .collect();
    picked.sort_unstable_by_key(|(i, _)| *i);
    let mut planned = NewHouseholds::default();
    for (i, d) in picked {
        let code = rows[i].org_code.as_ref().map_or("", |c| c.as_str());
        if let Some(o) = orgs.get(code) {
            planned
                .org
                .insert(d.no, (planned.list.len(), &o.code, &o.path));
            planned.list.push(NewHouseholdPlan {
                household_no: d.no,
                address: d.address.unwrap_or_default(),
                org_code: &o.code,
                org_path: &o.path,
            });
        }
    }
    planned
}

/// `hashes[i]` is `(id hash, phone hash)` of `rows[i]`; `orgs` the units under the import
/// org by code; `existing` persons by id hash; `households` by 户号; `new_households` from
/// [`plan_households`].
pub fn plan_persons<'a>(
    rows: &'a [PersonImportRow],
    hashes: &'a [(LookupHash, Option<LookupHash>)],
    root: &OrgPath,
    orgs: &'a FastMap<String, OrgRef>,
    existing: &'a HashMap<String, ExistingPerson>,
    households: &'a HashMap<String, ExistingHousehold>,
    new_households: &NewHouseholds<'a>,
) -> PersonPlan<'a> {
    let mut plan = PersonPlan {
        // most rows of a large file are new people; growing by doubling copied the plan
        // into fresh pages four times over
        inserts: Vec::with_capacity(rows.len()),
        ..PersonPlan::default()
    };
    // The rows in id-hash order, ties in row order: repeats of an ID sit next to its first
    // row, which finds them without a map of every row (its random inserts were a fifth
    // of planning a county), and the inserts come out in the order a bulk load wants.
    let mut by_hash: Vec<(u128, usize)> = hashes
        .iter()
        .enumerate()
        .map(|(i, (h, _))| (h.key(), i))
        .collect();
    by_hash.sort_unstable();
    // (row, line of the ID's first row) of every later row with the same ID, by row
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    for group in by_hash.chunk_by(|a, b| a.0 == b.0) {
        let first = rows[group[0].1].line;
        repeats.extend(group[1..].iter().map(|&(_, i)| (i, first)));
    }
    repeats.sort_unstable();
    let mut repeats = repeats.into_iter().peekable();
    // each row's position in `inserts`, if it is one
    let mut insert_at: Vec<Option<usize>> = vec![None; rows.len()];
    let mut bad_lines: Vec<usize> = Vec::new();
    let mut issue = |plan: &mut PersonPlan, line: usize, column: &str, reason: String| {
        plan.issues.push(ImportIssue {
            line,
            column: column.into(),
            reason,
        });
        bad_lines.push(line);
    };
    let new_hh_org = &new_households.org;

    for (i, r) in rows.iter().enumerate() {
        let (id_hash, phone_hash) = &hashes[i];
        if let Some((_, first)) = repeats.next_if(|&(row, _)| row == i) {
            issue(
                &mut plan,
                r.line,
                "身份证号",
                format!("与第{first}行的身份证号重复"),
            );
            continue;
        }
        let row_org = match &r.org_code {
            Some(c) => match orgs.get(c.as_str()) {
                Some(o) => Some((o.code.as_str(), o.path.as_str())),
                None => {
                    issue(
                        &mut plan,
                        r.line,
                        "所属网格",
                        format!("“{}”不在本次导入的单位之下，或不是村/网格", c.as_str()),
                    );
                    continue;
                }
            },
            None => None,
        };
        let old = existing.get(id_hash.as_str());
        if let Some(p) = old
            && !within(root, &p.org_path)
        {
            issue(
                &mut plan,
                r.line,
                "身份证号",
                "该身份证号已在其他地区登记，不能在此导入（如属迁入，请由原地办理迁出）".into(),
            );
            continue;
        }
        let (household, hh_org) = match r.household_no.as_deref() {
            None => match old {
                Some(p) => (
                    p.household_id
                        .map_or(HouseholdRef::None, HouseholdRef::Existing),
                    None,
                ),
                None => (HouseholdRef::None, None),
            },
            Some(no) => match households.get(no) {
                Some(h) if !within(root, &h.org_path) => {
                    issue(
                        &mut plan,
                        r.line,
                        "户号",
                        format!("户号“{no}”已在其他地区登记"),
                    );
                    continue;
                }
                Some(h) if h.status != HouseholdStatus::Active.as_str() => {
                    issue(
                        &mut plan,
                        r.line,
                        "户号",
                        format!("户号“{no}”已合并或注销，不能再加入成员"),
                    );
                    continue;
                }
                Some(h) => (
                    HouseholdRef::Existing(h.id),
                    Some((h.org_code.as_str(), h.org_path.as_str())),
                ),
                None => match new_hh_org.get(no) {
                    Some(&(k, code, path)) => (HouseholdRef::New(k), Some((code, path))),
                    None => {
                        issue(
                            &mut plan,
                            r.line,
                            "所属网格",
                            format!(
                                "未填写：户号“{no}”尚未登记，需填写所属网格（或所属村）才能新建该户"
                            ),
                        );
                        continue;
                    }
                },
            },
        };
        let (org_code, org_path) = match (row_org, hh_org, old) {
            (Some(o), _, _) => o,
            (None, _, Some(p)) => (p.org_code.as_str(), p.org_path.as_str()),
            (None, Some(o), None) => o,
            (None, None, None) => {
                issue(
                    &mut plan,
                    r.line,
                    "所属网格",
                    "未填写：新登记人员须填写所属网格或户号".into(),
                );
                continue;
            }
        };
        let relation = r.relation.map(Relation::as_str).or_else(|| {
            old.and_then(|p| p.relation.as_deref())
                .and_then(Relation::parse)
                .map(Relation::as_str)
        });
        let status = r
            .status
            .map(PersonStatus::as_str)
            .or_else(|| {
                old.and_then(|p| PersonStatus::parse(&p.status))
                    .map(PersonStatus::as_str)
            })
            .unwrap_or(PersonStatus::Registered.as_str());
        let phone_hash = phone_hash
            .as_ref()
            .map(LookupHash::as_str)
            .or_else(|| old.and_then(|p| p.phone_hash.as_deref()));
        let tags = match (&r.tags, old) {
            (Some(t), _) => Cow::Owned(tags_json(t)),
            (None, Some(p)) => Cow::Borrowed(p.tags.as_str()),
            (None, None) => Cow::Borrowed("[]"),
        };
        let planned = PlannedPerson {
            row: i,
            id_hash: id_hash.as_str(),
            phone_hash,
            household,
            relation,
            status,
            org_code,
            org_path,
            tags,
        };
        match old {
            None => {
                insert_at[i] = Some(plan.inserts.len());
                plan.inserts.push(planned);
            }
            Some(p) => {
                let mut changes = serde_json::Map::new();
                if p.name != r.name {
                    changes.insert("name".into(), json!([p.name, r.name]));
                }
                if p.phone_hash.as_deref() != planned.phone_hash {
                    changes.insert("phone".into(), json!("changed"));
                }
                let new_hh_id = match &planned.household {
                    HouseholdRef::Existing(id) => Some(*id),
                    _ => None,
                };
                if p.household_id != new_hh_id || matches!(planned.household, HouseholdRef::New(_))
                {
                    changes.insert("household".into(), json!([p.household_id, r.household_no]));
                }
                if p.relation.as_deref() != planned.relation {
                    changes.insert("relation".into(), json!([p.relation, planned.relation]));
                }
                if p.status != planned.status {
                    changes.insert("status".into(), json!([p.status, planned.status]));
                }
                if p.org_code != planned.org_code {
                    changes.insert("org".into(), json!([p.org_code, planned.org_code]));
                }
                if *p.tags != *planned.tags {
                    changes.insert("tags".into(), json!([p.tags, planned.tags]));
                }
                if changes.is_empty() {
                    plan.summary.unchanged += 1;
                } else {
                    plan.updates
                        .push((p.id, planned, serde_json::Value::Object(changes)));
                }
            }
        }
    }
    plan.hash_order = by_hash.iter().filter_map(|&(_, i)| insert_at[i]).collect();
    bad_lines.sort_unstable();
    bad_lines.dedup();
    plan.summary.invalid = bad_lines.len() as u64;
    plan.summary.new = plan.inserts.len() as u64;
    plan.summary.updated = plan.updates.len() as u64;
    plan.summary.households_created = new_households.list.len() as u64;
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::Vault;
    use xiangzhi_domain::org::DivisionCode;

    /// Repeats of an ID are reported on the later row with the first row's line, and the
    /// inserts' hash order is every insert once, by ascending id hash.
    #[test]
    fn repeated_ids_are_found_and_inserts_ordered_by_hash() {
        let vault = Vault::ephemeral();
        let grid = "361002201200001";
        let id = xiangzhi_domain::citizen_id::CitizenId::parse("11010519491231002X").unwrap();
        let n = 2000;
        // rows 5 and 1500 repeat the IDs of rows 3 and 2; row 1700 repeats row 5's (so 3's)
        let source = |i: usize| match i {
            5 | 1700 => 3,
            1500 => 2,
            i => i,
        };
        let rows: Vec<PersonImportRow> = (0..n)
            .map(|i| PersonImportRow {
                line: i + 2,
                name: format!("人{i}"),
                citizen_id: id.clone(),
                phone: None,
                household_no: None,
                relation: None,
                status: None,
                org_code: Some(DivisionCode::parse(grid).unwrap()),
                household_address: None,
                tags: None,
            })
            .collect();
        let hashes: Vec<(LookupHash, Option<LookupHash>)> = (0..n)
            .map(|i| (vault.lookup_inline(&format!("id{}", source(i))), None))
            .collect();
        let mut orgs = FastMap::default();
        let path = "/36/3610/361002/361002201/361002201200/361002201200001/";
        orgs.insert(
            grid.to_string(),
            OrgRef {
                code: grid.into(),
                path: path.into(),
            },
        );
        let root = OrgPath::from_stored("/36/3610/361002/".into());
        let (existing, households) = (HashMap::new(), HashMap::new());
        let new_households = plan_households(&rows, &orgs, &households);
        let plan = plan_persons(
            &rows,
            &hashes,
            &root,
            &orgs,
            &existing,
            &households,
            &new_households,
        );
        let reported: Vec<(usize, &str)> = plan
            .issues
            .iter()
            .map(|i| (i.line, i.reason.as_str()))
            .collect();
        assert_eq!(
            reported,
            vec![
                (7, "与第5行的身份证号重复"),
                (1502, "与第4行的身份证号重复"),
                (1702, "与第5行的身份证号重复"),
            ]
        );
        assert_eq!(plan.inserts.len(), n - 3);
        let mut seen = plan.hash_order.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..n - 3).collect::<Vec<_>>());
        let in_order: Vec<&str> = plan
            .hash_order
            .iter()
            .map(|k| plan.inserts[*k].id_hash)
            .collect();
        assert!(in_order.windows(2).all(|w| w[0] < w[1]), "ascending");
    }
}
