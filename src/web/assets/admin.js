// admin.js: the admin's pages: dashboard, domains and their DNS records, accounts, holds,
// the queue, security (bans and the security log), reports (spam caught and why, DMARC, the
// last check). Everything comes from /api/v1/.
import { api, h, clear, rerender, when, bytes, notice, fail, act, session, loginForm, header, route, table, copyButton } from './mk.js';

const views = {
  dashboard: { title: 'Dashboard', render: dashboard },
  domains: { title: 'Domains', render: domains },
  accounts: { title: 'Accounts', render: accounts },
  holds: { title: 'Holds', render: holds },
  queue: { title: 'Queue', render: queue },
  security: { title: 'Security', render: security },
  reports: { title: 'Reports', render: reports },
};

function card(title, value, detail, href) {
  return h(href ? 'a' : 'div', { class: 'card stat', href }, h('span', { class: 'stat-title' }, title),
    h('strong', { class: 'stat-value' }, String(value)), detail ? h('span', { class: 'stat-detail' }, detail) : null);
}

function recordLine(line) {
  try {
    const r = JSON.parse(line);
    const who = r.user || r.by || r.network || r.ip || '';
    const what = r.action ? r.event + ': ' + r.action : r.event;
    return h('tr', {}, h('td', {}, new Date(r.ts).toLocaleString()), h('td', {}, what), h('td', {}, who),
      h('td', {}, r.service || r.via || ''));
  } catch (e) {
    return h('tr', {}, h('td', { colspan: 4 }, line));
  }
}

async function dashboard(root) {
  const [d, log] = await Promise.all([api('GET', '/dashboard'), api('GET', '/security/log?limit=15')]);
  const m = d.mail_today;
  const cert = d.certificate;
  root.append(h('div', { class: 'cards' },
    card('Mail in today', m.received, m.junked + ' junked, ' + m.rejected + ' refused', '#security'),
    card('Mail out today', m.delivered, m.bounced + ' bounced, ' + m.deferred + ' deferred', '#queue'),
    card('Queue', d.queue.messages, d.queue.held_recipients + ' recipients held', '#queue'),
    card('Holds waiting', d.held, d.held ? 'accounts that may be compromised' : 'none', '#holds'),
    card('Banned networks', d.bans, null, '#security'),
    card('Accounts', d.accounts, null, '#accounts'),
    card('Certificate', cert ? cert.days_left + ' days' : 'none', cert ? (cert.self_signed ? 'self-signed' : 'expires ' +
      when(cert.expires)) : 'no certificate is loaded', null),
    card('Security log', d.security_log.verified ? 'intact' : 'DAMAGED', d.security_log.records + ' records', '#security'),
    card('Log shipping', d.log_shipping.length ? d.log_shipping.filter((l) => l.connected).length + ' of ' +
      d.log_shipping.length + ' up' : 'off', d.log_shipping.map((l) => l.collector + (l.behind ? ' (' + l.behind +
      ' behind)' : '')).join(', ') || 'no collectors configured', null)));
  root.append(h('h2', {}, 'Last self-check'));
  if (!d.check) {
    root.append(h('p', { id: 'check-status' }, 'mailkeep check has not run yet. Run it on the server: ', h('code', {}, 'mailkeep check')));
  } else {
    root.append(h('p', { id: 'check-status', class: d.check.failed.length ? 'bad' : 'good' },
      (d.check.failed.length ? d.check.failed.length + ' of ' + d.check.checks + ' checks failed' : 'All ' +
        d.check.checks + ' checks passed') + ' (' + when(d.check.ran) + ').'));
    if (d.check.failed.length)
      root.append(table(['Check', 'What', 'Problem', 'Fix'], d.check.failed.map((f) => h('tr', {},
        h('td', {}, f.check || ''), h('td', {}, f.subject || ''), h('td', {}, f.problem || ''), h('td', {}, f.fix || ''))), ''));
  }
  root.append(h('h2', {}, 'Recent security events'),
    table(['When', 'Event', 'Who', 'How'], log.recent.slice().reverse().map(recordLine), 'No events yet.'));
}

// The domain whose records the domains view shows once it is drawn again (after an add).
let recordsOf = null;

