//! Translation of a MongoDB (PCRE) regular expression into the syntax of the
//! linear-time `regex` crate, used by [`crate::pattern::Pattern`]: ASCII
//! classes for `\d \w \s \b`, the `x` option applied, literal braces and
//! class operators escaped, unsupported PCRE features rejected.

use crate::error::QueryError;

const W: &str = "0-9A-Za-z_";
const D: &str = "0-9";
const S: &str = "\\t\\n\\x0B\\x0C\\r ";
const H: &str = "\\t \\xA0\\x{1680}\\x{180E}\\x{2000}-\\x{200A}\\x{202F}\\x{205F}\\x{3000}";
const V: &str = "\\n\\x0B\\x0C\\r\\x{85}\\x{2028}\\x{2029}";

pub(crate) struct Translated {
    pub pattern: String,
    pub dollar: bool,
    pub is_literal: bool,
}

fn unsupported(what: &str) -> QueryError {
    QueryError::UnsupportedRegex(what.to_owned())
}

/// Length of a valid `{n}`, `{n,}`, `{n,m}` or `{,m}` quantifier at `chars[i]`.
fn quantifier_len(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let start = j;
    while j < chars.len() && chars[j].is_ascii_digit() {
        j += 1;
    }
    let n1 = j - start;
    let mut n2 = 0;
    let mut comma = false;
    if j < chars.len() && chars[j] == ',' {
        comma = true;
        j += 1;
        let s2 = j;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        n2 = j - s2;
    }
    if j < chars.len() && chars[j] == '}' && (n1 > 0 || (comma && n2 > 0)) { Some(j + 1 - i) } else { None }
}

fn push_escaped(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || !c.is_ascii() || c == ' ' {
        out.push(c);
    } else if c.is_ascii_graphic() {
        out.push('\\');
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", c as u32));
    }
}

fn control_char(c: Option<char>) -> Result<char, QueryError> {
    match c {
        Some(c) if c.is_ascii() && !c.is_ascii_control() => Ok(((c.to_ascii_uppercase() as u8) ^ 0x40) as char),
        _ => Err(QueryError::BadRegex("\\c at end of pattern".into())),
    }
}

/// Copies a `{...}` argument of `\x`, `\p` or `\P` verbatim.
fn copy_braces(chars: &[char], mut i: usize, out: &mut String) -> usize {
    if chars.get(i) == Some(&'{') {
        while i < chars.len() {
            let c = chars[i];
            out.push(c);
            i += 1;
            if c == '}' {
                break;
            }
        }
    }
    i
}

