// account.js: a user's own page: the account at a glance, the password, app passwords for
// mail clients, forwarding, and where they are logged in. Everything comes from /api/v1/me.
import { api, h, clear, rerender, when, bytes, notice, act, session, loginForm, header, route, table, copyButton, fail } from './mk.js';

const views = {
  overview: { title: 'Your account', render: overview },
  password: { title: 'Password', render: password },
  apps: { title: 'App passwords', render: apps },
  totp: { title: 'Two-factor login', render: totp },
  forward: { title: 'Forwarding', render: forwarding },
  share: { title: 'Share links', render: shareLinks },
  sessions: { title: 'Sessions', render: sessions },
  events: { title: 'Activity', render: events },
};

async function overview(root) {
  const me = await api('GET', '/me');
  if (me.held) root.append(heldCard(root, me));
  if (me.password_breached)
    root.append(h('div', { class: 'card warn', role: 'alert' },
      h('p', {}, 'Your password appears in a list of passwords exposed in data breaches. ', h('a', { href: '#password' }, 'Change it now.'))));
  const used = me.quota_bytes ? Math.min(100, Math.round(100 * me.used_bytes / me.quota_bytes)) : null;
  root.append(h('dl', { class: 'facts' },
    h('dt', {}, 'Address'), h('dd', { id: 'me-address' }, me.address),
    h('dt', {}, 'Storage'), h('dd', {}, bytes(me.used_bytes) + (me.quota_bytes ? ' of ' + bytes(me.quota_bytes) : ' (no limit)'),
      used === null ? null : h('progress', { max: 100, value: used, 'aria-label': 'storage used' })),
    h('dt', {}, 'Two-factor login'), h('dd', {}, me.totp ? 'on (authenticator app)' : 'off'),
    h('dt', {}, 'Mail clients'), h('dd', {}, me.require_app_passwords ? 'app passwords only' : 'your password or app passwords'),
    h('dt', {}, 'Forwarding'), h('dd', { id: 'me-forward' }, h('a', { href: '#forward' }, me.forward_to ? 'to ' + me.forward_to : 'off')),
    h('dt', {}, 'Since'), h('dd', {}, when(me.created))));
}

// A held account: why, what to do, and the way out the server allows (ask, or release it
// yourself with a new password).
function heldCard(root, me) {
  const card = h('div', { class: 'card warn', role: 'alert', id: 'held' }, h('h2', {}, 'Your outgoing mail is held'),
    h('p', {}, 'Why: ', h('strong', { id: 'held-reason' }, me.held)),
    h('p', {}, 'Mail you send waits until this is resolved. If you did not send this mail, someone else has your ',
      'password: choose a new one, and revoke the ', h('a', { href: '#apps' }, 'app passwords'), ' of devices you do not trust.'));
  if (me.self_release) {
    const current = h('input', { id: 'rel-current', type: 'password', autocomplete: 'current-password', required: true });
    const next = h('input', { id: 'rel-new', type: 'password', autocomplete: 'new-password', required: true, minlength: 12 });
    const keep = h('input', { id: 'rel-keep', type: 'checkbox' });
    const go = h('button', { type: 'submit', id: 'rel-go' }, 'Change password and release');
    const form = h('form', {},
      h('p', {}, h('label', { for: 'rel-current' }, 'Current password'), current),
      h('p', {}, h('label', { for: 'rel-new' }, 'New password'), next),
      h('p', {}, h('label', { for: 'rel-keep', class: 'check' }, keep, 'keep my app passwords (not advised)')),
      h('p', {}, go));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(go, async () => {
        const r = await api('POST', '/me/hold/release', { current: current.value, new: next.value, keep_app_passwords: keep.checked });
        notice('Released: ' + r.messages + ' held message(s) are on their way; ' + r.app_passwords_revoked +
          ' app password(s) revoked' + (r.forward_removed ? '; forwarding to ' + r.forward_removed + ' turned off' : '') +
          '. Give your mail clients the new password.');
        await rerender(root, overview);
      });
    });
    card.append(form);
  } else {
    const note = h('textarea', { id: 'rel-note', rows: 3, maxlength: 2000, placeholder: 'I changed my password; the mail was not mine.' });
    const ask = h('button', { type: 'submit', id: 'rel-ask' }, 'Ask the administrator to release it');
    const form = h('form', {}, h('p', {}, h('label', { for: 'rel-note' }, 'A note for the administrator'), note), h('p', {}, ask));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(ask, async () => {
        await api('POST', '/me/hold/request', { note: note.value });
        notice('The administrator has been asked.');
      });
    });
    card.append(h('p', {}, 'First ', h('a', { href: '#password' }, 'change your password'), '. Then:'), form);
  }
  return card;
}

