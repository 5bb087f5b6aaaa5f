//! Outgoing webhooks: when something happens in the workspace, call the URLs of the matching
//! outgoing integrations, post their answers back, retry failures, record history.
//!
//! The path of one event:
//! 1. The domain raises a typed event (`domain::events::Event`) through its sink, which is
//!    the [`engine`]: the in-memory [`index`] picks the integrations, trigger words are matched
//!    and the [`payload`] built, one delivery per URL.
//! 2. The change that raised the event is committed with those deliveries in one store call
//!    (`Store::commit`): the outbox rows commit in the same transaction as the message, room
//!    or user.
//! 3. The [`dispatch`] loop is woken, claims due deliveries per URL ([`lanes`]: bounded
//!    concurrency per URL and in all) and runs each [`attempt`] on its own task; the
//!    [`recorder`] writes the attempt's history record in the same transaction that removes
//!    or reschedules the row.
//!
//! The engine and the lanes do not depend on the application state (which holds them); the
//! tasks and handlers do.

pub mod answer;
pub mod attempt;
pub mod call;
pub mod dispatch;
pub mod engine;
pub mod history;
pub mod index;
pub mod lanes;
pub mod payload;
pub mod recorder;
pub mod replay;
pub mod retry;
pub mod signing;
