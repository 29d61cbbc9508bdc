// Calls to the server: the dashboard's figures and the management API, with the token this tab was given.

const TOKEN_KEY = 'turbine.management-token';

/** The server refused the call for want of (valid) credentials. */
export class Unauthorized extends Error {}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

function headers(json) {
  const result = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) result.Authorization = `Bearer ${token}`;
  if (json) result['Content-Type'] = 'application/json';
  return result;
}

/** A JSON call; throws Unauthorized on 401/403, Error with the server's message otherwise. */
export async function call(method, path, body) {
  const response = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.status === 401 || response.status === 403) throw new Unauthorized(data?.error ?? response.statusText);
  if (!response.ok) throw new Error(data?.error ?? `${response.status} ${response.statusText}`);
  return data;
}

/**
 * The server-sent events of `path`, as parsed JSON objects, until `signal` aborts. Read with fetch rather than
 * EventSource, which cannot send the Authorization header.
 */
export async function* events(path, signal) {
  const response = await fetch(path, { headers: headers(false), signal });
  if (response.status === 401 || response.status === 403) throw new Unauthorized((await response.json()).error);
  if (!response.ok || !response.body) throw new Error(`${response.status} ${response.statusText}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = block.split('\n').filter(line => line.startsWith('data: ')).map(line => line.slice(6)).join('\n');
      if (data) yield JSON.parse(data);
    }
  }
}
