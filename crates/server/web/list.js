// /admin/integrations: the Incoming and Outgoing tabs, each a table of that type's integrations
// from integrations.list, 25 a page, filtered by name through the `query` parameter.

import { html, useEffect, useRef, useState } from './vendor/htm-preact.js';
import { INCOMING, OUTGOING, escapeRegExp, get } from './api.js';
import { Alert, Field, Link, formatDate, navigate } from './ui.js';

const PAGE = 25;
const TABS = [
  ['incoming', 'Incoming'],
  ['outgoing', 'Outgoing'],
];

export function IntegrationList({ type }) {
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const [result, setResult] = useState(null);
  const [error, setError] = useState('');
  const seq = useRef(0);

  useEffect(() => {
    // Typing fires one request once the user pauses; only the latest answer is shown.
    const mine = ++seq.current;
    const timer = setTimeout(async () => {
      const query = {
        type: type === 'incoming' ? INCOMING : OUTGOING,
        count: PAGE,
        offset,
        sort: JSON.stringify({ name: 1 }),
      };
      if (search.trim()) {
        // `name` too, for servers that ignore `query` (Rocket.Chat 7 and later, or this one
        // with API_Allow_Query_And_Fields off).
        query.query = JSON.stringify({ name: { $regex: escapeRegExp(search.trim()), $options: 'i' } });
        query.name = search.trim();
      }
      try {
        const data = await get('integrations.list', query);
        if (mine === seq.current) {
          setResult(data);
          setError('');
        }
      } catch (err) {
        if (mine === seq.current) {
          setResult(null);
          setError(err.status === 403 ? `You may not manage integrations: ${err.message}` : err.message);
        }
      }
    }, search ? 250 : 0);
    return () => clearTimeout(timer);
  }, [type, search, offset]);

  const onSearch = (v) => {
    setSearch(v);
    setOffset(0);
  };
  const tabKey = (e) => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      const next = type === 'incoming' ? 'outgoing' : 'incoming';
      navigate(`/admin/integrations/${next}`);
      requestAnimationFrame(() => document.getElementById(`tab-${next}`)?.focus());
    }
  };
  const rows = result ? result.integrations : [];
  const total = result ? result.total : 0;

  return html`<main id="main" tabindex="-1">
    <div class="page-head">
      <h1>Integrations</h1>
      <button type="button" onClick=${() => navigate(`/admin/integrations/new/${type}`)}>New</button>
    </div>
    <div role="tablist" aria-label="Integration type" class="tabs">
      ${TABS.map(([key, label]) => html`<button type="button" role="tab" id=${`tab-${key}`}
          aria-selected=${key === type ? 'true' : 'false'} aria-controls="tab-panel" tabindex=${key === type ? 0 : -1}
          onKeyDown=${tabKey} onClick=${() => key !== type && navigate(`/admin/integrations/${key}`)}>${label}</button>`)}
    </div>
    <section id="tab-panel" role="tabpanel" aria-labelledby=${`tab-${type}`}>
      <div class="toolbar">
        <${Field} label="Search" type="search" value=${search} onInput=${onSearch} placeholder="Filter by name" />
      </div>
      <${Alert} message=${error} />
      ${result && html`<${Table} type=${type} rows=${rows} />`}
      ${result && html`<nav class="pager" aria-label="Pages">
        <span>${total === 0 ? 'No integrations' : `${offset + 1}–${offset + rows.length} of ${total}`}</span>
        <button type="button" class="secondary" disabled=${offset === 0}
          onClick=${() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
        <button type="button" class="secondary" disabled=${offset + PAGE >= total}
          onClick=${() => setOffset(offset + PAGE)}>Next</button>
      </nav>`}
    </section>
  </main>`;
}

function Table({ type, rows }) {
  const open = (row) => navigate(`/admin/integrations/edit/${type}/${encodeURIComponent(row._id)}`);
  return html`<table role="table" class="list">
    <caption class="sr-only">${type === 'incoming' ? 'Incoming' : 'Outgoing'} integrations</caption>
    <thead><tr>
      <th scope="col">Name</th>
      ${type === 'outgoing' && html`<th scope="col">Event</th>`}
      <th scope="col">Channel</th>
      <th scope="col">Created by</th>
      <th scope="col">Created at</th>
      <th scope="col">Status</th>
    </tr></thead>
    <tbody>
      ${rows.map((row) => html`<tr key=${row._id} class="clickable" onClick=${(e) => !e.target.closest('a') && open(row)}>
        <td><${Link} href=${`/admin/integrations/edit/${type}/${encodeURIComponent(row._id)}`}>${row.name || '(no name)'}<//></td>
        ${type === 'outgoing' && html`<td>${EVENT_LABELS[row.event] || row.event}</td>`}
        <td>${(row.channel || []).join(', ')}</td>
        <td>${row._createdBy?.username || ''}</td>
        <td>${formatDate(row._createdAt)}</td>
        <td>${row.enabled ? 'Enabled' : 'Disabled'}</td>
      </tr>`)}
      ${rows.length === 0 && html`<tr><td colspan=${type === 'outgoing' ? 6 : 5}>No integrations found.</td></tr>`}
    </tbody>
  </table>`;
}

export const EVENT_LABELS = {
  sendMessage: 'Message Sent',
  fileUploaded: 'File Uploaded',
  roomArchived: 'Room Archived',
  roomCreated: 'Room Created',
  roomJoined: 'Room Joined',
  roomLeft: 'Room Left',
  userCreated: 'User Created',
};
