//! Whole-value regular expressions for approver-input constraints.
//!
//! Harness checks an approver input's `regex` with Java's `String.matches`,
//! so a pattern must match the entire value. The crate cannot depend on a
//! regex engine, so it carries a small one: a recursive-descent parser into
//! an AST, a compiler to a Thompson NFA program, and a Pike VM that advances
//! every live NFA state one character at a time. Nothing ever backtracks, so
//! matching costs at most `value length × program size` steps whatever the
//! pattern, and a hostile pattern or value cannot take exponential time.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// A validated regular expression, matched against a whole value (like
/// Java's `String.matches`, which is what Harness uses for approver inputs).
///
/// The syntax is the part of Java's that approval inputs use:
///
/// - literal characters (any Unicode), and `.` for any character but a line
///   terminator (`\n`, `\r`, U+0085, U+2028, U+2029);
/// - escapes: `\d \D \w \W \s \S` (ASCII, as in Java), `\t \n \r \f \a \e`,
///   `\xhh`, `\x{h..h}`, `\uhhhh`, and a backslash before any character that
///   is not an ASCII letter or digit (`\. \\ \- \/ \( \[ \{ \* \+ \? \| \^ \$`);
/// - classes `[abc]`, ranges `[a-z]`, negation `[^...]`, escapes inside
///   classes, and `-` as a literal at the start or end (`]` is a literal
///   when it comes first, as in Java);
/// - groups `(...)`, non-capturing `(?:...)` and named `(?<name>...)`, all
///   only grouping since nothing is captured;
/// - alternation `|`;
/// - quantifiers `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` (counts up to
///   [`Pattern::MAX_REPETITION`]); the lazy forms `*?`, `+?`, `??`, `{n,m}?`
///   are accepted and behave like the greedy ones, since only whether the
///   value matches is asked;
/// - anchors `^` and `$`, as assertions that hold at the start and end of
///   the value: at the ends of a pattern they change nothing, elsewhere they
///   can only hold there (`a^b` matches nothing).
///
/// Everything else is refused with a [`PatternError`] that names it:
/// backreferences, lookaround, atomic groups, possessive quantifiers,
/// `\p{..}`, boundaries such as `\b`, inline flags, nested classes and class
/// intersection.
///
/// ```
/// use approval_gate::policy::Pattern;
/// let ticket = Pattern::new(r"^[A-Z]{3}-\d+$")?;
/// assert!(ticket.is_match("CHG-1234"));
/// assert!(!ticket.is_match("chg-1234"));
/// // The whole value must match, not just a part of it.
/// assert!(!ticket.is_match("see CHG-1234"));
/// assert_eq!(ticket.as_str(), r"^[A-Z]{3}-\d+$");
///
/// let err = Pattern::new(r"(?<=v)\d+").unwrap_err();
/// assert!(err.to_string().starts_with("unsupported syntax `(?<=`"));
/// # Ok::<(), approval_gate::policy::PatternError>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pattern {
    source: String,
    program: Vec<Inst>,
}

impl Pattern {
    /// The longest pattern accepted, in bytes.
    pub const MAX_SOURCE_BYTES: usize = 1024;
    /// The largest count a `{n}`, `{n,}` or `{n,m}` quantifier may give.
    pub const MAX_REPETITION: u32 = 1000;
    /// The most instructions a pattern may compile to, once counted
    /// repetitions are expanded; this bounds the cost of every match.
    pub const MAX_INSTRUCTIONS: usize = 10_000;
    /// The deepest groups may nest.
    pub const MAX_NESTING: usize = 64;

    /// Parses and compiles `source`.
    ///
    /// # Errors
    ///
    /// A [`PatternError`] naming the pattern and, where there is one, the
    /// byte at which the problem starts: malformed or unsupported syntax, a
    /// repetition count above [`Pattern::MAX_REPETITION`], a source longer
    /// than [`Pattern::MAX_SOURCE_BYTES`], or a program larger than
    /// [`Pattern::MAX_INSTRUCTIONS`].
    pub fn new(source: &str) -> Result<Pattern, PatternError> {
        if source.len() > Self::MAX_SOURCE_BYTES {
            return Err(PatternError::TooLong { pattern: shorten(source), limit: Self::MAX_SOURCE_BYTES });
        }
        let ast = Parser::new(source).parse()?;
        let program = Compiler::compile(&ast)
            .ok_or_else(|| PatternError::TooComplex { pattern: source.to_owned(), limit: Self::MAX_INSTRUCTIONS })?;
        Ok(Pattern { source: source.to_owned(), program })
    }

    /// The source text, as given to [`Pattern::new`].
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches the whole of `value`.
    #[must_use]
    pub fn is_match(&self, value: &str) -> bool {
        Vm::new(&self.program).run(value)
    }
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
        Self::new(&source)
    }
}

impl From<Pattern> for String {
    fn from(pattern: Pattern) -> Self {
        pattern.source
    }
}

