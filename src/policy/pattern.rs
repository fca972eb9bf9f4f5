//! Whole-value regular expressions for approver-input constraints, on the
//! [`regex`](https://docs.rs/regex) crate (cargo feature `regex`).
//!
//! Harness checks an approver input's `regex` with Java's `String.matches`,
//! so a pattern must match the entire value. A pattern is compiled once,
//! when the policy is loaded, into a [`regex::Regex`] anchored at both ends
//! (`\A(?:…)\z`) with explicit limits on its compiled size
//! ([`Pattern::MAX_COMPILED_BYTES`]) and on its lazy DFA's cache
//! ([`Pattern::MAX_DFA_CACHE_BYTES`]). The `regex` crate never backtracks
//! into exponential time: a check costs at most `value length × pattern
//! size`, so a hostile pattern or value cannot stall a gate.
//!
//! Before it is compiled the pattern is parsed on its own (so that it
//! cannot escape the anchoring group, as `a)|(b` would) and a few
//! constructs are translated to what Java means by them: `\d \w \s` and
//! their negations are ASCII classes, `.` stops at every Java line
//! terminator. Constructs whose meaning differs between Java and the
//! `regex` crate, or would depend on the `regex` crate's optional Unicode
//! tables, are refused by name.
//!
//! Without the feature a [`Pattern`] cannot be made: [`Pattern::new`]
//! refuses every source with [`PatternError::FeatureMissing`], so a policy
//! with a pattern constraint is refused when it is loaded (kind
//! `invalid_policy`), never accepted and then left unchecked.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// A validated regular expression, matched against a whole value (like
/// Java's `String.matches`, which is what Harness uses for approver inputs).
/// Needs the cargo feature `regex`.
///
/// The syntax is the `regex` crate's, read the way Java reads the same
/// text wherever the two differ:
///
/// - literal characters (any Unicode); `.` is any character but a Java
///   line terminator (`\n`, `\r`, U+0085, U+2028, U+2029);
/// - `\d \D \w \W \s \S` are ASCII classes, as in Java (Harness does not set
///   `UNICODE_CHARACTER_CLASS`): `\d` is `[0-9]`, `\w` is `[A-Za-z0-9_]`,
///   `\s` is `[ \t\n\x0B\f\r]`;
/// - escapes `\t \n \r \f \a`, `\xhh`, `\x{h..h}`, `\uhhhh`, and a backslash
///   before punctuation (`\. \\ \- \/ \( \[ \{ \* \+ \? \| \^ \$ \#`);
/// - classes `[abc]`, ranges `[a-z]`, negation `[^...]`, escapes and
///   shorthands inside classes, nested classes (a union, as in Java) and
///   intersection `&&`;
/// - groups `(...)`, non-capturing `(?:...)` and named `(?<name>...)`, all
///   only grouping since nothing is captured; alternation `|`;
/// - quantifiers `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` and their lazy forms
///   (which behave like the greedy ones, since only whether the value
///   matches is asked);
/// - anchors `^` and `$` (and `\A`, `\z`), which hold only at the start and
///   end of the value.
///
/// Refused, with a [`PatternError`] that names the pattern and where the
/// problem starts: look-around and backreferences (the `regex` crate has
/// neither), inline flags such as `(?i)`, Unicode classes `\p{..}`, word
/// boundaries `\b`, `\v`, POSIX classes `[[:alpha:]]` and class difference
/// `--` / `~~` (Java reads these differently), escapes the `regex` crate
/// does not know (`\e`, `\cA`, `\Q..\E`, octal), a source longer than
/// [`Pattern::MAX_SOURCE_BYTES`], groups nested deeper than
/// [`Pattern::MAX_NESTING`], and a pattern that compiles to more than
/// [`Pattern::MAX_COMPILED_BYTES`] (counted repetitions multiply: `(a{1000}){1000}`).
///
/// ```
/// # #[cfg(feature = "regex")] {
/// use approval_gate::policy::Pattern;
/// let ticket = Pattern::new(r"[A-Z]{3}-\d+")?;
/// assert!(ticket.is_match("CHG-1234"));
/// assert!(!ticket.is_match("chg-1234"));
/// // The whole value must match, not just a part of it.
/// assert!(!ticket.is_match("see CHG-1234"));
/// assert_eq!(ticket.as_str(), r"[A-Z]{3}-\d+");
///
/// let err = Pattern::new(r"(?<=v)\d+").unwrap_err();
/// assert!(err.to_string().contains("look-around"), "{err}");
/// # }
/// # Ok::<(), approval_gate::policy::PatternError>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pattern {
    source: String,
    compiled: Compiled,
}

