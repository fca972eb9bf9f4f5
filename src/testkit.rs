//! The store contract suite (feature `testkit`).
