//! Request validation, in the words Rocket.Chat answers with: `schema` is a small ajv-like body
//! validator (`must have required property 'x'`, `oneOf` branches), `checks` gives Meteor's
//! `check()` messages and ajv's type errors for single fields, and `integration_schemas` holds
//! the `integrations.create`/`update` schemas. The API document describes bodies from the same
//! definitions.

pub mod checks;
pub mod integration_schemas;
pub mod schema;
