// The login form: POST /api/v1/login; a failure shows the server's message and keeps the form.

import { html, useState } from './vendor/htm-preact.js';
import { login } from './api.js';
import { Alert, Field } from './ui.js';

export function Login({ onLogin }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onLogin(await login(user.trim(), password));
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };

  return html`<main id="main" class="login">
    <form class="card" onSubmit=${submit}>
      <h1>Liftoff</h1>
      <p class="sub">Log in to manage integrations.</p>
      <${Alert} message=${error} />
      <${Field} label="Username or email" value=${user} onInput=${setUser} autocomplete="username" required autofocus />
      <${Field} label="Password" type="password" value=${password} onInput=${setPassword}
        autocomplete="current-password" required />
      <button type="submit" disabled=${busy}>Login</button>
    </form>
  </main>`;
}
