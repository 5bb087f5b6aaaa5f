//! MongoDB (PCRE) regular expressions on the linear-time `regex` crate.
//!
//! The PCRE source is translated, not passed through:
//! - `\d \w \s \b` (and negations) are ASCII in PCRE without UCP, as in
//!   MongoDB; they become explicit ASCII classes / `(?-u:\b)`.
//! - Without the `m` option, PCRE's `$` and `\Z` also match before a final
//!   newline; the matcher retries on the text without its final `\n`.
//! - `x` (extended) is applied here: unescaped whitespace and `#` comments
//!   outside classes are dropped.
//! - Literal `{`, `}`, `]` and class characters that are operators in the
//!   `regex` crate (`[`, `&&`, `--`, `~~`) are escaped.
//! - Backreferences, lookaround, atomic groups, possessive quantifiers,
//!   recursion, conditionals and verbs are rejected with
//!   [`QueryError::UnsupportedRegex`].

use crate::doc::bytes_eq;
use crate::error::QueryError;
use crate::limits;
use crate::pcre::translate;
use regex::{Regex, RegexBuilder};

/// A compiled MongoDB regular expression.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub source: String,
    pub options: String,
    regex: Regex,
    /// Retry without a final newline (PCRE `$` without `m`).
    retry_trailing_newline: bool,
    /// The pattern is a plain literal (no metacharacters) and has no options:
    /// it matches exactly the strings containing `literal`.
    pub literal: Option<String>,
    /// An ASCII literal with the `i` option: see [`CiNeedle`].
    ci_ascii: Option<CiNeedle>,
    /// `^literal` without `m`/`x`: (literal, case-insensitive). Matches the
    /// strings starting with it (ASCII case-folded when `i`, on ASCII text).
    prefix: Option<(String, bool)>,
}

/// A pattern with no PCRE metacharacter at all.
fn plain_literal(src: &str) -> bool {
    !src.chars().any(|c| "\\^$.[]|()?*+{}".contains(c))
}

/// Above this haystack × needle size the plain scan gives way to the
/// linear-time regex engine.
const NAIVE_SCAN_LIMIT: usize = 8 * 1024;

/// An ASCII literal searched case-insensitively without the regex engine.
///
/// `lower` is the literal lowercased and `fold` has, per byte, `0x20` for a
/// letter and 0 otherwise, so text byte `b` matches literal byte `i` exactly
/// when `b | fold[i] == lower[i]` (both ASCII cases of a letter, only
/// itself otherwise).
///
/// On ASCII text this is exactly the regex's case-insensitive match. On
/// other text, Unicode simple case folding adds exactly two non-ASCII
/// characters to ASCII letters: KELVIN SIGN (U+212A) to `k` and LONG S
/// (U+017F) to `s` (the test `ascii_letters_fold_only_to_kelvin_and_long_s`
/// checks every character). Non-ASCII characters are encoded as bytes
/// ≥ 0x80, which never equal a literal byte, so when the literal has no `k`
/// or `s` the scan is exact on any text; otherwise non-ASCII text goes to
/// the regex.
#[derive(Clone, Debug)]
struct CiNeedle {
    lower: Vec<u8>,
    fold: Vec<u8>,
    any_text: bool,
    /// For a literal of at most 8 bytes: `lower` and `fold` as little-endian
    /// words and the mask of their bytes, to check a candidate with one
    /// word compare where the text has 8 bytes from it on.
    word: Option<(u64, u64, u64)>,
}

impl CiNeedle {
    fn new(literal: &str) -> CiNeedle {
        let lower = literal.to_ascii_lowercase().into_bytes();
        let fold: Vec<u8> = lower.iter().map(|b| if b.is_ascii_lowercase() { 0x20 } else { 0 }).collect();
        let any_text = !lower.iter().any(|&b| b == b'k' || b == b's');
        let n = lower.len();
        let word = (n <= 8).then(|| {
            let (mut l, mut f) = ([0u8; 8], [0u8; 8]);
            l[..n].copy_from_slice(&lower);
            f[..n].copy_from_slice(&fold);
            let mask = if n == 8 { u64::MAX } else { (1u64 << (8 * n)) - 1 };
            (u64::from_le_bytes(l), u64::from_le_bytes(f), mask)
        });
        CiNeedle { lower, fold, any_text, word }
    }