// A rough strength estimate: the length and the kinds of characters, less for repeats and
// sequences. The server's policy and breached-password list decide; this only guides.
function strength(pw) {
  if (!pw) return 0;
  let pool = 0;
  if (/[a-z]/.test(pw)) pool += 26;
  if (/[A-Z]/.test(pw)) pool += 26;
  if (/[0-9]/.test(pw)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(pw)) pool += 33;
  let distinct = new Set(pw).size;
  let bits = Math.log2(Math.max(pool, 2)) * Math.min(pw.length, distinct * 2);
  if (/(.)\1\1/.test(pw) || /(0123|1234|2345|abcd|qwer|asdf|password)/i.test(pw)) bits *= 0.6;
  return Math.round(bits);
}

async function password(root) {
  const current = h('input', { id: 'pw-current', type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { id: 'pw-new', type: 'password', autocomplete: 'new-password', required: true, minlength: 12 });
  const again = h('input', { id: 'pw-again', type: 'password', autocomplete: 'new-password', required: true });
  const meter = h('meter', { id: 'pw-meter', min: 0, max: 100, low: 50, high: 75, optimum: 100, value: 0, 'aria-label': 'password strength' });
  const verdict = h('span', { id: 'pw-verdict', 'aria-live': 'polite' }, '');
  next.addEventListener('input', () => {
    const b = strength(next.value);
    meter.value = Math.min(100, b);
    verdict.textContent = b < 50 ? 'weak' : b < 75 ? 'fair' : 'strong';
  });
  const save = h('button', { type: 'submit', id: 'pw-save' }, 'Change password');
  const form = h('form', { class: 'card' },
    h('p', {}, h('label', { for: 'pw-current' }, 'Current password'), current),
    h('p', {}, h('label', { for: 'pw-new' }, 'New password (12 characters at least; a few unrelated words work well)'), next,
      h('span', { class: 'meter' }, meter, ' ', verdict)),
    h('p', {}, h('label', { for: 'pw-again' }, 'New password again'), again),
    h('p', {}, save));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (next.value !== again.value) { notice('The new passwords differ.', 'error'); return; }
    act(save, async () => {
      await api('PUT', '/me/password', { current: current.value, new: next.value });
      form.reset();
      meter.value = 0;
      verdict.textContent = '';
      notice('Password changed. Your other sessions are logged out; mail clients that use your password need the ' +
        'new one. App passwords keep working: revoke any you do not trust under App passwords.');
    });
  });
  root.append(form);
}

