//! Single-context behaviour: compile, call contract, limits, globals.

use std::time::{Duration, Instant};

use script::{CallError, CallOutcome, Limits, Sandbox, ScriptError, compile};
use serde_json::json;

fn limits() -> Limits {
    Limits { timeout: Duration::from_millis(200), ..Limits::default() }
}

fn sandbox(src: &str) -> Sandbox {
    Sandbox::new("test-integration", src, &limits()).expect("script loads")
}

fn incoming(sb: &mut Sandbox, request: serde_json::Value) -> Result<CallOutcome, CallError> {
    sb.call("process_incoming_request", &json!({ "request": request }))
}

#[test]
fn compile_accepts_a_valid_script() {
    let src = r#"
        class Script {
            process_incoming_request({ request }) {
                return { content: { text: request.content.text } };
            }
        }
    "#;
    assert_eq!(compile(src, &limits()), Ok(()));
}

#[test]
fn compile_reports_syntax_errors() {
    let err = compile("class Script { process_incoming_request( { }", &limits()).unwrap_err();
    assert_eq!(err.name, "SyntaxError", "{err:?}");
    assert!(!err.message.is_empty());
    assert!(err.stack.contains("integration-script.js"), "{err:?}");
}

#[test]
fn compile_reports_a_missing_script_class() {
    let err = compile("const x = 1; function Scrip() {}", &limits()).unwrap_err();
    assert_eq!(err.name, "Error");
    assert_eq!(err.message, ScriptError::NO_SCRIPT_CLASS);
    // A non-class value named Script is not enough either.
    let err = compile("var Script = 42;", &limits()).unwrap_err();
    assert_eq!(err.message, ScriptError::NO_SCRIPT_CLASS);
}

#[test]
fn compile_reports_top_level_exceptions() {
    let err = compile("throw new TypeError('boom'); class Script {}", &limits()).unwrap_err();
    assert_eq!((err.name.as_str(), err.message.as_str()), ("TypeError", "boom"));
    let err = compile("class Script { constructor() { null.x } }", &limits()).unwrap_err();
    assert_eq!(err.name, "TypeError", "{err:?}");
}

