//! The request schemas of `integrations.create` and `integrations.update`: Rocket.Chat's ajv
//! `oneOf` branches for incoming and outgoing integrations.

use super::schema::{Branch, Ty};
use crate::domain::integration_kinds::{INCOMING, OUTGOING};

pub const CREATE_INCOMING: Branch = Branch {
    type_pattern: Some(INCOMING),
    required: &[
        ("type", Ty::Str),
        ("username", Ty::Str),
        ("channel", Ty::Str),
        ("scriptEnabled", Ty::Bool),
        ("name", Ty::Str),
        ("enabled", Ty::Bool),
    ],
    optional: &[
        ("script", Ty::Str),
        ("alias", Ty::Str),
        ("avatar", Ty::Str),
        ("emoji", Ty::Str),
        ("overrideDestinationChannelEnabled", Ty::Bool),
        ("scriptEngine", Ty::Str),
    ],
    more_optional: &[],
    additional_properties: false,
};

const OUTGOING_OPTIONAL: &[(&str, Ty)] = &[
    ("targetRoom", Ty::Str),
    ("urls", Ty::StrList),
    ("triggerWords", Ty::StrList),
    ("triggerWordAnywhere", Ty::Bool),
    ("token", Ty::Str),
    ("script", Ty::Str),
    ("runOnEdits", Ty::Bool),
    ("retryFailedCalls", Ty::Bool),
    ("retryCount", Ty::Num),
    ("retryDelay", Ty::Str),
    ("impersonateUser", Ty::Bool),
    ("alias", Ty::Str),
    ("avatar", Ty::Str),
    ("emoji", Ty::Str),
    ("scriptEngine", Ty::Str),
];

const OUTGOING_REQUIRED: &[(&str, Ty)] = &[
    ("type", Ty::Str),
    ("username", Ty::Str),
    ("channel", Ty::Str),
    ("event", Ty::Str),
    ("scriptEnabled", Ty::Bool),
    ("name", Ty::Str),
    ("enabled", Ty::Bool),
];

pub const CREATE_OUTGOING: Branch = Branch {
    type_pattern: Some(OUTGOING),
    required: OUTGOING_REQUIRED,
    optional: OUTGOING_OPTIONAL,
    more_optional: &[],
    additional_properties: false,
};

pub const UPDATE_INCOMING: Branch = Branch {
    type_pattern: Some(INCOMING),
    required: &[
        ("integrationId", Ty::Str),
        ("type", Ty::Str),
        ("channel", Ty::Str),
        ("scriptEnabled", Ty::Bool),
        ("name", Ty::Str),
        ("enabled", Ty::Bool),
    ],
    optional: &[
        ("overrideDestinationChannelEnabled", Ty::Bool),
        ("script", Ty::Str),
        ("alias", Ty::Str),
        ("avatar", Ty::Str),
        ("emoji", Ty::Str),
    ],
    more_optional: &[],
    additional_properties: true,
};

pub const UPDATE_OUTGOING: Branch = Branch {
    type_pattern: Some(OUTGOING),
    required: OUTGOING_REQUIRED,
    optional: OUTGOING_OPTIONAL,
    more_optional: &[("integrationId", Ty::Str), ("target_url", Ty::Str)],
    additional_properties: false,
};
