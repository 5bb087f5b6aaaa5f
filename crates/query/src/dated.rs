//! A view of a document value in which ISO date strings are dates.
//!
//! Rocket.Chat stores fields such as `_createdAt` as BSON dates; the wire
//! and this server's storage show them as ISO strings
//! (`YYYY-MM-DDTHH:MM:SS.mmmZ`). A filter or sort that declares a path as a
//! date reads the value at that path through [`Dated`], so such a string is
//! a date for every operator (type brackets, `$type`, `$regex`, order) and
//! never a string, as in MongoDB.

use crate::doc::{DocValue, Kind};
use crate::value::parse_iso_millis;

/// `D` with its ISO date strings read as [`Kind::Date`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dated<D>(pub D);

/// The date a stored string stands for, if it has the stored date shape.
#[inline]
pub(crate) fn date_kind(k: Kind<'_>) -> Kind<'_> {
    match k {
        Kind::Str(s) => match parse_iso_millis(s) {
            Some(ms) => Kind::Date(ms),
            None => k,
        },
        k => k,
    }
}

impl<'a, D: DocValue<'a>> DocValue<'a> for Dated<D> {
    type Elems = std::iter::Map<D::Elems, fn(D) -> Dated<D>>;
    type Fields = std::iter::Map<D::Fields, fn((&'a str, D)) -> (&'a str, Dated<D>)>;
    type Plain = D::Plain;

    #[inline]
    fn plain(self) -> D::Plain {
        self.0.plain()
    }
    #[inline]
    fn kind(self) -> Kind<'a> {
        date_kind(self.0.kind())
    }
    #[inline]
    fn get(self, key: &str) -> Option<Self> {
        self.0.get(key).map(Dated)
    }
    #[inline]
    fn get_hashed(self, key: &str, hash: u32) -> Option<Self> {
        self.0.get_hashed(key, hash).map(Dated)
    }
    #[inline]
    fn at(self, i: usize) -> Option<Self> {
        self.0.at(i).map(Dated)
    }
    #[inline]
    fn elems(self) -> Self::Elems {
        self.0.elems().map(Dated as fn(D) -> Dated<D>)
    }
    fn fields(self) -> Self::Fields {
        fn wrap<D>((k, v): (&str, D)) -> (&str, Dated<D>) {
            (k, Dated(v))
        }
        self.0.fields().map(wrap as fn((&'a str, D)) -> (&'a str, Dated<D>))
    }
    fn len(self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Dated;
    use crate::value::{Lit, cmp_value_lit, eq_value_lit, parse_iso_millis, same_bracket};
    use serde_json::json;
    use std::cmp::Ordering;

    #[test]
    fn dates_against_stored_strings() {
        let d = Lit::Date(parse_iso_millis("2025-01-01T12:00:00.000Z").unwrap());
        let date = json!("2025-01-01T12:00:00.000Z");
        // read through a date field, the stored string is that date
        assert!(eq_value_lit(Dated(&date), &d));
        assert_eq!(cmp_value_lit(Dated(&json!("2025-01-01T12:00:00.001Z")), &d), Ordering::Greater);
        // ... and never a string
        assert!(!same_bracket(Dated(&date), &Lit::Str("2025".into())));
        assert!(!eq_value_lit(Dated(&date), &Lit::Str("2025-01-01T12:00:00.000Z".into())));
        // anywhere else it is a string, which never compares with a date
        assert!(!same_bracket(&date, &d));
        assert!(!eq_value_lit(&date, &d));
        // not the stored shape: an ordinary string even in a date field
        assert!(!same_bracket(Dated(&json!("2025-01-01T12:00:00Z")), &d));
        // a date literal and a number never compare equal
        assert!(!same_bracket(Dated(&json!(1735732800000i64)), &d));
    }
}