#[test]
fn compile_bounds_top_level_time() {
    let start = Instant::now();
    let err = compile("while (true) {} class Script {}", &limits()).unwrap_err();
    assert!(err.message.contains("timed out"), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn compile_bounds_top_level_memory() {
    let err = compile("const a = []; while (true) a.push('x'.repeat(1000) + a.length); class Script {}", &limits())
        .unwrap_err();
    assert!(err.message.contains("memory limit"), "{err:?}");
}

#[test]
fn incoming_request_is_transformed() {
    let mut sb = sandbox(
        r#"
        class Script {
            process_incoming_request({ request }) {
                const c = request.content;
                return { content: { text: `${c.user} says ${c.text}`, emoji: ':ghost:' } };
            }
        }
    "#,
    );
    let out = incoming(&mut sb, json!({ "content": { "user": "bob", "text": "hi" } })).unwrap();
    assert_eq!(out, CallOutcome::Value(json!({ "content": { "text": "bob says hi", "emoji": ":ghost:" } })));
    assert!(!out.is_falsy());
}

#[test]
fn error_object_and_falsy_results_come_out_as_values() {
    let mut sb = sandbox(
        r#"
        class Script {
            process_incoming_request({ request }) {
                switch (request.kind) {
                    case 'error': return { error: 'x' };
                    case 'null': return null;
                    case 'false': return false;
                    case 'zero': return 0;
                    case 'empty': return '';
                    case 'nan': return NaN;
                    case 'fn': return function () {};
                    case 'nested-fn': return { a: 1, f() {} };
                    case 'undefined': return undefined;
                    default: return;
                }
            }
        }
    "#,
    );
    let mut run = |kind: &str| incoming(&mut sb, json!({ "kind": kind })).unwrap();
    assert_eq!(run("error"), CallOutcome::Value(json!({ "error": "x" })));
    assert_eq!(run("null"), CallOutcome::Value(json!(null)));
    assert_eq!(run("false"), CallOutcome::Value(json!(false)));
    assert_eq!(run("zero"), CallOutcome::Value(json!(0)));
    assert_eq!(run("empty"), CallOutcome::Value(json!("")));
    assert_eq!(run("nan"), CallOutcome::Value(json!(null)));
    assert_eq!(run("fn"), CallOutcome::Undefined);
    assert_eq!(run("nested-fn"), CallOutcome::Value(json!({ "a": 1 })));
    assert_eq!(run("undefined"), CallOutcome::Undefined);
    assert_eq!(run("none"), CallOutcome::Undefined);
    for kind in ["null", "false", "zero", "empty", "nan", "fn", "undefined"] {
        assert!(run(kind).is_falsy(), "{kind}");
    }
    assert!(!run("error").is_falsy());
}

#[test]
fn missing_method_is_no_method() {
    let mut sb = sandbox("class Script { prepare_outgoing_request({ request }) { return request; } }");
    assert_eq!(incoming(&mut sb, json!({})).unwrap(), CallOutcome::NoMethod);
    assert!(CallOutcome::NoMethod.is_falsy());
    let out =
        sb.call("prepare_outgoing_request", &json!({ "request": { "url": "http://x", "method": "POST" } })).unwrap();
    assert_eq!(out, CallOutcome::Value(json!({ "url": "http://x", "method": "POST" })));
}

#[test]
fn outgoing_response_can_return_false() {
    let mut sb = sandbox(
        r#"class Script {
            process_outgoing_response({ request, response }) {
                if (response.status_code !== 200) return false;
                return { content: { text: JSON.parse(response.content).msg } };
            }
        }"#,
    );
    let arg = |status: u16| json!({ "request": {}, "response": { "error": null, "status_code": status, "content": "{\"msg\":\"ok\"}", "headers": {} } });
    assert_eq!(sb.call("process_outgoing_response", &arg(500)).unwrap(), CallOutcome::Value(json!(false)));
    assert_eq!(
        sb.call("process_outgoing_response", &arg(200)).unwrap(),
        CallOutcome::Value(json!({ "content": { "text": "ok" } }))
    );
}

#[test]
fn thrown_exception_is_a_runtime_error() {
    let mut sb = sandbox(
        r#"class Script {
            process_incoming_request({ request }) {
                if (request.kind === 'string') throw 'plain';
                if (request.kind === 'type') return request.missing.field;
                throw new Error('bad payload ' + request.id);
            }
        }"#,
    );
    match incoming(&mut sb, json!({ "id": 7 })) {
        Err(CallError::Runtime { name, message, stack }) => {
            assert_eq!(name, "Error");
            assert_eq!(message, "bad payload 7");
            assert!(stack.contains("process_incoming_request"), "{stack}");
        }
        other => panic!("{other:?}"),
    }
    match incoming(&mut sb, json!({ "kind": "type" })) {
        Err(CallError::Runtime { name, .. }) => assert_eq!(name, "TypeError"),
        other => panic!("{other:?}"),
    }
    match incoming(&mut sb, json!({ "kind": "string" })) {
        Err(CallError::Runtime { name, message, .. }) => {
            assert_eq!((name.as_str(), message.as_str()), ("Error", "plain"))
        }
        other => panic!("{other:?}"),
    }
    // The context survives ordinary exceptions.
    assert!(!sb.is_poisoned());
}

#[test]
fn infinite_loop_times_out_and_poisons() {
    let mut sb = sandbox(
        r#"class Script { process_incoming_request({ request }) {
            if (request.spin) { try { while (true) {} } catch (e) { return 'caught'; } }
            return 'ok';
        } }"#,
    );
    let start = Instant::now();
    assert_eq!(incoming(&mut sb, json!({ "spin": true })), Err(CallError::Timeout));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(190) && took < Duration::from_secs(2), "{took:?}");
    assert!(sb.is_poisoned());
    assert!(matches!(incoming(&mut sb, json!({})), Err(CallError::Internal(_))));
}

#[test]
fn allocation_bomb_is_out_of_memory() {
    let mut sb = sandbox(
        r#"class Script { process_incoming_request({ request }) {
            const a = [];
            while (true) a.push('payload-' + a.length + '-'.repeat(100));
        } }"#,
    );
    assert_eq!(incoming(&mut sb, json!({})), Err(CallError::OutOfMemory));
    assert!(sb.is_poisoned());
}

#[test]
fn big_single_allocation_is_out_of_memory() {
    let mut sb = sandbox(
        r#"class Script { process_incoming_request({ request }) { return 'x'.repeat(64 * 1024 * 1024).length; } }"#,
    );
    assert_eq!(incoming(&mut sb, json!({})), Err(CallError::OutOfMemory));
}

#[test]
fn deep_recursion_is_stack_overflow() {
    let mut sb = sandbox(
        r#"class Script { process_incoming_request({ request }) {
            const f = (n) => f(n + 1) + 1;
            return f(0);
        } }"#,
    );
    assert_eq!(incoming(&mut sb, json!({})), Err(CallError::StackOverflow));
}