    /// Does `h` contain the literal (in any ASCII case)?
    ///
    /// Eight candidate starts at a time: a start is a candidate when its
    /// byte matches the literal's first byte and the byte `n - 1` further
    /// matches its last byte. In `x` below such starts are zero bytes (the
    /// zero-byte test may flag extra bytes above a real zero, never miss
    /// one); each candidate is then checked byte by byte. The last block is
    /// moved back to end at the last start, overlapping the one before.
    #[inline]
    fn found_in(&self, h: &[u8]) -> bool {
        const LOW: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let n = self.lower.len();
        if n == 0 {
            return true;
        }
        if h.len() < n {
            return false;
        }
        let last = h.len() - n;
        let at = |i: usize| h[i..i + n].iter().zip(&self.lower).zip(&self.fold).all(|((&b, &l), &f)| b | f == l);
        if last < 7 {
            return (0..=last).any(at);
        }
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&h[i..i + 8]);
            u64::from_le_bytes(w)
        };
        let at = |i: usize| match self.word {
            Some((lower, fold, mask)) if i + 8 <= h.len() => (word(i) | fold) & mask == lower,
            _ => at(i),
        };
        let (first, first_fold) = (LOW * self.lower[0] as u64, LOW * self.fold[0] as u64);
        let (end, end_fold) = (LOW * self.lower[n - 1] as u64, LOW * self.fold[n - 1] as u64);
        let mut i = 0;
        loop {
            let i0 = i.min(last - 7);
            let x = ((word(i0) | first_fold) ^ first) | ((word(i0 + n - 1) | end_fold) ^ end);
            let mut zeros = x.wrapping_sub(LOW) & !x & HIGH;
            while zeros != 0 {
                if at(i0 + zeros.trailing_zeros() as usize / 8) {
                    return true;
                }
                zeros &= zeros - 1;
            }
            if i0 + 7 >= last {
                return false;
            }
            i += 8;
        }
    }
}

impl Pattern {
    pub fn new(source: &str, options: &str) -> Result<Pattern, QueryError> {
        if source.len() > limits::MAX_REGEX_LEN {
            return Err(QueryError::Limit("regular expression is too long"));
        }
        let (mut i, mut m, mut s, mut x) = (false, false, false, false);
        for c in options.chars() {
            match c {
                'i' => i = true,
                'm' => m = true,
                's' => s = true,
                'x' => x = true,
                'u' => {}
                _ => {
                    return Err(QueryError::BadRegex(format!("invalid flag in regex options: {c}")));
                }
            }
        }
        let t = translate(source, x)?;
        let regex = RegexBuilder::new(&t.pattern)
            .case_insensitive(i)
            .multi_line(m)
            .dot_matches_new_line(s)
            .size_limit(limits::REGEX_SIZE_LIMIT)
            .dfa_size_limit(limits::REGEX_DFA_SIZE_LIMIT)
            .nest_limit(64)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => QueryError::Limit("regular expression compiles too big"),
                other => QueryError::BadRegex(format!("{source}: {}", first_line(&other.to_string()))),
            })?;
        let literal = if options.is_empty() && t.is_literal { Some(source.to_owned()) } else { None };
        let ci_ascii = if i && !x && t.is_literal && source.is_ascii() { Some(CiNeedle::new(source)) } else { None };
        let prefix = match source.strip_prefix('^') {
            Some(rest) if !m && !x && plain_literal(rest) && (!i || rest.is_ascii()) => Some((rest.to_owned(), i)),
            _ => None,
        };
        Ok(Pattern {
            source: source.to_owned(),
            options: options.to_owned(),
            regex,
            retry_trailing_newline: t.dollar && !m,
            literal,
            ci_ascii,
            prefix,
        })
    }

    #[inline]
    pub fn is_match(&self, s: &str) -> bool {
        if let Some(lit) = &self.literal {
            return s.contains(lit.as_str());
        }
        match &self.prefix {
            Some((p, false)) => {
                return s.len() >= p.len() && bytes_eq(&s.as_bytes()[..p.len()], p.as_bytes());
            }
            Some((p, true)) if s.is_ascii() => {
                return s.len() >= p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
            }
            _ => {}
        }
        if let Some(n) = &self.ci_ascii
            && s.len().saturating_mul(n.lower.len()) <= NAIVE_SCAN_LIMIT
            && (n.any_text || s.is_ascii())
        {
            return n.found_in(s.as_bytes());
        }
        if self.regex.is_match(s) {
            return true;
        }
        if self.retry_trailing_newline
            && let Some(t) = s.strip_suffix('\n')
        {
            return self.regex.is_match(t);
        }
        false
    }
}