pub(crate) fn translate(src: &str, extended: bool) -> Result<Translated, QueryError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len() + 16);
    let mut dollar = false;
    let mut is_literal = !extended;
    let mut i = 0;
    // True right after a quantifier (to detect possessive `+`).
    let mut after_quant = false;
    while i < chars.len() {
        let c = chars[i];
        let was_quant = after_quant;
        after_quant = false;
        match c {
            '\\' => {
                let Some(&e) = chars.get(i + 1) else {
                    return Err(QueryError::BadRegex("\\ at end of pattern".into()));
                };
                i += 2;
                is_literal = false;
                if !e.is_ascii_alphanumeric() {
                    // escaped punctuation or literal character
                    push_escaped(&mut out, e);
                    continue;
                }
                match e {
                    'd' => out.push_str(&format!("[{D}]")),
                    'D' => out.push_str(&format!("[^{D}]")),
                    'w' => out.push_str(&format!("[{W}]")),
                    'W' => out.push_str(&format!("[^{W}]")),
                    's' => out.push_str(&format!("[{S}]")),
                    'S' => out.push_str(&format!("[^{S}]")),
                    'h' => out.push_str(&format!("[{H}]")),
                    'H' => out.push_str(&format!("[^{H}]")),
                    'v' => out.push_str(&format!("[{V}]")),
                    'V' => out.push_str(&format!("[^{V}]")),
                    'N' => out.push_str("[^\\n]"),
                    'R' => out.push_str("(?:\\r\\n|[\\n\\x0B\\x0C\\r\\x{85}\\x{2028}\\x{2029}])"),
                    'b' => out.push_str("(?-u:\\b)"),
                    'B' => out.push_str("(?-u:\\B)"),
                    'A' => out.push_str("\\A"),
                    'z' => out.push_str("\\z"),
                    'Z' => {
                        dollar = true;
                        out.push_str("(?-m:$)");
                    }
                    'n' | 't' | 'r' | 'f' => {
                        out.push('\\');
                        out.push(e);
                    }
                    'e' => out.push_str("\\x1B"),
                    'a' => out.push_str("\\x07"),
                    'c' => {
                        let cc = control_char(chars.get(i).copied())?;
                        i += 1;
                        push_escaped(&mut out, cc);
                    }
                    'x' | 'p' | 'P' => {
                        out.push('\\');
                        out.push(e);
                        i = copy_braces(&chars, i, &mut out);
                    }
                    'Q' => {
                        // literal text up to \E
                        while i < chars.len() {
                            if chars[i] == '\\' && chars.get(i + 1) == Some(&'E') {
                                i += 2;
                                break;
                            }
                            push_escaped(&mut out, chars[i]);
                            i += 1;
                        }
                    }
                    'E' => {}
                    '1'..='9' | 'k' | 'g' => return Err(unsupported("backreferences")),
                    'G' | 'K' | 'X' | 'C' => return Err(unsupported(&format!("\\{e}"))),
                    '0' => out.push_str("\\x00"),
                    other => {
                        return Err(QueryError::BadRegex(format!("unrecognized escape \\{other}")));
                    }
                }
            }
            '[' => {
                is_literal = false;
                i = translate_class(&chars, i, &mut out)?;
            }
            '(' => {
                is_literal = false;
                if chars.get(i + 1) == Some(&'*') {
                    return Err(unsupported("backtracking control verbs"));
                }
                if chars.get(i + 1) != Some(&'?') {
                    out.push('(');
                    i += 1;
                    continue;
                }
                let rest: String = chars[i + 2..].iter().take(3).collect();
                if rest.starts_with('=') || rest.starts_with('!') || rest.starts_with("<=") || rest.starts_with("<!") {
                    return Err(unsupported("lookahead/lookbehind assertions"));
                }
                if rest.starts_with('>') {
                    return Err(unsupported("atomic groups"));
                }
                if rest.starts_with('|') {
                    return Err(unsupported("branch reset groups"));
                }
                if rest.starts_with('(') {
                    return Err(unsupported("conditional groups"));
                }
                if rest.starts_with("P=") {
                    return Err(unsupported("backreferences"));
                }
                if rest.starts_with('R')
                    || rest.starts_with('&')
                    || rest.starts_with("P>")
                    || rest.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-') && {
                        // (?1) (?+1) (?-1) are recursion; (?-i) is a flag group
                        let t: Vec<char> = rest.chars().collect();
                        t[0].is_ascii_digit() || t.get(1).is_some_and(|d| d.is_ascii_digit())
                    }
                {
                    return Err(unsupported("recursion"));
                }
                if rest.starts_with('#') {
                    // comment group
                    let mut j = i + 3;
                    while j < chars.len() && chars[j] != ')' {
                        j += 1;
                    }
                    if j >= chars.len() {
                        return Err(QueryError::BadRegex("missing ) after comment".into()));
                    }
                    i = j + 1;
                    continue;
                }
                if rest.starts_with('\'') {
                    // (?'name'...) → (?<name>...)
                    let mut j = i + 3;
                    let mut name = String::new();
                    while j < chars.len() && chars[j] != '\'' {
                        name.push(chars[j]);
                        j += 1;
                    }
                    if j >= chars.len() {
                        return Err(QueryError::BadRegex("unterminated group name".into()));
                    }
                    out.push_str("(?<");
                    out.push_str(&name);
                    out.push('>');
                    i = j + 1;
                    continue;
                }
                // flag group `(?imsx-imsx)` / `(?i:` or named group `(?<n>` / `(?P<n>`
                out.push_str("(?");
                i += 2;
                let close =
                    if chars.get(i) == Some(&'<') || (chars.get(i) == Some(&'P') && chars.get(i + 1) == Some(&'<')) {
                        '>'
                    } else {
                        ':'
                    };
                while i < chars.len() {
                    let f = chars[i];
                    out.push(f);
                    i += 1;
                    if f == close || f == ')' || (close == ':' && !(f.is_ascii_alphabetic() || f == '-')) {
                        break;
                    }
                }
            }
            '*' | '+' | '?' => {
                is_literal = false;
                if was_quant && c == '+' {
                    return Err(unsupported("possessive quantifiers"));
                }
                out.push(c);
                i += 1;
                // `*?` lazy: the `?` belongs to this quantifier.
                if c != '?' || !was_quant {
                    after_quant = true;
                }
                if c == '?' && was_quant {
                    after_quant = false;
                }
            }
            '{' => match quantifier_len(&chars, i) {
                Some(n) => {
                    is_literal = false;
                    let q: String = chars[i..i + n].iter().collect();
                    if q.starts_with("{,") {
                        out.push_str(&format!("{{0{}", &q[1..]));
                    } else {
                        out.push_str(&q);
                    }
                    i += n;
                    after_quant = true;
                }
                None => {
                    out.push_str("\\{");
                    i += 1;
                }
            },
            '}' | ']' => {
                out.push('\\');
                out.push(c);
                i += 1;
            }
            '$' => {
                is_literal = false;
                dollar = true;
                out.push('$');
                i += 1;
            }
            '^' | '.' | '|' | ')' => {
                is_literal = false;
                out.push(c);
                i += 1;
            }
            c if extended && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\x0B' || c == '\x0C') => {
                i += 1;
                after_quant = was_quant;
            }
            '#' if extended => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                after_quant = was_quant;
            }
            c => {
                push_escaped(&mut out, c);
                i += 1;
            }
        }
    }
    Ok(Translated { pattern: out, dollar, is_literal })
}