/// A pattern that could not be compiled. Every message names the pattern
/// and, where there is one, the byte offset at which the problem starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The source is longer than [`Pattern::MAX_SOURCE_BYTES`].
    #[error("pattern `{pattern}` is longer than {limit} bytes")]
    TooLong {
        /// The start of the pattern, shortened to 64 characters.
        pattern: String,
        /// The longest accepted, in bytes.
        limit: usize,
    },
    /// A group, class, repetition or escape is not closed.
    #[error("unclosed {what} in pattern `{pattern}` at byte {at}")]
    Unclosed {
        /// What is open: `group`, `character class` or `repetition`.
        what: &'static str,
        /// The pattern.
        pattern: String,
        /// Where it opens.
        at: usize,
    },
    /// A `)` closes no group.
    #[error("unmatched `)` in pattern `{pattern}` at byte {at}")]
    Unmatched {
        /// The pattern.
        pattern: String,
        /// Where the `)` is.
        at: usize,
    },
    /// A quantifier follows nothing, or follows another quantifier.
    #[error("nothing to repeat before `{quantifier}` in pattern `{pattern}` at byte {at}")]
    NothingToRepeat {
        /// The quantifier's first character.
        quantifier: char,
        /// The pattern.
        pattern: String,
        /// Where the quantifier is.
        at: usize,
    },
    /// Valid Java syntax this matcher does not implement.
    #[error("unsupported syntax `{construct}` ({what}) in pattern `{pattern}` at byte {at}")]
    Unsupported {
        /// The construct as written, such as `\p` or `(?=`.
        construct: String,
        /// What it is, such as `backreference` or `lookahead`.
        what: &'static str,
        /// The pattern.
        pattern: String,
        /// Where the construct starts.
        at: usize,
    },
    /// Syntax that is wrong in any flavour: an out-of-order range, a
    /// repetition whose minimum is above its maximum, a bad escape.
    #[error("invalid {what} `{text}` in pattern `{pattern}` at byte {at}")]
    Invalid {
        /// What is wrong: `character range`, `repetition`, `escape` or
        /// `group name`.
        what: &'static str,
        /// The offending text.
        text: String,
        /// The pattern.
        pattern: String,
        /// Where the text starts.
        at: usize,
    },
    /// A repetition count above [`Pattern::MAX_REPETITION`].
    #[error("repetition count {count} in pattern `{pattern}` at byte {at} exceeds {limit}")]
    RepetitionTooLarge {
        /// The count as written.
        count: String,
        /// The pattern.
        pattern: String,
        /// Where the count starts.
        at: usize,
        /// The largest count accepted.
        limit: u32,
    },
    /// Groups nest deeper than [`Pattern::MAX_NESTING`].
    #[error("pattern `{pattern}` nests groups more than {limit} deep at byte {at}")]
    TooDeep {
        /// The pattern.
        pattern: String,
        /// Where the group that is too deep opens.
        at: usize,
        /// The deepest nesting accepted.
        limit: usize,
    },
    /// The compiled program would exceed [`Pattern::MAX_INSTRUCTIONS`],
    /// usually because counted repetitions multiply.
    #[error("pattern `{pattern}` compiles to more than {limit} instructions")]
    TooComplex {
        /// The pattern.
        pattern: String,
        /// The most instructions accepted.
        limit: usize,
    },
}

fn shorten(source: &str) -> String {
    const MAX: usize = 64;
    let mut chars = source.chars();
    let head: String = chars.by_ref().take(MAX).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
}

/// The parsed form. Groups leave no node of their own because nothing is
/// captured; `Empty` is folded away wherever it would change nothing, which
/// also guarantees every other node compiles to at least one instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Empty,
    Literal(char),
    Any,
    Class(Class),
    Start,
    End,
    Concat(Vec<Node>),
    Alternation(Vec<Node>),
    Repeat { node: Box<Node>, min: u32, max: Option<u32> },
}

impl Node {
    fn repeat(node: Node, min: u32, max: Option<u32>) -> Node {
        // Repeating nothing, or repeating zero times, emits no instruction;
        // keeping such nodes would let `((){1000}){1000}` burn compile time
        // without ever reaching the instruction limit.
        if node == Node::Empty || max == Some(0) {
            return Node::Empty;
        }
        Node::Repeat { node: Box::new(node), min, max }
    }

    fn sequence(mut items: Vec<Node>) -> Node {
        match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        }
    }
}

/// A bracketed class, or a shorthand such as `\d` outside brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Class {
    negated: bool,
    items: Vec<Item>,
}

impl Class {
    fn matches(&self, c: char) -> bool {
        self.items.iter().any(|item| item.matches(c)) != self.negated
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Range(char, char),
    /// A shorthand class, negated for the upper-case form.
    Shorthand(Shorthand, bool),
}

impl Item {
    fn matches(self, c: char) -> bool {
        match self {
            Item::Range(lo, hi) => (lo..=hi).contains(&c),
            Item::Shorthand(shorthand, negated) => shorthand.matches(c) != negated,
        }
    }
}

/// Java's shorthand classes, which are ASCII-only unless
/// `UNICODE_CHARACTER_CLASS` is set (Harness does not set it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shorthand {
    Digit,
    Word,
    Space,
}

