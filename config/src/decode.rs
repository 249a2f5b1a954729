//! From TOML text to a [`Tree`], checking every rule on the way.
//!
//! The file is parsed into toml's span-carrying [`DeTable`] and walked by hand rather than
//! through `serde` derives, so that every key and value keeps its position and one pass
//! finds every problem instead of stopping at the first. Decoders are total: a bad value is
//! reported and replaced by a default so the walk goes on; the tree is only returned when
//! nothing was reported.

use std::path::Path;

use toml::de::DeTable;

use crate::error::{Diagnostic, Problem, Section};
use crate::name::Name;
use crate::spec::Tree;

mod child;
mod ctx;
mod environment;
mod limits;
mod llm;
mod logs;
mod pod;
mod process;
mod program;
mod scope;
mod supervisor;
mod table;

use ctx::Ctx;
use table::Table;

/// What `name` at the top level takes.
const TREE_NAME_EXPECTED: &str = "the tree's name, like name = \"example\"";

/// Decodes `source`, read from `path`, into a tree or every problem found in it.
pub(crate) fn decode(source: &str, path: &Path) -> Result<Tree, Vec<Diagnostic>> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut ctx = Ctx::new(source, &absolute);
    let (document, syntax_errors) = DeTable::parse_recoverable(source);
    if !syntax_errors.is_empty() {
        for error in syntax_errors {
            let span = error.span().unwrap_or(0..0);
            let message = error.message().trim().replace('\n', "; ");
            ctx.report(span, Problem::Syntax { message });
        }
        return Err(ctx.finish_syntax());
    }
    let top = Table::new(document.get_ref(), document.span(), Section::Tree, "");
    top.check_keys(&mut ctx);
    let name = tree_name(&mut ctx, &top);
    let root = supervisor::decode_body(&mut ctx, &top, Name::root());
    let logs = logs::decode(&mut ctx, &top);
    let diagnostics = ctx.finish();
    if diagnostics.is_empty() {
        Ok(Tree {
            name,
            root,
            logs,
            source: absolute,
        })
    } else {
        Err(diagnostics)
    }
}

/// The required top-level `name`, checked with the [`Name`] rules.
fn tree_name(ctx: &mut Ctx<'_>, top: &Table<'_, '_>) -> String {
    let Some(value) = top.get("name") else {
        top.missing(ctx, "name", TREE_NAME_EXPECTED);
        return String::new();
    };
    let Some(text) = ctx.string(value, "name", TREE_NAME_EXPECTED) else {
        return String::new();
    };
    if let Err(reason) = Name::parse(text) {
        let problem = Problem::BadName {
            value: text.to_owned(),
            reason,
        };
        ctx.report(value.span(), problem);
    }
    text.to_owned()
}
