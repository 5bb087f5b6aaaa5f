//! What a fetched page says about itself, read the way Rocket.Chat's OEmbed reads it: the body
//! decoded by its declared charset, `<title>` as `pageTitle` and every `<meta name|property=..
//! content=..>` under its camelCased name (regular expressions over the text, the first
//! non-empty value of a name winning, HTML entities decoded), then only the tags a preview
//! shows (`getRelevantMetaTags`).

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use regex::Regex;
use serde_json::{Map, Value};
use std::sync::LazyLock;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid page meta pattern")
}

/// `<title>` then the four `<meta>` forms (name first or content first, single or double
/// quotes), in Rocket.Chat's order: an earlier form wins a name.
static TITLE: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)<title[^>]*>([^<]*)</title>"));
static META_NAME_FIRST: LazyLock<[Regex; 2]> = LazyLock::new(|| {
    [
        regex(r#"(?i)<meta[^>]*(?:name|property)='([^']*)'[^>]*\scontent='([^']*)'[^>]*>"#),
        regex(r#"(?i)<meta[^>]*(?:name|property)="([^"]*)"[^>]*\scontent="([^"]*)"[^>]*>"#),
    ]
});
static META_CONTENT_FIRST: LazyLock<[Regex; 2]> = LazyLock::new(|| {
    [
        regex(r#"(?i)<meta[^>]*\scontent='([^']*)'[^>]*(?:name|property)='([^']*)'[^>]*>"#),
        regex(r#"(?i)<meta[^>]*\scontent="([^"]*)"[^>]*(?:name|property)="([^"]*)"[^>]*>"#),
    ]
});
static HEADER_CHARSET: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)charset=([\w\-]+)"));
static META_CHARSET: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    regex::bytes::Regex::new(r#"(?i-u)<meta\b[^>]*charset=["']?([\w\-]+)"#).expect("a valid charset pattern")
});
static ENTITY: LazyLock<Regex> =
    LazyLock::new(|| regex(r"&(?:#[xX]([0-9a-fA-F]+)|#([0-9]+)|([A-Za-z][A-Za-z0-9]*))(;?)"));

/// The body as text: the charset of the `Content-Type` header, else of a `<meta charset>`,
/// else UTF-8 (an unknown label also falls back to UTF-8).
pub fn decode_body(content_type: &str, body: &[u8]) -> String {
    let from_header = HEADER_CHARSET.captures(content_type).map(|c| c[1].to_owned());
    let from_meta = || META_CHARSET.captures(body).map(|c| String::from_utf8_lossy(&c[1]).into_owned());
    let label = from_header.or_else(from_meta);
    let encoding = label.and_then(|l| Encoding::for_label(l.trim().as_bytes())).unwrap_or(UTF_8);
    encoding.decode_with_bom_removal(body).0.into_owned()
}

/// Every title and meta tag of the page by its camelCased name; a name keeps its first
/// non-empty value.
pub fn meta_tags(body: &str) -> Map<String, Value> {
    let mut metas = Map::new();
    let mut keep = |name: String, value: &str| {
        let empty = metas.get(&name).and_then(Value::as_str).is_none_or(str::is_empty);
        if empty {
            metas.insert(name, Value::String(unescape(value)));
        }
    };
    for c in TITLE.captures_iter(body) {
        keep("pageTitle".to_owned(), &c[1]);
    }
    for re in META_NAME_FIRST.iter() {
        for c in re.captures_iter(body) {
            keep(camel_case(&c[1]), &c[2]);
        }
    }
    for re in META_CONTENT_FIRST.iter() {
        for c in re.captures_iter(body) {
            keep(camel_case(&c[2]), &c[1]);
        }
    }
    metas
}

/// `getRelevantMetaTags`: names starting with og, fb, twitter, oembed or msapplication, or
/// holding "description" or "title" (case-insensitively), with a value that is not blank.
pub fn relevant(metas: &Map<String, Value>) -> Map<String, Value> {
    const PREFIXES: [&str; 5] = ["og", "fb", "twitter", "oembed", "msapplication"];
    metas
        .iter()
        .filter(|(key, value)| {
            let key = key.to_lowercase();
            let named = PREFIXES.iter().any(|p| key.len() > p.len() && key.starts_with(p))
                || key.contains("description")
                || key.contains("title");
            named && value.as_str().is_some_and(|v| !v.trim().is_empty())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Upper,
    Lower,
    Digit,
}

fn kind(c: char) -> Option<Kind> {
    if c.is_ascii_digit() {
        Some(Kind::Digit)
    } else if c.is_uppercase() {
        Some(Kind::Upper)
    } else if c.is_alphanumeric() {
        Some(Kind::Lower)
    } else {
        None
    }
}

/// The words of a name as lodash's `words` finds them: runs of letters and digits, split
/// where a lowercase letter meets an uppercase one, before the last capital of a run of
/// capitals that starts a word (`XMLHttp` is `XML`, `Http`), and around digits.
fn words(s: &str) -> Vec<String> {
    let chars: Vec<(char, Option<Kind>)> = s.chars().map(|c| (c, kind(c))).collect();
    let run = |from: usize, k: Kind| chars[from..].iter().take_while(|(_, kk)| *kk == Some(k)).count();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let len = match chars[i].1 {
            None => {
                i += 1;
                continue;
            }
            Some(Kind::Digit) => run(i, Kind::Digit),
            Some(Kind::Lower) => run(i, Kind::Lower),
            Some(Kind::Upper) => {
                let uppers = run(i, Kind::Upper);
                let lowers = run(i + uppers, Kind::Lower);
                match (uppers, lowers) {
                    (_, 0) => uppers,
                    (1, _) => 1 + lowers,
                    _ => uppers - 1,
                }
            }
        };
        out.push(chars[i..i + len].iter().map(|(c, _)| c).collect());
        i += len;
    }
    out
}

/// lodash's `camelCase`: `og:title` is `ogTitle`, `twitter:image:src` is `twitterImageSrc`.
pub fn camel_case(s: &str) -> String {
    let mut out = String::new();
    for (n, word) in words(s).iter().enumerate() {
        let lower = word.to_lowercase();
        if n == 0 {
            out.push_str(&lower);
            continue;
        }
        let mut chars = lower.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// Named references decoded (the rest stay as written). Those of the first list are also
/// decoded without their `;`, as browsers do for these legacy names.
const LEGACY_ENTITIES: &[(&str, char)] = &[("amp", '&'), ("lt", '<'), ("gt", '>'), ("quot", '"')];
/// Latin-1's named references, U+00A0 to U+00FF in order (all legacy too).
const LATIN1_ENTITIES: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf", "laquo", "not", "shy",
    "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot", "cedil", "sup1", "ordm",
    "raquo", "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig",
    "Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve",
    "Oacute", "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute", "THORN",
    "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil", "egrave", "eacute", "ecirc",
    "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml",
    "divide", "oslash", "ugrave", "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
];
/// Other common named references, decoded only with their `;`.
const ENTITIES: &[(&str, char)] = &[
    ("apos", '\''),
    ("OElig", '\u{152}'),
    ("oelig", '\u{153}'),
    ("Scaron", '\u{160}'),
    ("scaron", '\u{161}'),
    ("Yuml", '\u{178}'),
    ("fnof", '\u{192}'),
    ("circ", '\u{2c6}'),
    ("tilde", '\u{2dc}'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
    ("zwnj", '\u{200c}'),
    ("zwj", '\u{200d}'),
    ("lrm", '\u{200e}'),
    ("rlm", '\u{200f}'),
    ("ndash", '\u{2013}'),
    ("mdash", '\u{2014}'),
    ("lsquo", '\u{2018}'),
    ("rsquo", '\u{2019}'),
    ("sbquo", '\u{201a}'),
    ("ldquo", '\u{201c}'),
    ("rdquo", '\u{201d}'),
    ("bdquo", '\u{201e}'),
    ("dagger", '\u{2020}'),
    ("Dagger", '\u{2021}'),
    ("bull", '\u{2022}'),
    ("hellip", '\u{2026}'),
    ("permil", '\u{2030}'),
    ("prime", '\u{2032}'),
    ("Prime", '\u{2033}'),
    ("lsaquo", '\u{2039}'),
    ("rsaquo", '\u{203a}'),
    ("euro", '\u{20ac}'),
    ("trade", '\u{2122}'),
    ("larr", '\u{2190}'),
    ("uarr", '\u{2191}'),
    ("rarr", '\u{2192}'),
    ("darr", '\u{2193}'),
    ("harr", '\u{2194}'),
    ("hearts", '\u{2665}'),
];

fn named(name: &str, with_semicolon: bool) -> Option<char> {
    // `&AMP;` is the same as `&amp;` (only these four have an uppercase form).
    let legacy = LEGACY_ENTITIES.iter().find(|(n, _)| *n == name || name == n.to_uppercase());
    if let Some((_, c)) = legacy {
        return Some(*c);
    }
    if let Some(i) = LATIN1_ENTITIES.iter().position(|n| *n == name) {
        return char::from_u32(0xa0 + i as u32);
    }
    if !with_semicolon {
        return None;
    }
    ENTITIES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// A numeric reference as the HTML parser (and `he`) reads it: 0x80-0x9F as Windows-1252,
/// nothing, surrogates and out-of-range values as U+FFFD.
fn numeric(value: u32) -> String {
    if (0x80..=0x9f).contains(&value) {
        return WINDOWS_1252.decode_without_bom_handling(&[value as u8]).0.into_owned();
    }
    match char::from_u32(value).filter(|c| *c != '\0') {
        Some(c) => c.to_string(),
        None => '\u{fffd}'.to_string(),
    }
}

/// `he.unescape`: numeric references and the common named ones decoded.
pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    ENTITY
        .replace_all(s, |c: &regex::Captures| {
            let with_semicolon = !c[4].is_empty();
            let parsed = |digits: &str, radix: u32| u32::from_str_radix(digits, radix).unwrap_or(u32::MAX);
            if let Some(hex) = c.get(1) {
                return numeric(parsed(hex.as_str(), 16));
            }
            if let Some(dec) = c.get(2) {
                return numeric(parsed(dec.as_str(), 10));
            }
            match named(&c[3], with_semicolon) {
                Some(ch) => ch.to_string(),
                None => c[0].to_owned(),
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_camel_cased_as_lodash_does() {
        for (name, camel) in [
            ("og:title", "ogTitle"),
            ("twitter:image:src", "twitterImageSrc"),
            ("og:image:secure_url", "ogImageSecureUrl"),
            ("msapplication-TileColor", "msapplicationTileColor"),
            ("Content-Type", "contentType"),
            ("description", "description"),
            ("OG:TITLE", "ogTitle"),
            ("XMLHttpRequest", "xmlHttpRequest"),
            ("h1title", "h1Title"),
            ("", ""),
        ] {
            assert_eq!(camel_case(name), camel, "{name}");
        }
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(unescape("Tom &amp; Jerry &lt;3 &quot;x&quot; &#39;y&#x27;"), "Tom & Jerry <3 \"x\" 'y'");
        assert_eq!(
            unescape("caf&eacute; &copy 2024 &hellip; &hellip &unknown; &"),
            "café © 2024 … &hellip &unknown; &"
        );
        assert_eq!(unescape("&#150;&#0;&#x110000;&AMP;"), "\u{2013}\u{fffd}\u{fffd}&");
    }

    #[test]
    fn tags_are_read_in_rocket_chats_order() {
        let page = r#"<html><head><TITLE>Example &amp; Co</TITLE>
            <meta property="og:title" content="First">
            <meta content='Content first' name='og:description'>
            <meta name="og:title" content="Second">
            <meta name="description" content="">
            <meta content="Later wins an empty one" name="description">
            <meta name="twitter:card" content="summary_large_image" />
            <meta name="viewport" content="width=device-width">
            <meta name="og" content="no suffix">
            <meta property="og:image" content="   ">
            </head></html>"#;
        let metas = meta_tags(page);
        assert_eq!(metas["pageTitle"], "Example & Co");
        assert_eq!(metas["ogTitle"], "First");
        assert_eq!(metas["description"], "Later wins an empty one");
        assert_eq!(metas["viewport"], "width=device-width");
        assert_eq!(
            Value::Object(relevant(&metas)),
            json!({
                "pageTitle": "Example & Co",
                "ogTitle": "First",
                "twitterCard": "summary_large_image",
                "description": "Later wins an empty one",
                "ogDescription": "Content first",
            })
        );
    }

    #[test]
    fn bodies_are_decoded_by_their_charset() {
        let latin1 = b"<meta charset=\"iso-8859-1\"><title>caf\xe9</title>";
        assert!(decode_body("text/html", latin1).contains("café"));
        assert!(decode_body("text/html; charset=windows-1252", b"\x93q\x94").contains("\u{201c}q\u{201d}"));
        assert_eq!(decode_body("text/html; charset=nonsense", "é".as_bytes()), "é");
        assert_eq!(decode_body("text/plain", b"\xef\xbb\xbfbom"), "bom");
    }
}