/// Translates a character class starting at `chars[start] == '['`; returns
/// the index after its closing `]`.
fn translate_class(chars: &[char], start: usize, out: &mut String) -> Result<usize, QueryError> {
    let mut i = start + 1;
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(QueryError::BadRegex("missing terminating ] for character class".into()));
        };
        match c {
            ']' if !first => {
                out.push(']');
                return Ok(i + 1);
            }
            ']' => {
                out.push_str("\\]");
                i += 1;
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                // POSIX class [:alpha:] (ASCII in both engines)
                let mut j = i + 2;
                while j < chars.len() && chars[j] != ':' && chars[j] != ']' {
                    j += 1;
                }
                if chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&']') {
                    let s: String = chars[i..j + 2].iter().collect();
                    out.push_str(&s);
                    i = j + 2;
                } else {
                    out.push_str("\\[");
                    i += 1;
                }
            }
            '[' | '&' | '~' => {
                out.push('\\');
                out.push(c);
                i += 1;
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                out.push_str("\\-");
                i += 1;
            }
            '\\' => {
                let Some(&e) = chars.get(i + 1) else {
                    return Err(QueryError::BadRegex("\\ at end of pattern".into()));
                };
                i += 2;
                match e {
                    'd' => out.push_str(D),
                    'w' => out.push_str(W),
                    's' => out.push_str(S),
                    'h' => out.push_str(H),
                    'v' => out.push_str(V),
                    'D' => out.push_str(&format!("[^{D}]")),
                    'W' => out.push_str(&format!("[^{W}]")),
                    'S' => out.push_str(&format!("[^{S}]")),
                    'H' => out.push_str(&format!("[^{H}]")),
                    'V' => out.push_str(&format!("[^{V}]")),
                    'b' => out.push_str("\\x08"),
                    'n' | 't' | 'r' | 'f' => {
                        out.push('\\');
                        out.push(e);
                    }
                    'x' | 'p' | 'P' => {
                        out.push('\\');
                        out.push(e);
                        i = copy_braces(chars, i, out);
                    }
                    'e' => out.push_str("\\x1B"),
                    'a' => out.push_str("\\x07"),
                    '0' => out.push_str("\\x00"),
                    'c' => {
                        let cc = control_char(chars.get(i).copied())?;
                        i += 1;
                        push_escaped(out, cc);
                    }
                    e if e.is_ascii_alphanumeric() => {
                        return Err(QueryError::BadRegex(format!("unrecognized escape \\{e} in character class")));
                    }
                    e => push_escaped(out, e),
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
        first = false;
    }
}
