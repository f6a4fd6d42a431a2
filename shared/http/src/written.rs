//! [`Written`]: what a create-once call did — made the record, or found the one already there.
//!
//! No system ml-connector writes to takes an idempotency key, so every connector's "create once"
//! call looks the record up by its natural key before creating it and again after a lost answer
//! (the in-doubt rule). The caller must know which happened: a record *found* may be this same
//! document written by an earlier attempt, or a different one that collides on the key, and only
//! a comparison tells. One type for every connector (Acumatica bills, vendors and purchase
//! orders; Cin7 purchases and suppliers), so targets read the answer the same way.

/// Whether a write made a record or found the one already there.
#[derive(Debug, Clone, PartialEq)]
pub enum Written<T> {
    /// Created by this call.
    Created(T),
    /// Already there (found by its natural key before, or after a lost answer): compare it
    /// with what was meant before calling it the same document.
    Found(T),
}

impl<T> Written<T> {
    /// The record either way.
    pub fn record(&self) -> &T {
        match self {
            Written::Created(t) | Written::Found(t) => t,
        }
    }

    /// The record, owned.
    pub fn into_record(self) -> T {
        match self {
            Written::Created(t) | Written::Found(t) => t,
        }
    }

    /// Whether this call created it.
    pub fn created(&self) -> bool {
        matches!(self, Written::Created(_))
    }

    /// The same answer about another value (`Written<Bill>` → `Written<TargetRef>`).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Written<U> {
        match self {
            Written::Created(t) => Written::Created(f(t)),
            Written::Found(t) => Written::Found(f(t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_way_the_record_is_there_and_the_answer_says_how() {
        let c = Written::Created(1);
        let f = Written::Found(2).map(|n| n * 10);
        assert!(c.created() && !f.created());
        assert_eq!((*c.record(), f.into_record()), (1, 20));
    }
}
