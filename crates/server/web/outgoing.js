// New and edit pages of an outgoing webhook. As in Rocket.Chat, the fields an event does not use
// (channel, trigger words, target room) are hidden, and a new webhook gets a random token.

import { html } from './vendor/htm-preact.js';
import { OUTGOING } from './api.js';
import { Field, Link, Toggle, randomToken } from './ui.js';
import { ChannelList, EditorFrame, useIntegration } from './editor.js';
import { EVENT_LABELS } from './list.js';

// What each event uses, as Rocket.Chat's outgoing event table says.
const EVENTS = {
  sendMessage: { channel: true, triggerWords: true, targetRoom: false },
  fileUploaded: { channel: true, triggerWords: false, targetRoom: false },
  roomArchived: { channel: false, triggerWords: false, targetRoom: false },
  roomCreated: { channel: false, triggerWords: false, targetRoom: false },
  roomJoined: { channel: true, triggerWords: false, targetRoom: false },
  roomLeft: { channel: true, triggerWords: false, targetRoom: false },
  userCreated: { channel: false, triggerWords: false, targetRoom: true },
};

const RETRY_DELAYS = [
  ['powers-of-ten', 'Powers of ten'],
  ['powers-of-two', 'Powers of two'],
  ['increments-of-two', 'Increments of two'],
];

// Rocket.Chat's defaults for a new outgoing webhook.
const blank = () => ({
  event: 'sendMessage', enabled: true, name: '', channel: '', triggerWords: '', urls: '',
  impersonateUser: false, username: '', alias: '', avatar: '', emoji: '', token: randomToken(),
  scriptEnabled: false, script: '', retryFailedCalls: true, retryCount: '6', retryDelay: 'powers-of-ten',
  triggerWordAnywhere: false, runOnEdits: true, targetRoom: '',
});

const fromDoc = (d) => ({
  event: d.event || 'sendMessage',
  enabled: !!d.enabled,
  name: d.name || '',
  channel: (d.channel || []).join(', '),
  triggerWords: (d.triggerWords || []).join(', '),
  urls: (d.urls || []).join('\n'),
  impersonateUser: !!d.impersonateUser,
  username: d.username || '',
  alias: d.alias || '',
  avatar: d.avatar || '',
  emoji: d.emoji || '',
  token: d.token || '',
  scriptEnabled: !!d.scriptEnabled,
  script: d.script || '',
  retryFailedCalls: !!d.retryFailedCalls,
  retryCount: d.retryCount === undefined || d.retryCount === null ? '' : String(d.retryCount),
  retryDelay: d.retryDelay || 'powers-of-ten',
  triggerWordAnywhere: !!d.triggerWordAnywhere,
  runOnEdits: !!d.runOnEdits,
  targetRoom: d.targetRoom || '',
});

const split = (text, sep) => text.split(sep).map((s) => s.trim()).filter(Boolean);

/** Only the fields the chosen event uses are sent, so hidden values never take effect. */
function toBody(v) {
  const use = EVENTS[v.event] || EVENTS.sendMessage;
  const body = {
    event: v.event, enabled: v.enabled, name: v.name, channel: use.channel ? v.channel : '',
    urls: split(v.urls, /\r?\n/), impersonateUser: v.impersonateUser, username: v.username, alias: v.alias,
    avatar: v.avatar, emoji: v.emoji, token: v.token, scriptEnabled: v.scriptEnabled, script: v.script,
    retryFailedCalls: v.retryFailedCalls, retryDelay: v.retryDelay,
  };
  const count = Number.parseInt(v.retryCount, 10);
  if (Number.isFinite(count)) body.retryCount = count;
  if (use.triggerWords) {
    body.triggerWords = split(v.triggerWords, ',');
    body.triggerWordAnywhere = v.triggerWordAnywhere;
    body.runOnEdits = v.runOnEdits;
  }
  if (use.targetRoom) body.targetRoom = v.targetRoom;
  return body;
}

