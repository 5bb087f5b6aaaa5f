//! Headless Chromium driven through chromedriver (WebDriver), for the admin page's tests:
//! finding the tools, starting a fresh browser, locating elements the way a person does (by
//! label, role and text), and reading the browser's console log.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a condition may take to become true before the test fails.
pub const WAIT: Duration = Duration::from_secs(15);

fn find_tool(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file()))
}

/// Chromium and chromedriver, or `None` (with a notice) when they are missing outside CI.
/// In CI (`CI=true`) a missing tool fails the test: `.ci/run` installs both.
pub fn tools() -> Option<(PathBuf, PathBuf)> {
    let chromium = find_tool(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = find_tool(&["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("chromium and chromedriver are required in CI (apt-get install -y chromium chromium-driver)")
        }
        _ => {
            eprintln!(
                "SKIPPED: the admin page's browser tests need chromium and chromedriver \
                 (apt-get install -y chromium chromium-driver)"
            );
            None
        }
    }
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    driver_url: String,
    session: String,
    _profile: tempfile::TempDir,
    http: reqwest::Client,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    pub async fn start(chromium: &std::path::Path, driver: &std::path::Path) -> Self {
        let port = free_port();
        let mut child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver_url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{driver_url}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            if started.elapsed() > WAIT {
                let _ = child.kill();
                panic!("chromedriver did not start");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--window-size=1280,800".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), json!({"binary": chromium, "args": args}));
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver_url)
            .await
            .expect("open a chromium session");
        client.set_window_size(1280, 800).await.expect("window size");
        let session = client.session_id().await.unwrap().expect("session id");
        Browser { client, driver: child, driver_url, session, _profile: profile, http }
    }

    /// Console entries since the last call (chromedriver's log endpoint).
    pub async fn console(&self) -> Vec<Value> {
        let resp = self
            .http
            .post(format!("{}/session/{}/se/log", self.driver_url, self.session))
            .json(&json!({"type": "browser"}))
            .send()
            .await
            .expect("read the browser log");
        let body: Value = resp.json().await.expect("log JSON");
        body["value"].as_array().cloned().unwrap_or_default()
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Waits until an element matches the XPath and returns it.
    pub async fn wait_xpath(&self, xpath: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("no element {xpath}: {e}"))
    }

    /// Waits until nothing matches the XPath.
    pub async fn wait_gone(&self, xpath: &str) {
        self.until(&format!("{xpath} to disappear"), || async {
            self.client.find_all(Locator::XPath(xpath)).await.map(|v| v.is_empty()).unwrap_or(false)
        })
        .await;
    }

    /// Polls `check` until it holds; fails the test after [`WAIT`].
    pub async fn until<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = Instant::now();
        while !check().await {
            assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The input, textarea or select whose `<label>` reads exactly `label`.
    pub async fn field(&self, label: &str) -> Element {
        self.wait_xpath(&format!("//*[@id=//label[normalize-space(.)={}]/@for]", xpath_str(label))).await
    }

    pub async fn fill(&self, label: &str, text: &str) {
        let el = self.field(label).await;
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    pub async fn set_checked(&self, label: &str, on: bool) {
        let el = self.field(label).await;
        if el.is_selected().await.unwrap() != on {
            el.click().await.unwrap();
        }
        assert_eq!(el.is_selected().await.unwrap(), on, "{label}");
    }

    pub async fn button(&self, text: &str) -> Element {
        self.wait_xpath(&format!("//button[normalize-space(.)={}]", xpath_str(text))).await
    }

    pub async fn click_button(&self, text: &str) {
        self.button(text).await.click().await.unwrap_or_else(|e| panic!("click {text}: {e}"));
    }

    /// Whether a field with this label is on the page now.
    pub async fn has_field(&self, label: &str) -> bool {
        let xpath = format!("//label[normalize-space(.)={}]", xpath_str(label));
        !self.client.find_all(Locator::XPath(&xpath)).await.unwrap().is_empty()
    }

    /// The text of the `role="alert"` element once one shows.
    pub async fn alert_text(&self) -> String {
        self.wait_xpath("//*[@role='alert']").await.text().await.unwrap()
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(path, png).expect("write screenshot");
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// After a failed assertion: end the session so chromedriver closes Chromium, then stop it.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let addr = self.driver_url.trim_start_matches("http://");
        if let Ok(mut conn) = std::net::TcpStream::connect(addr) {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
            let request =
                format!("DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n", self.session);
            if conn.write_all(request.as_bytes()).is_ok() {
                let _ = conn.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A string literal for XPath 1.0 (which has no escapes).
pub fn xpath_str(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// Console entries that are errors from the page itself. Chromium logs every 4xx/5xx answer
/// as "Failed to load resource"; those are the API's expected answers, not page errors.
pub fn page_errors(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .filter(|m| !m.contains("Failed to load resource: the server responded with a status of 4"))
        .collect()
}