/// The compiled form: a [`regex::Regex`] with the feature, and a type with
/// no values without it, so that no `Pattern` can exist unchecked.
#[cfg(feature = "regex")]
type Compiled = regex::Regex;

/// The compiled form: a [`regex::Regex`] with the feature, and a type with
/// no values without it, so that no `Pattern` can exist unchecked.
#[cfg(not(feature = "regex"))]
#[derive(Debug, Clone)]
enum Compiled {}

impl Pattern {
    /// The longest pattern accepted, in bytes.
    pub const MAX_SOURCE_BYTES: usize = 1024;
    /// The deepest groups, classes and repetitions may nest.
    pub const MAX_NESTING: u32 = 64;
    /// The largest compiled program accepted, in bytes (the `regex` crate's
    /// `size_limit`; its default is 10 MiB). 1 MiB holds any pattern an
    /// approval input needs many times over, and bounds the memory a policy
    /// document can make the crate allocate per pattern.
    pub const MAX_COMPILED_BYTES: usize = 1024 * 1024;
    /// The most memory the lazy DFA's cache may take per pattern and thread,
    /// in bytes (the `regex` crate's `dfa_size_limit`, default 2 MiB). A
    /// pattern whose DFA would need more falls back to a slower automaton
    /// that is still linear in the value.
    pub const MAX_DFA_CACHE_BYTES: usize = 2 * 1024 * 1024;

    /// Parses and compiles `source`.
    ///
    /// # Errors
    ///
    /// A [`PatternError`] naming the pattern: [`PatternError::FeatureMissing`]
    /// when the crate was built without the `regex` feature; otherwise
    /// malformed or refused syntax (with the byte at which it starts), a
    /// source longer than [`Pattern::MAX_SOURCE_BYTES`], or a program larger
    /// than [`Pattern::MAX_COMPILED_BYTES`].
    pub fn new(source: &str) -> Result<Pattern, PatternError> {
        let compiled = compile(source)?;
        Ok(Pattern { source: source.to_owned(), compiled })
    }

    /// The source text, as given to [`Pattern::new`].
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches the whole of `value`.
    #[must_use]
    pub fn is_match(&self, value: &str) -> bool {
        #[cfg(feature = "regex")]
        {
            self.compiled.is_match(value)
        }
        #[cfg(not(feature = "regex"))]
        {
            let _ = value;
            match self.compiled {}
        }
    }
}

#[cfg(not(feature = "regex"))]
fn compile(source: &str) -> Result<Compiled, PatternError> {
    Err(PatternError::FeatureMissing { pattern: shorten(source) })
}

#[cfg(feature = "regex")]
fn compile(source: &str) -> Result<Compiled, PatternError> {
    engine::compile(source)
}

impl fmt::Debug for Pattern {
    // The compiled program is an implementation detail and would drown the
    // source, which is all a reader needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

// The program is a function of the source, so the source alone decides
// equality and hashing.
impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl Hash for Pattern {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.source.hash(state);
    }
}

impl FromStr for Pattern {
    type Err = PatternError;
    fn from_str(source: &str) -> Result<Self, PatternError> {
        Self::new(source)
    }
}

impl TryFrom<String> for Pattern {
    type Error = PatternError;
    fn try_from(source: String) -> Result<Self, PatternError> {
        let compiled = compile(&source)?;
        Ok(Pattern { source, compiled })
    }
}

impl From<Pattern> for String {
    fn from(pattern: Pattern) -> Self {
        pattern.source
    }
}

