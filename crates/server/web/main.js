// Entry point: keeps the login session, routes /admin/... paths to their page, and draws the
// frame (header with Logout, skip link) around them.

import { html, render, useEffect, useState } from './vendor/htm-preact.js';
import { get, loadSession, logout, setLoggedOutHandler } from './api.js';
import { Link, navigate, onNavigate } from './ui.js';
import { Login } from './login.js';
import { IntegrationList } from './list.js';
import { IncomingPage } from './incoming.js';
import { OutgoingPage } from './outgoing.js';
import { HistoryPage } from './history.js';

const BASE = '/admin/integrations';

/** The page for a path, or null when the path is not one of the app's. */
function route(path) {
  const parts = path.replace(/\/+$/, '').split('/').slice(3).map(decodeURIComponent);
  if (!path.startsWith(BASE)) return null;
  const [a, b, c] = parts;
  if (parts.length === 0) return { page: 'list', type: 'incoming' };
  if (parts.length === 1 && (a === 'incoming' || a === 'outgoing')) return { page: 'list', type: a };
  if (parts.length === 2 && a === 'new' && (b === 'incoming' || b === 'outgoing')) return { page: b, id: null };
  if (parts.length === 3 && a === 'edit' && (b === 'incoming' || b === 'outgoing')) return { page: b, id: c };
  if (parts.length === 3 && a === 'history' && b === 'outgoing') return { page: 'history', id: c };
  return null;
}

function Page({ where }) {
  if (!where) {
    return html`<main id="main" tabindex="-1"><h1>Page not found</h1>
      <p><${Link} href=${BASE}>Back to Integrations<//></p></main>`;
  }
  switch (where.page) {
    case 'list':
      return html`<${IntegrationList} key=${where.type} type=${where.type} />`;
    case 'incoming':
      return html`<${IncomingPage} key=${where.id || 'new'} id=${where.id} />`;
    case 'outgoing':
      return html`<${OutgoingPage} key=${where.id || 'new'} id=${where.id} />`;
    case 'history':
      return html`<${HistoryPage} key=${where.id} id=${where.id} />`;
  }
  return null;
}

function App() {
  const [session, setSession] = useState(loadSession());
  const [path, setPath] = useState(location.pathname);
  const [checked, setChecked] = useState(false);

  useEffect(() => onNavigate(() => setPath(location.pathname)), []);
  useEffect(() => setLoggedOutHandler(() => setSession(null)), []);
  useEffect(() => {
    if (location.pathname === '/admin' || location.pathname === '/admin/') navigate(BASE, { replace: true });
  }, []);
  // A stored token may have been revoked since: ask the server who we are once at start.
  useEffect(() => {
    if (!session) {
      setChecked(true);
      return;
    }
    get('me')
      .then((me) => setSession((s) => (s ? { ...s, username: me.username } : s)))
      .catch(() => {})
      .finally(() => setChecked(true));
  }, []);

  if (!checked) return html`<p class="loading">Loading…</p>`;
  if (!session) return html`<${Login} onLogin=${setSession} />`;

  const doLogout = async () => {
    await logout();
    setSession(null);
  };
  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <${Link} href=${BASE} class="brand">Liftoff · Administration<//>
      <span class="who">${session.username ? `Logged in as ${session.username}` : ''}</span>
      <button type="button" class="secondary" onClick=${doLogout}>Logout</button>
    </header>
    <${Page} where=${route(path)} />`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
