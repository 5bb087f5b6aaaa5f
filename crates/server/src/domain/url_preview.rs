//! A URL's preview, as Rocket.Chat's `OEmbed.parseUrl` makes it: `{url, meta: {}}` for a URL
//! that is not absolute http(s) or that gives nothing; else the page's relevant meta tags
//! (`page_meta`) and its `contentType`/`contentLength` headers. Rocket.Chat's settings apply:
//! `API_EmbedIgnoredHosts` (names, IPs, CIDR ranges, `*.` patterns) and `API_EmbedSafePorts`
//! are checked on the URL, and the request carries `API_Embed_UserAgent`. The request itself
//! goes through the outgoing-webhook address guard
//! (`Integrations_Outgoing_Allow_Private_Addresses`, on the URL, after DNS and on every
//! redirect), with a deadline and a cap on the bytes read. Nothing is cached.

use super::page_meta::{decode_body, meta_tags, relevant};
use crate::error::{ApiError, ApiResult};
use crate::outbound_http::{Clients, check_url, error_text};
use crate::settings::Settings;
use crate::state::AppState;
use regex::Regex;
use reqwest::Url;
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName, USER_AGENT};
use serde_json::{Map, Value, json};
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

/// Bytes of a page read at most (Rocket.Chat's `sizeLimit`); the rest is not fetched.
const SIZE_LIMIT: usize = 250_000;
/// The whole request, body included.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP clients of previews: the outgoing-webhook clients (guarded and open, at most five
/// redirects, each hop checked), built on first use.
static CLIENTS: OnceLock<Clients> = OnceLock::new();

/// `isURL`: the URL starts with `http://`, `https://` or `data:` (case matters).
fn is_url(url: &str) -> bool {
    ["http://", "https://", "data:"].iter().any(|p| url.starts_with(p))
}

/// `OEmbed.parseUrl(url).urlPreview`. A string that passes `isURL` but is no URL at all is
/// Rocket.Chat's `new URL` error, `Invalid URL`.
pub async fn preview(state: &AppState, url: &str, version: &str) -> ApiResult<Map<String, Value>> {
    let mut preview = Map::new();
    preview.insert("url".into(), json!(url));
    preview.insert("meta".into(), json!({}));
    if !is_url(url) {
        return Ok(preview);
    }
    let parsed = Url::parse(url).map_err(|_| ApiError::plain("Invalid URL"))?;
    let Some(found) = url_meta(state, &parsed, version).await else {
        return Ok(preview);
    };
    preview.insert("meta".into(), Value::Object(relevant(&found.meta)));
    let mut headers = Map::new();
    for (key, name) in [("contentLength", CONTENT_LENGTH), ("contentType", CONTENT_TYPE)] {
        if let Some(value) = header(&found.headers, &name).filter(|v| !v.is_empty()) {
            headers.insert(key.into(), json!(value));
        }
    }
    preview.insert("headers".into(), Value::Object(headers));
    Ok(preview)
}

/// A page's meta tags and response headers.
struct Found {
    meta: Map<String, Value>,
    headers: HeaderMap,
}

/// `getUrlMeta`: the page's tags, fetched again with `_escaped_fragment_=` when it asks for
/// that (`<meta name="fragment" content="!">`); nothing unless the answer is a 200.
async fn url_meta(state: &AppState, url: &Url, version: &str) -> Option<Found> {
    for with_fragment in [false, true] {
        let mut target = url.clone();
        if with_fragment {
            set_query_param(&mut target, "_escaped_fragment_", "");
        }
        let content = match url_content(state, &target, version).await {
            Ok(content) => content,
            Err(why) => {
                tracing::debug!(url = %target, %why, "no preview for this URL");
                return None;
            }
        };
        let mut meta = meta_tags(&content.body);
        if !with_fragment && meta.get("fragment").and_then(Value::as_str) == Some("!") {
            continue;
        }
        meta.remove("oembedHtml");
        return (content.status == 200).then_some(Found { meta, headers: content.headers });
    }
    None
}