/// A pattern that could not be compiled. Every message names the pattern
/// (its first 64 characters, control characters escaped) and, where there
/// is one, the byte offset at which the problem starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The crate was built without the `regex` feature, so it cannot check
    /// patterns and refuses them rather than accept any value.
    #[error("pattern `{pattern}` needs the `regex` feature of approval-gate, which this build does not enable")]
    FeatureMissing {
        /// The pattern.
        pattern: String,
    },
    /// The source is longer than [`Pattern::MAX_SOURCE_BYTES`].
    #[error("pattern `{pattern}` is longer than {limit} bytes")]
    TooLong {
        /// The pattern.
        pattern: String,
        /// The longest accepted, in bytes.
        limit: usize,
    },
    /// Malformed syntax, or syntax the `regex` crate does not have
    /// (look-around, backreferences, unknown escapes, nesting deeper than
    /// [`Pattern::MAX_NESTING`]).
    #[error("invalid pattern `{pattern}` at byte {at}: {reason}")]
    Syntax {
        /// The pattern.
        pattern: String,
        /// Where the problem starts.
        at: usize,
        /// What is wrong, as the parser says it.
        reason: String,
    },
    /// Syntax the crate refuses because Java, whose semantics Harness
    /// patterns have, reads it differently.
    #[error("unsupported syntax `{construct}` ({what}) in pattern `{pattern}` at byte {at}")]
    Unsupported {
        /// The construct as written, such as `\p{L}` or `(?i)`.
        construct: String,
        /// What it is, such as `inline flags`.
        what: &'static str,
        /// The pattern.
        pattern: String,
        /// Where the construct starts.
        at: usize,
    },
    /// The compiled program would exceed [`Pattern::MAX_COMPILED_BYTES`],
    /// usually because counted repetitions multiply.
    #[error("pattern `{pattern}` compiles to more than {limit} bytes")]
    TooLarge {
        /// The pattern.
        pattern: String,
        /// The largest compiled size accepted, in bytes.
        limit: usize,
    },
}

