//! The one write path of a change that raises an event: the event's deliveries are planned,
//! committed in the same store call as the change, and handed to the sink once durable.

use super::events::Event;
use crate::state::AppState;
use store::{Change, Committed, Delivery, StoreResult};

/// The deliveries of a raised event, waiting for the change to commit with.
#[must_use = "a raised event is only delivered once its change is committed"]
pub struct Raised(Vec<Delivery>);

/// Raises `event`: plans the deliveries it causes.
pub async fn raise(state: &AppState, event: Event<'_>) -> StoreResult<Raised> {
    Ok(Raised(state.events().deliveries(state.store(), event).await?))
}

impl Raised {
    /// Commits `change` together with the event's deliveries; the dispatcher hears of them
    /// only once they are durable, and only when the change applied.
    pub async fn commit(self, state: &AppState, change: Change) -> StoreResult<Committed> {
        if self.0.is_empty() {
            return state.store().commit(change, Vec::new()).await;
        }
        let committed = state.store().commit(change, self.0.clone()).await?;
        if committed.applied {
            state.events().committed(&self.0);
        }
        Ok(committed)
    }
}