async function domains(root) {
  const list = await api('GET', '/domains');
  const name = h('input', { id: 'domain-name', required: true, placeholder: 'example.org' });
  const add = h('button', { type: 'submit', id: 'domain-add' }, 'Add domain');
  const form = h('form', { class: 'inline' }, h('label', { for: 'domain-name' }, 'New domain'), name, add);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(add, async () => {
      const d = await api('POST', '/domains', { name: name.value.trim() });
      notice('Domain ' + d.name + ' added with new DKIM keys. Publish its records below.');
      recordsOf = d.name;
      await rerender(root, domains);
    });
  });
  const records = h('div', { id: 'records' });
  async function showRecords(d) {
    clear(records);
    const plan = await api('GET', '/domains/' + encodeURIComponent(d) + '/dns');
    records.append(h('h2', {}, 'DNS records for ' + d),
      h('p', {}, 'Publish each record at your DNS provider. ', h('strong', {}, 'Name'), ' is the record\'s owner; ',
        'some providers want it without the zone.'),
      table(['Type', 'Name', 'Value', 'Why', ''], plan.records.map((r) => h('tr', {},
        h('td', {}, r.type), h('td', { class: 'mono' }, r.owner), h('td', { class: 'mono wrap' }, r.value),
        h('td', {}, r.why), h('td', {}, copyButton(r.value)))), 'No records.'));
    for (const n of plan.notes) records.append(h('p', { class: 'note' }, n));
    const results = h('div', { id: 'dns-check', 'aria-live': 'polite' });
    const check = h('button', { type: 'button', id: 'dns-check-run' }, 'Check what is published now');
    check.addEventListener('click', () => act(check, async () => {
      clear(results).append(h('p', { class: 'empty' }, 'Asking DNS\u2026 (up to 20 s)'));
      const r = await api('GET', '/domains/' + encodeURIComponent(d) + '/dns/check');
      const label = { ok: 'ok', fail: 'wrong', unknown: 'no answer' };
      clear(results).append(table(['', 'Record', 'Problem', 'Fix'], r.findings.map((f) => h('tr', {},
        h('td', {}, h('span', { class: 'badge ' + (f.outcome === 'ok' ? 'good' : 'bad') }, label[f.outcome] || f.outcome)),
        h('td', { class: 'mono wrap' }, f.subject), h('td', {}, f.problem), h('td', {}, f.fix))), 'Nothing to check.'));
    }));
    records.append(h('p', {}, check), results);
    records.scrollIntoView();
  }
  root.append(form, table(['Domain', ''], list.map((d) => h('tr', {},
    h('td', {}, d),
    h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'small', onclick: (ev) => act(ev.target, () => showRecords(d)) }, 'DNS records'),
      h('button', { type: 'button', class: 'small danger', onclick: (ev) => act(ev.target, async () => {
        if (!confirm('Stop hosting ' + d + '?')) return;
        await api('DELETE', '/domains/' + encodeURIComponent(d));
        notice(d + ' removed.');
        await rerender(root, domains);
      }) }, 'Remove')))), 'No domains yet.'), records);
  if (recordsOf) {
    const d = recordsOf;
    recordsOf = null;
    await showRecords(d);
  }
}

const kPage = 100;

