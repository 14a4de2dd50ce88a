//! A content search's query (KQL, as `New-ComplianceSearch -ContentMatchQuery` and the
//! eDiscovery searches take it) decided against what a message inventory knows of a message:
//! its subject, sender, recipients and date. The inventory has no body, attachments, Cc/Bcc
//! split or display names, so most of a query cannot be decided; the evaluation is three-valued
//! and everything undecidable counts as a match. A message is left out only when the query
//! certainly excludes it. Syntax: Microsoft, "Keyword queries and search conditions for
//! eDiscovery" (learn.microsoft.com/purview/ediscovery-keyword-queries-and-search-conditions).

use crate::model::Micros;

/// What the inventory knows of one message.
pub struct Fields<'a> {
    pub subject: Option<&'a str>,
    pub sender: Option<&'a str>,
    pub recipients: &'a [&'a str],
    pub date: Option<Micros>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A free-text term: matches body, attachments, subject … (only a subject hit decides it).
    Term(String),
    /// `*` or an empty query: every item.
    All,
    Property {
        name: String,
        op: Op,
        value: String,
    },
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// Syntax mailscope cannot read: undecidable.
    Opaque,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `:` or `=`
    Is,
    NotEqual,
    Less,
    LessEq,
    Greater,
    GreaterEq,
}

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Query(Node);

impl Query {
    /// Never fails: what cannot be read becomes undecidable (a match).
    pub fn parse(text: &str) -> Query {
        let tokens = tokenize(text);
        if tokens.is_empty() {
            return Query(Node::All);
        }
        let mut p = Parser {
            tokens,
            at: 0,
            depth: 0,
            too_deep: false,
        };
        let node = p.or(None);
        if p.at < p.tokens.len() || p.too_deep {
            return Query(Node::Opaque);
        }
        Query(node)
    }

    /// The query selects every item whatever it holds (empty, `*`, `kind:email` …).
    pub fn matches_all(&self) -> bool {
        let nothing_known = Fields {
            subject: None,
            sender: None,
            recipients: &[],
            date: None,
        };
        eval(&self.0, &nothing_known) == Tri::True
    }

    /// The message may be among the results: the query does not certainly exclude it.
    pub fn may_match(&self, m: &Fields) -> bool {
        eval(&self.0, m) != Tri::False
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    /// A word or quoted phrase, with a `-`/`+` prefix kept apart.
    Word {
        text: String,
        quoted: bool,
        negated: bool,
    },
    /// `name` `op` `value`; the value may be `(` … `)`, given as `group`.
    Property {
        name: String,
        op: Op,
        value: Option<String>,
    },
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '(' {
            out.push(Token::Open);
            i += 1;
            continue;
        }
        if c == ')' {
            out.push(Token::Close);
            i += 1;
            continue;
        }
        let negated = c == '-' && i + 1 < chars.len() && !chars[i + 1].is_whitespace();
        if negated || (c == '+' && i + 1 < chars.len()) {
            i += 1;
        }
        if chars.get(i) == Some(&'"') {
            let (phrase, next) = quoted(&chars, i);
            out.push(Token::Word {
                text: phrase,
                quoted: true,
                negated,
            });
            i = next;
            continue;
        }
        // A bare word, or `name:value` / `name>=value` with the value possibly quoted.
        let start = i;
        let mut property = None;
        while i < chars.len() && !chars[i].is_whitespace() && !matches!(chars[i], '(' | ')' | '"') {
            if let Some((op, len)) = operator_at(&chars, i) {
                let name: String = chars[start..i].iter().collect();
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()) {
                    i += len;
                    let value = if chars.get(i) == Some(&'"') {
                        let (v, next) = quoted(&chars, i);
                        i = next;
                        Some(v)
                    } else if chars.get(i) == Some(&'(') {
                        None
                    } else {
                        let s = i;
                        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != ')' {
                            i += 1;
                        }
                        Some(chars[s..i].iter().collect())
                    };
                    property = Some(Token::Property {
                        name: name.to_ascii_lowercase(),
                        op,
                        value,
                    });
                    break;
                }
            }
            i += 1;
        }
        if let Some(p) = property {
            if negated {
                out.push(Token::Not);
            }
            out.push(p);
            continue;
        }
        let word: String = chars[start..i].iter().collect();
        if word.is_empty() {
            continue;
        }
        let token = match word.as_str() {
            // Boolean operators are upper case in KQL; lower case they are words.
            "AND" if !negated => Token::And,
            "OR" if !negated => Token::Or,
            "NOT" if !negated => Token::Not,
            // Proximity is a narrower AND: `NEAR`, `NEAR(5)`, `ONEAR(2)`.
            w if is_proximity(w) => Token::And,
            _ => Token::Word {
                text: word,
                quoted: false,
                negated,
            },
        };
        out.push(token);
    }
    out
}

