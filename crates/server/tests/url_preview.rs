//! `chat.getURLPreview` against the real binary and a loopback HTTP server: the meta tags of a
//! page, a non-HTML answer (headers only), answers that give an empty preview (unreachable,
//! not a 200, an invalid URL, the address guard, `API_EmbedIgnoredHosts`,
//! `API_EmbedSafePorts`), and the parameter and room-access errors.

mod common;
use common::receiver::{Receiver, Reply, unused_address};
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

const USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2227.0 Safari/537.36";

const PAGE: &str = r#"<!doctype html>
<html><head>
  <meta charset="utf-8">
  <title>Liftoff &amp; friends</title>
  <meta property="og:title" content="The Liftoff page">
  <meta property='og:description' content='Webhooks, &quot;fast&quot;'>
  <meta property="og:site_name" content='Mixed quotes are not read, as in Rocket.Chat'>
  <meta content="https://example.com/card.png" property="og:image">
  <meta name="twitter:card" content="summary_large_image">
  <meta name="description" content="A page about Liftoff">
  <meta name="viewport" content="width=device-width">
  <meta property="og:title" content="A second og:title loses">
</head><body><p>Hello</p></body></html>"#;

fn html(status: u16, body: &str) -> Reply {
    Reply { status, body: body.to_owned(), content_type: "text/html; charset=utf-8", delay: Duration::ZERO }
}

/// The port of a `http://127.0.0.1:<port>` base.
fn port(base: &str) -> &str {
    base.rsplit(':').next().unwrap()
}

async fn preview(client: &Client, url: &str) -> Value {
    let (status, body) = client.get("chat.getURLPreview", &[("roomId", "GENERAL"), ("url", url)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true, "{body}");
    body["urlPreview"].clone()
}

/// What Rocket.Chat answers when nothing could be read from the URL.
fn empty(url: &str) -> Value {
    json!({"url": url, "meta": {}, "ignoreParse": true})
}

#[tokio::test]
async fn a_page_gives_its_meta_tags_and_headers() {
    let site = Receiver::start().await;
    let down = unused_address();
    let safe_ports = format!("80, 443, {}, {}", port(&site.base), port(&down));
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses", "true"),
        ("OVERWRITE_SETTING_API_EmbedIgnoredHosts", ""),
        ("OVERWRITE_SETTING_API_EmbedSafePorts", &safe_ports),
    ]);
    let alice = server.user("alice").await;

    site.reply("/page", vec![html(200, PAGE)]);
    let url = site.url("/page");
    assert_eq!(
        preview(&alice, &url).await,
        json!({
            "url": url,
            "meta": {
                "pageTitle": "Liftoff & friends",
                "ogTitle": "The Liftoff page",
                "twitterCard": "summary_large_image",
                "description": "A page about Liftoff",
                "ogDescription": "Webhooks, \"fast\"",
                "ogImage": "https://example.com/card.png",
            },
            "headers": {"contentLength": PAGE.len().to_string(), "contentType": "text/html; charset=utf-8"},
            "ignoreParse": true,
        })
    );
    let hit = &site.hits("/page")[0];
    assert_eq!(hit.headers["user-agent"], format!("{USER_AGENT} Rocket.Chat/7.10.0"));
    assert_eq!(hit.headers["accept-language"], "en");

    // Not cached: the next call reads the page again.
    site.reply("/page", vec![html(200, "<title>Changed</title>")]);
    assert_eq!(preview(&alice, &url).await["meta"], json!({"pageTitle": "Changed"}));
    assert_eq!(site.hits("/page").len(), 2);

    // A page asking for its `_escaped_fragment_` form is read again in that form.
    site.reply(
        "/app",
        vec![
            html(200, r#"<meta name="fragment" content="!"><title>Shell</title>"#),
            html(200, "<title>Rendered</title>"),
        ],
    );
    assert_eq!(preview(&alice, &site.url("/app")).await["meta"], json!({"pageTitle": "Rendered"}));
    assert_eq!(site.hits("/app").len(), 2);

    // A non-HTML answer: no tags, its headers.
    let video = "\u{0}\u{0}\u{0}\u{18}ftypmp42 not really a video";
    site.reply(
        "/movie.mp4",
        vec![Reply { status: 200, body: video.to_owned(), content_type: "video/mp4", delay: Duration::ZERO }],
    );
    let url = site.url("/movie.mp4");
    assert_eq!(
        preview(&alice, &url).await,
        json!({
            "url": url,
            "meta": {},
            "headers": {"contentLength": video.len().to_string(), "contentType": "video/mp4"},
            "ignoreParse": true,
        })
    );

    // Only the first 250000 bytes are read.
    let big = format!("<title>Big</title>{}<meta name=\"description\" content=\"too far\">", " ".repeat(300_000));
    site.reply("/big", vec![html(200, &big)]);
    assert_eq!(preview(&alice, &site.url("/big")).await["meta"], json!({"pageTitle": "Big"}));

    // An answer other than 200, an unreachable server: nothing.
    site.reply("/missing", vec![html(404, PAGE)]);
    assert_eq!(preview(&alice, &site.url("/missing")).await, empty(&site.url("/missing")));
    let unreachable = format!("http://{down}/page");
    assert_eq!(preview(&alice, &unreachable).await, empty(&unreachable));

    // Rocket.Chat's own checks: ignored hosts and safe ports, as set by an administrator.
    let admin = server.admin().await;
    let set = |id: &'static str, value: &str| {
        let admin = admin.clone();
        let value = value.to_owned();
        async move {
            let (status, body) = admin.post(&format!("settings/{id}"), json!({"value": value})).await;
            assert_eq!(status, 200, "{body}");
        }
    };
    let hits = site.hits("/page").len();
    let url = site.url("/page");
    set("API_EmbedIgnoredHosts", "localhost, 127.0.0.1, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16").await;
    assert_eq!(preview(&alice, &url).await, empty(&url));
    set("API_EmbedIgnoredHosts", "example.com, 127.0.0.0/8").await;
    assert_eq!(preview(&alice, &url).await, empty(&url));
    set("API_EmbedIgnoredHosts", "").await;
    set("API_EmbedSafePorts", "80, 443").await;
    assert_eq!(preview(&alice, &url).await, empty(&url));
    assert_eq!(site.hits("/page").len(), hits, "nothing was fetched");
    set("API_EmbedSafePorts", &safe_ports).await;
    assert_eq!(preview(&alice, &url).await["meta"], json!({"pageTitle": "Changed"}));
}

