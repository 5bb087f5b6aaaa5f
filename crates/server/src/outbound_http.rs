//! The server's outbound HTTP client and its address guard, shared by outgoing webhooks, the
//! scripts' `fetch` and URL previews.
//!
//! With `Integrations_Outgoing_Allow_Private_Addresses` off (the default), a call may only reach
//! public unicast addresses: every name is resolved by [`GuardedResolver`], which drops
//! loopback, private, link-local (cloud metadata), shared, multicast and reserved addresses,
//! and literal IPs are checked before the call and on every redirect hop (names in redirects
//! go through the same resolver).

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// Rocket.Chat's default `User-Agent` for outgoing calls.
pub const USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2227.0 Safari/537.36";

/// Redirect hops followed at most.
const MAX_REDIRECTS: usize = 5;

/// A call refused before it left: the address guard or an unusable URL. Typed, so that a
/// caller tells a refusal (never worth retrying) from a network failure by its kind, wherever
/// in the error's chain of causes the HTTP client put it.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Whether the guard (or the URL check on a redirect hop) refused the call.
pub fn is_refused(e: &reqwest::Error) -> bool {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if c.is::<Refused>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// The error with its causes (the guard's refusal is a cause of a connect error).
pub fn error_text(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Whether an address is one outgoing webhooks must not reach when the guard is on.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, including 169.254.169.254 (cloud metadata)
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (b & 0xc0) == 64) // 100.64/10 shared address space (100.100.100.200 metadata)
        || (a == 192 && b == 0 && c == 0) // 192.0.0/24 protocol assignments
        || (a == 198 && (b & 0xfe) == 18) // 198.18/15 benchmarking
        || a >= 240 // reserved
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7 (AWS fd00:ec2::254 metadata)
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64: embeds an IPv4 address
        || (s[0..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

/// Resolves with the system resolver and keeps only allowed addresses.
#[derive(Debug, Default, Clone, Copy)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| !is_forbidden(a.ip())).collect();
            if allowed.is_empty() {
                return Err(
                    Refused(format!("{host} resolves only to addresses outgoing webhooks may not reach")).into()
                );
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Checks a URL before a call or a redirect hop: scheme, and a literal IP host.
pub fn check_url(url: &reqwest::Url, guard: bool) -> Result<(), Refused> {
    let refuse = |why: String| Err(Refused(why));
    if !matches!(url.scheme(), "http" | "https") {
        return refuse(format!("unsupported URL scheme {:?}", url.scheme()));
    }
    if !guard {
        return Ok(());
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(d)) => match d.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) if d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost") => {
                return refuse(format!("{d} is not an address outgoing webhooks may reach"));
            }
            Err(_) => return Ok(()),
        },
        None => return refuse("URL without a host".into()),
    };
    if is_forbidden(ip) { refuse(format!("{ip} is not an address outgoing webhooks may reach")) } else { Ok(()) }
}

/// The two clients: guarded and unguarded; the setting picks one per call.
pub struct Clients {
    pub guarded: reqwest::Client,
    pub open: reqwest::Client,
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(256)
        .no_proxy()
}

/// Follows up to `MAX_REDIRECTS` hops, each checked like the first URL (by the address guard
/// when `guard` is on).
pub fn redirect_policy(guard: bool) -> redirect::Policy {
    redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if let Err(e) = check_url(attempt.url(), guard) {
            attempt.error(e)
        } else {
            attempt.follow()
        }
    })
}

impl Clients {
    pub fn new() -> Self {
        let guarded = builder().dns_resolver(GuardedResolver).redirect(redirect_policy(true)).build();
        let open = builder().redirect(redirect_policy(false)).build();
        Clients {
            guarded: guarded.expect("build the outgoing HTTP client"),
            open: open.expect("build the outgoing HTTP client"),
        }
    }
}

impl Default for Clients {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.100.100.200",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "64:ff9b::7f00:1",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "100.128.0.1"] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(check_url(&u("http://127.0.0.1:9/x"), true).is_err());
        assert!(check_url(&u("http://[::1]/x"), true).is_err());
        assert!(check_url(&u("http://localhost/x"), true).is_err());
        assert!(check_url(&u("http://example.com/x"), true).is_ok());
        assert!(check_url(&u("http://127.0.0.1/x"), false).is_ok());
        assert!(check_url(&u("ftp://example.com/x"), false).is_err());
    }

    #[tokio::test]
    async fn a_refusal_is_told_from_a_network_failure_by_its_kind() {
        let clients = Clients::new();
        // `localhost` resolves only to loopback: the guarded resolver refuses it.
        let refused = clients.guarded.get("http://localhost:9/x").send().await.unwrap_err();
        assert!(is_refused(&refused), "{}", error_text(&refused));
        // Nothing listens on port 9: a connect failure, worth retrying.
        let failed = clients.open.get("http://127.0.0.1:9/x").send().await.unwrap_err();
        assert!(!is_refused(&failed), "{}", error_text(&failed));
    }
}