#[test]
fn caught_stack_overflow_is_just_javascript() {
    let mut sb = sandbox(
        r#"class Script { process_incoming_request({ request }) {
            const f = (n) => f(n + 1) + 1;
            try { f(0); } catch (e) { return e.name; }
        } }"#,
    );
    assert_eq!(incoming(&mut sb, json!({})), Ok(CallOutcome::Value(json!("RangeError"))));
    assert!(!sb.is_poisoned());
}

#[test]
fn store_persists_within_a_sandbox() {
    let mut sb = sandbox(
        r#"class Script { process_incoming_request({ request }) {
            const n = (Store.get('n') || 0) + 1;
            return { set: Store.set('n', n), missing: Store.get('nothing') === undefined };
        } }"#,
    );
    for n in 1..=3 {
        assert_eq!(incoming(&mut sb, json!({})).unwrap(), CallOutcome::Value(json!({ "set": n, "missing": true })));
    }
}

#[test]
fn instance_is_created_once_per_context() {
    let mut sb = sandbox(
        r#"let made = 0;
        class Script {
            constructor() { made++; this.calls = 0; }
            process_incoming_request() { this.calls++; return [made, this.calls]; }
        }"#,
    );
    incoming(&mut sb, json!({})).unwrap();
    assert_eq!(incoming(&mut sb, json!({})).unwrap(), CallOutcome::Value(json!([1, 2])));
}

#[test]
fn host_capabilities_are_absent() {
    let mut sb = sandbox(
        r#"class Script { process_incoming_request({ request }) {
            return {
                require: typeof require,
                process: typeof process,
                fetch: typeof fetch,
                module: typeof module,
                std: typeof std,
                os: typeof os,
                setTimeout: typeof setTimeout,
                XMLHttpRequest: typeof XMLHttpRequest,
                store: typeof Store,
                console: typeof console.log,
                global: global === globalThis,
            };
        } }"#,
    );
    assert_eq!(
        incoming(&mut sb, json!({})).unwrap(),
        CallOutcome::Value(json!({
            "require": "undefined", "process": "undefined", "fetch": "function", "module": "undefined",
            "std": "undefined", "os": "undefined", "setTimeout": "undefined", "XMLHttpRequest": "undefined",
            "store": "object", "console": "function", "global": true,
        }))
    );
}

#[test]
fn dynamic_import_is_refused() {
    let mut sb = sandbox(
        r#"class Script { async process_incoming_request({ request }) {
            try { await import(request.name); return 'imported'; }
            catch (e) { return 'refused: ' + e.name; }
        } }"#,
    );
    for name in ["fs", "std", "os", "./integration-script.js", "/etc/passwd"] {
        match incoming(&mut sb, json!({ "name": name })).unwrap() {
            CallOutcome::Value(v) => {
                assert!(v.as_str().unwrap().starts_with("refused"), "{name}: {v}")
            }
            other => panic!("{other:?}"),
        }
    }
    // A static import statement is not even valid in a script.
    assert_eq!(compile("import fs from 'fs'; class Script {}", &limits()).unwrap_err().name, "SyntaxError");
}

#[test]
fn eval_stays_inside_the_sandbox() {
    let mut sb = sandbox(
        r#"class Script { process_incoming_request() {
            return [eval('typeof require'), (0, eval)('typeof process'), new Function('return typeof os')()];
        } }"#,
    );
    assert_eq!(
        incoming(&mut sb, json!({})).unwrap(),
        CallOutcome::Value(json!(["undefined", "undefined", "undefined"]))
    );
}

