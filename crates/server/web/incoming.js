// New and edit pages of an incoming webhook. A saved one also shows its Webhook URL, token and
// an example curl command, as Rocket.Chat's page does.

import { html, useState } from './vendor/htm-preact.js';
import { INCOMING } from './api.js';
import { Field, Toggle } from './ui.js';
import { ChannelList, EditorFrame, useIntegration } from './editor.js';

// Rocket.Chat's form starts a new incoming webhook disabled.
const blank = () => ({
  enabled: false, name: '', channel: '', username: '', alias: '', avatar: '', emoji: '',
  scriptEnabled: false, script: '',
});

const fromDoc = (d) => ({
  enabled: !!d.enabled,
  name: d.name || '',
  channel: (d.channel || []).join(', '),
  username: d.username || '',
  alias: d.alias || '',
  avatar: d.avatar || '',
  emoji: d.emoji || '',
  scriptEnabled: !!d.scriptEnabled,
  script: d.script || '',
});

const toBody = (v) => ({
  enabled: v.enabled, name: v.name, channel: v.channel, username: v.username, alias: v.alias,
  avatar: v.avatar, emoji: v.emoji, scriptEnabled: v.scriptEnabled, script: v.script,
});

export function IncomingPage({ id }) {
  const state = useIntegration({ id, kind: 'incoming', type: INCOMING, blank, fromDoc, toBody });
  const { values: v, set, doc } = state;
  return html`<${EditorFrame} title=${id ? 'Edit incoming webhook' : 'New incoming webhook'} kind="incoming"
      state=${state} id=${id}>
    ${v && html`
      ${doc && html`<${WebhookInfo} doc=${doc} />`}
      <${Toggle} label="Enabled" checked=${v.enabled} onChange=${set('enabled')} />
      <${Field} label="Name" value=${v.name} onInput=${set('name')} hint="A name to find this integration by." />
      <${Field} label="Post to Channel" value=${v.channel} onInput=${set('channel')} list="channel-names"
        placeholder="#general" hint="Messages go here: #channel or @user; several separated by commas." />
      <${ChannelList} id="channel-names" />
      <${Field} label="Post as" value=${v.username} onInput=${set('username')} placeholder="rocket.cat"
        hint="The username messages are posted as; the user must exist." />
      <${Field} label="Alias" value=${v.alias} onInput=${set('alias')} hint="Shown instead of the username." />
      <${Field} label="Avatar URL" type="url" value=${v.avatar} onInput=${set('avatar')}
        placeholder="https://example.com/avatar.png" />
      <${Field} label="Emoji" value=${v.emoji} onInput=${set('emoji')} placeholder=":ghost:"
        hint="Used as the avatar instead of the Avatar URL." />
      <${Toggle} label="Script Enabled" checked=${v.scriptEnabled} onChange=${set('scriptEnabled')} />
      <${Field} label="Script" multiline rows="10" class="code" spellcheck="false" value=${v.script}
        onInput=${set('script')} hint="class Script { process_incoming_request({ request }) { ... } }" />
      ${doc?.scriptError && html`<p class="warn">Script error: ${doc.scriptError.message}</p>`}
    `}
  <//>`;
}

/** The address to post to, its token and a curl example. */
function WebhookInfo({ doc }) {
  const url = `${location.origin}/hooks/${encodeURIComponent(doc._id)}/${encodeURIComponent(doc.token)}`;
  const curl = `curl -X POST -H 'Content-Type: application/json' --data '{"text":"Example message"}' ${url}`;
  return html`<section class="hookinfo" aria-label="Webhook address">
    <div class="field">
      <label for="webhook-url">Webhook URL</label>
      <div class="with-button">
        <input id="webhook-url" readonly value=${url} />
        <${CopyButton} text=${url} label="Copy Webhook URL" />
      </div>
      <small class="hint">Send a JSON or form POST here to post a message.</small>
    </div>
    <div class="field">
      <label for="webhook-token">Token</label>
      <div class="with-button">
        <input id="webhook-token" readonly value=${doc.token} />
        <${CopyButton} text=${doc.token} label="Copy Token" />
      </div>
    </div>
    <div class="field">
      <label for="webhook-curl">Example curl command</label>
      <div class="with-button">
        <textarea id="webhook-curl" readonly rows="3" class="code" value=${curl}></textarea>
        <${CopyButton} text=${curl} label="Copy curl command" />
      </div>
    </div>
  </section>`;
}

export function CopyButton({ text, label }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
      setTimeout(() => setDone(false), 1500);
    } catch {
      setDone(false);
    }
  };
  return html`<button type="button" class="secondary" aria-label=${label} onClick=${copy}>${done ? 'Copied' : 'Copy'}</button>`;
}