/// A pattern as error messages show it: at most 64 characters, control
/// characters escaped, so a message stays one readable line.
fn shorten(source: &str) -> String {
    const MAX: usize = 64;
    let mut shown = String::new();
    let mut chars = source.chars();
    for c in chars.by_ref().take(MAX) {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    if chars.next().is_some() {
        shown.push('…');
    }
    shown
}

#[cfg(feature = "regex")]
mod engine {
    use super::{Pattern, PatternError, shorten};
    use regex_syntax::ast::{
        self, AssertionKind, Ast, ClassPerl, ClassPerlKind, ClassSet, ClassSetBinaryOpKind, ClassSetItem, GroupKind,
        LiteralKind, SpecialLiteralKind,
    };

    /// `.` as Java reads it: any character but a line terminator.
    const JAVA_DOT: &str = r"[^\n\r\x{85}\x{2028}\x{2029}]";

    /// One piece of the source to replace before compiling.
    struct Edit {
        start: usize,
        end: usize,
        with: &'static str,
    }

    pub(super) fn compile(source: &str) -> Result<regex::Regex, PatternError> {
        if source.len() > Pattern::MAX_SOURCE_BYTES {
            return Err(PatternError::TooLong { pattern: shorten(source), limit: Pattern::MAX_SOURCE_BYTES });
        }
        let parsed = ast::parse::ParserBuilder::new().nest_limit(Pattern::MAX_NESTING).build().parse(source).map_err(
            |error| PatternError::Syntax {
                pattern: shorten(source),
                at: error.span().start.offset,
                reason: error.kind().to_string(),
            },
        )?;
        let mut edits = Vec::new();
        visit(&parsed, source, &mut edits)?;
        let translated = splice(source, &edits)?;
        // The source parsed on its own, so its groups are balanced and it
        // cannot close the anchoring group early.
        let anchored = format!(r"\A(?:{translated})\z");
        regex::RegexBuilder::new(&anchored)
            .size_limit(Pattern::MAX_COMPILED_BYTES)
            .dfa_size_limit(Pattern::MAX_DFA_CACHE_BYTES)
            // The source's own nesting was checked above; the anchoring
            // group and the translated classes add two levels.
            .nest_limit(Pattern::MAX_NESTING + 2)
            .build()
            .map_err(|error| match error {
                regex::Error::CompiledTooBig(_) => {
                    PatternError::TooLarge { pattern: shorten(source), limit: Pattern::MAX_COMPILED_BYTES }
                }
                other => {
                    PatternError::Syntax { pattern: shorten(source), at: 0, reason: last_line(&other.to_string()) }
                }
            })
    }

    /// The `regex` crate's syntax errors draw the pattern over several
    /// lines and end with `error: <what>`; the message keeps the what.
    fn last_line(message: &str) -> String {
        let line = message.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or(message);
        line.trim().trim_start_matches("error: ").to_owned()
    }

    fn splice(source: &str, edits: &[Edit]) -> Result<String, PatternError> {
        let mut out = String::with_capacity(source.len() + edits.len() * 16);
        let mut at = 0;
        for edit in edits {
            let before = source.get(at..edit.start).ok_or_else(|| internal(source, edit.start))?;
            out.push_str(before);
            out.push_str(edit.with);
            at = edit.end;
        }
        out.push_str(source.get(at..).ok_or_else(|| internal(source, at))?);
        Ok(out)
    }

    fn internal(source: &str, at: usize) -> PatternError {
        PatternError::Syntax { pattern: shorten(source), at, reason: "the parser reported a span outside it".into() }
    }

    fn unsupported(source: &str, span: &ast::Span, what: &'static str) -> PatternError {
        let construct = source.get(span.start.offset..span.end.offset).unwrap_or_default();
        PatternError::Unsupported {
            construct: shorten(construct),
            what,
            pattern: shorten(source),
            at: span.start.offset,
        }
    }

    /// Walks the parsed pattern in source order, refusing what Java reads
    /// differently and noting what to translate. The depth is bounded by
    /// the parser's nesting limit.
    fn visit(node: &Ast, source: &str, edits: &mut Vec<Edit>) -> Result<(), PatternError> {
        match node {
            Ast::Empty(_) => Ok(()),
            Ast::Flags(flags) => Err(unsupported(source, &flags.span, "inline flags")),
            Ast::Literal(literal) => check_literal(literal, source),
            Ast::Dot(span) => {
                edits.push(Edit { start: span.start.offset, end: span.end.offset, with: JAVA_DOT });
                Ok(())
            }
            Ast::Assertion(assertion) => match assertion.kind {
                AssertionKind::StartLine
                | AssertionKind::EndLine
                | AssertionKind::StartText
                | AssertionKind::EndText => Ok(()),
                _ => Err(unsupported(source, &assertion.span, "word boundary")),
            },
            Ast::ClassUnicode(class) => Err(unsupported(source, &class.span, "Unicode class")),
            Ast::ClassPerl(class) => {
                edits.push(Edit {
                    start: class.span.start.offset,
                    end: class.span.end.offset,
                    with: ascii_class(class, true),
                });
                Ok(())
            }
            Ast::ClassBracketed(class) => visit_set(&class.kind, source, edits),
            Ast::Repetition(repetition) => visit(&repetition.ast, source, edits),
            Ast::Group(group) => {
                if let GroupKind::NonCapturing(flags) = &group.kind {
                    if !flags.items.is_empty() {
                        return Err(unsupported(source, &flags.span, "inline flags"));
                    }
                }
                visit(&group.ast, source, edits)
            }
            Ast::Alternation(alternation) => {
                alternation.asts.iter().try_for_each(|branch| visit(branch, source, edits))
            }
            Ast::Concat(concat) => concat.asts.iter().try_for_each(|item| visit(item, source, edits)),
        }
    }

    fn visit_set(set: &ClassSet, source: &str, edits: &mut Vec<Edit>) -> Result<(), PatternError> {
        match set {
            ClassSet::Item(item) => visit_item(item, source, edits),
            ClassSet::BinaryOp(op) => match op.kind {
                ClassSetBinaryOpKind::Intersection => {
                    visit_set(&op.lhs, source, edits)?;
                    visit_set(&op.rhs, source, edits)
                }
                _ => Err(unsupported(source, &op.span, "class difference")),
            },
        }
    }

    fn visit_item(item: &ClassSetItem, source: &str, edits: &mut Vec<Edit>) -> Result<(), PatternError> {
        match item {
            ClassSetItem::Empty(_) => Ok(()),
            ClassSetItem::Literal(literal) => check_literal(literal, source),
            ClassSetItem::Range(range) => {
                check_literal(&range.start, source)?;
                check_literal(&range.end, source)
            }
            ClassSetItem::Ascii(class) => Err(unsupported(source, &class.span, "POSIX class")),
            ClassSetItem::Unicode(class) => Err(unsupported(source, &class.span, "Unicode class")),
            ClassSetItem::Perl(class) => {
                edits.push(Edit {
                    start: class.span.start.offset,
                    end: class.span.end.offset,
                    with: ascii_class(class, false),
                });
                Ok(())
            }
            ClassSetItem::Bracketed(class) => visit_set(&class.kind, source, edits),
            ClassSetItem::Union(union) => union.items.iter().try_for_each(|item| visit_item(item, source, edits)),
        }
    }

    fn check_literal(literal: &ast::Literal, source: &str) -> Result<(), PatternError> {
        match literal.kind {
            // Java's `\v` is any vertical white space, not only U+000B.
            LiteralKind::Special(SpecialLiteralKind::VerticalTab) => {
                Err(unsupported(source, &literal.span, "vertical white space escape"))
            }
            _ => Ok(()),
        }
    }

    /// Java's shorthand classes, ASCII only: the `regex` crate's POSIX
    /// classes are always ASCII, whatever its Unicode features.
    fn ascii_class(class: &ClassPerl, alone: bool) -> &'static str {
        match (&class.kind, class.negated, alone) {
            (ClassPerlKind::Digit, false, true) => "[[:digit:]]",
            (ClassPerlKind::Digit, true, true) => "[[:^digit:]]",
            (ClassPerlKind::Word, false, true) => "[[:word:]]",
            (ClassPerlKind::Word, true, true) => "[[:^word:]]",
            (ClassPerlKind::Space, false, true) => "[[:space:]]",
            (ClassPerlKind::Space, true, true) => "[[:^space:]]",
            (ClassPerlKind::Digit, false, false) => "[:digit:]",
            (ClassPerlKind::Digit, true, false) => "[:^digit:]",
            (ClassPerlKind::Word, false, false) => "[:word:]",
            (ClassPerlKind::Word, true, false) => "[:^word:]",
            (ClassPerlKind::Space, false, false) => "[:space:]",
            (ClassPerlKind::Space, true, false) => "[:^space:]",
        }
    }
}

