//! Reading typed fields out of a TOML table, reporting wrong types and unknown keys.

use std::borrow::Cow;
use std::num::NonZeroU64;
use std::ops::{Range, RangeInclusive};
use std::time::Duration;

use toml::de::{DeTable, DeValue};

use super::ctx::{Ctx, Value};
use crate::duration::parse_duration;
use crate::error::{Problem, Section, names_a_secret};
use crate::policy::UnknownVariant;
use crate::size::parse_size;

/// What duration keys take, for wrong-type messages.
pub(super) const DURATION_EXPECTED: &str = "a duration like \"10s\"";

/// A table of the file with the section it is read as.
#[derive(Clone)]
pub(super) struct Table<'a, 'i> {
    entries: &'a DeTable<'i>,
    span: Range<usize>,
    section: Section,
    /// Prepended to keys in messages: `"backoff."` for the keys of a backoff table,
    /// `"scope[0]."` for those of the first table of a `scope` array.
    prefix: Cow<'static, str>,
}

impl<'a, 'i> Table<'a, 'i> {
    /// `entries`, found at `span`, read as `section`.
    pub(super) fn new(
        entries: &'a DeTable<'i>,
        span: Range<usize>,
        section: Section,
        prefix: impl Into<Cow<'static, str>>,
    ) -> Table<'a, 'i> {
        Table {
            entries,
            span,
            section,
            prefix: prefix.into(),
        }
    }

    /// The same table read as another section (once a child's kind is known).
    pub(super) fn with_section(self, section: Section) -> Table<'a, 'i> {
        Table { section, ..self }
    }

    /// The value of `key`, if present.
    pub(super) fn get(&self, key: &str) -> Option<Value<'a, 'i>> {
        self.entries.get(key)
    }

    /// `key` as messages name it.
    pub(super) fn label(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Reports every key that is not allowed in this table's section.
    pub(super) fn check_keys(&self, ctx: &mut Ctx<'_>) {
        let allowed = self.section.keys();
        for (key, _) in self.entries.iter() {
            let name: &str = key.get_ref().as_ref();
            if allowed.contains(&name) {
                continue;
            }
            // A secret-looking key is refused for what it is, wherever it is, so that the
            // message says where keys go instead of listing the allowed ones.
            let problem = if names_a_secret(name) && !Section::Llm.keys().contains(&name) {
                Problem::SecretKey {
                    key: name.to_owned(),
                }
            } else {
                Problem::UnknownKey {
                    key: name.to_owned(),
                    section: self.section,
                }
            };
            ctx.report(key.span(), problem);
        }
    }

    /// Reports that the required `key` is absent, at the table's header or opening brace.
    pub(super) fn missing(&self, ctx: &mut Ctx<'_>, key: &'static str, expected: &'static str) {
        let problem = Problem::MissingKey {
            key,
            section: self.section,
            expected,
        };
        ctx.report(self.span.clone(), problem);
    }

    /// The string at `key` with its span; `None` if absent or (reported) not a string.
    pub(super) fn string(
        &self,
        ctx: &mut Ctx<'_>,
        key: &str,
        expected: &'static str,
    ) -> Option<(&'a str, Range<usize>)> {
        let value = self.get(key)?;
        let text = ctx.string(value, &self.label(key), expected)?;
        Some((text, value.span()))
    }

    /// The integer at `key`, checked against `range`.
    pub(super) fn integer(
        &self,
        ctx: &mut Ctx<'_>,
        key: &str,
        range: RangeInclusive<u64>,
    ) -> Option<u64> {
        let value = self.get(key)?;
        let label = self.label(key);
        let DeValue::Integer(integer) = value.get_ref() else {
            ctx.wrong_type(value, label, "an integer");
            return None;
        };
        let parsed = i128::from_str_radix(integer.as_str(), integer.radix()).ok();
        let in_range = parsed
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| range.contains(n));
        if in_range.is_none() {
            let problem = Problem::OutOfRange {
                key: label,
                value: integer.to_string(),
                min: *range.start(),
                max: *range.end(),
            };
            ctx.report(value.span(), problem);
        }
        in_range
    }