async function apps(root) {
  const list = await api('GET', '/me/app-passwords');
  root.append(h('p', {}, 'An app password is a password for one mail client. If a device is lost, revoke its ',
    'password and nothing else changes.'));
  const name = h('input', { id: 'app-name', required: true, maxlength: 64, placeholder: 'phone' });
  const imap = h('input', { id: 'app-imap', type: 'checkbox', checked: true });
  const smtp = h('input', { id: 'app-smtp', type: 'checkbox', checked: true });
  const pw = h('input', { id: 'app-account-password', type: 'password', autocomplete: 'current-password', required: true });
  const add = h('button', { type: 'submit', id: 'app-add' }, 'Create');
  const shown = h('div', { id: 'app-new' });
  const form = h('form', { class: 'inline' },
    h('label', { for: 'app-name' }, 'Client'), name,
    h('label', { for: 'app-imap', class: 'check' }, imap, 'reading (IMAP)'),
    h('label', { for: 'app-smtp', class: 'check' }, smtp, 'sending (SMTP)'),
    h('label', { for: 'app-account-password' }, 'Your password'), pw, add);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const scopes = [imap.checked ? 'imap' : null, smtp.checked ? 'submission' : null].filter(Boolean).join(',');
    if (!scopes) { notice('Choose reading, sending or both.', 'error'); return; }
    act(add, async () => {
      const p = await api('POST', '/me/app-passwords', { name: name.value.trim(), scopes, password: pw.value });
      await rerender(root, apps);
      notice('The app password for ' + p.name + ' is made: copy it now, it is shown only once.');
      const box = document.getElementById('app-new');
      box.append(h('div', { class: 'card secret' }, h('p', {}, 'The password for ' + p.name + ' (shown only now):'),
        h('p', {}, h('code', { id: 'app-password' }, p.password), ' ', copyButton(p.password)),
        h('p', {}, 'Enter it in the mail client as the password, with your address as the user name.')));
    });
  });
  root.append(form, shown, table(['Client', 'For', 'Created', 'Last used', ''], list.map((p) => h('tr', {},
    h('td', {}, p.name), h('td', {}, p.scopes), h('td', {}, when(p.created)),
    h('td', {}, when(p.last_used) + (p.last_ip ? ' from ' + p.last_ip : '')),
    h('td', { class: 'actions' }, h('button', { type: 'button', class: 'small danger', onclick: (ev) => act(ev.target, async () => {
      await api('DELETE', '/me/app-passwords/' + encodeURIComponent(p.name));
      notice('The app password of ' + p.name + ' is revoked.');
      await rerender(root, apps);
    }) }, 'Revoke')))), 'No app passwords yet.'));
}

async function totp(root) {
  const me = await api('GET', '/me');
  if (me.totp) {
    root.append(h('p', { id: 'totp-state' }, 'Two-factor login is on: logging in to these pages asks for a code from your ',
      'authenticator app. Mail clients use app passwords and are not affected.'));
    const code = h('input', { id: 'totp-off-code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true });
    const off = h('button', { type: 'submit', id: 'totp-off', class: 'danger' }, 'Turn off');
    const form = h('form', { class: 'inline' }, h('label', { for: 'totp-off-code' }, 'A current code'), code, off);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(off, async () => {
        await api('DELETE', '/me/totp?code=' + encodeURIComponent(code.value.trim()));
        notice('Two-factor login is off.');
        await rerender(root, totp);
      });
    });
    root.append(form);
    return;
  }
  root.append(h('p', { id: 'totp-state' }, 'Two-factor login is off. With it on, a stolen password alone no longer opens ',
    'these pages: logging in also asks for a code from an authenticator app on your phone.'));
  const start = h('button', { type: 'button', id: 'totp-start' }, 'Set up');
  const box = h('div', { id: 'totp-setup' });
  start.addEventListener('click', () => act(start, async () => {
    const e = await api('POST', '/me/totp');
    clear(box);
    const img = h('img', { id: 'totp-qr', alt: 'QR code for your authenticator app', width: 220, height: 220,
      src: 'data:image/svg+xml;base64,' + btoa(e.qr_svg) });
    const code = h('input', { id: 'totp-code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true });
    const pw = h('input', { id: 'totp-password', type: 'password', autocomplete: 'current-password', required: true });
    const on = h('button', { type: 'submit', id: 'totp-on' }, 'Turn on');
    const form = h('form', { class: 'card' },
      h('p', {}, '1. Scan this code with your authenticator app (or open the link on the phone that has it):'),
      h('p', { class: 'qr' }, img),
      h('p', {}, h('a', { href: e.uri }, 'Open in authenticator app'), ' · secret: ', h('code', { id: 'totp-secret' }, e.secret)),
      h('p', {}, h('label', { for: 'totp-code' }, '2. The code the app shows now'), code),
      h('p', {}, h('label', { for: 'totp-password' }, '3. Your password'), pw),
      h('p', {}, on));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(on, async () => {
        await api('PUT', '/me/totp', { secret: e.secret, code: code.value.trim(), password: pw.value });
        notice('Two-factor login is on.');
        await rerender(root, totp);
      });
    });
    box.append(form);
    code.focus();
  }));
  root.append(h('p', {}, start), box);
}

