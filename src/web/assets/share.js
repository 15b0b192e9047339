// share.js: share a link into your own mailbox. Opened by the form here, by a phone's share
// sheet (the manifest's share_target: /share?url=...&title=...&text=...) or by the
// bookmarklet (/share?url=...&title=...). A link that arrives this way fills the form and the
// Send button takes the focus: one tap sends it. It is never sent without that tap, since any
// web site can open this address with a link of its choosing (a cross-site request the page
// would otherwise make on the user's behalf). The address is then cleared from the address
// bar and the history: a shared link can carry a secret.
import { api, h, clear, notice, act, session, loginForm, fail } from './mk.js';

const main = document.getElementById('main');

function incoming() {
  const query = new URLSearchParams(location.search);
  const get = (k) => query.get(k) || '';
  let url = get('url');
  const text = get('text');
  if (!url) {
    const m = /https?:\/\/[^\s"<>]+/.exec(text);
    if (m) url = m[0];
  }
  return { url, title: get('title'), note: get('note'), tag: get('tag') };
}

function field(id, label, input) {
  return h('p', {}, h('label', { for: id }, label), input);
}

function showForm(values) {
  clear(main);
  const url = h('input', { id: 'share-url', type: 'url', required: true, value: values.url || '', placeholder: 'https://…', inputmode: 'url' });
  const title = h('input', { id: 'share-title', maxlength: 300, value: values.title || '', placeholder: 'the page\u2019s own title' });
  const note = h('textarea', { id: 'share-note', rows: 2, maxlength: 2000 }, values.note || '');
  const tag = h('input', { id: 'share-tag', maxlength: 32, pattern: '[A-Za-z0-9_\\-]*', value: values.tag || '', placeholder: 'later' });
  const send = h('button', { type: 'submit', id: 'share-send' }, 'Send to my mailbox');
  const form = h('form', { class: 'card', 'aria-labelledby': 'share-heading' },
    h('h1', { id: 'share-heading' }, 'Share a link'),
    h('p', { class: 'note' }, 'The page\u2019s title, description and picture arrive in your mailbox as a mail, in the ',
      'folder the tag names (\u201cRead later\u201d without one).'),
    field('share-url', 'Link', url),
    field('share-title', 'Title (optional)', title),
    field('share-note', 'Note (optional)', note),
    field('share-tag', 'Tag: the folder (optional)', tag),
    h('p', {}, send));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(send, () => share({ url: url.value.trim(), title: title.value.trim(), note: note.value, tag: tag.value.trim() }));
  });
  main.append(form);
  (values.url ? send : url).focus();
}

function showResult(out, values) {
  clear(main);
  const card = h('div', { class: 'card', id: 'share-result', role: 'status' },
    h('h1', {}, 'Sent to \u201c', h('span', { id: 'share-folder' }, out.folder), '\u201d'),
    h('p', {}, h('strong', { id: 'share-title-out' }, out.title)),
    h('p', { class: 'note' }, out.preview
      ? (out.image ? 'With the page\u2019s description and picture.' : 'With the page\u2019s description.')
      : 'Without a preview: ', out.preview ? null : h('span', { id: 'share-failure' }, out.failure)),
    out.image_note ? h('p', { class: 'note' }, 'No picture: ', out.image_note) : null,
    h('p', {}, h('button', { type: 'button', id: 'share-another', onclick: () => showForm({ tag: values.tag }) }, 'Share another link')));
  main.append(card);
}

async function share(values) {
  notice('Fetching the page\u2026', 'info');
  const body = { url: values.url };
  for (const k of ['title', 'note', 'tag']) if (values[k]) body[k] = values[k];
  const out = await api('POST', '/share', body);
  document.getElementById('notice').hidden = true;
  showResult(out, values);
}

async function start() {
  const values = incoming();
  // (A fragment too: an older bookmarklet put a share token there.)
  if (location.search || location.hash) history.replaceState(null, '', location.pathname);
  if (!(await session())) {
    loginForm(main, 'Log in to share a link', () => showForm(values));
    return;
  }
  showForm(values);
}

start().catch(fail);
