//! Planning an org import: validate a division file against itself and the tree, and work out
//! the inserts, renames and moves. Pure, so both backends plan identically and it is tested once.

use std::collections::{HashMap, HashSet};

use xiangzhi_domain::org::{DivisionCode, OrgLevel, OrgPath};

use crate::error::{StoreError, StoreResult};
use crate::model::{NewOrgUnit, OrgImportSummary};

/// `(code, name, level, parent_code, path)`, ready for a multi-row insert.
pub type UnitRow = (String, String, &'static str, Option<String>, String);

#[derive(Debug, Default)]
pub struct ImportPlan {
    pub inserts: Vec<UnitRow>,
    /// `(code, old name, new name)`
    pub renames: Vec<(DivisionCode, String, String)>,
    /// `(code, new parent, old path, new path)`
    pub moves: Vec<(DivisionCode, DivisionCode, OrgPath, OrgPath)>,
    pub summary: OrgImportSummary,
}

impl ImportPlan {
    pub fn is_empty(&self) -> bool {
        self.inserts.is_empty() && self.renames.is_empty() && self.moves.is_empty()
    }
}

/// At most this many problems are listed; the rest are counted.
const MAX_LISTED: usize = 20;

/// A unit name: trimmed, non-empty, no control characters, at most 100 characters.
pub fn check_name(name: &str) -> StoreResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::invalid("名称不能为空"));
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(StoreError::invalid("名称过长（最多 100 字）或含有控制字符"));
    }
    Ok(name.to_string())
}

