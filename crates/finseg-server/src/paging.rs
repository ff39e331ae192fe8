//! `page` and `perPage` query parameters, read the same way everywhere.

use finseg_core::FieldError;
use serde::Deserialize;

use crate::problem::Problem;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageQuery {
    pub page: Option<String>,
    pub per_page: Option<String>,
}

impl PageQuery {
    pub fn is_given(&self) -> bool {
        self.page.is_some() || self.per_page.is_some()
    }

    /// `(page, perPage)`: `page` is 1-based; `perPage` 1 to `max_per_page`.
    pub fn read(&self, default_per_page: i64, max_per_page: i64) -> Result<(i64, i64), Problem> {
        let num =
            |v: &Option<String>, name: &str, default: i64, max: i64| -> Result<i64, FieldError> {
                match v {
                    None => Ok(default),
                    Some(s) => match s.parse::<i64>() {
                        Ok(n) if (1..=max).contains(&n) => Ok(n),
                        _ => Err(FieldError::new(
                            format!("/{name}"),
                            format!("must be an integer from 1 to {max}"),
                        )),
                    },
                }
            };
        match (
            num(&self.page, "page", 1, 10_000_000),
            num(&self.per_page, "perPage", default_per_page, max_per_page),
        ) {
            (Ok(p), Ok(pp)) => Ok((p, pp)),
            (p, pp) => Err(Problem::validation(
                p.err().into_iter().chain(pp.err()).collect(),
            )),
        }
    }
}

/// finAPI's paging object.
pub fn paging_json(page: i64, per_page: i64, total: i64) -> serde_json::Value {
    serde_json::json!({
        "page": page,
        "perPage": per_page,
        "pageCount": (total + per_page - 1) / per_page,
        "totalCount": total,
    })
}
