//! Sealing the people an import will insert on another thread, while the import plans and
//! writes the households.
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
    /// Seals `rows[i]` for every `i` in `todo` (ascending) on one thread of the blocking
    /// pool. One: the import's own thread has the other core, and on two sealing threads
    /// it got two thirds of one while planning.
    pub fn start(vault: Arc<Vault>, rows: &[PersonImportRow], todo: Vec<usize>) -> SealAhead {
        // the values copied into one buffer: a string each was a million allocations here
        let mut text = String::with_capacity(todo.len() * 30);
        let mut spans: Vec<(usize, usize, usize)> = Vec::with_capacity(todo.len());
        for i in &todo {
            let r = &rows[*i];
            let start = text.len();
            text.push_str(r.citizen_id.as_str());
            let id_end = text.len();
            if let Some(p) = &r.phone {
                text.push_str(p.as_str());
            }
            spans.push((start, id_end, text.len()));
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        let handle = tokio::task::spawn_blocking(move || {
            let sealer = vault.sealer();
            spans
                .iter()
                .map(|&(start, id_end, end)| {
                    if stop.load(Ordering::Relaxed) {
                        return (String::new(), None);
                    }
                    (
                        sealer.seal(&text[start..id_end]),
                        (end > id_end).then(|| sealer.seal(&text[id_end..end])),
                    )
                })
                .collect()
        });
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
