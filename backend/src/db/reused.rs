//! Write statements prepared once per connection and used again.
//!
//! diesel prepares every `UPDATE` and every upsert anew: their SQL may vary with the values
//! (a changeset's optional fields leave their columns out), so it never keeps them. In a
//! deadline rush, preparing the report's `UPDATE … RETURNING` was a third of its cost, and
//! it is made in the one writer's turn. Wrapped in [`Reused`], a statement is looked up among
//! the connection's prepared ones by its SQL text and its binds' types: a statement whose text
//! varies gets one prepared statement per text, so reusing is always correct. Wrap only
//! statements whose columns are fixed, or that cache grows with every new text (never an
//! `IN` list). Run it with `get_result` or `load`: `execute` hands diesel a reference to the
//! statement, and diesel asks a reference's parts, not the wrapper, whether to keep it; a
//! statement that answers nothing is given a `RETURNING` of one column.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

#[derive(Debug, Clone, Copy)]
pub struct Reused<Q>(pub Q);

impl<Q> QueryId for Reused<Q> {
    type QueryId = ();
    /// Found by its text, not by its type: the text of a type's statement may vary.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Reused<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Reused<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, C> RunQueryDsl<C> for Reused<Q> {}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sqlite::SqliteConnection;

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use diesel::connection::InstrumentationEvent;

    use super::Reused;

    diesel::table! {
        t (id) {
            id -> Integer,
            v -> Text,
            n -> Nullable<Integer>,
        }
    }

    /// Counts the statements the connection puts among its prepared ones.
    fn counted(conn: &mut SqliteConnection) -> Arc<AtomicUsize> {
        let kept = Arc::new(AtomicUsize::new(0));
        let count = kept.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if matches!(event, InstrumentationEvent::CacheQuery { .. }) {
                count.fetch_add(1, Ordering::SeqCst);
            }
        });
        kept
    }

    #[test]
    fn an_update_is_prepared_once_and_each_text_gets_its_own_statement() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER);
             INSERT INTO t VALUES (1, 'a', NULL), (2, 'b', NULL);",
        )
        .unwrap();
        let kept = counted(&mut conn);
        let update = |i: i32| {
            diesel::update(t::table.filter(t::id.eq(1)))
                .set((t::v.eq(format!("x{i}")), t::n.eq(Some(i))))
                .returning((t::id, t::v, t::n))
        };
        // What diesel does by itself: prepared anew each time, never kept.
        for i in 0..2 {
            update(i)
                .get_result::<(i32, String, Option<i32>)>(&mut conn)
                .unwrap();
        }
        assert_eq!(kept.load(Ordering::SeqCst), 0);
        for i in 0..5 {
            let row: (i32, String, Option<i32>) = Reused(update(i)).get_result(&mut conn).unwrap();
            assert_eq!(row, (1, format!("x{i}"), Some(i)));
        }
        assert_eq!(kept.load(Ordering::SeqCst), 1, "kept once, for five runs");
        // A different text (another column set) is a statement of its own, and right.
        let other: (i32, String, Option<i32>) = Reused(
            diesel::update(t::table.filter(t::id.eq(2)))
                .set(t::v.eq("y"))
                .returning((t::id, t::v, t::n)),
        )
        .get_result(&mut conn)
        .unwrap();
        assert_eq!(other, (2, "y".to_owned(), None));
        assert_eq!(
            kept.load(Ordering::SeqCst),
            2,
            "another text, another statement"
        );
        let rows: Vec<(i32, String, Option<i32>)> = t::table.order(t::id).load(&mut conn).unwrap();
        assert_eq!(
            rows,
            vec![(1, "x4".to_owned(), Some(4)), (2, "y".to_owned(), None)]
        );
    }

    #[test]
    fn an_upsert_answering_with_a_row_is_prepared_once() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER);")
            .unwrap();
        let kept = counted(&mut conn);
        let upsert = |i: i32| {
            diesel::insert_into(t::table)
                .values((t::id.eq(1), t::v.eq(format!("v{i}")), t::n.eq(i)))
                .on_conflict(t::id)
                .do_update()
                .set((t::v.eq(format!("v{i}")), t::n.eq(i)))
        };
        // `execute` hands diesel a reference, whose statement diesel never keeps.
        Reused(upsert(0)).execute(&mut conn).unwrap();
        assert_eq!(kept.load(Ordering::SeqCst), 0);
        for i in 1..4 {
            let n: Option<i32> = Reused(upsert(i).returning(t::n))
                .get_result(&mut conn)
                .unwrap();
            assert_eq!(n, Some(i));
        }
        assert_eq!(kept.load(Ordering::SeqCst), 1, "kept once, for three runs");
        let row: (i32, String, Option<i32>) = t::table.first(&mut conn).unwrap();
        assert_eq!(row, (1, "v3".to_owned(), Some(3)));
    }
}