impl Shorthand {
    fn matches(self, c: char) -> bool {
        match self {
            Shorthand::Digit => c.is_ascii_digit(),
            Shorthand::Word => c.is_ascii_alphanumeric() || c == '_',
            Shorthand::Space => matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r'),
        }
    }
}

/// What an escape stands for: one character, or a shorthand class.
enum Escaped {
    Char(char),
    Shorthand(Shorthand, bool),
}

impl Escaped {
    fn into_node(self) -> Node {
        match self {
            Escaped::Char(c) => Node::Literal(c),
            Escaped::Shorthand(shorthand, negated) => {
                Node::Class(Class { negated: false, items: vec![Item::Shorthand(shorthand, negated)] })
            }
        }
    }
}

/// Java's `.` stops at every line terminator, not only `\n`.
fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

type Bounds = (u32, Option<u32>);

struct Parser<'a> {
    source: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(source: &'a str) -> Self {
        Parser { source, chars: source.char_indices().collect(), pos: 0, depth: 0 }
    }

    fn parse(mut self) -> Result<Node, PatternError> {
        let node = self.alternation()?;
        // An alternation stops only at the end or at a `)` it cannot close.
        match self.peek() {
            None => Ok(node),
            Some(_) => Err(PatternError::Unmatched { pattern: self.pattern(), at: self.offset() }),
        }
    }

    fn alternation(&mut self) -> Result<Node, PatternError> {
        let mut branches = vec![self.concatenation()?];
        while self.eat('|') {
            branches.push(self.concatenation()?);
        }
        Ok(match branches.len() {
            1 => branches.pop().unwrap_or(Node::Empty),
            _ => Node::Alternation(branches),
        })
    }

    fn concatenation(&mut self) -> Result<Node, PatternError> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let item = self.repetition()?;
            if item != Node::Empty {
                items.push(item);
            }
        }
        Ok(Node::sequence(items))
    }

    fn repetition(&mut self) -> Result<Node, PatternError> {
        let atom = self.atom()?;
        let start = self.offset();
        let Some((min, max)) = self.quantifier()? else {
            return Ok(atom);
        };
        self.quantifier_mode(start)?;
        // Java refuses a quantifier on a quantifier (`a**`, "dangling meta
        // character") rather than guessing what was meant.
        if let Some(c @ ('*' | '+' | '?' | '{')) = self.peek() {
            return Err(PatternError::NothingToRepeat { quantifier: c, pattern: self.pattern(), at: self.offset() });
        }
        Ok(Node::repeat(atom, min, max))
    }

    fn atom(&mut self) -> Result<Node, PatternError> {
        let at = self.offset();
        let Some(c) = self.bump() else {
            return Ok(Node::Empty);
        };
        match c {
            '(' => self.group(at),
            '[' => self.class(at).map(Node::Class),
            '.' => Ok(Node::Any),
            '^' => Ok(Node::Start),
            '$' => Ok(Node::End),
            '\\' => self.escape(at).map(Escaped::into_node),
            '*' | '+' | '?' | '{' => Err(PatternError::NothingToRepeat { quantifier: c, pattern: self.pattern(), at }),
            c => Ok(Node::Literal(c)),
        }
    }

    fn quantifier(&mut self) -> Result<Option<Bounds>, PatternError> {
        let bounds = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => return self.counted().map(Some),
            _ => return Ok(None),
        };
        self.pos += 1;
        Ok(Some(bounds))
    }

    /// Lazy quantifiers match the same set of values as greedy ones, so
    /// they are accepted as such; possessive ones can refuse values a
    /// greedy one accepts, which a Pike VM cannot express.
    fn quantifier_mode(&mut self, start: usize) -> Result<(), PatternError> {
        if self.eat('?') || self.peek() != Some('+') {
            return Ok(());
        }
        self.pos += 1;
        Err(self.unsupported(self.text(start), "possessive quantifier", start))
    }

    fn counted(&mut self) -> Result<Bounds, PatternError> {
        let open = self.offset();
        self.pos += 1;
        let min = self.count(open)?;
        let max = match self.eat(',') {
            false => Some(min),
            true if self.peek() == Some('}') => None,
            true => Some(self.count(open)?),
        };
        if !self.eat('}') {
            return Err(self.bad_repetition(open));
        }
        if max.is_some_and(|max| max < min) {
            return Err(self.invalid("repetition", self.text(open), open));
        }
        Ok((min, max))
    }

    fn count(&mut self, open: usize) -> Result<u32, PatternError> {
        let start = self.offset();
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = self.text(start);
        if digits.is_empty() {
            return Err(self.bad_repetition(open));
        }
        match digits.parse::<u32>() {
            Ok(count) if count <= Pattern::MAX_REPETITION => Ok(count),
            _ => Err(PatternError::RepetitionTooLarge {
                count: digits,
                pattern: self.pattern(),
                at: start,
                limit: Pattern::MAX_REPETITION,
            }),
        }
    }

    fn bad_repetition(&self, open: usize) -> PatternError {
        let rest = self.source.get(open..).unwrap_or_default();
        match rest.find('}') {
            Some(close) => self.invalid("repetition", rest.get(..=close).unwrap_or(rest).to_owned(), open),
            None => self.unclosed("repetition", open),
        }
    }

    fn group(&mut self, open: usize) -> Result<Node, PatternError> {
        if self.eat('?') {
            self.group_kind(open)?;
        }
        if self.depth >= Pattern::MAX_NESTING {
            return Err(PatternError::TooDeep { pattern: self.pattern(), at: open, limit: Pattern::MAX_NESTING });
        }
        self.depth += 1;
        let inner = self.alternation()?;
        self.depth -= 1;
        if !self.eat(')') {
            return Err(self.unclosed("group", open));
        }
        Ok(inner)
    }

    /// Reads what follows `(?`, accepting only the kinds of group that do
    /// nothing but group.
    fn group_kind(&mut self, open: usize) -> Result<(), PatternError> {
        let what = match self.bump() {
            Some(':') => return Ok(()),
            Some('<') if matches!(self.peek(), Some('=' | '!')) => {
                self.pos += 1;
                "lookbehind"
            }
            Some('<') => return self.group_name(open),
            Some('=' | '!') => "lookahead",
            Some('>') => "atomic group",
            Some(_) => "inline flags",
            None => return Err(self.unclosed("group", open)),
        };
        Err(self.unsupported(self.text(open), what, open))
    }

    fn group_name(&mut self, open: usize) -> Result<(), PatternError> {
        let start = self.offset();
        while self.peek().is_some_and(|c| c != '>') {
            self.pos += 1;
        }
        let name = self.text(start);
        if !self.eat('>') {
            return Err(self.unclosed("group", open));
        }
        let mut chars = name.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric());
        if !valid {
            return Err(self.invalid("group name", name, start));
        }
        Ok(())
    }

    fn class(&mut self, open: usize) -> Result<Class, PatternError> {
        let negated = self.eat('^');
        let mut items = Vec::new();
        loop {
            let at = self.offset();
            let item = match self.bump() {
                None => return Err(self.unclosed("character class", open)),
                // A `]` first in the class is a literal, as in Java.
                Some(']') if !items.is_empty() => return Ok(Class { negated, items }),
                Some('[') => return Err(self.unsupported("[", "nested character class", at)),
                Some('&') if self.peek() == Some('&') => {
                    return Err(self.unsupported("&&", "character class intersection", at));
                }
                Some('\\') => match self.escape(at)? {
                    Escaped::Char(c) => self.range_from(c, at)?,
                    Escaped::Shorthand(shorthand, negated) => Item::Shorthand(shorthand, negated),
                },
                Some(c) => self.range_from(c, at)?,
            };
            items.push(item);
        }
    }

    /// Reads `-hi` after `lo` if it is there; a `-` before `]` is a literal.
    fn range_from(&mut self, lo: char, at: usize) -> Result<Item, PatternError> {
        if self.peek() != Some('-') || matches!(self.peek_at(1), None | Some(']')) {
            return Ok(Item::Range(lo, lo));
        }
        self.pos += 1;
        let hi_at = self.offset();
        let hi = match self.bump() {
            Some('\\') => match self.escape(hi_at)? {
                Escaped::Char(c) => c,
                Escaped::Shorthand(..) => return Err(self.invalid("character range", self.text(at), at)),
            },
            Some('[') => return Err(self.unsupported("[", "nested character class", hi_at)),
            Some(c) => c,
            None => return Err(self.unclosed("character class", at)),
        };
        if hi < lo {
            return Err(self.invalid("character range", self.text(at), at));
        }
        Ok(Item::Range(lo, hi))
    }

    /// Reads an escape whose backslash, at `at`, was just consumed.
    fn escape(&mut self, at: usize) -> Result<Escaped, PatternError> {
        let Some(c) = self.bump() else {
            return Err(self.invalid("escape", "\\".to_owned(), at));
        };
        let c = match c {
            'd' | 'D' => return Ok(Escaped::Shorthand(Shorthand::Digit, c == 'D')),
            'w' | 'W' => return Ok(Escaped::Shorthand(Shorthand::Word, c == 'W')),
            's' | 'S' => return Ok(Escaped::Shorthand(Shorthand::Space, c == 'S')),
            'x' => return self.hex_escape(at),
            'u' => return self.code_escape(at, 4, 4),
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'f' => '\x0C',
            'a' => '\x07',
            'e' => '\x1B',
            // Java lets a backslash quote any character that is not a
            // letter or digit, whether or not it is special.
            c if !c.is_ascii_alphanumeric() => c,
            c => return Err(self.unsupported(format!("\\{c}"), escape_kind(c), at)),
        };
        Ok(Escaped::Char(c))
    }

    fn hex_escape(&mut self, at: usize) -> Result<Escaped, PatternError> {
        if !self.eat('{') {
            return self.code_escape(at, 2, 2);
        }
        let escaped = self.code_escape(at, 1, 6)?;
        if !self.eat('}') {
            return Err(self.invalid("escape", self.text(at), at));
        }
        Ok(escaped)
    }

    /// Reads `min..=max` hex digits naming a character.
    fn code_escape(&mut self, at: usize, min: usize, max: usize) -> Result<Escaped, PatternError> {
        let mut code = 0_u32;
        let mut digits = 0;
        while digits < max {
            let Some(digit) = self.peek().and_then(|c| c.to_digit(16)) else {
                break;
            };
            code = code * 16 + digit;
            digits += 1;
            self.pos += 1;
        }
        match char::from_u32(code) {
            Some(c) if digits >= min => Ok(Escaped::Char(c)),
            _ => Err(self.invalid("escape", self.text(at), at)),
        }
    }

    fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).map(|&(_, c)| c)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn eat(&mut self, expected: char) -> bool {
        let found = self.peek() == Some(expected);
        if found {
            self.pos += 1;
        }
        found
    }

    /// The byte offset of the next character, or the length at the end.
    fn offset(&self) -> usize {
        self.chars.get(self.pos).map_or(self.source.len(), |&(at, _)| at)
    }

    /// The source from byte `from` up to the next character.
    fn text(&self, from: usize) -> String {
        self.source.get(from..self.offset()).unwrap_or_default().to_owned()
    }

    fn pattern(&self) -> String {
        self.source.to_owned()
    }

    fn unclosed(&self, what: &'static str, at: usize) -> PatternError {
        PatternError::Unclosed { what, pattern: self.pattern(), at }
    }

    fn invalid(&self, what: &'static str, text: String, at: usize) -> PatternError {
        PatternError::Invalid { what, text, pattern: self.pattern(), at }
    }

    fn unsupported(&self, construct: impl Into<String>, what: &'static str, at: usize) -> PatternError {
        PatternError::Unsupported { construct: construct.into(), what, pattern: self.pattern(), at }
    }
}