#[cfg(all(test, feature = "regex"))]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    //! Harness reads an approver input's `regex` with Java's
    //! `String.matches` (whole value, ASCII shorthand classes, `.` stops at
    //! line terminators); these tests pin that reading on the `regex` crate.
    use super::*;

    fn matches(pattern: &str, value: &str) -> bool {
        Pattern::new(pattern).unwrap().is_match(value)
    }

    fn check(pattern: &str, accepted: &[&str], refused: &[&str]) {
        let compiled = Pattern::new(pattern).unwrap();
        for value in accepted {
            assert!(compiled.is_match(value), "`{pattern}` should match {value:?}");
        }
        for value in refused {
            assert!(!compiled.is_match(value), "`{pattern}` should not match {value:?}");
        }
    }

    fn error(pattern: &str) -> String {
        Pattern::new(pattern).unwrap_err().to_string()
    }

    #[test]
    fn literals_match_exactly() {
        check("abc", &["abc"], &["", "ab", "abcd", "ABC", "abd"]);
        check("héllo 日本", &["héllo 日本"], &["hello 日本", "héllo 日"]);
    }

    #[test]
    fn harness_string_matches_is_whole_value() {
        check("ab", &["ab"], &["xaby", "xab", "abx", ""]);
        check("a|b", &["a", "b"], &["ab", "xa"]);
        // Leftmost-first search would stop at `a`; the whole value decides.
        check("a|ab", &["a", "ab"], &["abc"]);
        // A trailing line feed is part of the value, as in Java's `matches`.
        check("abc$", &["abc"], &["abc\n"]);
    }

    #[test]
    fn a_pattern_cannot_escape_the_anchoring_group() {
        assert!(error("a)|(b").starts_with("invalid pattern `a)|(b` at byte 1:"), "{}", error("a)|(b"));
        assert!(Pattern::new("(a").is_err());
    }

    #[test]
    fn empty_pattern_matches_only_empty_value() {
        check("", &[""], &["a", " "]);
        check("()", &[""], &["a"]);
    }

    #[test]
    fn dot_matches_any_char_but_java_line_terminators() {
        check(
            "a.c",
            &["abc", "a c", "aéc", "a.c", "a😀c"],
            &["ac", "a\nc", "a\rc", "a\u{85}c", "a\u{2028}c", "a\u{2029}c", "abbc"],
        );
        check("[.]", &["."], &["a"]);
    }

    #[test]
    fn shorthand_classes_are_ascii_as_in_java() {
        check(r"\d", &["0", "9"], &["a", "٣", ""]);
        check(r"\D", &["a", "٣"], &["5"]);
        check(r"\w", &["a", "Z", "0", "_"], &["-", "é", " "]);
        check(r"\W", &["-", "é"], &["a", "_"]);
        check(r"\s", &[" ", "\t", "\n", "\r", "\x0B", "\x0C"], &["a", "\u{a0}", "\u{2028}"]);
        check(r"\S", &["a", "\u{a0}"], &[" "]);
        check(r"[\d_]", &["7", "_"], &["a", "٣"]);
        check(r"[^\d\s]", &["a", "٣"], &["1", " "]);
        check(r"[\D]", &["a"], &["1"]);
        check(r"[\W]", &["é"], &["a"]);
    }

    #[test]
    fn escaped_metacharacters_are_literals() {
        check(r"\.\\\-\(\)\[\]\{\}\*\+\?\|\^\$", &[r".\-()[]{}*+?|^$"], &["x"]);
        check(r"a\.b", &["a.b"], &["axb"]);
        check(r"\#\ \@\/", &["# @/"], &[]);
    }

    #[test]
    fn control_and_code_escapes() {
        check(r"\t\n\r\f\a", &["\t\n\r\x0C\x07"], &["tnr"]);
        check(r"\x41\x{1F600}\u00e9", &["A😀é"], &["x41"]);
    }

    #[test]
    fn classes_and_ranges() {
        check("[abc]", &["a", "b", "c"], &["d", "", "ab"]);
        check("[a-z]", &["a", "m", "z"], &["A", "0"]);
        check("[a-zA-Z0-9_.-]+", &["Ann.Lee-2_x"], &["a b", "a@b"]);
        check("[^a-z]", &["A", "0", "\n"], &["a", "q"]);
        check(r"[\]\[\\]", &["]", "[", "\\"], &["a"]);
        check("[-a]", &["-", "a"], &["b"]);
        check("[a-]", &["-", "a"], &["b"]);
        check("[]a]", &["]", "a"], &["b"]);
        check("[^]a]", &["b"], &["]", "a"]);
        check("[.*+?(){}|$^]", &[".", "*", "(", "|", "$", "^"], &["a"]);
        check("[α-ω]", &["β"], &["a"]);
        check(r"[\x41-\x43]", &["B"], &["D"]);
        // Java reads a nested class as a union and `&&` as intersection.
        check("[a[b]]", &["a", "b"], &["c"]);
        check("[a-z&&[^aeiou]]", &["b"], &["a", "B"]);
    }

    #[test]
    fn groups_and_alternation() {
        check("(yes|no)", &["yes", "no"], &["yesno", "y", ""]);
        check("(?:ab)+", &["ab", "abab"], &["", "aba"]);
        check("(?<word>ab)c", &["abc"], &["ab"]);
        check("a(b|c|)d", &["abd", "acd", "ad"], &["aed"]);
        check("(a|ab)(c|bcd)(d*)", &["abcd", "abcdd", "ac"], &["abce"]);
    }

    #[test]
    fn quantifiers() {
        check("ab*c", &["ac", "abc", "abbbc"], &["abdc"]);
        check("ab+c", &["abc", "abbc"], &["ac"]);
        check("ab?c", &["ac", "abc"], &["abbc"]);
        check("a{3}", &["aaa"], &["aa", "aaaa"]);
        check("a{2,}", &["aa", "aaaaaa"], &["a"]);
        check("a{2,3}", &["aa", "aaa"], &["a", "aaaa"]);
        check("a{0}b", &["b"], &["ab"]);
        check("(ab){1,2}", &["ab", "abab"], &["", "ababab"]);
    }

    #[test]
    fn lazy_quantifiers_behave_like_greedy_ones() {
        check("a*?b", &["b", "aab"], &["aa"]);
        check("a+?", &["a", "aa"], &[""]);
        check("a??", &["", "a"], &["aa"]);
        check("a{1,2}?", &["a", "aa"], &["aaa"]);
    }

    #[test]
    fn anchors_hold_only_at_the_ends_of_the_value() {
        check("^abc$", &["abc"], &["xabc", "abcx"]);
        check(r"\Aabc\z", &["abc"], &["abcx"]);
        check("^$", &[""], &["a"]);
        check("a^b", &[], &["ab", "a^b"]);
        check("a$b", &[], &["ab"]);
        check("(^a|b)c", &["ac", "bc"], &["c"]);
        check("a(b$|c)d?", &["ab", "acd"], &["abd"]);
        check("a$\nb", &[], &["a\nb"]);
    }

    #[test]
    fn approval_input_examples() {
        check(r"^[A-Z]{3}-\d+$", &["CHG-1", "ABC-123456"], &["AB-1", "ABC-", "abc-1", "ABC-1x"]);
        check(r"v\d+\.\d+\.\d+", &["v1.2.3", "v10.20.30"], &["1.2.3", "v1.2", "v1x2x3"]);
        check(r"[a-zA-Z0-9_.-]+@example\.com", &["ann.lee@example.com"], &["ann@example.org", "@example.com"]);
        check(r"CHG-\d+", &["CHG-42"], &["CHG-", "chg-42"]);
        // Harness writes `#{2}` literally inside a pattern (not an expression).
        check("#{2}", &["##"], &["#"]);
    }

    #[test]
    fn pathological_patterns_stay_linear() {
        let value = "a".repeat(30);
        assert!(!matches("(a*)*b", &value));
        assert!(!matches("(a|a)*b", &value));
        assert!(!matches("(a|aa)*b", &value));
        assert!(!matches("(a?){30}a{30}b", &value));
        assert!(matches("(a?){30}a{30}", &value));
        let long = "a".repeat(64 * 1024);
        assert!(matches("(a*)*", &long));
        assert!(!matches("(x+x+)+y", &"x".repeat(5_000)));
        assert!(matches(r"(\w*\d*\s*.?){400}", &long));
        assert!(!matches(r"(\w*\d*\s*.?){400}", &format!("{long}\u{2028}")));
        // 900 Java dots compile to more than the limit: refused at load.
        assert!(matches!(Pattern::new("(.*.*.*.*.*.*.*.*.*.*){90}"), Err(PatternError::TooLarge { .. })));
    }

    #[test]
    fn nested_empty_repetition_compiles() {
        assert!(matches("((()){100}){100}", ""));
        assert!(matches("((a{0}){1000}){10}b", "b"));
        assert!(matches("(()*)*", ""));
    }

    #[test]
    fn malformed_syntax_names_the_pattern_and_the_byte() {
        assert_eq!(error("(ab"), "invalid pattern `(ab` at byte 0: unclosed group");
        assert_eq!(error("[ab"), "invalid pattern `[ab` at byte 0: unclosed character class");
        assert_eq!(error("ab)"), "invalid pattern `ab)` at byte 2: unopened group");
        assert!(error("*a").starts_with("invalid pattern `*a` at byte 0: "), "{}", error("*a"));
        assert!(error("a{2").starts_with("invalid pattern `a{2` at byte 1: "), "{}", error("a{2"));
        assert!(error("[z-a]").starts_with("invalid pattern `[z-a]` at byte 1: "), "{}", error("[z-a]"));
        assert!(error("a{3,2}").starts_with("invalid pattern `a{3,2}` at byte 1: "), "{}", error("a{3,2}"));
        assert!(error("ab\\").starts_with("invalid pattern `ab\\` at byte 2: "), "{}", error("ab\\"));
    }

    #[test]
    fn look_around_and_backreferences_are_refused() {
        for (pattern, reason) in [
            ("a(?=b)", "look-around"),
            ("a(?!b)", "look-around"),
            ("(?<=a)b", "look-around"),
            ("(?<!a)b", "look-around"),
            (r"(a)\1", "backreferences are not supported"),
        ] {
            let message = error(pattern);
            assert!(message.starts_with(&format!("invalid pattern `{pattern}` at byte ")), "{message}");
            assert!(message.contains(reason), "{message}");
        }
    }

    #[test]
    fn java_escapes_the_regex_crate_lacks_are_refused() {
        for pattern in [r"\e", r"\cA", r"\Qa.b\E", r"\0101", r"\h", r"\y", r"(?<x>a)\k<x>", "(?>a)"] {
            assert!(Pattern::new(pattern).is_err(), "{pattern}");
        }
    }

    #[test]
    fn constructs_java_reads_differently_are_refused_by_name() {
        let cases = [
            (r"\p{L}", r"\p{L}", "Unicode class"),
            (r"[\pL]", r"\pL", "Unicode class"),
            (r"a\b", r"\b", "word boundary"),
            (r"\Ba", r"\B", "word boundary"),
            (r"\v", r"\v", "vertical white space escape"),
            ("(?i)abc", "(?i)", "inline flags"),
            ("(?i:abc)", "i", "inline flags"),
            ("(?x)a b", "(?x)", "inline flags"),
            ("[[:alpha:]]", "[:alpha:]", "POSIX class"),
            ("[a-z--b]", "a-z--b", "class difference"),
            ("[a-z~~b]", "a-z~~b", "class difference"),
        ];
        for (pattern, construct, what) in cases {
            match Pattern::new(pattern).unwrap_err() {
                PatternError::Unsupported { construct: found, what: kind, pattern: named, .. } => {
                    assert_eq!((found.as_str(), kind, named.as_str()), (construct, what, pattern), "{pattern}");
                }
                other => panic!("{pattern}: {other}"),
            }
        }
        assert_eq!(error(r"\p{L}"), r"unsupported syntax `\p{L}` (Unicode class) in pattern `\p{L}` at byte 0");
    }

    #[test]
    fn limits() {
        let long = "a".repeat(1025);
        assert_eq!(error(&long), format!("pattern `{}…` is longer than 1024 bytes", "a".repeat(64)));
        assert!(Pattern::new(&"a".repeat(1024)).is_ok());

        assert_eq!(error("a{10000}{10000}"), "pattern `a{10000}{10000}` compiles to more than 1048576 bytes");
        assert!(matches!(Pattern::new("((a{1000}){1000}){1000}"), Err(PatternError::TooLarge { .. })));
        assert!(Pattern::new("(a{1000}){9}").is_ok());

        let deep = format!("{}a{}", "(".repeat(65), ")".repeat(65));
        assert!(matches!(Pattern::new(&deep), Err(PatternError::Syntax { .. })), "{}", error(&deep));
        let nested = format!("{}a{}", "(".repeat(30), ")".repeat(30));
        assert!(matches(&nested, "a"));
    }

    #[test]
    fn messages_stay_one_line() {
        let message = error("(a\nb");
        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains(r"(a\nb"), "{message}");
    }

    #[test]
    fn source_text_identity_and_display() {
        let pattern: Pattern = r"CHG-\d+".parse().unwrap();
        assert_eq!(pattern.as_str(), r"CHG-\d+");
        assert_eq!(pattern.to_string(), r"CHG-\d+");
        assert_eq!(format!("{pattern:?}"), r#"Pattern("CHG-\\d+")"#);
        assert_eq!(pattern, Pattern::new(r"CHG-\d+").unwrap());
        assert_ne!(pattern, Pattern::new(r"CHG-[0-9]+").unwrap());
        assert_eq!(pattern.clone(), pattern);
        assert_eq!(String::from(pattern), r"CHG-\d+");
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        let pattern = Pattern::new(r"v\d+").unwrap();
        let json = serde_json::to_string(&pattern).unwrap();
        assert_eq!(json, r#""v\\d+""#);
        let back = serde_json::from_str::<Pattern>(&json).unwrap();
        assert_eq!(back, pattern);
        assert!(back.is_match("v12") && !back.is_match("v"));

        let err = serde_json::from_str::<Pattern>(r#""(ab""#).unwrap_err();
        assert!(err.to_string().contains("invalid pattern `(ab` at byte 0: unclosed group"), "{err}");
        assert!(serde_json::from_str::<Pattern>("42").is_err());
    }
}
