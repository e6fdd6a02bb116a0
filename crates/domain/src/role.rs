//! Roles and what each may do. The scope (which subtree) is separate: a role says what, the
//! user's org path says where.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    TownshipLeader,
    TownshipClerk,
    VillageCadre,
    GridWorker,
    CountyApprover,
    Auditor,
}

/// Things a role may be allowed to do, checked before any store call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read records in scope.
    Read,
    /// Create and change records in scope.
    Write,
    ManageUsers,
    ManageOrg,
    ViewAudit,
    /// See a full citizen ID or phone number (audited each time).
    RevealPersonalData,
    /// Correct a wrongly entered citizen ID (township level; audited, old value kept sealed).
    CorrectCitizenId,
    /// Approve at township level (乡镇审核).
    TownshipReview,
    /// Approve at county level (县级审批).
    CountyApproval,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::TownshipLeader,
        Role::TownshipClerk,
        Role::VillageCadre,
        Role::GridWorker,
        Role::CountyApprover,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::TownshipLeader => "township_leader",
            Role::TownshipClerk => "township_clerk",
            Role::VillageCadre => "village_cadre",
            Role::GridWorker => "grid_worker",
            Role::CountyApprover => "county_approver",
            Role::Auditor => "auditor",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::TownshipLeader => "乡镇领导",
            Role::TownshipClerk => "乡镇业务员",
            Role::VillageCadre => "村干部",
            Role::GridWorker => "网格员",
            Role::CountyApprover => "县级审批",
            Role::Auditor => "审计员",
        }
    }

    /// Accepts the code (`village_cadre`) or the Chinese label (`村干部`).
    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s || r.label() == s)
    }

    pub fn can(self, p: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match p {
            Read => true,
            Write => matches!(
                self,
                Admin | TownshipLeader | TownshipClerk | VillageCadre | GridWorker
            ),
            ManageUsers | ManageOrg => self == Admin,
            ViewAudit => matches!(self, Admin | Auditor),
            RevealPersonalData => {
                matches!(self, Admin | TownshipLeader | TownshipClerk | VillageCadre)
            }
            CorrectCitizenId => matches!(self, Admin | TownshipLeader | TownshipClerk),
            TownshipReview => matches!(self, TownshipLeader | TownshipClerk),
            CountyApproval => self == CountyApprover,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_code_or_label() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(Role::parse(r.label()), Some(r));
        }
        assert_eq!(Role::parse("村长"), None);
    }

    #[test]
    fn auditors_read_but_never_write() {
        assert!(Role::Auditor.can(Permission::ViewAudit));
        assert!(!Role::Auditor.can(Permission::Write));
        assert!(!Role::GridWorker.can(Permission::ManageUsers));
        assert!(Role::Admin.can(Permission::ManageUsers));
    }
}