async function accounts(root) {
  const address = h('input', { id: 'account-address', type: 'email', required: true, autocomplete: 'off' });
  const password = h('input', { id: 'account-password', type: 'password', required: true, autocomplete: 'new-password', minlength: 12 });
  const add = h('button', { type: 'submit', id: 'account-add' }, 'Add account');
  const form = h('form', { class: 'inline' },
    h('label', { for: 'account-address' }, 'Address'), address,
    h('label', { for: 'account-password' }, 'Password'), password, add);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(add, async () => {
      const a = await api('POST', '/accounts', { address: address.value.trim(), password: password.value });
      notice('Account ' + a.address + ' added.');
      await rerender(root, accounts);
    });
  });
  // A page of kPage at a time, searched on the server: a large domain has thousands.
  const search = h('input', { id: 'account-search', type: 'search', placeholder: 'part of an address', autocomplete: 'off' });
  const find = h('form', { class: 'inline', role: 'search' }, h('label', { for: 'account-search' }, 'Find'), search,
    h('button', { type: 'submit', class: 'small' }, 'Search'));
  const rows = h('tbody', {});
  const more = h('button', { type: 'button', id: 'account-more', hidden: true }, 'Show more');
  const empty = h('p', { class: 'empty', hidden: true }, 'No accounts.');
  let last = '';
  const row = (a) => h('tr', {},
    h('td', {}, a.address),
    h('td', {}, bytes(a.used_bytes) + (a.quota_bytes ? ' of ' + bytes(a.quota_bytes) : '')),
    h('td', {}, [a.held ? h('span', { class: 'badge bad' }, 'held') : null,
      a.password_breached ? h('span', { class: 'badge bad' }, 'breached password') : null,
      a.totp ? h('span', { class: 'badge good' }, 'TOTP') : null, a.disabled ? h('span', { class: 'badge' }, 'disabled') : null,
      a.forward_to ? h('span', { class: 'badge', title: a.forward_keep ? 'a copy stays here' : 'no copy stays here' },
        'forwards to ' + a.forward_to) : null]),
    h('td', { class: 'actions' }, h('button', { type: 'button', class: 'small danger', onclick: (ev) => act(ev.target, async () => {
      if (!confirm('Remove ' + a.address + ' and all its mail? This cannot be undone.')) return;
      await api('DELETE', '/accounts/' + encodeURIComponent(a.address));
      notice(a.address + ' removed.');
      await rerender(root, accounts);
    }) }, 'Remove')));
  async function load(fresh) {
    if (fresh) { clear(rows); last = ''; }
    const q = new URLSearchParams({ limit: String(kPage) });
    if (search.value.trim()) q.set('q', search.value.trim());
    if (last) q.set('after', last);
    const list = await api('GET', '/accounts?' + q);
    for (const a of list) rows.append(row(a));
    if (list.length) last = list[list.length - 1].address;
    more.hidden = list.length < kPage;
    empty.hidden = rows.children.length > 0;
  }
  find.addEventListener('submit', (ev) => { ev.preventDefault(); load(true).catch(fail); });
  more.addEventListener('click', () => act(more, () => load(false)));
  root.append(form, find, h('div', { class: 'table' }, h('table', {},
    h('thead', {}, h('tr', {}, ['Address', 'Storage', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)))), rows)),
  empty, h('p', {}, more));
  await load(true);
}

async function holds(root) {
  const list = await api('GET', '/holds');
  root.append(h('p', {}, 'Containment holds an account\'s outgoing mail when it behaves like a compromised one. ',
    'Release it when the user has changed their password, or delete the held mail.'));
  const reading = h('div', { id: 'held-mail' });
  async function showHeld(x) {
    clear(reading);
    const q = (await api('GET', '/queue')).filter((m) => m.sender_account === x.account_id);
    reading.append(h('h2', {}, 'Held mail of ' + x.address));
    for (const m of q) {
      const full = await api('GET', '/queue/' + m.id);
      const fields = full.header.filter((f) => /^(from|to|cc|subject|date)$/i.test(f.name));
      reading.append(h('article', { class: 'card held-message' },
        h('dl', { class: 'facts' }, fields.flatMap((f) => [h('dt', {}, f.name), h('dd', {}, f.value)])),
        h('p', { class: 'note' }, 'Envelope recipients: ' + m.recipients.map((r) => r.rcpt + ' (' + r.state + ')').join(', ')),
        h('pre', { class: 'message-text' }, full.text || '(no plain-text part)')));
    }
    if (!q.length) reading.append(h('p', { class: 'empty' }, 'No held message is queued.'));
  }
  root.append(table(['Account', 'Why', 'Held messages', ''], list.map((x) => h('tr', {},
    h('td', {}, x.address, x.forward_to ? h('div', { class: 'note' }, 'forwards its mail to ' + x.forward_to +
      ' (paused while held; check it is the user\u2019s before releasing)') : null),
    h('td', {}, x.reason), h('td', {}, String(x.held_messages)),
    h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'small', onclick: (ev) => act(ev.target, () => showHeld(x)) }, 'Read'),
      h('button', { type: 'button', class: 'small', onclick: (ev) => act(ev.target, async () => {
        const r = await api('POST', '/holds/' + encodeURIComponent(x.address) + '/release');
        notice(x.address + ' may send again; ' + r.messages + ' message(s) released.');
        await rerender(root, holds);
      }) }, 'Release'),
      h('button', { type: 'button', class: 'small danger', onclick: (ev) => act(ev.target, async () => {
        if (!confirm('Delete the held mail of ' + x.address + ' and let it send again?')) return;
        const r = await api('POST', '/holds/' + encodeURIComponent(x.address) + '/delete');
        notice(x.address + ' may send again; ' + r.messages + ' held message(s) deleted.');
        await rerender(root, holds);
      }) }, 'Delete held mail')))), 'No account is held.'), reading);
}

