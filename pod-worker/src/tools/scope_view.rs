//! The scope checks behind every file tool, and the wording of their refusals.

use std::path::Path;

use podsup_config::scope::Rule;

use super::{Access, ScopeView, ToolError};

/// `rel` as the model should read it: `.` for the pod's directory itself.
pub(crate) fn shown(rel: &Path) -> String {
    if rel.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        rel.display().to_string()
    }
}

/// Whether `rule` covers the normalised path `rel`.
fn covers(rule: &Rule, rel: &Path) -> bool {
    rel == rule.target || (rule.recursive && rel.starts_with(&rule.target))
}

impl ScopeView {
    /// Whether the pod may access `rel` (normalised, relative) this way; the refusal
    /// names the child holding write there, if one does.
    pub fn check(&self, rel: &Path, access: Access) -> Result<(), ToolError> {
        let write = access == Access::Write;
        if self.scope.permits(rel, write) {
            return Ok(());
        }
        let path = shown(rel);
        if !write {
            return Err(ToolError::ReadDenied(path));
        }
        if let Some((child, _)) = self
            .delegated
            .iter()
            .find(|(_, rule)| rule.write && covers(rule, rel))
        {
            return Err(ToolError::Delegated {
                path,
                child: child.clone(),
            });
        }
        if self.scope.permits(rel, false) {
            Err(ToolError::ReadOnly(path))
        } else {
            Err(ToolError::WriteDenied(path))
        }
    }

    /// Whether `rel` is a directory strictly above something the pod may read, so that
    /// listing it is the way into the scope.
    pub fn leads_into_scope(&self, rel: &Path) -> bool {
        self.scope.allow.iter().any(|rule| {
            rule.target != rel
                && rule.target.starts_with(rel)
                && self.scope.permits(&rule.target, false)
        })
    }

    /// Whether the pod may see `rel` in a listing or walk: it may read it, or it leads
    /// into the scope.
    pub fn visible(&self, rel: &Path) -> bool {
        self.scope.permits(rel, false) || self.leads_into_scope(rel)
    }

    /// Whether the pod may run shell commands: only when it holds recursive write on its
    /// whole directory, denies nothing and has delegated no write, since a shell is not
    /// confined to paths and could otherwise step around the scope.
    pub fn check_bash(&self) -> Result<(), ToolError> {
        let whole = self
            .scope
            .allow
            .iter()
            .any(|r| r.target.as_os_str().is_empty() && r.write && r.recursive);
        if !whole {
            return Err(ToolError::BashDenied(
                "this pod does not hold write on its whole directory (.), and a shell is not confined to paths".into(),
            ));
        }
        if let Some((child, rule)) = self.delegated.iter().find(|(_, r)| r.write) {
            return Err(ToolError::BashDenied(format!(
                "write on {} is delegated to pod {child}, and a shell could write there",
                shown(&rule.target)
            )));
        }
        if let Some(deny) = self.scope.deny.first() {
            return Err(ToolError::BashDenied(format!(
                "{} is denied to this pod, and a shell could reach it",
                shown(&deny.target)
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
