// An outgoing webhook's history: newest record first, each expandable to what was sent and what
// came back, with Replay per record and Clear History. Polls so new calls show up on their own.

import { html, useEffect, useRef, useState } from './vendor/htm-preact.js';
import { get, post } from './api.js';
import { Alert, ConfirmDialog, Link, Notice, formatDate } from './ui.js';

const PAGE = 25;
const POLL_MS = 2000;

export function HistoryPage({ id }) {
  const [integration, setIntegration] = useState(null);
  const [result, setResult] = useState(null);
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [open, setOpen] = useState(() => new Set());
  const [confirming, setConfirming] = useState(false);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);

  useEffect(() => {
    get('integrations.get', { integrationId: id })
      .then((data) => setIntegration(data.integration))
      .catch((err) => setError(err.message));
  }, [id]);

  useEffect(() => {
    const mine = ++seq.current;
    const query = { id, count: PAGE, offset, sort: JSON.stringify({ _createdAt: -1 }) };
    get('integrations.history', query)
      .then((data) => mine === seq.current && setResult(data))
      .catch((err) => mine === seq.current && setError(err.message));
    const timer = setTimeout(() => setTick((t) => t + 1), POLL_MS);
    return () => clearTimeout(timer);
  }, [id, offset, tick]);

  const refresh = () => setTick((t) => t + 1);
  const replay = async (record) => {
    setError('');
    setNotice('');
    try {
      await post('integrations.replayOutgoing', { integrationId: id, historyId: record._id });
      setNotice('Replay started: the call is sent again and recorded as a new entry.');
      refresh();
    } catch (err) {
      setError(err.message);
    }
  };
  const clear = async () => {
    setConfirming(false);
    setError('');
    setNotice('');
    try {
      await post('integrations.clearHistory', { integrationId: id });
      setNotice('History cleared.');
      setOffset(0);
      refresh();
    } catch (err) {
      setError(err.message);
    }
  };
  const toggle = (recordId, isOpen) =>
    setOpen((s) => {
      const next = new Set(s);
      if (isOpen) next.add(recordId);
      else next.delete(recordId);
      return next;
    });

  const records = result ? result.history : [];
  const total = result ? result.total : 0;
  return html`<main id="main" tabindex="-1">
    <p class="back"><${Link} href=${`/admin/integrations/edit/outgoing/${encodeURIComponent(id)}`}>← Back to the integration<//></p>
    <div class="page-head">
      <h1>History${integration ? `: ${integration.name}` : ''}</h1>
      <div class="actions">
        <button type="button" class="danger" disabled=${total === 0} onClick=${() => setConfirming(true)}>Clear History</button>
      </div>
    </div>
    <${Alert} message=${error} />
    <${Notice} message=${notice} />
    ${result && total === 0 && html`<p class="empty">No calls recorded yet. New ones appear here as they happen.</p>`}
    <ol class="history" aria-label="History records, newest first">
      ${records.map((r) => html`<li key=${r._id}>
        <${Record} record=${r} open=${open.has(r._id)} onToggle=${(o) => toggle(r._id, o)} />
        <button type="button" class="secondary replay" onClick=${() => replay(r)}>Replay</button>
      </li>`)}
    </ol>
    ${total > PAGE && html`<nav class="pager" aria-label="Pages">
      <span>${offset + 1}–${offset + records.length} of ${total}</span>
      <button type="button" class="secondary" disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
      <button type="button" class="secondary" disabled=${offset + PAGE >= total} onClick=${() => setOffset(offset + PAGE)}>Next</button>
    </nav>`}
    ${confirming && html`<${ConfirmDialog} title="Clear the history?"
      text="Every recorded call of this integration will be deleted." confirmLabel="Yes, clear all!"
      onConfirm=${clear} onClose=${() => setConfirming(false)} />`}
  </main>`;
}

function status(r) {
  if (r.error) return ['error', 'Error'];
  if (r.finished) return ['ok', 'Success'];
  return ['pending', 'In progress'];
}

/** `httpResult` is the response text JSON-encoded once more; show the text itself. */
function unquote(value) {
  if (typeof value !== 'string') return value;
  try {
    const inner = JSON.parse(value);
    return typeof inner === 'string' ? inner : value;
  } catch {
    return value;
  }
}

const show = (value) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));

function Record({ record: r, open, onToggle }) {
  const [cls, label] = status(r);
  const rows = [
    ['Event', r.event],
    ['Trigger word', r.triggerWord],
    ['URL', r.url],
    ['HTTP status', r.statusCode],
    ['Data sent', r.data],
    ['HTTP request body', r.httpCallData],
    ['HTTP response body', unquote(r.httpResult)],
    ['HTTP error', r.httpError],
    ['Error stack', r.errorStack],
  ].filter(([, v]) => v !== undefined && v !== null && v !== '');
  return html`<details class=${`record ${cls}`} open=${open} onToggle=${(e) => onToggle(e.currentTarget.open)}>
    <summary>
      <span class="step">${r.step}</span>
      <span class=${`badge ${cls}`}>${label}</span>
      <time datetime=${r._createdAt}>${formatDate(r._createdAt)}</time>
    </summary>
    <div class="record-body">
      <dl>${rows.map(([k, v]) => html`<dt>${k}</dt><dd><pre>${show(v)}</pre></dd>`)}</dl>
    </div>
  </details>`;
}
