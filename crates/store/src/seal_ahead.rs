//! Sealing the people an import will insert on other threads, while the import plans and
//! writes the households: sealing 680,000 IDs and phones takes a second of both cores, and
//! the planning and the household inserts each leave a core idle.
//!
//! Started once the stored persons are known: every row whose ID is not stored yet is
//! either an insert or an error, and any error stops the whole import, so the rows sealed
//! ahead are exactly the plan's inserts whenever the import writes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{StoreError, StoreResult};
use crate::registry_model::PersonImportRow;
use crate::registry_plan::PlannedPerson;
use crate::sql_registry::par_map;
use crate::vault::Vault;

/// `(sealed citizen ID, sealed phone)` of one person.
pub type SealedPerson = (String, Option<String>);

/// Seals `(citizen ID, phone)` pairs in order on up to four threads; once `stop` is set the
/// remaining pairs come back empty.
pub fn seal_all<S: AsRef<str> + Sync>(
    vault: &Vault,
    plain: &[(S, Option<S>)],
    stop: &AtomicBool,
) -> Vec<SealedPerson> {
    let sealer = vault.sealer();
    par_map(plain, |(id, phone)| {
        if stop.load(Ordering::Relaxed) {
            return (String::new(), None);
        }
        (
            sealer.seal(id.as_ref()),
            phone.as_ref().map(|p| sealer.seal(p.as_ref())),
        )
    })
}

/// Sealing under way; dropping it stops the work at the next row.
pub struct SealAhead {
    rows: Vec<usize>,
    cancel: Arc<AtomicBool>,
    handle: Option<tokio::task::JoinHandle<Vec<SealedPerson>>>,
}

impl SealAhead {
    /// Seals `rows[i]` for every `i` in `todo` (ascending) on the blocking pool.
    pub fn start(vault: Arc<Vault>, rows: &[PersonImportRow], todo: Vec<usize>) -> SealAhead {
        let plain: Vec<(String, Option<String>)> = todo
            .iter()
            .map(|i| {
                let r = &rows[*i];
                (
                    r.citizen_id.as_str().to_string(),
                    r.phone.as_ref().map(|p| p.as_str().to_string()),
                )
            })
            .collect();
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        let handle = tokio::task::spawn_blocking(move || seal_all(&vault, &plain, &stop));
        SealAhead {
            rows: todo,
            cancel,
            handle: Some(handle),
        }
    }

    /// The sealed values of `inserts`, in their order; `None` if they are not the rows this
    /// was started on (then the caller seals them itself).
    pub async fn take(
        mut self,
        inserts: &[PlannedPerson<'_>],
    ) -> StoreResult<Option<Vec<SealedPerson>>> {
        if inserts.len() != self.rows.len()
            || inserts.iter().zip(&self.rows).any(|(p, r)| p.row != *r)
        {
            return Ok(None);
        }
        let handle = self.handle.take().expect("taken once");
        let sealed = handle
            .await
            .map_err(|e| StoreError::Backend(format!("加密个人信息的线程异常退出：{e}")))?;
        Ok(Some(sealed))
    }
}

impl Drop for SealAhead {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}