fn is_proximity(word: &str) -> bool {
    let op = word.strip_prefix('O').unwrap_or(word);
    match op.strip_prefix("NEAR") {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

/// The phrase of a `"…"` starting at `i`, and the index after its closing quote (or the end).
fn quoted(chars: &[char], i: usize) -> (String, usize) {
    let mut j = i + 1;
    while j < chars.len() && chars[j] != '"' {
        j += 1;
    }
    (chars[i + 1..j].iter().collect(), (j + 1).min(chars.len()))
}

fn operator_at(chars: &[char], i: usize) -> Option<(Op, usize)> {
    let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
    match two.as_str() {
        "<>" => return Some((Op::NotEqual, 2)),
        "<=" => return Some((Op::LessEq, 2)),
        ">=" => return Some((Op::GreaterEq, 2)),
        _ => {}
    }
    match chars[i] {
        ':' | '=' => Some((Op::Is, 1)),
        '<' => Some((Op::Less, 1)),
        '>' => Some((Op::Greater, 1)),
        _ => None,
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Nesting of groups and `NOT`s: past `MAX_DEPTH` the query is undecidable (a deep query
    /// must not exhaust the stack).
    depth: usize,
    too_deep: bool,
}

const MAX_DEPTH: usize = 100;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    /// `group` is the property a parenthesised value belongs to (`subject:(a OR b)`).
    fn or(&mut self, group: Option<&(String, Op)>) -> Node {
        let mut parts = vec![self.and(group)];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            parts.push(self.and(group));
        }
        if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Node::Or(parts)
        }
    }

    fn and(&mut self, group: Option<&(String, Op)>) -> Node {
        let mut parts = vec![self.unary(group)];
        loop {
            match self.peek() {
                Some(Token::And) => {
                    self.at += 1;
                    parts.push(self.unary(group));
                }
                // Adjacent terms: KQL's default operator is AND.
                Some(Token::Close) | Some(Token::Or) | None => break,
                Some(_) => parts.push(self.unary(group)),
            }
        }
        if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Node::And(parts)
        }
    }

    fn unary(&mut self, group: Option<&(String, Op)>) -> Node {
        if self.depth >= MAX_DEPTH {
            self.too_deep = true;
            self.at = self.tokens.len();
            return Node::Opaque;
        }
        self.depth += 1;
        let node = if self.peek() == Some(&Token::Not) {
            self.at += 1;
            Node::Not(Box::new(self.unary(group)))
        } else {
            self.primary(group)
        };
        self.depth -= 1;
        node
    }

    fn primary(&mut self, group: Option<&(String, Op)>) -> Node {
        let Some(token) = self.tokens.get(self.at).cloned() else {
            return Node::Opaque;
        };
        self.at += 1;
        match token {
            Token::Open => {
                let inner = self.or(group);
                if self.peek() == Some(&Token::Close) {
                    self.at += 1;
                    inner
                } else {
                    Node::Opaque
                }
            }
            Token::Word {
                text,
                quoted,
                negated,
            } => {
                let node = match group {
                    Some((name, op)) => Node::Property {
                        name: name.clone(),
                        op: *op,
                        value: text,
                    },
                    None if text == "*" && !quoted => Node::All,
                    None => Node::Term(text),
                };
                if negated {
                    Node::Not(Box::new(node))
                } else {
                    node
                }
            }
            Token::Property { name, op, value } => match value {
                Some(value) => Node::Property { name, op, value },
                None => {
                    if self.peek() != Some(&Token::Open) {
                        return Node::Opaque;
                    }
                    self.at += 1;
                    let inner = self.or(Some(&(name, op)));
                    if self.peek() == Some(&Token::Close) {
                        self.at += 1;
                        inner
                    } else {
                        Node::Opaque
                    }
                }
            },
            // An operator where a term was expected.
            Token::Close | Token::And | Token::Or | Token::Not => Node::Opaque,
        }
    }
}