/// Names the Java construct behind an escape this matcher refuses, so the
/// error says what the author reached for.
fn escape_kind(c: char) -> &'static str {
    match c {
        'p' | 'P' => "Unicode property class",
        '1'..='9' => "backreference",
        'k' => "named backreference",
        'b' | 'B' | 'A' | 'z' | 'Z' | 'G' => "boundary assertion",
        'Q' | 'E' => "quotation",
        '0' => "octal escape",
        'c' => "control character escape",
        'h' | 'H' | 'v' | 'V' | 'R' | 'X' | 'N' => "escape",
        _ => "unknown escape",
    }
}

/// One NFA instruction. Jump targets are indices into the program.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Inst {
    Char(char),
    Any,
    Class(Class),
    Assert(Anchor),
    Split(usize, usize),
    Jump(usize),
    Match,
}

impl Inst {
    fn accepts(&self, c: char) -> bool {
        match self {
            Inst::Char(expected) => *expected == c,
            Inst::Any => !is_line_terminator(c),
            Inst::Class(class) => class.matches(c),
            Inst::Assert(_) | Inst::Split(..) | Inst::Jump(_) | Inst::Match => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    Start,
    End,
}

impl Anchor {
    fn holds(self, at: Position) -> bool {
        match self {
            Anchor::Start => at.start,
            Anchor::End => at.end,
        }
    }
}

/// Where the VM stands in the value, as far as anchors care.
#[derive(Debug, Clone, Copy)]
struct Position {
    start: bool,
    end: bool,
}

/// Emits instructions, giving up (`None`) past the instruction limit so
/// that nested counted repetitions cannot allocate without bound.
struct Compiler {
    program: Vec<Inst>,
}

impl Compiler {
    fn compile(ast: &Node) -> Option<Vec<Inst>> {
        let mut compiler = Compiler { program: Vec::new() };
        compiler.node(ast)?;
        compiler.push(Inst::Match)?;
        Some(compiler.program)
    }

    fn node(&mut self, node: &Node) -> Option<()> {
        match node {
            Node::Empty => Some(()),
            Node::Literal(c) => self.push(Inst::Char(*c)).map(drop),
            Node::Any => self.push(Inst::Any).map(drop),
            Node::Class(class) => self.push(Inst::Class(class.clone())).map(drop),
            Node::Start => self.push(Inst::Assert(Anchor::Start)).map(drop),
            Node::End => self.push(Inst::Assert(Anchor::End)).map(drop),
            Node::Concat(items) => items.iter().try_for_each(|item| self.node(item)),
            Node::Alternation(branches) => self.alternation(branches),
            Node::Repeat { node, min, max } => self.repeat(node, *min, *max),
        }
    }

    fn alternation(&mut self, branches: &[Node]) -> Option<()> {
        let (last, rest) = branches.split_last()?;
        let mut exits = Vec::new();
        for branch in rest {
            let split = self.split()?;
            self.node(branch)?;
            exits.push(self.push(Inst::Jump(0))?);
            self.patch(split);
        }
        self.node(last)?;
        for exit in exits {
            self.patch(exit);
        }
        Some(())
    }

    /// Expands `{min,max}` into `min` copies followed by either a loop or
    /// `max - min` optional copies that may each skip to the end.
    fn repeat(&mut self, node: &Node, min: u32, max: Option<u32>) -> Option<()> {
        for _ in 0..min {
            self.node(node)?;
        }
        let Some(max) = max else {
            let split = self.split()?;
            self.node(node)?;
            self.push(Inst::Jump(split))?;
            self.patch(split);
            return Some(());
        };
        let mut exits = Vec::new();
        for _ in min..max {
            exits.push(self.split()?);
            self.node(node)?;
        }
        for exit in exits {
            self.patch(exit);
        }
        Some(())
    }

    /// Pushes a split that falls through to the next instruction and whose
    /// other target is patched later.
    fn split(&mut self) -> Option<usize> {
        let next = self.program.len() + 1;
        self.push(Inst::Split(next, 0))
    }

    /// Points the open target of the split or jump at `at` to the next
    /// instruction to be emitted.
    fn patch(&mut self, at: usize) {
        let next = self.program.len();
        if let Some(Inst::Split(_, target) | Inst::Jump(target)) = self.program.get_mut(at) {
            *target = next;
        }
    }

    fn push(&mut self, inst: Inst) -> Option<usize> {
        let at = self.program.len();
        if at >= Pattern::MAX_INSTRUCTIONS {
            return None;
        }
        self.program.push(inst);
        Some(at)
    }
}

/// A Pike VM without captures: the set of live threads is a list of
/// program counters, each added at most once per step (tracked by stamping
/// `seen` with the step's generation), so a step costs at most one visit
/// per instruction.
struct Vm<'p> {
    program: &'p [Inst],
    seen: Vec<usize>,
    generation: usize,
    stack: Vec<usize>,
}

impl<'p> Vm<'p> {
    fn new(program: &'p [Inst]) -> Self {
        Vm { program, seen: vec![0; program.len()], generation: 0, stack: Vec::new() }
    }

