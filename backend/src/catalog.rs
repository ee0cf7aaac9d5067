//! Report templates: the files under `report-schemas/schemas/` are copied into the database
//! (key, version, source) so that a round always keeps the template it was opened with.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use diesel::prelude::*;
use report_schemas::Template;

use crate::db::Conn;
use crate::db::models::{NewTemplateRow, TemplateRow};
use crate::db::schema::templates;
use crate::error::{AppError, AppResult};

/// The templates shipped with the program, used when no schemas directory is given or found.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "dinh-ky.toml",
        include_str!("../../report-schemas/schemas/dinh-ky.toml"),
    ),
    (
        "tong-ket-nq06.toml",
        include_str!("../../report-schemas/schemas/tong-ket-nq06.toml"),
    ),
];

/// Reads the templates from `dir` (or the built-in ones) and records any (key, version) the
/// database has not seen. A changed file under an existing version is refused: rounds rely on it.
pub fn sync(conn: &mut Conn, dir: Option<&Path>) -> anyhow::Result<usize> {
    let loaded: Vec<(Template, String)> = match dir {
        Some(dir) => report_schemas::load_dir(dir)?,
        None => BUILT_IN
            .iter()
            .map(|(file, src)| Template::parse(src, file).map(|t| (t, (*src).to_owned())))
            .collect::<Result<_, _>>()?,
    };
    let mut added = 0;
    for (template, source) in &loaded {
        let version = i32::try_from(template.version)?;
        let existing: Option<TemplateRow> = templates::table
            .filter(templates::key.eq(&template.key))
            .filter(templates::version.eq(version))
            .select(TemplateRow::as_select())
            .first(conn)
            .optional()?;
        match existing {
            Some(row) if row.source != *source => tracing::warn!(
                key = %template.key,
                version,
                "template file differs from the stored copy of the same version; keeping the stored one (raise the version to publish a change)"
            ),
            Some(_) => {}
            None => {
                diesel::insert_into(templates::table)
                    .values(NewTemplateRow {
                        key: &template.key,
                        version,
                        title: &template.title,
                        source,
                    })
                    .execute(conn)?;
                added += 1;
            }
        }
    }
    Ok(added)
}

/// Parsed templates by row id, parsed once from their stored source.
#[derive(Default)]
pub struct Catalog {
    parsed: RwLock<HashMap<i32, Arc<Template>>>,
}

impl Catalog {
    pub fn get(&self, conn: &mut Conn, template_id: i32) -> AppResult<Arc<Template>> {
        if let Some(t) = self
            .parsed
            .read()
            .map_err(|_| anyhow::anyhow!("catalog lock poisoned"))?
            .get(&template_id)
        {
            return Ok(t.clone());
        }
        let row: TemplateRow = templates::table
            .find(template_id)
            .select(TemplateRow::as_select())
            .first(conn)?;
        let file = format!("{}@{}", row.key, row.version);
        let template = Arc::new(
            Template::parse(&row.source, &file)
                .map_err(|e| AppError::Unexpected(anyhow::Error::new(e)))?,
        );
        self.parsed
            .write()
            .map_err(|_| anyhow::anyhow!("catalog lock poisoned"))?
            .insert(template_id, template.clone());
        Ok(template)
    }

    /// The newest version of the template with `key`.
    pub fn latest_id(conn: &mut Conn, key: &str) -> AppResult<Option<i32>> {
        Ok(templates::table
            .filter(templates::key.eq(key))
            .order(templates::version.desc())
            .select(templates::id)
            .first(conn)
            .optional()?)
    }
}

/// The newest version of every template, by key, with its row id.
pub fn latest_all(conn: &mut Conn, catalog: &Catalog) -> AppResult<Vec<(i32, Arc<Template>)>> {
    let rows: Vec<(i32, String, i32)> = templates::table
        .select((templates::id, templates::key, templates::version))
        .order((templates::key.asc(), templates::version.desc()))
        .load(conn)?;
    let mut out: Vec<(i32, Arc<Template>)> = Vec::new();
    for (id, key, _) in rows {
        if out.last().is_some_and(|(_, t)| t.key == key) {
            continue;
        }
        out.push((id, catalog.get(conn, id)?));
    }
    Ok(out)
}