/// `URLSearchParams.set`: the parameter replaced, the query written again.
fn set_query_param(url: &mut Url, key: &str, value: &str) {
    let pairs: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != key).map(|(k, v)| (k.into(), v.into())).collect();
    url.query_pairs_mut().clear().extend_pairs(pairs).append_pair(key, value);
}

struct Content {
    status: u16,
    headers: HeaderMap,
    body: String,
}

/// `getUrlContent`: the settings' checks, then the request.
async fn url_content(state: &AppState, url: &Url, version: &str) -> Result<Content, String> {
    let settings = &state.settings;
    if is_ignored_host(&settings.string("API_EmbedIgnoredHosts"), url.host_str().unwrap_or_default()) {
        return Err("host is ignored".into());
    }
    if !is_safe_port(&settings.string("API_EmbedSafePorts"), url) {
        return Err("invalid/unsafe port".into());
    }
    let guard = !settings.bool("Integrations_Outgoing_Allow_Private_Addresses");
    check_url(url, guard).map_err(|refused| refused.0)?;
    let clients = CLIENTS.get_or_init(Clients::new);
    let client = if guard { &clients.guarded } else { &clients.open };
    let language = settings.string("Language");
    let mut resp = client
        .get(url.clone())
        .header(USER_AGENT, user_agent(settings, version))
        .header(ACCEPT_LANGUAGE, if language.is_empty() { "en" } else { &language })
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| error_text(&e))?;
    let mut body = Vec::new();
    while body.len() < SIZE_LIMIT
        && let Some(chunk) = resp.chunk().await.map_err(|e| error_text(&e))?
    {
        body.extend_from_slice(&chunk);
    }
    body.truncate(SIZE_LIMIT);
    let content_type = header(resp.headers(), &CONTENT_TYPE).unwrap_or_else(|| "text/plain".into());
    Ok(Content {
        status: resp.status().as_u16(),
        body: decode_body(&content_type, &body),
        headers: resp.headers().clone(),
    })
}

/// `<API_Embed_UserAgent> Rocket.Chat/<version>`.
fn user_agent(settings: &Settings, version: &str) -> String {
    format!("{} Rocket.Chat/{version}", settings.string("API_Embed_UserAgent"))
}

/// A header's values joined by `, ` (as `fetch`'s `Headers` gives them).
fn header(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let values: Vec<String> =
        headers.get_all(name).iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// `API_EmbedIgnoredHosts` with its whitespace removed, split at commas, lowercased.
fn setting_list(value: &str) -> Vec<String> {
    value.chars().filter(|c| !c.is_whitespace()).collect::<String>().split(',').map(str::to_lowercase).collect()
}

/// Whether `API_EmbedIgnoredHosts` names the host: exactly, as an IP or in a CIDR range, or by
/// a pattern such as `*.example.com` (`*` stands for one whole label).
fn is_ignored_host(setting: &str, host: &str) -> bool {
    let host = host.to_lowercase();
    let ignored: Vec<String> = setting_list(setting).into_iter().filter(|h| !h.is_empty()).collect();
    if host.is_empty() || ignored.is_empty() {
        return false;
    }
    let (patterns, exact): (Vec<&String>, Vec<&String>) = ignored.iter().partition(|h| h.contains('*'));
    if exact.iter().any(|h| **h == host || in_range(&host, h)) {
        return true;
    }
    patterns.iter().any(|pattern| {
        static VALID: OnceLock<Regex> = OnceLock::new();
        let valid = VALID.get_or_init(|| {
            Regex::new(r"(?i)^(?:\*\.)?(?:\*|[a-z0-9-]+)(?:\.(?:\*|[a-z0-9-]+))*$").expect("a valid pattern")
        });
        if !valid.is_match(pattern) || pattern.as_str() == "*" {
            return false;
        }
        let source = format!("(?i)^{}$", regex::escape(pattern).replace(r"\*", "[^.]*"));
        Regex::new(&source).is_ok_and(|re| re.is_match(&host))
    })
}

/// An address the way `ipaddr.process` reads it: IPv4-mapped IPv6 as IPv4; brackets of an
/// IPv6 host dropped.
fn address(s: &str) -> Option<IpAddr> {
    let s = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(s);
    let ip: IpAddr = s.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    })
}