fn eval(node: &Node, m: &Fields) -> Tri {
    match node {
        Node::All => Tri::True,
        Node::Opaque => Tri::Unknown,
        Node::Term(t) => match m.subject {
            Some(s) if words_match(s, t) == Tri::True => Tri::True,
            // The body, attachments and names may still hold it.
            _ => Tri::Unknown,
        },
        Node::Property { name, op, value } => property(name, *op, value, m),
        Node::Not(inner) => eval(inner, m).not(),
        Node::And(parts) => {
            let mut out = Tri::True;
            for p in parts {
                match eval(p, m) {
                    Tri::False => return Tri::False,
                    Tri::Unknown => out = Tri::Unknown,
                    Tri::True => {}
                }
            }
            out
        }
        Node::Or(parts) => {
            let mut out = Tri::False;
            for p in parts {
                match eval(p, m) {
                    Tri::True => return Tri::True,
                    Tri::Unknown => out = Tri::Unknown,
                    Tri::False => {}
                }
            }
            out
        }
    }
}

/// Words as search matches them: lowercased runs of letters and digits.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A word or phrase in a text: `True` when its words stand in the text in order (the last a
/// prefix with `*`), `False` only when one of its words is nowhere in the text even as part of
/// a word (no stemming or tokenizing could find it then), else undecided.
fn words_match(text: &str, value: &str) -> Tri {
    let prefix = value.trim_end().ends_with('*');
    let wanted = words(value);
    if wanted.is_empty() {
        return Tri::Unknown;
    }
    let have = words(text);
    let n = wanted.len();
    let hit = have.windows(n).any(|w| {
        w.iter().zip(&wanted).enumerate().all(|(k, (h, v))| {
            if prefix && k == n - 1 {
                h.starts_with(v.as_str())
            } else {
                h == v
            }
        })
    });
    if hit {
        return Tri::True;
    }
    let lower = text.to_lowercase();
    if wanted.iter().any(|w| !lower.contains(w.as_str())) {
        Tri::False
    } else {
        Tri::Unknown
    }
}

fn property(name: &str, op: Op, value: &str, m: &Fields) -> Tri {
    match name {
        "subject" | "subjecttitle" => text_property(op, value, m.subject),
        "from" | "senderauthor" | "sender" => address_property(op, value, m.sender.into_iter()),
        "recipients" => address_property(op, value, m.recipients.iter().copied()),
        // The inventory's recipients are the envelope's: whether one was To, Cc or Bcc is
        // unknown, so being among them decides nothing, not being among them does.
        "to" | "cc" | "bcc" => match address_property(op, value, m.recipients.iter().copied()) {
            Tri::False => Tri::False,
            _ => Tri::Unknown,
        },
        "participants" => address_property(
            op,
            value,
            m.sender.into_iter().chain(m.recipients.iter().copied()),
        ),
        "sent" | "received" | "date" => date_property(op, value, m.date),
        "kind" => match (op, value.to_ascii_lowercase().as_str()) {
            (Op::Is, "email") => Tri::True,
            _ => Tri::Unknown,
        },
        _ => Tri::Unknown,
    }
}

fn text_property(op: Op, value: &str, field: Option<&str>) -> Tri {
    let Some(text) = field else {
        return Tri::Unknown;
    };
    match op {
        Op::Is => words_match(text, value),
        Op::NotEqual => words_match(text, value).not(),
        _ => Tri::Unknown,
    }
}

