// Small shared pieces of the page: client-side navigation, labelled form fields, the error
// alert and the confirmation dialog.

import { html, useEffect, useRef } from './vendor/htm-preact.js';

let counter = 0;
/** A unique element id, so every label points at its own input. */
export const uid = (prefix) => `${prefix}-${++counter}`;

const listeners = new Set();
export function onNavigate(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Moves to another page of the app without reloading it. */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  listeners.forEach((fn) => fn());
  window.scrollTo(0, 0);
}
window.addEventListener('popstate', () => listeners.forEach((fn) => fn()));

/** An ordinary link that navigates inside the app (a new tab still works). */
export function Link({ href, children, ...rest }) {
  const click = (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${click} ...${rest}>${children}</a>`;
}

/** The API's error text, announced to screen readers. */
export function Alert({ message }) {
  if (!message) return null;
  return html`<div class="alert" role="alert">${message}</div>`;
}

export function Notice({ message }) {
  if (!message) return null;
  return html`<div class="notice" role="status">${message}</div>`;
}

/** A labelled text input, textarea or select; `hint` is tied to it with aria-describedby. */
export function Field({ label, value, onInput, type = 'text', multiline, rows = 4, hint, options, ...rest }) {
  const id = useRef(null);
  if (!id.current) id.current = uid('f');
  const hintId = hint ? `${id.current}-hint` : undefined;
  const common = { id: id.current, 'aria-describedby': hintId, ...rest };
  let control;
  if (options) {
    control = html`<select ...${common} value=${value} onChange=${(e) => onInput(e.target.value)}>
      ${options.map(([v, text]) => html`<option value=${v} selected=${v === value}>${text}</option>`)}
    </select>`;
  } else if (multiline) {
    control = html`<textarea ...${common} rows=${rows} value=${value} onInput=${(e) => onInput(e.target.value)}></textarea>`;
  } else {
    control = html`<input ...${common} type=${type} value=${value} onInput=${(e) => onInput(e.target.value)} />`;
  }
  return html`<div class="field">
    <label for=${id.current}>${label}</label>
    ${control}
    ${hint && html`<small id=${hintId} class="hint">${hint}</small>`}
  </div>`;
}

/** A labelled checkbox shown as a switch. */
export function Toggle({ label, checked, onChange, hint }) {
  const id = useRef(null);
  if (!id.current) id.current = uid('t');
  const hintId = hint ? `${id.current}-hint` : undefined;
  return html`<div class="field toggle">
    <input id=${id.current} type="checkbox" role="switch" checked=${checked}
      aria-describedby=${hintId} onChange=${(e) => onChange(e.target.checked)} />
    <label for=${id.current}>${label}</label>
    ${hint && html`<small id=${hintId} class="hint">${hint}</small>`}
  </div>`;
}

/** A modal confirmation: Escape or "Cancel" closes it, focus starts on "Cancel". */
export function ConfirmDialog({ title, text, confirmLabel, onConfirm, onClose }) {
  const ref = useRef(null);
  const titleId = useRef(uid('dlg')).current;
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog && dialog.open && dialog.close();
  }, []);
  return html`<dialog ref=${ref} role="dialog" aria-modal="true" aria-labelledby=${titleId}
      onCancel=${(e) => { e.preventDefault(); onClose(); }}>
    <h2 id=${titleId}>${title}</h2>
    <p>${text}</p>
    <div class="actions">
      <button type="button" class="secondary" autofocus onClick=${onClose}>Cancel</button>
      <button type="button" class="danger" onClick=${onConfirm}>${confirmLabel}</button>
    </div>
  </dialog>`;
}

/** A date as the browser's locale writes it, or an empty string. */
export function formatDate(value) {
  if (!value) return '';
  const d = new Date(typeof value === 'object' && value.$date ? value.$date : value);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
}

/** A random token from Meteor's unmistakable alphabet, as Rocket.Chat's form makes for outgoing hooks. */
export function randomToken(length = 24) {
  const alphabet = '23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz';
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}
