//! `fetch` for scripts: the request/response types the host exchanges with the
//! embedder's [`Fetcher`], and the per-sandbox book of fetches in flight.
//!
//! The sandbox never touches the network: a script's `fetch` records a
//! [`FetchRequest`] here, the [`crate::ScriptHost`] worker hands it to the
//! embedder's [`Fetcher`] (which applies its own network policy) and settles
//! the script's promise with the answer.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Deserialize;

/// One HTTP request made by a script's `fetch(url, options, allowSelfSignedCertificate)`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FetchRequest {
    /// The integration whose script asked.
    #[serde(skip)]
    pub integration_id: String,
    /// Absolute URL, with `options.params` already appended to its query.
    pub url: String,
    /// Upper-case method (`GET` when the script gave none).
    pub method: String,
    /// Header pairs in the order the script gave them.
    pub headers: Vec<(String, String)>,
    /// Text body (`options.body`; objects arrive JSON-encoded).
    pub body: Option<String>,
    /// The third argument of `fetch`: accept a certificate no trusted
    /// authority signed, for this call only.
    pub allow_self_signed: bool,
    /// Time left until the script call's deadline: the fetch must give up by then.
    #[serde(skip)]
    pub timeout: Duration,
    /// Largest response body accepted; a longer one fails the fetch.
    #[serde(skip)]
    pub max_bytes: usize,
}

/// What the script's promise resolves with (a Response-like object is built
/// from it inside the sandbox).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FetchResponse {
    pub status: u16,
    pub status_text: String,
    /// Final URL, after redirects.
    pub url: String,
    pub redirected: bool,
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 is replaced).
    pub body: String,
}

/// The future a [`Fetcher`] returns. `Err` is the reason the script's promise
/// is rejected with (a `TypeError` whose message starts with `fetch failed`).
pub type FetchFuture = Pin<Box<dyn Future<Output = Result<FetchResponse, String>> + Send>>;

/// Makes scripts' HTTP requests. Implemented by the embedder, which decides
/// which addresses may be reached; the sandbox only enforces counts, the
/// deadline and the concurrency cap. The future is polled on a script worker
/// thread and dropped when the script call's deadline passes.
pub trait Fetcher: Send + Sync + 'static {
    fn fetch(&self, request: FetchRequest) -> FetchFuture;
}

/// A fetch a script asked for, waiting to be handed to the [`Fetcher`].
#[derive(Debug)]
pub(crate) struct Requested {
    pub fetch: u64,
    pub call: u64,
    pub request: FetchRequest,
}

/// Shared between a sandbox and its `fetch` host function: which call is
/// running, how many fetches each call made, and the requests not yet sent.
#[derive(Default)]
pub(crate) struct FetchBook {
    /// The call whose JavaScript is running now (fetches are charged to it).
    pub current: Cell<Option<u64>>,
    next_fetch: Cell<u64>,
    max_per_call: u32,
    started: RefCell<HashMap<u64, u32>>,
    /// Fetch id → call id, for every fetch whose promise is not settled.
    owner: RefCell<HashMap<u64, u64>>,
    outbox: RefCell<Vec<Requested>>,
}

impl FetchBook {
    pub fn new(max_per_call: u32) -> Self {
        FetchBook { max_per_call, ..Default::default() }
    }

    /// Records a fetch of the current call; `Err` is the message the script's
    /// promise is rejected with.
    pub fn request(&self, options_json: &str) -> Result<u64, String> {
        let call = self.current.get().ok_or("fetch can only be used while a script method runs")?;
        let request: FetchRequest =
            serde_json::from_str(options_json).map_err(|e| format!("invalid fetch request: {e}"))?;
        let mut started = self.started.borrow_mut();
        let count = started.entry(call).or_default();
        if *count >= self.max_per_call {
            return Err(format!(
                "fetch refused: a script run may make at most {} fetches (Integrations_Script_Max_Fetches)",
                self.max_per_call
            ));
        }
        *count += 1;
        let fetch = self.next_fetch.get() + 1;
        self.next_fetch.set(fetch);
        self.owner.borrow_mut().insert(fetch, call);
        self.outbox.borrow_mut().push(Requested { fetch, call, request });
        Ok(fetch)
    }

    pub fn take_outbox(&self) -> Vec<Requested> {
        std::mem::take(&mut *self.outbox.borrow_mut())
    }

    /// A fetch's promise is being settled: it no longer counts as outstanding.
    pub fn settled(&self, fetch: u64) {
        self.owner.borrow_mut().remove(&fetch);
    }

    /// Fetch ids whose promises are not settled.
    pub fn live(&self) -> std::collections::HashSet<u64> {
        self.owner.borrow().keys().copied().collect()
    }

    /// Whether a call still waits on a fetch of its own.
    pub fn waiting(&self, call: u64) -> bool {
        self.owner.borrow().values().any(|&c| c == call)
    }

    /// Forget a finished or abandoned call; returns its unsettled fetch ids.
    pub fn end_call(&self, call: u64) -> Vec<u64> {
        self.started.borrow_mut().remove(&call);
        self.outbox.borrow_mut().retain(|r| r.call != call);
        let mut owner = self.owner.borrow_mut();
        let ids: Vec<u64> = owner.iter().filter(|(_, c)| **c == call).map(|(f, _)| *f).collect();
        for id in &ids {
            owner.remove(id);
        }
        ids
    }
}