/// `ip-range-check` for one entry: the same address, or an address in a CIDR range of its own
/// family. Host names (and anything unreadable) match nothing here.
fn in_range(host: &str, entry: &str) -> bool {
    let Some(ip) = address(host) else {
        return false;
    };
    let Some((net, bits)) = entry.split_once('/') else {
        return address(entry) == Some(ip);
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// `API_EmbedSafePorts`: an explicit port must be listed; without one, a listed port must be
/// the scheme's (80 or 8080 for http, 443 for https). An empty setting lets nothing through,
/// as in Rocket.Chat.
fn is_safe_port(setting: &str, url: &Url) -> bool {
    let ports = setting_list(setting);
    match url.port() {
        Some(port) => ports.contains(&port.to_string()),
        None => ports.iter().any(|p| match p.as_str() {
            "80" | "8080" => url.scheme() == "http",
            "443" => url.scheme() == "https",
            _ => false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT_IGNORED: &str = "localhost, 127.0.0.1, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16";

    #[test]
    fn ignored_hosts() {
        for host in
            ["localhost", "LOCALHOST", "127.0.0.1", "10.1.2.3", "172.31.255.255", "192.168.0.10", "[::ffff:10.0.0.1]"]
        {
            assert!(is_ignored_host(DEFAULT_IGNORED, host), "{host}");
        }
        for host in ["example.com", "127.0.0.2", "172.32.0.1", "[::1]", ""] {
            assert!(!is_ignored_host(DEFAULT_IGNORED, host), "{host}");
        }
        assert!(!is_ignored_host("", "localhost"));
        assert!(is_ignored_host("::1", "[::1]"));
        assert!(is_ignored_host("*.internal, intranet", "db.internal"));
        assert!(is_ignored_host("*.internal", "DB.Internal"));
        assert!(!is_ignored_host("*.internal", "a.b.internal"), "one label");
        assert!(!is_ignored_host("*.internal", "internal"));
        assert!(is_ignored_host("*.*.example.com", "a.b.example.com"));
        assert!(!is_ignored_host("img*.example.com", "img42.example.com"), "a * is a whole label");
        assert!(!is_ignored_host("*, a/b.*", "anything.example"), "a lone * and invalid patterns match nothing");
    }

    #[test]
    fn safe_ports() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(is_safe_port("80, 443", &u("http://example.com/")));
        assert!(is_safe_port("80, 443", &u("https://example.com:443/")), "the default port is no port");
        assert!(is_safe_port("80, 443", &u("http://example.com:443/")));
        assert!(!is_safe_port("80, 443", &u("http://example.com:8080/")));
        assert!(!is_safe_port("443", &u("http://example.com/")));
        assert!(is_safe_port("8080", &u("http://example.com/")));
        assert!(is_safe_port("80, 443, 3000", &u("http://example.com:3000/")));
        assert!(!is_safe_port("", &u("http://example.com/")), "an empty list lets nothing through");
        assert!(!is_safe_port("80, 443", &u("data:text/plain,x")));
    }

    #[test]
    fn fragment_parameter_replaces_an_earlier_one() {
        let mut url = Url::parse("http://example.com/p?a=1&_escaped_fragment_=x#top").unwrap();
        set_query_param(&mut url, "_escaped_fragment_", "");
        assert_eq!(url.as_str(), "http://example.com/p?a=1&_escaped_fragment_=#top");
    }

    #[test]
    fn absolute_urls() {
        for url in ["http://example.com", "https://x", "data:text/plain,hi"] {
            assert!(is_url(url), "{url}");
        }
        for url in ["HTTP://example.com", "example.com", "ftp://example.com", " http://x", ""] {
            assert!(!is_url(url), "{url}");
        }
    }
}
