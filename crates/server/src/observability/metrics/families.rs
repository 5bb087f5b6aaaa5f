//! Every metric Liftoff exposes, registered once in one registry, and the switch that turns
//! recording on.

use prometheus::{
    Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    exponential_buckets,
};

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);
static METRICS: OnceLock<Metrics> = OnceLock::new();

/// The metrics, when recording is on.
pub fn enabled() -> Option<&'static Metrics> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    METRICS.get()
}

/// The metrics once built, whether or not recording is on.
pub fn built() -> Option<&'static Metrics> {
    METRICS.get()
}

/// Builds the metrics (once) and turns recording on.
pub fn enable() -> Result<(), prometheus::Error> {
    if METRICS.get().is_none() {
        let _ = METRICS.set(build()?);
    }
    ENABLED.store(true, Ordering::SeqCst);
    Ok(())
}

pub struct Metrics {
    pub registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub hooks: IntCounterVec,
    pub messages: IntCounter,
    pub deliveries: IntCounterVec,
    pub attempt_duration: Histogram,
    pub outbox_pending: IntGauge,
    pub outbox_oldest: Gauge,
    pub script_runs: IntCounterVec,
    pub commit_writes: Histogram,
    pub commit_duration: Histogram,
}

fn counters(name: &str, help: &str, labels: &[&str]) -> Result<IntCounterVec, prometheus::Error> {
    IntCounterVec::new(Opts::new(name, help), labels)
}

fn build() -> Result<Metrics, prometheus::Error> {
    let m = Metrics {
        registry: Registry::new(),
        http_requests: counters(
            "liftoff_http_requests_total",
            "HTTP requests by method, route pattern and status",
            &["method", "route", "status"],
        )?,
        http_duration: HistogramVec::new(
            HistogramOpts::new(
                "liftoff_http_request_duration_seconds",
                "HTTP request duration by method and route pattern",
            ),
            &["method", "route"],
        )?,
        hooks: counters("liftoff_hooks_total", "Incoming webhook calls by outcome", &["outcome"])?,
        messages: IntCounter::new("liftoff_messages_posted_total", "Messages stored")?,
        deliveries: counters(
            "liftoff_outgoing_deliveries_total",
            "Ends of outgoing webhook attempts: success, retry (another attempt is scheduled), failed \
             (given up), cancelled (by the script), dropped (integration gone or disabled), postponed \
             (not attempted, the integrations could not be loaded)",
            &["outcome"],
        )?,
        attempt_duration: Histogram::with_opts(HistogramOpts::new(
            "liftoff_outgoing_attempt_duration_seconds",
            "Duration of each outgoing webhook HTTP call, answered or not",
        ))?,
        outbox_pending: IntGauge::new(
            "liftoff_outgoing_pending",
            "Outgoing deliveries not finished yet, on every node sharing the database",
        )?,
        outbox_oldest: Gauge::new(
            "liftoff_outgoing_oldest_pending_seconds",
            "How long the most overdue outgoing delivery has been due (0 when none is due)",
        )?,
        script_runs: counters(
            "liftoff_script_runs_total",
            "Integration script runs by kind (incoming, outgoing_prepare, outgoing_response) and outcome",
            &["kind", "outcome"],
        )?,
        commit_writes: Histogram::with_opts(
            HistogramOpts::new(
                "liftoff_store_commit_batch_rows",
                "Writes committed in one database transaction (SQLite groups concurrent writes)",
            )
            .buckets(exponential_buckets(1.0, 2.0, 11)?),
        )?,
        commit_duration: Histogram::with_opts(
            HistogramOpts::new(
                "liftoff_store_commit_duration_seconds",
                "Duration of each committed database transaction",
            )
            .buckets(exponential_buckets(0.0005, 2.0, 14)?),
        )?,
    };
    let r = &m.registry;
    r.register(Box::new(m.http_requests.clone()))?;
    r.register(Box::new(m.http_duration.clone()))?;
    r.register(Box::new(m.hooks.clone()))?;
    r.register(Box::new(m.messages.clone()))?;
    r.register(Box::new(m.deliveries.clone()))?;
    r.register(Box::new(m.attempt_duration.clone()))?;
    r.register(Box::new(m.outbox_pending.clone()))?;
    r.register(Box::new(m.outbox_oldest.clone()))?;
    r.register(Box::new(m.script_runs.clone()))?;
    r.register(Box::new(m.commit_writes.clone()))?;
    r.register(Box::new(m.commit_duration.clone()))?;
    #[cfg(target_os = "linux")]
    r.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;
    Ok(m)
}