    fn run(mut self, value: &str) -> bool {
        let mut chars = value.chars().peekable();
        let mut current = Vec::new();
        let mut next = Vec::new();
        self.generation += 1;
        self.follow(&mut current, 0, Position { start: true, end: chars.peek().is_none() });
        while let Some(c) = chars.next() {
            if current.is_empty() {
                return false;
            }
            let at = Position { start: false, end: chars.peek().is_none() };
            self.step(&current, c, &mut next, at);
            std::mem::swap(&mut current, &mut next);
            next.clear();
        }
        current.iter().any(|&pc| matches!(self.program.get(pc), Some(Inst::Match)))
    }

    fn step(&mut self, current: &[usize], c: char, next: &mut Vec<usize>, at: Position) {
        self.generation += 1;
        for &pc in current {
            if self.program.get(pc).is_some_and(|inst| inst.accepts(c)) {
                self.follow(next, pc + 1, at);
            }
        }
    }

    /// Adds `pc` and everything reachable from it without consuming a
    /// character. An explicit stack keeps deep programs off the call stack.
    fn follow(&mut self, threads: &mut Vec<usize>, pc: usize, at: Position) {
        self.stack.push(pc);
        while let Some(pc) = self.stack.pop() {
            let Some(seen) = self.seen.get_mut(pc) else {
                continue;
            };
            if *seen == self.generation {
                continue;
            }
            *seen = self.generation;
            match self.program.get(pc) {
                Some(Inst::Jump(target)) => self.stack.push(*target),
                Some(Inst::Split(first, second)) => self.stack.extend([*second, *first]),
                Some(Inst::Assert(anchor)) if anchor.holds(at) => self.stack.push(pc + 1),
                Some(Inst::Assert(_)) | None => {}
                Some(_) => threads.push(pc),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
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
    fn matching_is_whole_value() {
        check("ab", &["ab"], &["xaby", "xab", "abx", ""]);
        check("a|b", &["a", "b"], &["ab", "xa"]);
    }

    #[test]
    fn empty_pattern_matches_only_empty_value() {
        check("", &[""], &["a", " "]);
        check("()", &[""], &["a"]);
    }

    #[test]
    fn dot_matches_any_char_but_line_terminators() {
        check("a.c", &["abc", "a c", "aéc", "a.c"], &["ac", "a\nc", "a\rc", "a\u{2028}c", "abbc"]);
    }

    #[test]
    fn shorthand_classes_are_ascii() {
        check(r"\d", &["0", "9"], &["a", "٣", ""]);
        check(r"\D", &["a", "٣"], &["5"]);
        check(r"\w", &["a", "Z", "0", "_"], &["-", "é", " "]);
        check(r"\W", &["-", "é"], &["a", "_"]);
        check(r"\s", &[" ", "\t", "\n", "\r", "\x0B", "\x0C"], &["a", "\u{a0}"]);
        check(r"\S", &["a"], &[" "]);
    }

    #[test]
    fn escaped_metacharacters_are_literals() {
        check(r"\.\\\-\/\(\)\[\]\{\}\*\+\?\|\^\$", &[r".\-/()[]{}*+?|^$"], &["x"]);
        check(r"a\.b", &["a.b"], &["axb"]);
        check(r"\#\ \@", &["# @"], &[]);
    }

    #[test]
    fn control_and_code_escapes() {
        check(r"\t\n\r\f\a\e", &["\t\n\r\x0C\x07\x1B"], &["tnr"]);
        check(r"\x41\x{1F600}\u00e9", &["A😀é"], &["x41"]);
    }

    #[test]
    fn classes_and_ranges() {
        check("[abc]", &["a", "b", "c"], &["d", "", "ab"]);
        check("[a-z]", &["a", "m", "z"], &["A", "0"]);
        check("[a-zA-Z0-9_.-]+", &["Ann.Lee-2_x"], &["a b", "a@b"]);
        check("[^a-z]", &["A", "0", "\n"], &["a", "q"]);
        check(r"[\d_]", &["7", "_"], &["a"]);
        check(r"[^\d\s]", &["a"], &["1", " "]);
        check(r"[\D]", &["a"], &["1"]);
        check(r"[\]\[\\]", &["]", "[", "\\"], &["a"]);
        check("[-a]", &["-", "a"], &["b"]);
        check("[a-]", &["-", "a"], &["b"]);
        check("[]a]", &["]", "a"], &["b"]);
        check("[^]a]", &["b"], &["]", "a"]);
        check("[.*+?(){}|$^]", &[".", "*", "(", "|", "$", "^"], &["a"]);
        check("[α-ω]", &["β"], &["a"]);
        check(r"[\x41-\x43]", &["B"], &["D"]);
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
    fn anchors_are_assertions() {
        check("^abc$", &["abc"], &["xabc", "abcx"]);
        check("^$", &[""], &["a"]);
        check("a^b", &[], &["ab", "a^b"]);
        check("a$b", &[], &["ab"]);
        check("(^a|b)c", &["ac", "bc"], &["c"]);
        check("a(b$|c)d?", &["ab", "acd"], &["abd"]);
    }

    #[test]
    fn approval_input_examples() {
        check(r"^[A-Z]{3}-\d+$", &["CHG-1", "ABC-123456"], &["AB-1", "ABC-", "abc-1", "ABC-1x"]);
        check(r"v\d+\.\d+\.\d+", &["v1.2.3", "v10.20.30"], &["1.2.3", "v1.2", "v1x2x3"]);
        check(r"[a-zA-Z0-9_.-]+@example\.com", &["ann.lee@example.com"], &["ann@example.org", "@example.com"]);
        check(r"CHG-\d+", &["CHG-42"], &["CHG-", "chg-42"]);
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
    }

    #[test]
    fn nested_empty_repetition_compiles_quickly() {
        assert!(matches("(((){1000}){1000}){1000}", ""));
        assert!(matches("((a{0}){1000}){1000}b", "b"));
        assert!(matches("(()*)*", ""));
    }

    #[test]
    fn unclosed_and_unmatched() {
        assert_eq!(error("(ab"), "unclosed group in pattern `(ab` at byte 0");
        assert_eq!(error("x(?:a"), "unclosed group in pattern `x(?:a` at byte 1");
        assert_eq!(error("(?<name"), "unclosed group in pattern `(?<name` at byte 0");
        assert_eq!(error("[ab"), "unclosed character class in pattern `[ab` at byte 0");
        assert_eq!(error("[]"), "unclosed character class in pattern `[]` at byte 0");
        assert_eq!(error("a{2"), "unclosed repetition in pattern `a{2` at byte 1");
        assert_eq!(error("ab)"), "unmatched `)` in pattern `ab)` at byte 2");
    }

    #[test]
    fn nothing_to_repeat() {
        assert_eq!(error("*a"), "nothing to repeat before `*` in pattern `*a` at byte 0");
        assert_eq!(error("a|+"), "nothing to repeat before `+` in pattern `a|+` at byte 2");
        assert_eq!(error("a**"), "nothing to repeat before `*` in pattern `a**` at byte 2");
        assert_eq!(error("a{2}{3}"), "nothing to repeat before `{` in pattern `a{2}{3}` at byte 4");
        assert_eq!(error("{2}"), "nothing to repeat before `{` in pattern `{2}` at byte 0");
    }

    #[test]
    fn unsupported_constructs_are_named() {
        let cases = [
            (r"\p{L}", r"\p", "Unicode property class"),
            (r"\P{L}", r"\P", "Unicode property class"),
            (r"(a)\1", r"\1", "backreference"),
            (r"(?<x>a)\k<x>", r"\k", "named backreference"),
            (r"a\b", r"\b", "boundary assertion"),
            (r"\Aa\z", r"\A", "boundary assertion"),
            (r"\Qa.b\E", r"\Q", "quotation"),
            (r"\0101", r"\0", "octal escape"),
            (r"\cA", r"\c", "control character escape"),
            (r"\h", r"\h", "escape"),
            (r"\y", r"\y", "unknown escape"),
            ("a(?=b)", "(?=", "lookahead"),
            ("a(?!b)", "(?!", "lookahead"),
            ("(?<=a)b", "(?<=", "lookbehind"),
            ("(?<!a)b", "(?<!", "lookbehind"),
            ("(?>a)", "(?>", "atomic group"),
            ("(?i)abc", "(?i", "inline flags"),
            ("(?i:abc)", "(?i", "inline flags"),
            ("a*+", "*+", "possessive quantifier"),
            ("a{1,2}+", "{1,2}+", "possessive quantifier"),
            ("[a[b]]", "[", "nested character class"),
            ("[a&&b]", "&&", "character class intersection"),
        ];
        for (pattern, construct, what) in cases {
            match Pattern::new(pattern).unwrap_err() {
                PatternError::Unsupported { construct: found, what: kind, .. } => {
                    assert_eq!((found.as_str(), kind), (construct, what), "{pattern}");
                }
                other => panic!("{pattern}: {other}"),
            }
        }
        assert_eq!(error(r"\p{L}"), r"unsupported syntax `\p` (Unicode property class) in pattern `\p{L}` at byte 0");
    }

    #[test]
    fn invalid_syntax() {
        assert_eq!(error("[z-a]"), "invalid character range `z-a` in pattern `[z-a]` at byte 1");
        assert_eq!(error(r"[a-\d]"), r"invalid character range `a-\d` in pattern `[a-\d]` at byte 1");
        assert_eq!(error("a{3,2}"), "invalid repetition `{3,2}` in pattern `a{3,2}` at byte 1");
        assert_eq!(error("a{x}"), "invalid repetition `{x}` in pattern `a{x}` at byte 1");
        assert_eq!(error("a{,2}"), "invalid repetition `{,2}` in pattern `a{,2}` at byte 1");
        assert_eq!(error("ab\\"), "invalid escape `\\` in pattern `ab\\` at byte 2");
        assert_eq!(error(r"\xZ1"), r"invalid escape `\x` in pattern `\xZ1` at byte 0");
        assert_eq!(error(r"\u12"), r"invalid escape `\u12` in pattern `\u12` at byte 0");
        assert_eq!(error(r"\x{110000}"), r"invalid escape `\x{110000` in pattern `\x{110000}` at byte 0");
        assert_eq!(error(r"\uD800"), r"invalid escape `\uD800` in pattern `\uD800` at byte 0");
        assert_eq!(error("(?<1x>a)"), "invalid group name `1x` in pattern `(?<1x>a)` at byte 3");
    }

    #[test]
    fn limits() {
        assert_eq!(error("a{2000}"), "repetition count 2000 in pattern `a{2000}` at byte 2 exceeds 1000");
        assert_eq!(
            error("a{1,99999999999}"),
            "repetition count 99999999999 in pattern `a{1,99999999999}` at byte 4 exceeds 1000"
        );
        assert!(Pattern::new("a{1000}").is_ok());

        let long = "a".repeat(1025);
        assert_eq!(error(&long), format!("pattern `{}…` is longer than 1024 bytes", "a".repeat(64)));
        assert!(Pattern::new(&"a".repeat(1024)).is_ok());

        assert_eq!(error("(a{1000}){11}"), "pattern `(a{1000}){11}` compiles to more than 10000 instructions");
        assert!(matches!(Pattern::new("((a{1000}){1000}){1000}"), Err(PatternError::TooComplex { .. })));
        assert!(Pattern::new("(a{1000}){9}").is_ok());

        let deep = format!("{}a{}", "(".repeat(65), ")".repeat(65));
        assert!(matches!(Pattern::new(&deep), Err(PatternError::TooDeep { at: 64, .. })));
        let nested = format!("{}a{}", "(".repeat(64), ")".repeat(64));
        assert!(matches(&nested, "a"));
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
        assert_eq!(serde_json::from_str::<Pattern>(&json).unwrap(), pattern);

        let err = serde_json::from_str::<Pattern>(r#""(ab""#).unwrap_err();
        assert!(err.to_string().contains("unclosed group in pattern `(ab` at byte 0"), "{err}");
        assert!(serde_json::from_str::<Pattern>("42").is_err());
    }
}