export function OutgoingPage({ id }) {
  const state = useIntegration({ id, kind: 'outgoing', type: OUTGOING, blank, fromDoc, toBody });
  const { values: v, set, doc } = state;
  const use = v ? EVENTS[v.event] || EVENTS.sendMessage : {};
  const history = id && html`<${Link} class="button secondary" href=${`/admin/integrations/history/outgoing/${encodeURIComponent(id)}`}>History<//>`;
  return html`<${EditorFrame} title=${id ? 'Edit outgoing webhook' : 'New outgoing webhook'} kind="outgoing"
      state=${state} id=${id} extraActions=${history}>
    ${v && html`
      <${Field} label="Event Trigger" value=${v.event} onInput=${set('event')}
        options=${Object.keys(EVENTS).map((e) => [e, EVENT_LABELS[e]])} hint="The event that calls the URLs." />
      <${Toggle} label="Enabled" checked=${v.enabled} onChange=${set('enabled')} />
      <${Field} label="Name" value=${v.name} onInput=${set('name')} />
      ${use.channel && html`<${Field} label="Channel" value=${v.channel} onInput=${set('channel')} list="channel-names"
        placeholder="#general" hint="#channel, @user, all_public_channels, all_private_groups or all_direct_messages; several separated by commas." />
        <${ChannelList} id="channel-names" />`}
      ${use.triggerWords && html`<${Field} label="Trigger Words" value=${v.triggerWords} onInput=${set('triggerWords')}
        hint="Only messages starting with one of these words (separated by commas) are sent." />`}
      <${Field} label="URLs" multiline rows="3" value=${v.urls} onInput=${set('urls')}
        placeholder="https://example.com/hook" hint="One URL per line." />
      <${Toggle} label="Impersonate User" checked=${v.impersonateUser} onChange=${set('impersonateUser')}
        hint="Post replies as the user who triggered the webhook." />
      <${Field} label="Post as" value=${v.username} onInput=${set('username')} placeholder="rocket.cat"
        hint="The username replies are posted as; the user must exist." />
      <${Field} label="Alias" value=${v.alias} onInput=${set('alias')} />
      <${Field} label="Avatar URL" type="url" value=${v.avatar} onInput=${set('avatar')}
        placeholder="https://example.com/avatar.png" />
      <${Field} label="Emoji" value=${v.emoji} onInput=${set('emoji')} placeholder=":ghost:" />
      <${Field} label="Token" value=${v.token} onInput=${set('token')} spellcheck="false"
        hint="Sent in every call, so the receiver can tell the call comes from here." />
      <${Toggle} label="Script Enabled" checked=${v.scriptEnabled} onChange=${set('scriptEnabled')} />
      <${Field} label="Script" multiline rows="10" class="code" spellcheck="false" value=${v.script}
        onInput=${set('script')} hint="class Script { prepare_outgoing_request({ request }) { ... } process_outgoing_response({ request, response }) { ... } }" />
      ${doc?.scriptError && html`<p class="warn">Script error: ${doc.scriptError.message}</p>`}
      <${Toggle} label="Retry Failed Calls" checked=${v.retryFailedCalls} onChange=${set('retryFailedCalls')} />
      <${Field} label="Retry Count" type="number" min="1" value=${v.retryCount} onInput=${set('retryCount')} />
      <${Field} label="Retry Delay" value=${v.retryDelay} onInput=${set('retryDelay')} options=${RETRY_DELAYS} />
      ${use.triggerWords && html`
        <${Toggle} label="Trigger Word Anywhere" checked=${v.triggerWordAnywhere} onChange=${set('triggerWordAnywhere')}
          hint="Match a trigger word anywhere in the message, not only at its start." />
        <${Toggle} label="Run on Edits" checked=${v.runOnEdits} onChange=${set('runOnEdits')}
          hint="Call the URLs again when a message is edited." />`}
      ${use.targetRoom && html`<${Field} label="Target Room" value=${v.targetRoom} onInput=${set('targetRoom')}
        placeholder="#general" hint="Where replies to User Created events are posted." />`}
    `}
  <//>`;
}