/// An address value matches an address equal to it; a value without `@` is an alias (the
/// local part) or a display name, which the inventory does not have, so only a hit decides.
fn address_property<'a>(op: Op, value: &str, field: impl Iterator<Item = &'a str> + Clone) -> Tri {
    let v = value.trim().trim_matches('"').to_lowercase();
    if v.is_empty() || v.contains('*') {
        return Tri::Unknown;
    }
    let by_address = v.contains('@');
    let hit = field.clone().any(|f| {
        let f = f.trim().to_lowercase();
        if by_address {
            f == v
        } else {
            f.split('@').next() == Some(v.as_str())
        }
    });
    let known = field.count() > 0;
    let is = match (hit, known && by_address) {
        (true, _) => Tri::True,
        (false, true) => Tri::False,
        (false, false) => Tri::Unknown,
    };
    match op {
        Op::Is => is,
        Op::NotEqual => is.not(),
        _ => Tri::Unknown,
    }
}

const DAY: Micros = 86_400_000_000;

/// Dates compare by day; a message within a day of a bound is undecided (the query's time zone
/// is not the inventory's).
fn date_property(op: Op, value: &str, date: Option<Micros>) -> Tri {
    let Some(t) = date else {
        return Tri::Unknown;
    };
    let (from, to) = match value.split_once("..") {
        Some((a, b)) => match (day(a), day(b)) {
            (Some(a), Some(b)) if op == Op::Is => (a, b + DAY),
            _ => return Tri::Unknown,
        },
        None => match day(value) {
            Some(d) => (d, d + DAY),
            None => return Tri::Unknown,
        },
    };
    // Certainly inside [from, to), certainly outside, or too near a bound to say.
    let inside = t >= from + DAY && t < to - DAY;
    let before = t < from - DAY;
    let after = t >= to + DAY;
    let at_or_after_from = t >= from + DAY;
    let before_from = t < from - DAY;
    let before_to = t < to - DAY;
    let at_or_after_to = t >= to + DAY;
    let decided = |yes: bool, no: bool| {
        if yes {
            Tri::True
        } else if no {
            Tri::False
        } else {
            Tri::Unknown
        }
    };
    match op {
        Op::Is => decided(inside, before || after),
        Op::NotEqual => decided(before || after, inside),
        Op::GreaterEq => decided(at_or_after_from, before_from),
        Op::Greater => decided(at_or_after_to, before_to),
        Op::Less => decided(before_from, at_or_after_from),
        Op::LessEq => decided(before_to, at_or_after_to),
    }
}

