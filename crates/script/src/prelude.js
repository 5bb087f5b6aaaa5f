// Installs the sandbox globals; evaluated before the user script. Receives the
// host logging and fetch functions, reachable only through these closures, and
// returns the functions the host uses to settle and drop fetch promises.
(function (hostLog, hostFetch) {
  'use strict';
  const g = globalThis;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const toString = Object.prototype.toString;
  const fmt = function (v) {
    if (typeof v === 'string') return v;
    try {
      if (v instanceof Error) {
        const head = String(v.name) + ': ' + String(v.message);
        return typeof v.stack === 'string' && v.stack ? head + '\n' + v.stack : head;
      }
      if (typeof v === 'object' && v !== null) {
        const s = stringify(v);
        if (s !== undefined) return s;
      }
      return String(v);
    } catch (_) {
      return toString.call(v);
    }
  };
  const make = function (level) {
    return function (...args) {
      let out = '';
      for (let i = 0; i < args.length; i++) out += (i ? ' ' : '') + fmt(args[i]);
      hostLog(level, out);
    };
  };
  g.console = {
    log: make(0), info: make(1), warn: make(2), error: make(3), debug: make(4), trace: make(4),
  };
  const store = Object.create(null);
  g.Store = {
    set(key, val) { store[key] = val; return val; },
    get(key) { return store[key]; },
  };
  g.global = g;

  // fetch(url, options, allowSelfSignedCertificate), as Rocket.Chat 7 gives
  // scripts: the host makes the request; the promise settles when it answers.
  const pending = new Map();
  const headerPairs = function (h) {
    const out = [];
    if (h == null) return out;
    if (typeof h.entries === 'function' && !Array.isArray(h)) {
      for (const [k, v] of h.entries()) out.push([String(k), String(v)]);
    } else if (Array.isArray(h)) {
      for (const pair of h) out.push([String(pair[0]), String(pair[1])]);
    } else {
      for (const k of Object.keys(h)) {
        if (h[k] !== undefined && h[k] !== null) out.push([String(k), String(h[k])]);
      }
    }
    return out;
  };
  const withParams = function (url, params) {
    if (params == null || typeof params !== 'object') return url;
    const parts = [];
    for (const k of Object.keys(params)) {
      if (params[k] === undefined) continue;
      parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(params[k])));
    }
    if (!parts.length) return url;
    const hash = url.indexOf('#');
    const base = hash < 0 ? url : url.slice(0, hash);
    const tail = hash < 0 ? '' : url.slice(hash);
    return base + (base.indexOf('?') < 0 ? '?' : '&') + parts.join('&') + tail;
  };
  g.fetch = function fetch(url, options, allowSelfSignedCertificate) {
    return new Promise(function (resolve, reject) {
      const o = options == null ? {} : options;
      const headers = headerPairs(o.headers);
      let body = o.body;
      if (body === undefined || body === null) {
        body = null;
      } else if (typeof body !== 'string') {
        body = stringify(body);
        if (!headers.some((p) => p[0].toLowerCase() === 'content-type')) {
          headers.push(['Content-Type', 'application/json']);
        }
      }
      const request = {
        url: withParams(String(url), o.params),
        method: String(o.method || 'GET').toUpperCase(),
        headers,
        body,
        allow_self_signed: allowSelfSignedCertificate === true,
      };
      const id = hostFetch(stringify(request));
      pending.set(id, [resolve, reject]);
    });
  };
  const makeHeaders = function (pairs) {
    const map = new Map();
    for (const [k, v] of pairs) {
      const key = k.toLowerCase();
      map.set(key, map.has(key) ? map.get(key) + ', ' + v : v);
    }
    const h = {
      get(name) { const v = map.get(String(name).toLowerCase()); return v === undefined ? null : v; },
      has(name) { return map.has(String(name).toLowerCase()); },
      forEach(cb, thisArg) { map.forEach((v, k) => cb.call(thisArg, v, k, h)); },
      entries() { return map.entries(); },
      keys() { return map.keys(); },
      values() { return map.values(); },
      raw() { const out = {}; map.forEach((v, k) => { out[k] = [v]; }); return out; },
      [Symbol.iterator]() { return map.entries(); },
    };
    return h;
  };
  const makeResponse = function (r) {
    let used = false;
    const read = function () {
      if (used) throw new TypeError('Body is unusable: Body has already been read');
      used = true;
      return r.body;
    };
    return {
      status: r.status,
      statusText: r.statusText,
      ok: r.status >= 200 && r.status < 300,
      url: r.url,
      redirected: r.redirected,
      type: 'basic',
      headers: makeHeaders(r.headers),
      get bodyUsed() { return used; },
      async text() { return read(); },
      async json() { return parse(read()); },
      clone() { throw new Error('Response.clone is not available to integration scripts'); },
    };
  };
  const settle = function (id, ok, payload) {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (ok) p[0](makeResponse(parse(payload)));
    else p[1](new TypeError('fetch failed: ' + payload));
  };
  const forget = function (id) { pending.delete(id); };
  return { settle, forget };
})