/// `existing` maps code to `(name, parent_code, path)` for every unit already stored.
pub fn plan(
    units: &[NewOrgUnit],
    existing: &HashMap<String, (String, Option<String>, String)>,
) -> StoreResult<ImportPlan> {
    let mut problems: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::with_capacity(units.len());
    for u in units {
        if !seen.insert(u.code.as_str()) {
            problems.push(format!("区划代码 {} 重复出现", u.code));
        }
        if let Err(e) = check_name(&u.name) {
            problems.push(format!("{}：{e}", u.code));
        }
        match (&u.parent_code, u.code.level()) {
            (None, OrgLevel::Province) => {}
            (None, _) => problems.push(format!("{}（{}）缺少上级单位", u.code, u.name)),
            (Some(p), level) => {
                let expected = OrgLevel::ALL
                    .iter()
                    .position(|l| *l == level)
                    .and_then(|i| i.checked_sub(1));
                if expected.map(|i| OrgLevel::ALL[i]) != Some(p.level())
                    || !u.code.as_str().starts_with(p.as_str())
                {
                    problems.push(format!(
                        "{}（{}）的上级代码 {} 层级不对或不是其前缀",
                        u.code, u.name, p
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(too_many(problems));
    }

    // Parents before children: codes are longer at each level down.
    let mut order: Vec<&NewOrgUnit> = units.iter().collect();
    order.sort_by_key(|u| u.code.as_str().len());
    let mut paths: HashMap<&str, OrgPath> = HashMap::with_capacity(units.len());
    let mut plan = ImportPlan::default();
    for u in order {
        let parent_path = match &u.parent_code {
            None => OrgPath::root(),
            Some(p) => match paths.get(p.as_str()) {
                Some(path) => path.clone(),
                None => match existing.get(p.as_str()) {
                    Some((_, _, path)) => OrgPath::from_stored(path.clone()),
                    None => {
                        problems.push(format!("{}（{}）的上级单位 {} 不存在", u.code, u.name, p));
                        continue;
                    }
                },
            },
        };
        let path = parent_path.child(&u.code);
        match existing.get(u.code.as_str()) {
            None => {
                plan.inserts.push((
                    u.code.to_string(),
                    u.name.trim().to_string(),
                    u.code.level().as_str(),
                    u.parent_code.as_ref().map(|c| c.to_string()),
                    path.to_string(),
                ));
                plan.summary.inserted += 1;
            }
            Some((name, parent, old_path)) => {
                let mut changed = false;
                if name != u.name.trim() {
                    plan.renames
                        .push((u.code.clone(), name.clone(), u.name.trim().to_string()));
                    plan.summary.renamed += 1;
                    changed = true;
                }
                if let Some(p) = &u.parent_code
                    && parent.as_deref() != Some(p.as_str())
                {
                    plan.moves.push((
                        u.code.clone(),
                        p.clone(),
                        OrgPath::from_stored(old_path.clone()),
                        path.clone(),
                    ));
                    plan.summary.moved += 1;
                    changed = true;
                }
                if !changed {
                    plan.summary.unchanged += 1;
                }
            }
        }
        paths.insert(u.code.as_str(), path);
    }
    if !problems.is_empty() {
        return Err(too_many(problems));
    }
    Ok(plan)
}

fn too_many(problems: Vec<String>) -> StoreError {
    let n = problems.len();
    let mut msg = format!("区划文件有 {n} 处错误，未导入任何数据：\n");
    for p in problems.iter().take(MAX_LISTED) {
        msg.push_str(p);
        msg.push('\n');
    }
    if n > MAX_LISTED {
        msg.push_str(&format!("……另有 {} 处未列出\n", n - MAX_LISTED));
    }
    StoreError::Invalid(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, name: &str, parent: Option<&str>) -> NewOrgUnit {
        NewOrgUnit {
            code: DivisionCode::parse(code).unwrap(),
            name: name.into(),
            parent_code: parent.map(|p| DivisionCode::parse(p).unwrap()),
        }
    }

    #[test]
    fn plans_inserts_in_parent_order() {
        let units = [
            unit("3610", "抚州市", Some("36")),
            unit("36", "江西省", None),
        ];
        let plan = plan(&units, &HashMap::new()).unwrap();
        assert_eq!(plan.inserts.len(), 2);
        assert_eq!(plan.inserts[0].4, "/36/");
        assert_eq!(plan.inserts[1].4, "/36/3610/");
    }

    #[test]
    fn refuses_duplicates_orphans_and_bad_parents() {
        let dup = [unit("36", "江西省", None), unit("36", "江西", None)];
        assert!(
            plan(&dup, &HashMap::new())
                .unwrap_err()
                .to_string()
                .contains("重复")
        );
        let orphan = [unit("3610", "抚州市", Some("36"))];
        assert!(
            plan(&orphan, &HashMap::new())
                .unwrap_err()
                .to_string()
                .contains("不存在")
        );
        let skip = [
            unit("36", "江西省", None),
            unit("361002", "临川区", Some("36")),
        ];
        assert!(
            plan(&skip, &HashMap::new())
                .unwrap_err()
                .to_string()
                .contains("层级不对")
        );
        let foreign = [
            unit("36", "江西省", None),
            unit("3710", "威海市", Some("36")),
        ];
        assert!(plan(&foreign, &HashMap::new()).is_err());
        let rootless = [unit("3610", "抚州市", None)];
        assert!(
            plan(&rootless, &HashMap::new())
                .unwrap_err()
                .to_string()
                .contains("缺少上级")
        );
    }

    #[test]
    fn second_run_is_a_no_op_and_renames_are_seen() {
        let units = [
            unit("36", "江西省", None),
            unit("3610", "抚州市", Some("36")),
        ];
        let existing: HashMap<_, _> = [
            (
                "36".to_string(),
                ("江西省".to_string(), None, "/36/".to_string()),
            ),
            (
                "3610".to_string(),
                (
                    "抚州地区".to_string(),
                    Some("36".to_string()),
                    "/36/3610/".to_string(),
                ),
            ),
        ]
        .into();
        let p = plan(&units, &existing).unwrap();
        assert_eq!(
            p.summary,
            OrgImportSummary {
                inserted: 0,
                renamed: 1,
                moved: 0,
                unchanged: 1
            }
        );
        assert_eq!(p.renames[0].2, "抚州市");
    }
}