fn first_line(s: &str) -> String {
    s.lines().rfind(|l| !l.trim().is_empty()).unwrap_or(s).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, o: &str, s: &str) -> bool {
        Pattern::new(p, o).unwrap().is_match(s)
    }

    #[test]
    fn ascii_classes() {
        // PCRE without UCP: \w \d \s are ASCII
        assert!(!m(r"^\w$", "", "é"));
        assert!(m(r"^\w$", "", "_"));
        assert!(!m(r"\d", "", "٣")); // Arabic-Indic digit
        assert!(!m(r"\s", "", "\u{00A0}"));
        assert!(m(r"\s", "", "\x0B"));
        assert!(m(r"^[\w-]+$", "", "a-b_c"));
        assert!(!m(r"^[\w]+$", "", "aé"));
        assert!(m(r"^[^\W]+$", "", "abc"));
        // \b is an ASCII word boundary: é is not a word character
        assert!(m(r"\bx", "", "éx"));
        assert!(!m(r"\Bx", "", "éx"));
    }

    #[test]
    fn options() {
        assert!(m("abc", "i", "xABCx"));
        assert!(!m("abc", "", "ABC"));
        assert!(m("^b", "m", "a\nb"));
        assert!(!m("^b", "", "a\nb"));
        assert!(m("a.b", "s", "a\nb"));
        assert!(!m("a.b", "", "a\nb"));
        assert!(m("a b # comment\n c", "x", "abc"));
        assert!(m("a[ ]b", "x", "a b"));
        assert!(Pattern::new("a", "q").is_err());
        assert!(m("É", "i", "é"));
    }

    #[test]
    fn dollar_before_final_newline() {
        assert!(m("abc$", "", "abc\n"));
        assert!(!m("abc$", "", "abc\n\n"));
        assert!(m(r"abc\Z", "", "abc\n"));
        assert!(!m(r"abc\z", "", "abc\n"));
    }

    #[test]
    fn pcre_literals() {
        assert!(m("a{", "", "a{"));
        assert!(m("{x}", "", "{x}"));
        assert!(m("a{2}", "", "aa"));
        assert!(m("a{,2}b", "", "b"));
        assert!(m("x]", "", "x]"));
        assert!(m("[]a]", "", "]"));
        assert!(m("[a&&b]", "", "&"));
        assert!(m("[[]", "", "["));
        assert!(m("[a--]", "", "-"));
        assert!(m(r"\Q.*\E", "", ".*"));
        assert!(!m(r"\Q.*\E", "", "ab"));
        assert!(m("a(?#note)b", "", "ab"));
        assert!(m("(?'n'a)b", "", "ab"));
        assert!(m("(?i)abc", "", "ABC"));
        assert!(m("(?-i:a)", "", "a"));
        assert!(m("a*?b", "", "aab"));
    }

    #[test]
    fn unsupported_features_are_errors() {
        for p in [
            r"(a)\1",
            r"(?<n>a)\k<n>",
            "(?=a)",
            "(?!a)",
            "(?<=a)b",
            "(?<!a)b",
            "(?>a)",
            "a*+",
            "a++",
            "a?+",
            "a{2}+",
            "(?R)",
            "(?1)",
            "(*FAIL)",
            "(?(1)a|b)",
            r"\G",
        ] {
            match Pattern::new(p, "") {
                Err(QueryError::UnsupportedRegex(_)) => {}
                other => panic!("{p}: {other:?}"),
            }
        }
    }

    #[test]
    fn limits() {
        assert!(matches!(Pattern::new(&"a".repeat(2000), ""), Err(QueryError::Limit(_))));
        let big = Pattern::new(r"(?:\p{L}{100}){20}", "");
        assert!(matches!(big, Err(QueryError::Limit(_))), "{big:?}");
        assert!(matches!(Pattern::new("(", ""), Err(QueryError::BadRegex(_))));
    }

    #[test]
    fn literal_fast_paths_agree_with_regex() {
        for (p, o) in [
            ("alpha", "i"),
            ("ALPHA", "i"),
            ("a b", "i"),
            ("k", "i"),
            ("s", "i"),
            ("abc", ""),
            ("", "i"),
            ("x-y", "i"),
            ("^al", ""),
            ("^AL", "i"),
            ("^", ""),
            ("^k", "i"),
            ("^a b", "s"),
            ("^a", "m"),
        ] {
            let pat = Pattern::new(p, o).unwrap();
            for h in [
                "", "alpha", "xALPhAx", "a b", "A B", "K", "\u{212A}", "ſ", "S", "abc", "ABC", "x-y", "X-Y", "alph",
                "a\nb",
            ] {
                let h = h.replace("\\u{212A}", "\u{212A}").replace("\\n", "\n");
                assert_eq!(pat.is_match(&h), pat.regex.is_match(&h), "{p}/{o} on {h:?}");
            }
        }
        // Unicode case folding still applies to non-ASCII text: KELVIN SIGN matches k
        assert!(m("k", "i", "\u{212A}"));
        assert!(m("s", "i", "ſ"));
    }

    #[test]
    fn ascii_letters_fold_only_to_kelvin_and_long_s() {
        // Every non-ASCII character, once: what a case-insensitive ASCII
        // character matches among them must be exactly what `CiNeedle`
        // assumes.
        let all: String = (0x80u32..=0x10FFFF).filter_map(char::from_u32).collect();
        for c in (0u8..0x80).map(char::from) {
            let re = RegexBuilder::new(&regex::escape(&c.to_string())).case_insensitive(true).build().unwrap();
            let found: Vec<&str> = re.find_iter(&all).map(|m| m.as_str()).collect();
            let expected: &[&str] = match c {
                'k' | 'K' => &["\u{212A}"],
                's' | 'S' => &["\u{17F}"],
                _ => &[],
            };
            assert_eq!(found, expected, "{c:?}");
            // and among ASCII characters, exactly the ASCII case pair
            let needle = CiNeedle::new(&c.to_string());
            for d in (0u8..0x80).map(char::from) {
                let text = d.to_string();
                assert_eq!(re.is_match(&text), c.eq_ignore_ascii_case(&d), "{c:?} / {d:?}");
                assert_eq!(needle.found_in(text.as_bytes()), c.eq_ignore_ascii_case(&d), "{c:?} / {d:?}");
            }
        }
    }

    #[test]
    fn ci_literal_scan_agrees_with_regex() {
        let needles = [
            "alpha",
            "ALPHA",
            "a-b",
            "x1_",
            "k",
            "s",
            "sk",
            "@",
            "`",
            "{",
            "]",
            "}",
            "a b",
            "é",
            "",
            "\\[",
            "alphabet",
            "alphabet!",
            "Alphabets",
        ];
        let texts = [
            "",
            "a",
            "alpha",
            "xALPhAx",
            "alph",
            "lpha",
            "aalpha",
            "A-B",
            "a\rb",
            "a\x0Db",
            "X1_",
            "x1\x7F",
            "@",
            "`",
            "[",
            "{",
            "]",
            "}",
            "A B",
            "alpha é",
            "é alpha",
            "éALPHA",
            "\u{212A}",
            "\u{17F}",
            "S\u{17F}K\u{212A}",
            "a\u{0}b",
            "ALPH\u{130}",
            "ski",
            "SKI",
        ];
        let long: Vec<String> = (0..40)
            .flat_map(|k| {
                let pad = "xyzlph".repeat(k).chars().take(k).collect::<String>();
                [
                    format!("{pad}alPHa"),
                    format!("{pad}alph{pad}a"),
                    format!("alpha{pad}"),
                    format!("{pad}ALPHA{pad}"),
                    format!("{pad}a-B{pad}"),
                    format!("{pad}é{pad}sK"),
                    format!("{pad}alphaBET"),
                    format!("{pad}ALPHABET!{pad}"),
                    format!("{pad}alphabeT1{pad}"),
                    format!("{pad}alphabeTS"),
                ]
            })
            .collect();
        let texts: Vec<&str> = texts.iter().copied().chain(long.iter().map(String::as_str)).collect();
        for n in needles {
            let pat = Pattern::new(n, "i").unwrap();
            assert_eq!(pat.ci_ascii.is_some(), n.is_ascii() && !n.contains('\\'), "{n:?}");
            for &t in &texts {
                assert_eq!(pat.is_match(t), pat.regex.is_match(t), "{n:?} in {t:?}");
            }
        }
    }

    #[test]
    fn literal_detection() {
        assert_eq!(Pattern::new("abc", "").unwrap().literal.as_deref(), Some("abc"));
        assert_eq!(Pattern::new("a\\.c", "").unwrap().literal, None);
        assert_eq!(Pattern::new("abc", "i").unwrap().literal, None);
        assert_eq!(Pattern::new("a.c", "").unwrap().literal, None);
    }
}
