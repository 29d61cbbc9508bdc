// The dashboard's shell: the live stream of snapshots with an hour of history, the router, sign-in and confirmation.
import { call, events, setToken, Unauthorized } from './api.js';
import { overview } from './pages/overview.js';
import { models } from './pages/models.js';
import { model } from './pages/model.js';
import { routes } from './pages/routes.js';
import { route } from './pages/route.js';
import { pipelines } from './pages/pipelines.js';
import { jobs } from './pages/jobs.js';
import { monitoring } from './pages/monitoring.js';
import { registry } from './pages/registry.js';

const HISTORY_MS = 3600 * 1000;

/** What every page reads: the snapshots of the last hour, oldest first, and who wants to hear of new ones. */
export const live = {
  history: [],
  listeners: new Set(),
  get latest() { return this.history[this.history.length - 1]; },
  add(snapshot) {
    showParts(snapshot.server.parts);
    this.history.push(snapshot);
    const cutoff = snapshot.time - HISTORY_MS;
    while (this.history.length && this.history[0].time < cutoff) this.history.shift();
    for (const listener of this.listeners) listener(snapshot);
  },
};

const status = document.getElementById('live');

/** Shows the sections of the optional parts this server runs (batch jobs, the registry), and only those. */
function showParts(parts) {
  for (const link of document.querySelectorAll('nav a[data-part]')) link.hidden = !parts.includes(link.dataset.part);
}

function setStatus(text, on) {
  status.textContent = text;
  status.className = `live ${on ? 'on' : 'off'}`;
}

/** Asks for the management token and keeps it for this tab. */
function signIn(reason) {
  const dialog = document.getElementById('login');
  document.getElementById('login-reason').textContent = reason || 'This server asks for its management token.';
  return new Promise(resolve => {
    dialog.addEventListener('close', () => {
      setToken(document.getElementById('login-token').value);
      resolve();
    }, { once: true });
    dialog.showModal();
  });
}

/** Asks before an action changes the server; resolves true when confirmed. */
export function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  return new Promise(resolve => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = 'cancel';
    dialog.showModal();
    document.getElementById('confirm-ok').focus();
  });
}

/**
 * An action from a page: asks to confirm `text`, makes the management call, says how it went in `status` (a live
 * region), then runs `after` (reload what the action changed).
 */
export async function act(status, text, method, path, body, after) {
  if (!await confirmAction(text)) return;
  try {
    await manage(method, path, body);
    status.textContent = 'Done.';
    status.className = 'muted';
    await after?.();
  } catch (error) {
    status.textContent = error.message;
    status.className = 'error';
  }
}

/** A management call that signs in and tries again once when the server asks for the token. */
export async function manage(method, path, body) {
  try {
    return await call(method, path, body);
  } catch (error) {
    if (!(error instanceof Unauthorized)) throw error;
    await signIn(error.message);
    return call(method, path, body);
  }
}

/** Loads the hour of history, then follows the stream, reconnecting after a pause when it breaks. */
async function follow() {
  for (;;) {
    try {
      for (const snapshot of await call('GET', 'api/history?seconds=3600')) live.add(snapshot);
      render();
      for await (const snapshot of events('api/stream')) {
        if (!live.latest || snapshot.time > live.latest.time) live.add(snapshot);
        setStatus(`live · ${new Date(snapshot.time).toLocaleTimeString()}`, true);
      }
    } catch (error) {
      if (error instanceof Unauthorized) {
        setStatus('signed out', false);
        await signIn(error.message);
        continue;
      }
      setStatus('reconnecting', false);
    }
    await new Promise(resolve => setTimeout(resolve, 2000));
  }
}

const pages = [
  [/^#?\/?$/, () => overview],
  [/^#\/models$/, () => models],
  [/^#\/models\/([^/]+)$/, match => container => model(container, decodeURIComponent(match[1]))],
  [/^#\/routes$/, () => routes],
  [/^#\/routes\/([^/]+)$/, match => container => route(container, decodeURIComponent(match[1]))],
  [/^#\/pipelines$/, () => pipelines],
  [/^#\/jobs$/, () => jobs],
  [/^#\/monitoring$/, () => monitoring],
  [/^#\/registry$/, () => registry],
];

let leave = () => {};

/** Renders the page the address names; a page returns what to do when it is left (stop listening). */
function render() {
  leave();
  const main = document.getElementById('main');
  main.replaceChildren();
  const hash = location.hash || '#/';
  for (const link of document.querySelectorAll('nav a')) {
    const target = link.getAttribute('href');
    link.toggleAttribute('aria-current', target === '#/' ? hash === '#/' : hash.startsWith(target));
    if (link.hasAttribute('aria-current')) link.setAttribute('aria-current', 'page');
  }
  for (const [pattern, page] of pages) {
    const match = hash.match(pattern);
    if (match) {
      leave = page(match)(main) ?? (() => {});
      return;
    }
  }
  main.textContent = 'No such page.';
  leave = () => {};
}

window.addEventListener('hashchange', () => {
  render();
  document.getElementById('main').focus();
});
render();
follow();
