//! The audit log: who changed what, when, from where, with old and new values.
//!
//! Rows are hash-chained: each row's hash covers its own fields and the previous row's hash, and
//! the head (last id and hash) is kept apart, so altering, removing or truncating rows is caught by
//! [`AuditHasher`]. The hashing lives here so both backends chain identically.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash before the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339 in UTC with microseconds: stored as text so both backends hash the same bytes.
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub ip: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// The org path the record belongs to, so auditors see only their own subtree.
    pub scope_path: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    pub fn format_time(t: DateTime<Utc>) -> String {
        t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }

    /// The hash this row must carry, given the previous row's hash.
    pub fn compute_hash(&self, prev_hash: &str) -> String {
        let mut h = Sha256::new();
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "\u{0}".to_string());
        for part in [
            prev_hash.to_string(),
            self.id.to_string(),
            self.at.clone(),
            self.actor_id.map(|v| v.to_string()).unwrap_or_default(),
            self.actor_name.clone(),
            opt(&self.ip),
            self.action.clone(),
            self.entity.clone(),
            self.entity_id.clone(),
            self.scope_path.clone(),
            opt(&self.old_value),
            opt(&self.new_value),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// A write about to be audited; the store assigns id, time and hashes.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: String,
    pub scope_path: String,
    pub old_value: Option<serde_json::Value>,
    pub new_value: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub before_id: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    pub id: i64,
    pub reason: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "审计日志第 {} 条：{}", self.id, self.reason)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub rows: u64,
    pub first_break: Option<ChainBreak>,
}

/// Walks the chain in id order and reports the first broken link.
pub struct AuditHasher {
    prev_hash: String,
    prev_id: i64,
    rows: u64,
}

impl Default for AuditHasher {
    fn default() -> Self {
        AuditHasher {
            prev_hash: GENESIS.to_string(),
            prev_id: 0,
            rows: 0,
        }
    }
}

impl AuditHasher {
    pub fn feed(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        if e.id != self.prev_id + 1 {
            return Err(ChainBreak {
                id: self.prev_id + 1,
                reason: format!("记录缺失（下一条是第 {} 条）", e.id),
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainBreak {
                id: e.id,
                reason: "与上一条的链接不符（上一条被改动或删除）".into(),
            });
        }
        if e.compute_hash(&self.prev_hash) != e.hash {
            return Err(ChainBreak {
                id: e.id,
                reason: "内容与哈希不符（本条被改动）".into(),
            });
        }
        self.prev_hash = e.hash.clone();
        self.prev_id = e.id;
        self.rows += 1;
        Ok(())
    }

    /// Checks the stored head against the last row seen: catches a truncated tail.
    pub fn finish(self, head: Option<(i64, String)>) -> VerifyReport {
        let (head_id, head_hash) = head.unwrap_or((0, GENESIS.to_string()));
        let first_break =
            (head_id != self.prev_id || head_hash != self.prev_hash).then(|| ChainBreak {
                id: self.prev_id + 1,
                reason: format!(
                    "日志末尾被截断：应有 {head_id} 条，实有 {} 条",
                    self.prev_id
                ),
            });
        VerifyReport {
            rows: self.rows,
            first_break,
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|id| {
                let mut e = AuditEntry {
                    id,
                    at: "2024-01-01T00:00:00.000000Z".into(),
                    actor_id: Some(1),
                    actor_name: "admin".into(),
                    ip: None,
                    action: "update".into(),
                    entity: "org_unit".into(),
                    entity_id: id.to_string(),
                    scope_path: "/36/".into(),
                    old_value: None,
                    new_value: Some(format!("{{\"n\":{id}}}")),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.compute_hash(&prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(rows: &[AuditEntry], head: Option<(i64, String)>) -> VerifyReport {
        let mut h = AuditHasher::default();
        for r in rows {
            if let Err(b) = h.feed(r) {
                return VerifyReport {
                    rows: h.rows(),
                    first_break: Some(b),
                };
            }
        }
        h.finish(head)
    }

    #[test]
    fn intact_chain_verifies() {
        let rows = chain(5);
        let head = Some((5, rows[4].hash.clone()));
        assert!(verify(&rows, head).first_break.is_none());
    }

    #[test]
    fn altered_removed_and_truncated_rows_are_caught() {
        let rows = chain(5);
        let head = Some((5, rows[4].hash.clone()));
        let mut altered = rows.clone();
        altered[2].new_value = Some("{\"n\":99}".into());
        assert_eq!(verify(&altered, head.clone()).first_break.unwrap().id, 3);

        let mut removed = rows.clone();
        removed.remove(1);
        assert_eq!(verify(&removed, head.clone()).first_break.unwrap().id, 2);

        let truncated = &rows[..4];
        assert_eq!(verify(truncated, head).first_break.unwrap().id, 5);
    }
}
