// mk.js: what every page shares. The API client (the session cookie goes by itself; the CSRF
// token is sent on every change), DOM built from data as text only (never as HTML, so a
// subject or a name from outside cannot become markup), the login form, messages.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrf = null;

export async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrf) opts.headers['X-CSRF-Token'] = csrf;
  const r = await fetch('/api/v1' + path, opts);
  let data = null;
  if (r.status !== 204) {
    try { data = await r.json(); } catch (e) { data = null; }
  }
  if (!r.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(r.status, e.code || 'error', e.message || r.statusText);
  }
  return data;
}

// h('tr', {class: 'x'}, 'text', child, ...): strings become text nodes; attributes starting
// with "on" take a function.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function when(ts) {
  if (!ts) return 'never';
  return new Date(ts * 1000).toLocaleString();
}

export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
}

// A message at the top of the page; errors stay until the next action.
export function notice(text, kind = 'ok') {
  const box = document.getElementById('notice');
  clear(box);
  box.className = 'notice ' + kind;
  box.append(h('span', { role: kind === 'error' ? 'alert' : 'status' }, text));
  box.hidden = false;
  if (kind === 'ok') setTimeout(() => { if (box.textContent === text) box.hidden = true; }, 6000);
}

export function fail(e) {
  notice(e instanceof ApiError ? e.message : 'The server could not be reached: ' + e, 'error');
}

// Runs an action from a button: disabled meanwhile, errors shown.
export async function act(button, fn) {
  if (button) button.disabled = true;
  try { await fn(); } catch (e) { fail(e); } finally { if (button) button.disabled = false; }
}

export async function session() {
  try {
    const s = await api('GET', '/session');
    csrf = s.csrf;
    return s;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function logout() {
  try { await api('DELETE', '/session'); } catch (e) { /* gone already */ }
  csrf = null;
  location.reload();
}

export function copyButton(text, label = 'Copy') {
  const b = h('button', { type: 'button', class: 'small', 'aria-label': label + ': ' + text }, label);
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = 'Copied';
    } catch (e) {
      // No clipboard (an insecure context, a refused permission): select it for the user.
      const t = h('textarea', { readonly: true, class: 'copy-fallback' }, text);
      b.after(t);
      t.select();
      b.textContent = 'Press Ctrl+C';
    }
    setTimeout(() => { b.textContent = label; }, 2000);
  });
  return b;
}

// The login form: password, then the authenticator code when the account has TOTP.
export function loginForm(root, title, onDone) {
  clear(root);
  const address = h('input', { id: 'login-address', name: 'username', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const code = h('input', { id: 'login-code', name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}' });
  const codeRow = h('p', { hidden: true }, h('label', { for: 'login-code' }, 'Code from your authenticator app'), code);
  const button = h('button', { type: 'submit', id: 'login-submit' }, 'Log in');
  const form = h('form', { class: 'card login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, title),
    h('p', {}, h('label', { for: 'login-address' }, 'Address'), address),
    h('p', {}, h('label', { for: 'login-password' }, 'Password'), password),
    codeRow,
    h('p', {}, button));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(button, async () => {
      const body = { address: address.value.trim(), password: password.value };
      if (!codeRow.hidden) body.code = code.value.trim();
      try {
        const s = await api('POST', '/session', body);
        csrf = s.csrf;
        document.getElementById('notice').hidden = true;
        onDone(s);
      } catch (e) {
        if (e.code === 'code_needed') {
          codeRow.hidden = false;
          code.focus();
          notice(e.message, 'info');
          return;
        }
        throw e;
      }
    });
  });
  root.append(form);
  address.focus();
}

// The navigation of a page: links to #views, the current one marked, and the user with a
// logout button.
export function header(nav, views, s, other) {
  clear(nav);
  const links = h('ul', {});
  for (const [id, v] of Object.entries(views))
    links.append(h('li', {}, h('a', { href: '#' + id, 'data-view': id }, v.title)));
  nav.append(links, h('div', { class: 'who' },
    h('span', { id: 'who' }, s.address),
    other ? h('a', { href: other.href }, other.label) : null,
    h('button', { type: 'button', class: 'small', id: 'logout', onclick: logout }, 'Log out')));
}

export function route(main, views, fallback) {
  let id = (location.hash || '#' + fallback).slice(1);
  if (!Object.hasOwn(views, id)) id = fallback;
  const v = views[id];
  for (const a of document.querySelectorAll('nav a[data-view]'))
    a.toggleAttribute('aria-current', a.dataset.view === id);
  clear(main);
  document.getElementById('notice').hidden = true;  // a message belongs to the view it came from
  const section = h('section', { 'aria-labelledby': 'view-title' }, h('h1', { id: 'view-title' }, v.title));
  main.append(section);
  document.title = v.title + ' · mailkeep';
  v.render(section).catch(fail);
}

// Draws a view again in its section (after a change), keeping its heading.
export async function rerender(root, fn) {
  const title = root.firstChild;
  clear(root).append(title);
  await fn(root);
}

export function table(headings, rows, empty) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table' }, h('table', {},
    h('thead', {}, h('tr', {}, headings.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows)));
}
