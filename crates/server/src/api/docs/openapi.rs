//! The OpenAPI 3.1 document of every documented route, served at `GET /api/docs/json`.

use super::routes::{Answer, Auth, Method, RouteDoc};
use super::schemas;
use crate::api::validation::schema::Ty;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, Required, ResponseBuilder,
};

const USER_ID: &str = "userId";
const AUTH_TOKEN: &str = "authToken";

/// Component name and description of each error status.
fn error_response(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("BadRequest", "The request was refused: `error` and, for most, `errorType` say why"),
        401 => ("Unauthorized", "Not logged in: `X-User-Id`/`X-Auth-Token` missing or wrong"),
        403 => ("Forbidden", "The caller lacks the permission"),
        404 => ("NotFound", "No such resource"),
        413 => ("PayloadTooLarge", "The body is over the size limit"),
        429 => ("TooManyRequests", "Rate limited; `X-RateLimit-*` headers say until when"),
        503 => ("Unavailable", "The database is closed (shutting down)"),
        _ => ("Error", "An error"),
    }
}

const ERROR_STATUSES: [u16; 7] = [400, 401, 403, 404, 413, 429, 503];

/// The family of a path, e.g. `channels` for `/api/v1/channels.create`.
fn tag(path: &str) -> String {
    let rest = path.strip_prefix("/api/v1/").unwrap_or(path.trim_start_matches('/'));
    match rest.split(['.', '/']).next().unwrap_or_default() {
        "livez" | "readyz" => "probes".into(),
        "api" => "server".into(),
        family => family.to_owned(),
    }
}

/// `{name}` segments of a path.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
}

fn http_method(m: Method) -> HttpMethod {
    match m {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
        Method::Put => HttpMethod::Put,
    }
}

fn json_content(schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

fn success_schema(answer: Answer) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    match answer {
        Answer::Success => schemas::reference("Success"),
        Answer::Object => schemas::object(),
        Answer::Json => schemas::json(),
        Answer::Status => schemas::reference("Status"),
    }
}

fn operation(doc: &RouteDoc, path: &str, method: Method) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new().tag(tag(path)).summary(doc.summary.clone());
    for name in path_parameters(path) {
        op = op.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(schemas::query_field(Ty::Str))),
        );
    }
    let mut seen = Vec::new();
    for (name, ty) in &doc.query {
        if seen.contains(name) {
            continue;
        }
        seen.push(*name);
        op = op.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .schema(Some(schemas::query_field(*ty))),
        );
    }
    if doc.reads_body && method != Method::Get {
        let (schema, required) = if doc.body_one_of.is_empty() {
            (schemas::open_object(&doc.body), Required::False)
        } else {
            (schemas::one_of(&doc.body_one_of), Required::True)
        };
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .content("application/json", json_content(schema))
                .required(Some(required))
                .build(),
        ));
    }
    let ok = ResponseBuilder::new()
        .description("Success")
        .content("application/json", json_content(success_schema(doc.answer)));
    op = op.response("200", ok);
    for status in ERROR_STATUSES.iter().filter(|s| doc.errors.contains(s)) {
        let (name, _) = error_response(*status);
        if doc.answer == Answer::Status {
            let not_ready = ResponseBuilder::new()
                .description("Not ready")
                .content("application/json", json_content(schemas::reference("Status")));
            op = op.response(status.to_string(), not_ready);
        } else {
            op = op.response(status.to_string(), Ref::from_response_name(name));
        }
    }
    match doc.auth {
        Auth::Required => op = op.security(SecurityRequirement::new(USER_ID, [""; 0]).add(AUTH_TOKEN, [""; 0])),
        Auth::Optional => {
            op = op
                .security(SecurityRequirement::default())
                .security(SecurityRequirement::new(USER_ID, [""; 0]).add(AUTH_TOKEN, [""; 0]))
        }
        Auth::None => {}
    }
    op.build()
}

fn components() -> utoipa::openapi::Components {
    let mut components = ComponentsBuilder::new()
        .security_scheme(USER_ID, SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-User-Id"))))
        .security_scheme(AUTH_TOKEN, SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Auth-Token"))))
        .schema("Success", schemas::success())
        .schema("Error", schemas::error())
        .schema("NotLoggedIn", schemas::not_logged_in())
        .schema("Status", schemas::status());
    for status in ERROR_STATUSES {
        let (name, description) = error_response(status);
        let schema = if status == 401 { "NotLoggedIn" } else { "Error" };
        components = components.response(
            name,
            ResponseBuilder::new()
                .description(description)
                .content("application/json", json_content(schemas::reference(schema))),
        );
    }
    components.build()
}

/// The document of `docs`, in their order.
pub fn document(docs: &[RouteDoc]) -> OpenApi {
    let mut paths = Paths::new();
    for doc in docs {
        for (methods, path) in doc.operations() {
            for method in methods {
                paths.add_path_operation(&path, vec![http_method(method)], operation(doc, &path, method));
            }
        }
    }
    let info = InfoBuilder::new()
        .title("Liftoff")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some("A Rocket.Chat-compatible integrations server: the REST API, incoming webhooks and probes."))
        .build();
    OpenApiBuilder::new().info(info).paths(paths).components(Some(components())).build()
}