async function queue(root) {
  const list = await api('GET', '/queue');
  const action = (m, verb, label, danger) => h('button', { type: 'button', class: 'small' + (danger ? ' danger' : ''),
    onclick: (ev) => act(ev.target, async () => {
      if (danger && !confirm('Drop message ' + m.id + ' without telling its sender?')) return;
      const r = await api('POST', '/queue/' + m.id + '/' + verb);
      notice('Message ' + m.id + ': ' + r.recipients + ' recipient(s) ' + label.toLowerCase() + '.');
      await rerender(root, queue);
    }) }, label);
  root.append(table(['#', 'From', 'Recipients', 'Queued', ''], list.map((m) => h('tr', {},
    h('td', {}, String(m.id)), h('td', {}, m.from || '<>'),
    h('td', {}, m.recipients.map((r) => h('div', {}, r.rcpt + ' ', h('span', { class: 'badge' + (r.state === 'held' ? ' bad' : '') }, r.state),
      r.attempts ? ' ' + r.attempts + ' attempt(s)' : '', r.last_error ? h('div', { class: 'note' }, r.last_error) : null))),
    h('td', {}, when(m.created)),
    h('td', { class: 'actions' }, action(m, 'retry', 'Retry'), action(m, 'hold', 'Hold'), action(m, 'release', 'Release'),
      bounce(root, m), action(m, 'drop', 'Drop', true)))), 'The queue is empty.'));
}

// Returns a message to its sender with a bounce that says why (POST /queue/{id}/bounce).
function bounce(root, m) {
  return h('button', { type: 'button', class: 'small', onclick: (ev) => act(ev.target, async () => {
    const reason = prompt('Return message ' + m.id + ' to ' + (m.from || 'its sender') + '. The reason, for the sender to read:',
      'returned by the postmaster');
    if (reason === null) return;
    const r = await api('POST', '/queue/' + m.id + '/bounce', { reason });
    notice('Message ' + m.id + ' returned to its sender (' + r.recipients + ' recipient(s) named in the bounce).');
    await rerender(root, queue);
  }) }, 'Return to sender');
}

async function security(root) {
  const [bans, log] = await Promise.all([api('GET', '/bans'), api('GET', '/security/log?limit=100')]);
  root.append(h('h2', {}, 'Security log'),
    h('p', { class: log.verified ? 'good' : 'bad', id: 'log-status' },
      log.verified ? 'The hash chain of all ' + log.records + ' records verifies.' : 'The log does not verify: ' + log.problem));
  root.append(h('h2', {}, 'Banned networks'), table(['Network', 'Until', 'Bans', 'Why', ''], bans.map((b) => h('tr', {},
    h('td', { class: 'mono' }, b.network), h('td', {}, when(b.until)), h('td', {}, String(b.count)), h('td', {}, b.reason),
    h('td', { class: 'actions' }, h('button', { type: 'button', class: 'small', onclick: (ev) => act(ev.target, async () => {
      // An IPv6 network ("2001:db8:1:2::/64") is named by its address: a slash cannot be in a path.
      await api('DELETE', '/bans/' + encodeURIComponent(b.network.split('/')[0]));
      notice('The ban of ' + b.network + ' is lifted.');
      await rerender(root, security);
    }) }, 'Lift')))), 'No network is banned.'));
  root.append(h('h2', {}, 'Recent events'),
    table(['When', 'Event', 'Who', 'How'], log.recent.slice().reverse().map(recordLine), 'No events yet.'));
}

