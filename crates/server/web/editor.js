// What the incoming and outgoing edit pages share: loading the integration, Save (create or
// update), Delete behind a confirmation dialog, and the page frame with its alert.

import { html, useEffect, useState } from './vendor/htm-preact.js';
import { get, post, put } from './api.js';
import { Alert, ConfirmDialog, Link, Notice, navigate } from './ui.js';

/**
 * The form state of one integration. `blank` is a new one's values, `fromDoc` turns a stored
 * document into form values, `toBody` turns form values into the API body.
 */
export function useIntegration({ id, kind, type, blank, fromDoc, toBody }) {
  const [values, setValues] = useState(id ? null : blank());
  const [doc, setDoc] = useState(null);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!id) return;
    get('integrations.get', { integrationId: id })
      .then((data) => {
        setDoc(data.integration);
        setValues(fromDoc(data.integration));
      })
      .catch((err) => setError(err.message));
  }, [id]);

  const set = (key) => (value) => setValues((v) => ({ ...v, [key]: value }));

  const save = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    setNotice('');
    try {
      const body = { type, ...toBody(values) };
      if (id) {
        const data = await put('integrations.update', { ...body, integrationId: id });
        setDoc(data.integration);
        setValues(fromDoc(data.integration));
        setNotice('Integration saved.');
      } else {
        const data = await post('integrations.create', body);
        navigate(`/admin/integrations/edit/${kind}/${encodeURIComponent(data.integration._id)}`, { replace: true });
      }
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setError('');
    try {
      await post('integrations.remove', { type, integrationId: id });
      navigate(`/admin/integrations/${kind}`, { replace: true });
    } catch (err) {
      setError(err.message);
      throw err;
    }
  };

  return { values, set, doc, error, notice, busy, save, remove };
}

/** The page around a form: heading, back link, alert, and the Save / Delete buttons. */
export function EditorFrame({ title, kind, state, id, extraActions, children, after }) {
  const [confirming, setConfirming] = useState(false);
  const confirm = async () => {
    setConfirming(false);
    try {
      await state.remove();
    } catch {
      // The error is already shown in the alert.
    }
  };
  return html`<main id="main" tabindex="-1">
    <p class="back"><${Link} href=${`/admin/integrations/${kind}`}>← Back to Integrations<//></p>
    <div class="page-head">
      <h1>${title}</h1>
      <div class="actions">${extraActions}</div>
    </div>
    <${Alert} message=${state.error} />
    <${Notice} message=${state.notice} />
    ${state.values
      ? html`<form class="editor" onSubmit=${state.save} novalidate>
          ${children}
          <div class="actions sticky">
            <button type="submit" disabled=${state.busy}>Save</button>
            ${id && html`<button type="button" class="danger" onClick=${() => setConfirming(true)}>Delete</button>`}
          </div>
        </form>`
      : !state.error && html`<p class="loading">Loading…</p>`}
    ${after}
    ${confirming &&
    html`<${ConfirmDialog} title="Are you sure?" text="The integration will be deleted; this cannot be undone."
      confirmLabel="Yes, delete it!" onConfirm=${confirm} onClose=${() => setConfirming(false)} />`}
  </main>`;
}

/** A datalist of the public channels as `#name`, offered by the channel inputs. */
export function ChannelList({ id }) {
  const [names, setNames] = useState([]);
  useEffect(() => {
    get('channels.list', { count: 100 })
      .then((data) => setNames((data.channels || []).map((c) => `#${c.name}`)))
      .catch(() => {});
  }, []);
  return html`<datalist id=${id}>${names.map((n) => html`<option value=${n} />`)}</datalist>`;
}