#[tokio::test]
async fn the_address_guard_keeps_previews_off_private_addresses() {
    let site = Receiver::start().await;
    site.reply("/page", vec![html(200, PAGE)]);
    // Rocket.Chat's own checks would let the loopback page through; the guard does not.
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_API_EmbedIgnoredHosts", ""),
        ("OVERWRITE_SETTING_API_EmbedSafePorts", &format!("80, 443, {}", port(&site.base))),
    ]);
    let alice = server.user("alice").await;
    for url in [site.url("/page"), site.url("/page").replace("127.0.0.1", "localhost")] {
        assert_eq!(preview(&alice, &url).await, empty(&url));
    }
    assert!(site.hits("/page").is_empty(), "the page was never fetched");
}

#[tokio::test]
async fn invalid_urls_parameters_and_rooms() {
    let server = Server::start();
    let alice = server.user("alice").await;

    // What is not an absolute http(s) URL gives the empty preview, without a request.
    for url in ["not a url", "HTTP://example.com", "ftp://example.com/file", "", "data:text/html,<title>x</title>"] {
        assert_eq!(preview(&alice, url).await, empty(url), "{url}");
    }
    // What looks like one but is none: the URL parser's error.
    for url in ["http://", "https://exa mple.com/"] {
        let result = alice.get("chat.getURLPreview", &[("roomId", "GENERAL"), ("url", url)]).await;
        assert_failure(&result, "Invalid URL", None);
    }

    // The query is checked as Rocket.Chat's `isChatGetURLPreviewProps`.
    let get = |query: &'static [(&'static str, &'static str)]| alice.get("chat.getURLPreview", query);
    assert_failure(&get(&[]).await, "must have required property 'roomId' [invalid-params]", Some("invalid-params"));
    assert_failure(
        &get(&[("roomId", "GENERAL")]).await,
        "must have required property 'url' [invalid-params]",
        Some("invalid-params"),
    );
    assert_failure(
        &get(&[("url", "https://example.com")]).await,
        "must have required property 'roomId' [invalid-params]",
        Some("invalid-params"),
    );
    assert_failure(
        &get(&[("roomId", "GENERAL"), ("url", "https://example.com"), ("extra", "1")]).await,
        "must NOT have additional properties [invalid-params]",
        Some("invalid-params"),
    );
    assert_failure(
        &get(&[("roomId", "GENERAL"), ("url", "https://a.example"), ("url", "https://b.example")]).await,
        "must be string [invalid-params]",
        Some("invalid-params"),
    );
    let (status, _) = server.client().get("chat.getURLPreview", &[("roomId", "GENERAL"), ("url", "x")]).await;
    assert_eq!(status, 401);

    // A room the caller cannot access, or no room at all.
    let admin = server.admin().await;
    let (_, group) = admin.post("groups.create", json!({"name": "secret"})).await;
    let gid = group["group"]["_id"].as_str().unwrap();
    for room in [gid, "nope", ""] {
        let result = alice.get("chat.getURLPreview", &[("roomId", room), ("url", "https://example.com")]).await;
        assert_failure(&result, "Not allowed [error-not-allowed]", Some("error-not-allowed"));
    }
    let (status, body) = admin.get("chat.getURLPreview", &[("roomId", gid), ("url", "not a url")]).await;
    assert_eq!((status.as_u16(), &body["urlPreview"]), (200, &empty("not a url")), "{body}");
}