async function start() {
  const main = document.getElementById('main');
  const nav = document.getElementById('nav');
  let s;
  try { s = await session(); } catch (e) { fail(e); return; }
  if (!s) { clear(nav); loginForm(main, 'mailkeep admin', start); return; }
  if (!s.admin) {
    clear(nav);
    clear(main).append(h('div', { class: 'card' }, h('h1', {}, 'Not an administrator'),
      h('p', {}, s.address + ' is not an administrator of this server. '),
      h('p', {}, h('a', { href: '/account/' }, 'Go to your account page'))));
    return;
  }
  header(nav, views, s, { href: '/account/', label: 'Your account' });
  window.onhashchange = () => route(main, views, 'dashboard');
  route(main, views, 'dashboard');
}

start();

// What the spam filter caught in the last 30 days and why, what users corrected, who sends
// mail as the hosted domains (DMARC reports), and the last `mailkeep check`.
async function reports(root) {
  const [spam, dmarc, check] = await Promise.all([api('GET', '/reports/spam?days=30'), api('GET', '/reports/dmarc?days=30'),
    api('GET', '/check')]);
  const t = spam.total;
  root.append(h('h2', {}, 'Spam, last 30 days'), h('div', { class: 'cards', id: 'spam-totals' },
    card('Received', t.received, 'on the MX'),
    card('Delivered', t.accepted, 'to inboxes'),
    card('Put in Junk', t.junked, t.received ? Math.round(100 * t.junked / t.received) + '% of received' : ''),
    card('Refused', t.rejected, 'at SMTP'),
    card('Taken out of Junk', t.moved_out_of_junk, 'the filter\u2019s mistakes users corrected'),
    card('Marked as spam', t.marked_spam, 'moved to Junk, or deleted unread from it')));
  const reasons = Object.entries(t.caught).sort((a, b) => b[1] - a[1]);
  root.append(h('h3', {}, 'What caught it'), table(['Reason', 'Messages'], reasons.map(([k, v]) => h('tr', {},
    h('td', {}, k), h('td', {}, String(v)))), 'Nothing was junked or refused.'));
  const days = spam.days.filter((d) => d.received || d.junked || d.rejected).reverse();
  root.append(h('h3', {}, 'By day'), table(['Day', 'Received', 'Delivered', 'Junk', 'Refused', 'Out of Junk'],
    days.map((d) => h('tr', {}, h('td', {}, d.day), h('td', {}, String(d.received)), h('td', {}, String(d.accepted)),
      h('td', {}, String(d.junked)), h('td', {}, String(d.rejected)), h('td', {}, String(d.moved_out_of_junk)))),
    'No mail yet.'));
  root.append(h('h2', {}, 'Who sends as your domains (DMARC reports, 30 days)'));
  if (!dmarc.domains.length)
    root.append(h('p', { class: 'empty' }, 'No DMARC aggregate reports received. They come to the rua address of each domain\u2019s _dmarc record.'));
  for (const d of dmarc.domains) {
    root.append(h('h3', {}, d.domain + ': ' + d.messages + ' messages in ' + d.reports + ' reports, ' + d.pass + ' passed'),
      table(['Sending address', 'Messages', 'Passed', 'Failed', 'Receivers did', 'Reported by'], d.sources.map((x) => h('tr', {},
        h('td', { class: 'mono' }, x.address), h('td', {}, String(x.messages)), h('td', {}, String(x.pass)),
        h('td', {}, x.fail ? h('span', { class: 'badge bad' }, String(x.fail) + ' not authenticated') : '0'),
        h('td', {}, Object.entries(x.dispositions).map(([k, v]) => k + ' ' + v).join(', ')),
        h('td', {}, x.reporters.join(', ')))), 'No sources.'));
  }
  root.append(h('h2', {}, 'Last check'));
  if (!check) {
    root.append(h('p', { class: 'empty' }, 'mailkeep check has not run yet: run it on the server.'));
    return;
  }
  root.append(h('p', {}, 'Ran ' + when(check.ran) + ': ' + check.checks + ' checks.'),
    table(['', 'What', 'Problem', 'Fix'], check.findings.map((f) => h('tr', {},
      h('td', {}, h('span', { class: 'badge ' + (f.outcome === 'ok' ? 'good' : 'bad') }, f.outcome)),
      h('td', { class: 'wrap' }, f.subject), h('td', {}, f.problem || ''), h('td', {}, f.fix || ''))), 'No findings.'));
}