// Forwarding: where the mail also goes. Setting it asks for the password; turning it off
// does not. The server refuses it while the outgoing mail is held (it pauses then).
async function forwarding(root) {
  const f = await api('GET', '/me/forward');
  const state = h('p', { id: 'fwd-state' });
  if (!f.to) state.append('Your mail is not forwarded.');
  else state.append('Your mail is forwarded to ', h('strong', { id: 'fwd-to' }, f.to),
    f.keep ? ', and a copy stays here.' : '; no copy stays here.');
  root.append(state);
  if (f.paused)
    root.append(h('div', { class: 'card warn', role: 'alert', id: 'fwd-paused' },
      h('p', {}, 'Forwarding is paused while your outgoing mail is held: your mail stays here until the hold ends.')));
  root.append(h('p', {}, 'Spam is never forwarded: it stays in your Junk folder here. Mail to an address elsewhere keeps ',
    'passing its sender\u2019s checks there (SRS and an ARC seal).'));
  if (f.to) {
    const off = h('button', { type: 'button', id: 'fwd-off', class: 'danger' }, 'Stop forwarding');
    off.addEventListener('click', () => act(off, async () => {
      await api('DELETE', '/me/forward');
      notice('Forwarding is off: your mail stays here.');
      await rerender(root, forwarding);
    }));
    root.append(h('p', {}, off));
  }
  if (!f.allowed) {
    root.append(h('p', { id: 'fwd-admin' }, 'On this server the administrator sets forwarding: ask them.'));
    return;
  }
  // Text, not type=email: the server takes every address RFC 5321 allows (quoted local parts too).
  const to = h('input', { id: 'fwd-address', type: 'text', inputmode: 'email', required: true, maxlength: 320, autocomplete: 'email',
    spellcheck: 'false', autocapitalize: 'off',
    placeholder: 'you@elsewhere.example', value: f.to });
  const keep = h('input', { id: 'fwd-keep', type: 'checkbox', checked: f.to ? f.keep : true });
  const pw = h('input', { id: 'fwd-password', type: 'password', autocomplete: 'current-password', required: true });
  const save = h('button', { type: 'submit', id: 'fwd-save' }, f.to ? 'Change' : 'Forward');
  const form = h('form', { class: 'card' },
    h('p', {}, h('label', { for: 'fwd-address' }, 'Forward my mail to'), to),
    h('p', {}, h('label', { for: 'fwd-keep', class: 'check' }, keep, 'keep a copy here too')),
    h('p', {}, h('label', { for: 'fwd-password' }, 'Your password'), pw),
    h('p', {}, save));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(save, async () => {
      const r = await api('PUT', '/me/forward', { to: to.value.trim(), keep: keep.checked, password: pw.value });
      notice('Your mail now goes to ' + r.to + (r.keep ? ' as well.' : ' (no copy stays here).'));
      await rerender(root, forwarding);
    });
  });
  root.append(form);
}

async function events(root) {
  const list = await api('GET', '/me/events');
  root.append(h('p', {}, 'Logins to your account and changes to it. A login you do not recognize means someone has ',
    'your password: ', h('a', { href: '#password' }, 'change it'), '.'));
  root.append(table(['When', 'What', 'From', 'How'], list.map((e) => h('tr', {},
    h('td', {}, new Date(e.ts).toLocaleString()),
    h('td', {}, (e.action ? e.action.replace(/_/g, ' ') : e.event.replace(/_/g, ' ')) + (e.to ? ' to ' + e.to : '')),
    h('td', {}, e.ip || ''), h('td', {}, [e.service, e.client].filter(Boolean).join(', ')))), 'Nothing yet.'));
}

// Share a link to your own mailbox: the page, a bookmarklet that opens it with the page one
// is on, and a share token per device for shortcuts and scripts, each revocable. The
// bookmarklet carries no token: it runs inside the page it is clicked on, which could read one.
function bookmarklet() {
  return "javascript:void(window.open('" + location.origin + "/share?url='+encodeURIComponent(location.href)+" +
    "'&title='+encodeURIComponent(document.title)))";
}