/// The start of a day written `2024-01-31`, `2024-01-31T10:00:00Z` (its day) or `1/31/2024`.
fn day(text: &str) -> Option<Micros> {
    let text = text.trim().trim_matches('"');
    // Four-digit years only: `4/30/24` is no date the search and mailscope surely read alike.
    let plausible = |d: &chrono::NaiveDate| (1900..=2999).contains(&chrono::Datelike::year(d));
    let date = chrono::NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d")
        .ok()
        .or_else(|| {
            let year = text.rsplit('/').next()?;
            (year.len() == 4)
                .then(|| chrono::NaiveDate::parse_from_str(text, "%m/%d/%Y").ok())
                .flatten()
        })
        .filter(plausible)?;
    let t = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros();
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_iso;

    fn msg<'a>(subject: &'a str, sender: &'a str, to: &'a [&'a str], date: &str) -> Fields<'a> {
        Fields {
            subject: Some(subject),
            sender: Some(sender),
            recipients: to,
            date: parse_iso(date),
        }
    }

    const TO: &[&str] = &["alice@contoso.com"];

    #[test]
    fn empty_star_and_kind_email_match_all_mail() {
        for q in ["", "   ", "*", "kind:email", "(*)"] {
            assert!(Query::parse(q).matches_all(), "{q}");
        }
        for q in [
            "invoice",
            "subject:invoice",
            "kind:meetings",
            "from:bob@x.com",
        ] {
            assert!(!Query::parse(q).matches_all(), "{q}");
        }
    }

    #[test]
    fn keywords_are_undecidable_unless_the_subject_has_them() {
        let q = Query::parse("wire transfer");
        let m = msg("Lunch", "bob@fabrikam.com", TO, "2024-03-01T10:00:00Z");
        // The body may hold both words: a match.
        assert!(q.may_match(&m));
        let q = Query::parse("NOT invoice");
        let m = msg(
            "Your invoice",
            "bob@fabrikam.com",
            TO,
            "2024-03-01T10:00:00Z",
        );
        assert!(!q.may_match(&m));
    }

    #[test]
    fn subject_sender_and_recipients_are_decided() {
        let m = msg(
            "Q3 payroll",
            "hr@contoso.com",
            &["alice@contoso.com", "carol@fabrikam.com"],
            "2024-03-01T10:00:00Z",
        );
        let yes = [
            "subject:payroll",
            "subject:\"Q3 payroll\"",
            "subject:pay*",
            "from:hr@contoso.com",
            "from:hr",
            "to:carol@fabrikam.com",
            "participants:carol@fabrikam.com",
            "subject:(invoice OR payroll)",
            "subject:payroll AND from:hr@contoso.com",
            "-subject:invoice",
        ];
        for q in yes {
            assert!(Query::parse(q).may_match(&m), "{q}");
        }
        let no = [
            "subject:invoice",
            "from:ceo@contoso.com",
            "to:dave@contoso.com",
            "participants:dave@contoso.com",
            "subject:(invoice OR wire)",
            "subject:payroll AND from:ceo@contoso.com",
            "NOT subject:payroll",
            "-subject:payroll",
        ];
        for q in no {
            assert!(!Query::parse(q).may_match(&m), "{q}");
        }
        // A display name is not in the inventory: undecidable, so a match.
        assert!(Query::parse("from:\"Jane Doe\"").may_match(&m));
    }

    #[test]
    fn dates_are_decided_by_day_with_a_day_of_doubt() {
        let m = msg("x", "a@b.com", TO, "2024-03-10T10:00:00Z");
        let yes = [
            "sent>=2024-03-01",
            "received<=2024-03-20",
            "sent:2024-03-01..2024-03-31",
            "sent>=2024-03-10",
            "sent<2024-03-11",
            "received:3/10/2024",
        ];
        for q in yes {
            assert!(Query::parse(q).may_match(&m), "{q}");
        }
        let no = [
            "sent>=2024-04-01",
            "sent<2024-03-01",
            "sent:2024-01-01..2024-02-28",
            "received:2024-05-05",
        ];
        for q in no {
            assert!(!Query::parse(q).may_match(&m), "{q}");
        }
        // Relative dates are not decided.
        assert!(Query::parse("received>=yesterday").may_match(&m));
    }

    #[test]
    fn what_cannot_be_read_matches() {
        let m = msg("x", "a@b.com", TO, "2024-03-10T10:00:00Z");
        for q in [
            "subject:(invoice",
            "AND OR",
            "hasattachment:true",
            "cc:someone",
            ")",
        ] {
            assert!(Query::parse(q).may_match(&m), "{q}");
        }
    }

    #[test]
    fn words_not_substrings_decide_and_doubt_counts_as_a_match() {
        let m = msg(
            "Wire-transfer details: payroll",
            "jimbob@contoso.com",
            &["cc-person@contoso.com"],
            "2024-03-10T10:00:00Z",
        );
        // Purview matches words: "pay" is not "payroll", so NOT subject:pay keeps it.
        for q in [
            "subject:\"wire transfer\"",
            "NOT subject:pay",
            "NOT from:bob@contoso.com",
            "NOT to:cc-person@contoso.com",
            "received<=4/30/24",
            "NOT (payroll NEARLY wire)",
            "subject:pay*",
        ] {
            assert!(Query::parse(q).may_match(&m), "{q}");
        }
        for q in [
            "subject:\"wire payment\"",
            "from:bob@contoso.com",
            "NOT subject:payroll",
        ] {
            assert!(!Query::parse(q).may_match(&m), "{q}");
        }
    }

    #[test]
    fn a_query_nested_too_deep_is_undecidable_not_a_crash() {
        let m = msg("x", "a@b.com", TO, "2024-03-10T10:00:00Z");
        let deep = format!("{}subject:zzz{}", "(".repeat(20_000), ")".repeat(20_000));
        assert!(Query::parse(&deep).may_match(&m));
        let nots = format!("{}subject:zzz", "NOT ".repeat(200_000));
        assert!(Query::parse(&nots).may_match(&m));
    }
}
