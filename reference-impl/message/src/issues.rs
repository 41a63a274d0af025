//! A bounded list of the problems a lenient decoder found on its way.

/// How many issues are kept; the rest are only counted, so a hostile input cannot make the
/// list grow with it.
pub const MAX_KEPT: usize = 64;

/// The first [`MAX_KEPT`] issues and the count of all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issues<T> {
    kept: Vec<T>,
    count: usize,
}

impl<T> Default for Issues<T> {
    fn default() -> Self {
        Issues {
            kept: Vec::new(),
            count: 0,
        }
    }
}

impl<T> Issues<T> {
    pub(crate) fn push(&mut self, issue: T) {
        self.count += 1;
        if self.kept.len() < MAX_KEPT {
            self.kept.push(issue);
        }
    }

    /// The issues kept, in the order they were found.
    pub fn as_slice(&self) -> &[T] {
        &self.kept
    }

    /// The last issue kept.
    pub fn last(&self) -> Option<&T> {
        self.kept.last()
    }

    /// How many issues were found in all (kept or not).
    pub fn count(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.kept.iter()
    }
}

impl<'a, T> IntoIterator for &'a Issues<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.kept.iter()
    }
}