#[test]
fn promise_results_are_awaited() {
    let mut sb = sandbox(
        r#"class Script {
            async process_incoming_request({ request }) {
                const v = await Promise.resolve(request.n);
                await null;
                return { content: { text: 'n=' + (v * 2) } };
            }
            prepare_outgoing_request({ request }) {
                return Promise.reject(new RangeError('nope'));
            }
            process_outgoing_response() {
                return new Promise(() => {});
            }
        }"#,
    );
    assert_eq!(
        incoming(&mut sb, json!({ "n": 21 })).unwrap(),
        CallOutcome::Value(json!({ "content": { "text": "n=42" } }))
    );
    match sb.call("prepare_outgoing_request", &json!({ "request": {} })) {
        Err(CallError::Runtime { name, message, .. }) => {
            assert_eq!((name.as_str(), message.as_str()), ("RangeError", "nope"))
        }
        other => panic!("{other:?}"),
    }
    match sb.call("process_outgoing_response", &json!({})) {
        Err(CallError::Runtime { message, .. }) => {
            assert!(message.contains("never settled"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn endless_microtasks_time_out() {
    let mut sb = sandbox(
        r#"class Script { process_incoming_request() {
            const spin = () => queueMicrotask(spin);
            spin();
            return 'returned';
        } }"#,
    );
    assert_eq!(incoming(&mut sb, json!({})), Err(CallError::Timeout));
}

#[test]
fn growing_promise_chain_hits_a_limit() {
    // Each step keeps the previous promise alive: memory grows until refused,
    // inside a microtask whose exception the engine discards.
    let mut sb = sandbox(
        r#"class Script { process_incoming_request() {
            const spin = () => Promise.resolve().then(spin);
            spin();
            return 'returned';
        } }"#,
    );
    let err = incoming(&mut sb, json!({})).unwrap_err();
    assert!(err.is_limit(), "{err:?}");
    assert!(sb.is_poisoned());
}

#[test]
fn caught_out_of_memory_still_fails_the_call() {
    let mut sb = sandbox(
        r#"class Script { process_incoming_request() {
            try { const a = []; while (true) a.push({ i: a.length }); } catch (e) { return 'survived'; }
        } }"#,
    );
    assert_eq!(incoming(&mut sb, json!({})), Err(CallError::OutOfMemory));
}

#[test]
fn argument_is_a_deep_copy() {
    let mut sb = sandbox(
        r#"class Script { process_incoming_request({ request }) {
            const first = Store.get('req');
            Store.set('req', request);
            request.content.text = 'mutated';
            return first ? first.content.text : null;
        } }"#,
    );
    let req = json!({ "content": { "text": "original", "list": [1, 2.5, "three", null, true] } });
    assert_eq!(incoming(&mut sb, req.clone()).unwrap(), CallOutcome::Value(json!(null)));
    assert_eq!(incoming(&mut sb, req).unwrap(), CallOutcome::Value(json!("mutated")));
}

#[test]
fn cyclic_result_is_a_runtime_error() {
    let mut sb = sandbox("class Script { process_incoming_request() { const a = {}; a.self = a; return a; } }");
    match incoming(&mut sb, json!({})) {
        Err(CallError::Runtime { name, .. }) => assert_eq!(name, "TypeError"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn memory_usage_is_reported() {
    let sb = sandbox("class Script {}");
    let m = sb.memory_usage();
    assert!(m.malloc_size > 0 && (m.malloc_size as usize) < limits().memory_bytes, "{m:?}");
}

#[test]
fn catastrophic_regexp_times_out() {
    let mut sb = sandbox(
        r#"class Script { process_incoming_request({ request }) {
            return /^(a+)+$/.test('a'.repeat(request.n) + 'b');
        } }"#,
    );
    assert_eq!(incoming(&mut sb, json!({ "n": 40 })), Err(CallError::Timeout));
}

#[test]
fn deeply_nested_results_fail_cleanly() {
    let src = r#"class Script { process_incoming_request({ request }) {
        let v = [];
        for (let i = 0; i < request.depth; i++) v = [v];
        return v;
    } }"#;
    let mut sb = sandbox(src);
    // Within what the host accepts.
    assert!(matches!(incoming(&mut sb, json!({ "depth": 100 })), Ok(CallOutcome::Value(_))));
    // Deeper than the host's JSON nesting limit: an error, the context is fine.
    match incoming(&mut sb, json!({ "depth": 1000 })) {
        Err(CallError::Runtime { name, message, .. }) => {
            assert_eq!(name, "TypeError");
            assert!(message.contains("cannot be copied out"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!sb.is_poisoned());
    // Deeper than the engine's stack allows while serialising.
    let err = incoming(&mut sb, json!({ "depth": 200_000 })).unwrap_err();
    assert!(err.is_limit(), "{err:?}");
}

#[test]
fn oversized_argument_is_out_of_memory() {
    let mut sb = sandbox("class Script { process_incoming_request({ request }) { return request.content.length; } }");
    let big = "x".repeat(16 * 1024 * 1024);
    assert_eq!(incoming(&mut sb, json!({ "content": big })), Err(CallError::OutOfMemory));
    let mut sb = sandbox("class Script { process_incoming_request({ request }) { return request.content.length; } }");
    assert_eq!(incoming(&mut sb, json!({ "content": "x".repeat(100_000) })), Ok(CallOutcome::Value(json!(100_000))));
}
