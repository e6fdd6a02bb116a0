//! The templates that ship with xiangzhi. They are loaded into the store as version 1 of
//! their codes (a township edits them from there); the text lives in `templates/` so it reads
//! as what a clerk would write.

/// A built-in template: code, name, body.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub code: &'static str,
    pub name: &'static str,
    pub body: &'static str,
}

pub const ANNUAL: Builtin = Builtin {
    code: "annual",
    name: "乡镇年度工作总结及下年度工作计划",
    body: include_str!("../templates/annual.txt"),
};

pub const NOTICE_MIN_LIVING: Builtin = Builtin {
    code: "notice_min_living",
    name: "城乡低保拟纳入对象公示",
    body: include_str!("../templates/notice_min_living.txt"),
};

pub const VILLAGE_PROFILE: Builtin = Builtin {
    code: "village_profile",
    name: "村情简介（每村一页）",
    body: include_str!("../templates/village_profile.txt"),
};

pub const ALL: [Builtin; 3] = [ANNUAL, NOTICE_MIN_LIVING, VILLAGE_PROFILE];

pub fn find(code: &str) -> Option<Builtin> {
    ALL.into_iter().find(|b| b.code == code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_parses() {
        for b in super::ALL {
            if let Err(e) = crate::parse(b.body) {
                panic!("{}: {e}", b.code);
            }
        }
    }
}
