//! A scope with a few names of its own over the run's: the item of a `batch`, the latest
//! output of a `loop` node, the round.

use pflow_ir::template::TemplateScope;
use serde_json::Value;

/// The run's scope `base`, with `roots` in front of it: a root listed here hides the
/// base's root of that name, even while it has no value (`None`).
pub(crate) struct Overlay<'a, B: ?Sized> {
    base: &'a B,
    roots: Vec<(&'a str, Option<Value>)>,
}

impl<'a, B: TemplateScope + ?Sized> Overlay<'a, B> {
    /// `base` with no names of its own yet.
    pub(crate) fn new(base: &'a B) -> Overlay<'a, B> {
        Overlay { base, roots: Vec::with_capacity(2) }
    }

    /// The same scope with `name` in front (`None`: known, without a value yet).
    pub(crate) fn with(mut self, name: &'a str, value: Option<Value>) -> Overlay<'a, B> {
        self.set(name, value);
        self
    }

    /// Gives `name` the value `value`.
    pub(crate) fn set(&mut self, name: &'a str, value: Option<Value>) {
        match self.roots.iter_mut().find(|(n, _)| *n == name) {
            Some((_, slot)) => *slot = value,
            None => self.roots.push((name, value)),
        }
    }
}

impl<B: TemplateScope + ?Sized> TemplateScope for Overlay<'_, B> {
    fn root(&self, name: &str) -> Option<&Value> {
        match self.roots.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => value.as_ref(),
            None => self.base.root(name),
        }
    }

    fn is_root(&self, name: &str) -> bool {
        self.roots.iter().any(|(n, _)| *n == name) || self.base.is_root(name)
    }

    fn root_names(&self) -> Vec<String> {
        let mut names = self.base.root_names();
        names.extend(self.roots.iter().map(|(n, _)| (*n).to_owned()));
        names.sort();
        names.dedup();
        names
    }
}