async function shareLinks(root) {
  const list = await api('GET', '/me/share-tokens');
  root.append(h('p', {}, 'Send a web page to your own mailbox to read later: ', h('a', { href: '/share', id: 'share-page' }, 'share a link'),
    '. On a phone, add this site to the home screen and it appears in the browser\u2019s Share menu.'));
  const code = bookmarklet();
  root.append(h('p', {}, 'On a computer, drag this bookmarklet to your bookmarks bar, then click it on any page: ',
    h('a', { href: code, id: 'share-bookmarklet', class: 'badge' }, 'Send to mailkeep'), ' ', copyButton(code, 'Copy the bookmarklet')));
  root.append(h('h2', {}, 'Share tokens'), h('p', {}, 'A shortcut (iOS Shortcuts) or a script shares with a token of its own: ',
    'it can share links into your mailbox and do nothing else, and you can revoke it here.'));
  const name = h('input', { id: 'share-token-name', required: true, maxlength: 64, placeholder: 'iPhone shortcut' });
  const add = h('button', { type: 'submit', id: 'share-token-add' }, 'Create');
  const form = h('form', { class: 'inline' }, h('label', { for: 'share-token-name' }, 'Device'), name, add);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(add, async () => {
      const t = await api('POST', '/me/share-tokens', { name: name.value.trim() });
      await rerender(root, shareLinks);
      const curl = 'curl -X POST ' + location.origin + '/api/v1/share -H \'Authorization: Bearer ' + t.token +
        '\' -H \'Content-Type: application/json\' -d \'{"url": "https://example.org/"}\'';
      document.getElementById('share-token-new').append(h('div', { class: 'card secret', role: 'status' },
        h('p', {}, 'The share token for ', h('strong', {}, t.name), ' (shown only now): ', h('code', { id: 'share-token-value' }, t.token), ' ', copyButton(t.token)),
        h('p', {}, 'The shortcut or script posts the link with it:'),
        h('pre', { class: 'message-text', id: 'share-curl' }, curl)));
    });
  });
  root.append(form, h('div', { id: 'share-token-new' }));
  root.append(table(['Device', 'Created', 'Last used', ''], list.map((t) => h('tr', {},
    h('td', {}, t.name), h('td', {}, when(t.created)), h('td', {}, when(t.last_used) + (t.last_ip ? ' from ' + t.last_ip : '')),
    h('td', { class: 'actions' }, h('button', {
      type: 'button', class: 'small danger', 'aria-label': 'Revoke ' + t.name,
      onclick: (ev) => act(ev.target, async () => {
        await api('DELETE', '/me/share-tokens/' + encodeURIComponent(t.name));
        await rerender(root, shareLinks);
        notice('Revoked: that device can no longer share links.');
      }),
    }, 'Revoke')))), 'No share tokens yet.'));
}

async function sessions(root) {
  const list = await api('GET', '/me/sessions');
  root.append(table(['Browser', 'From', 'Logged in', 'Last seen', ''], list.map((s) => h('tr', {},
    h('td', {}, s.agent || 'unknown', s.current ? h('span', { class: 'badge good' }, 'this one') : null),
    h('td', {}, s.ip), h('td', {}, when(s.created)), h('td', {}, when(s.last_seen)),
    h('td', { class: 'actions' }, s.current ? null : h('button', { type: 'button', class: 'small', onclick: (ev) => act(ev.target, async () => {
      await api('DELETE', '/me/sessions/' + s.id);
      notice('That session is logged out.');
      await rerender(root, sessions);
    }) }, 'Log out')))), 'No sessions.'));
}

async function start() {
  const main = document.getElementById('main');
  const nav = document.getElementById('nav');
  let s;
  try { s = await session(); } catch (e) { fail(e); return; }
  if (!s) { clear(nav); loginForm(main, 'Your mail account', start); return; }
  header(nav, views, s, s.admin ? { href: '/admin/', label: 'Admin' } : null);
  window.onhashchange = () => route(main, views, 'overview');
  route(main, views, 'overview');
}

start();
