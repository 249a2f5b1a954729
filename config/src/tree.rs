//! Navigating a [`Tree`]: pre-order walk and lookup by name.

use std::slice;

use crate::spec::{ChildSpec, SupervisorSpec, Tree};

mod render;

/// Pre-order iterator over the children of a supervisor and their descendants, in start
/// order; made by [`Tree::walk`] and [`SupervisorSpec::walk`].
#[derive(Debug, Clone)]
pub struct Walk<'a> {
    /// One iterator per open supervisor; the last is the deepest.
    stack: Vec<slice::Iter<'a, ChildSpec>>,
}

impl<'a> Iterator for Walk<'a> {
    /// A node and its depth: 1 for the children of the supervisor the walk started at.
    type Item = (&'a ChildSpec, usize);

    fn next(&mut self) -> Option<(&'a ChildSpec, usize)> {
        loop {
            let depth = self.stack.len();
            let top = self.stack.last_mut()?;
            match top.next() {
                Some(child) => {
                    if let Some(sup) = child.as_supervisor() {
                        self.stack.push(sup.children.iter());
                    }
                    return Some((child, depth));
                }
                None => {
                    self.stack.pop();
                }
            }
        }
    }
}

impl SupervisorSpec {
    /// Every node below this supervisor, pre-order, with depths starting at 1.
    pub fn walk(&self) -> Walk<'_> {
        Walk {
            stack: vec![self.children.iter()],
        }
    }

    /// The node called `name` below this supervisor.
    pub fn find(&self, name: &str) -> Option<&ChildSpec> {
        self.walk()
            .map(|(child, _)| child)
            .find(|child| child.name.as_str() == name)
    }
}

impl Tree {
    /// Every node except the root, pre-order (a supervisor before its children, siblings
    /// in start order); the root's children have depth 1.
    pub fn walk(&self) -> Walk<'_> {
        self.root.walk()
    }

    /// The node called `name`, at any depth. The root is not a child: `find("root")` is
    /// `None`; use [`Tree::root`] for it.
    pub fn find(&self, name: &str) -> Option<&ChildSpec> {
        self.root.find(name)
    }
}