    /// The boolean at `key`.
    pub(super) fn boolean(&self, ctx: &mut Ctx<'_>, key: &str) -> Option<bool> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Boolean(flag) => Some(*flag),
            _ => {
                ctx.wrong_type(value, self.label(key), "true or false");
                None
            }
        }
    }

    /// The size at `key` in bytes, which must not be zero; `expected` is the hint for a
    /// wrong type.
    pub(super) fn size(
        &self,
        ctx: &mut Ctx<'_>,
        key: &str,
        expected: &'static str,
    ) -> Option<NonZeroU64> {
        let (text, span) = self.string(ctx, key, expected)?;
        let key = self.label(key);
        let checked = match parse_size(text) {
            Ok(bytes) => NonZeroU64::new(bytes).ok_or(Problem::ZeroSize { key }),
            Err(reason) => Err(Problem::BadSize {
                key,
                value: text.to_owned(),
                reason,
            }),
        };
        ctx.ok(span, checked)
    }

    /// The duration at `key`; zero is refused with `zero_expected` as the hint.
    pub(super) fn duration(
        &self,
        ctx: &mut Ctx<'_>,
        key: &str,
        zero_expected: &'static str,
    ) -> Option<Duration> {
        let (text, span) = self.string(ctx, key, DURATION_EXPECTED)?;
        let checked = positive_duration(text, &self.label(key), zero_expected);
        ctx.ok(span, checked)
    }

    /// The number (integer or float) at `key`, with its text as written and its span.
    pub(super) fn number(
        &self,
        ctx: &mut Ctx<'_>,
        key: &str,
        expected: &'static str,
    ) -> Option<(Option<f64>, String, Range<usize>)> {
        let value = self.get(key)?;
        let (number, written) = match value.get_ref() {
            DeValue::Float(float) => (float.as_str().parse::<f64>().ok(), float.to_string()),
            DeValue::Integer(integer) => (
                i64::from_str_radix(integer.as_str(), integer.radix())
                    .ok()
                    .map(|n| n as f64),
                integer.to_string(),
            ),
            _ => {
                ctx.wrong_type(value, self.label(key), expected);
                return None;
            }
        };
        Some((number, written, value.span()))
    }

    /// The word at `key` parsed as `T`.
    pub(super) fn choice<T>(
        &self,
        ctx: &mut Ctx<'_>,
        key: &str,
        expected: &'static str,
    ) -> Option<T>
    where
        T: std::str::FromStr<Err = UnknownVariant>,
    {
        let (text, span) = self.string(ctx, key, expected)?;
        let parsed = text.parse::<T>().map_err(Problem::from);
        ctx.ok(span, parsed)
    }

    /// The tables of the array at `key`, each read as `section` and labelled `key[N].`;
    /// other items are reported as not `expected`.
    pub(super) fn tables(
        &self,
        ctx: &mut Ctx<'_>,
        key: &str,
        (section, expected): (Section, &'static str),
    ) -> Vec<Table<'a, 'i>> {
        let Some(value) = self.get(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = value.get_ref() else {
            ctx.wrong_type(value, self.label(key), expected);
            return Vec::new();
        };
        let mut tables = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let label = format!("{}[{index}]", self.label(key));
            match item.get_ref() {
                DeValue::Table(entries) => {
                    let prefix = format!("{label}.");
                    tables.push(Table::new(entries, item.span(), section, prefix));
                }
                _ => ctx.wrong_type(item, label, "a table"),
            }
        }
        tables
    }

    /// The sub-table at `key` read as `section`, whose keys are labelled `prefix`.
    pub(super) fn table(
        &self,
        ctx: &mut Ctx<'_>,
        key: &str,
        (section, prefix): (Section, &'static str),
    ) -> Option<Table<'a, 'i>> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Table(entries) => Some(Table::new(entries, value.span(), section, prefix)),
            _ => {
                ctx.wrong_type(value, self.label(key), "a table");
                None
            }
        }
    }
}

/// Parses `text` as a duration that must not be zero.
pub(super) fn positive_duration(
    text: &str,
    label: &str,
    zero_expected: &'static str,
) -> Result<Duration, Problem> {
    match parse_duration(text) {
        Ok(duration) if duration.is_zero() => Err(Problem::ZeroDuration {
            key: label.to_owned(),
            expected: zero_expected,
        }),
        Ok(duration) => Ok(duration),
        Err(reason) => Err(Problem::BadDuration {
            key: label.to_owned(),
            value: text.to_owned(),
            reason,
        }),
    }
}

/// The TOML type of `value`, with an article, for wrong-type messages.
pub(super) fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl Ctx<'_> {
    /// `value` as a string, or a reported wrong type.
    pub(super) fn string<'a>(
        &mut self,
        value: Value<'a, '_>,
        label: &str,
        expected: &'static str,
    ) -> Option<&'a str> {
        match value.get_ref() {
            DeValue::String(text) => Some(text.as_ref()),
            _ => {
                self.wrong_type(value, label.to_owned(), expected);
                None
            }
        }
    }

    /// Reports that `value` (named `label`) is not `expected`.
    pub(super) fn wrong_type(
        &mut self,
        value: Value<'_, '_>,
        label: String,
        expected: &'static str,
    ) {
        let problem = Problem::WrongType {
            key: label,
            found: type_name(value.get_ref()),
            expected,
        };
        self.report(value.span(), problem);
    }

    /// The value of `result`, or `None` after reporting its problem at `span`.
    pub(super) fn ok<T>(&mut self, span: Range<usize>, result: Result<T, Problem>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(problem) => {
                self.report(span, problem);
                None
            }
        }
    }
}
