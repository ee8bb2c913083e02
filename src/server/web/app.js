// Visor's search page: talks to the JSON API of the server that serves it. No framework, no
// build step: the state lives in one object, and render functions rebuild the parts it drives.
// Everything shown from the index (titles, paths, metadata) goes in as text, never as HTML.

const PAGE_SIZE = 24;
const MAX_QUERY_IMAGES = 4;
const KEY_STORAGE = 'visor-api-key';

const state = {
  /** Query images: { file, url } (url is an object URL for the preview). */
  images: [],
  /** Relevance feedback: { id, thumb, title } per side. */
  like: [],
  unlike: [],
  /** Filters: { column, op, value }. */
  filters: [],
  /** Persons every result must show (ids), chosen in the people view (people.js). */
  persons: [],
  columns: {},
  page: 0,
  key: sessionStorage.getItem(KEY_STORAGE) ?? '',
  /** Sequence number of the latest search: older answers arriving late are dropped. */
  seq: 0,
};

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, children = []) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
};

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** A request to the API, with the key when there is one; errors carry the server's message. */
async function api(path, init = {}) {
  const headers = new Headers(init.headers ?? {});
  if (state.key) headers.set('authorization', `Bearer ${state.key}`);
  const res = await fetch(path, { ...init, headers });
  const json = (res.headers.get('content-type') ?? '').includes('json') ? await res.json().catch(() => null) : null;
  if (res.status === 401 || (res.status === 403 && state.key && json?.error?.message === 'wrong API key')) {
    await askForKey(json?.error?.message);
    return api(path, init);
  }
  if (!res.ok) throw new ApiError(json?.error?.message ?? `${res.status} ${res.statusText}`, res.status);
  return json;
}

function askForKey(reason) {
  const dialog = $('key-dialog');
  const input = $('key-input');
  input.value = '';
  input.setCustomValidity('');
  if (reason && state.key) input.placeholder = 'That key was refused; try again';
  return new Promise((resolve) => {
    $('key-form').onsubmit = () => {
      state.key = input.value.trim();
      sessionStorage.setItem(KEY_STORAGE, state.key);
      resolve();
    };
    dialog.showModal();
  });
}

/** Image URLs for <img>: direct when reads are open; fetched with the key into blob URLs when not. */
const blobCache = new Map();
async function imageSrc(path) {
  if (!state.key) return path;
  if (!blobCache.has(path)) {
    blobCache.set(
      path,
      fetch(path, { headers: { authorization: `Bearer ${state.key}` } })
        .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(r.statusText))))
        .then((b) => URL.createObjectURL(b)),
    );
  }
  return blobCache.get(path);
}
function setImage(img, path) {
  imageSrc(path)
    .then((src) => (img.src = src))
    .catch(() => img.classList.add('broken'));
}
const thumbPath = (id) => `/api/items/${id}/thumbnail`;

function titleOf(r) {
  const m = r.meta ?? {};
  const t = m.title ?? m.name ?? m.caption ?? m.description;
  return typeof t === 'string' && t.trim() ? t.trim() : r.path.split(/[\\/]/).pop();
}

// ——— the query ———

function quote(v) {
  return `'${String(v).replace(/'/g, "''")}'`;
}

/** The filters as one SQL condition, or undefined. Columns come from the server's own list. */
function whereClause() {
  const parts = [];
  for (const f of state.filters) {
    if (!(f.column in state.columns) || f.value.trim() === '') continue;
    const numeric = state.columns[f.column] === 'number';
    const col = `\`${f.column}\``;
    if (f.op === 'contains') parts.push(`lower(${col}) LIKE lower(${quote(`%${f.value.trim().replace(/[%_]/g, '')}%`)})`);
    else if (numeric) {
      const n = Number(f.value);
      if (Number.isFinite(n)) parts.push(`${col} ${f.op} ${n}`);
    } else parts.push(`${col} ${f.op} ${quote(f.value.trim())}`);
  }
  return parts.length ? parts.join(' AND ') : undefined;
}

function buildQuery() {
  const q = { k: PAGE_SIZE, offset: state.page * PAGE_SIZE };
  const text = $('q').value.trim();
  if (text) q.text = text;
  if (state.like.length) q.like = state.like.map((x) => x.id);
  if (state.unlike.length) q.unlike = state.unlike.map((x) => x.id);
  const where = whereClause();
  if (where) q.where = where;
  if (state.persons.length) q.persons = [...state.persons];
  return q;
}

const hasQuery = (q) => Boolean(q.text || q.like || q.persons || state.images.length);

async function search({ focusResults = false } = {}) {
  const q = buildQuery();
  const seq = ++state.seq;
  renderChips();
  if (!hasQuery(q)) {
    showEmpty();
    return;
  }
  $('results').classList.add('busy');
  try {
    let res;
    if (state.images.length) {
      const form = new FormData();
      form.append('query', JSON.stringify(q));
      for (const img of state.images) form.append('image', img.file, img.file.name || 'pasted-image.png');
      res = await api('/api/search', { method: 'POST', body: form });
    } else {
      res = await api('/api/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(q) });
    }
    if (seq !== state.seq) return;
    renderResults(res, q);
    if (focusResults) $('results-heading').focus();
  } catch (e) {
    if (seq !== state.seq) return;
    notice(e.message, 'error');
    $('results').replaceChildren();
    $('summary').textContent = '';
    $('pager').hidden = true;
  } finally {
    if (seq === state.seq) $('results').classList.remove('busy');
  }
}

// ——— rendering ———

function notice(message, kind = 'info') {
  const n = $('notice');
  n.hidden = !message;
  n.textContent = message ?? '';
  n.className = `notice ${kind}`;
}

function showEmpty() {
  notice(null);
  $('results').replaceChildren();
  $('summary').textContent = '';
  $('pager').hidden = true;
  $('empty').hidden = false;
}

/** Why a result matched, as short labels: the engine's reasons, per signal. */
function reasons(why = {}) {
  const out = [];
  if (typeof why.visual === 'number') out.push({ text: `looks alike ${why.visual.toFixed(2)}` });
  if (why.keywords) out.push({ text: `words: ${why.keywords.words?.length ? why.keywords.words.join(', ') : 'match'}` });
  for (const c of why.concepts ?? []) out.push({ text: `${c.concept ?? c.term} ${Number(c.score).toFixed(2)}` });
  if (typeof why.joint === 'number') out.push({ text: `text model ${why.joint.toFixed(2)}` });
  for (const p of why.penalised ?? []) out.push({ text: `resembles ${p}`, cls: 'penalised' });
  for (const p of why.people?.persons ?? []) out.push({ text: `face of ${p.name ?? p.id}` });
  if (why.people?.face) out.push({ text: `face ${why.people.face.cosine.toFixed(2)}${why.people.face.name ? ` (${why.people.face.name})` : ''}` });
  // Reasons read from the images' facts ("dog ×2", "red in person", "text: 'SALE'"), and any
  // other signal's that comes as words.
  for (const [k, v] of Object.entries(why)) {
    if (['visual', 'keywords', 'concepts', 'joint', 'penalised', 'people'].includes(k)) continue;
    for (const x of Array.isArray(v) ? v : [v]) if (typeof x === 'string' && x) out.push({ text: x });
  }
  return out;
}

// ——— facts: what each result shows (objects, colours, text), found when it was indexed ———

/** The eleven basic colour names the index stores: each has its swatch class in style.css. */
const COLOURS = new Set(['black', 'white', 'grey', 'red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown']);
const SVG = 'http://www.w3.org/2000/svg';

/** Fetches the facts of a page of results and shows them on their cards; an index without facts shows nothing. */
async function loadFacts(ids, seq) {
  if (ids.length === 0) return;
  let res;
  try {
    res = await api(`/api/facts?ids=${ids.join(',')}`);
  } catch {
    return; // facts are extra: a search still stands without them
  }
  if (seq !== state.seq) return;
  for (const item of res.items) {
    const card = $('results').querySelector(`.card[data-id="${item.id}"]`);
    if (card && item.facts) renderFacts(card, item);
  }
}

/** The facts panel (objects with counts, colour swatches, text read) and the boxes drawn over the thumbnail. */
function renderFacts(card, { facts, counts }) {
  const dl = card.querySelector('.facts');
  const row = (term, ...dd) => [el('dt', { text: term }), el('dd', {}, dd)];
  const parts = [];
  if (facts.objects) {
    const text = (counts ?? []).map((c) => `${c.label} ×${c.count}`).join(', ');
    parts.push(...row('Objects', el('span', { class: 'objects', text: text || 'none found' })));
  }
  if (facts.colours?.length) {
    const list = el(
      'ul',
      { class: 'swatches' },
      facts.colours.map((c) =>
        el('li', { title: `${c.name}: ${Math.round(c.share * 100)}% of the image` }, [
          // A class, not a style attribute: the page's CSP allows no inline styles.
          el('span', { class: `swatch${COLOURS.has(c.name) ? ` c-${c.name}` : ''}`, 'aria-hidden': 'true' }),
          el('span', { text: c.name }),
        ]),
      ),
    );
    parts.push(...row('Colours', list));
  }
  if (facts.text?.length) {
    parts.push(...row('Text', el('span', { class: 'read', text: facts.text.map((t) => `“${t.text}”`).join(' ') })));
  }
  dl.replaceChildren(...parts);
  dl.hidden = parts.length === 0;
  if (facts.objects?.length) drawBoxes(card, facts);
}

/**
 * The objects' boxes over the thumbnail, shown while the card is hovered or focused. The SVG's
 * viewBox is the image's own pixels and "slice" crops it exactly as the thumbnail's object-fit:
 * cover does, so boxes land on the objects whatever the card's shape.
 */
function drawBoxes(card, facts) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'boxes');
  svg.setAttribute('viewBox', `0 0 ${facts.width} ${facts.height}`);
  svg.setAttribute('preserveAspectRatio', 'xMidYMid slice');
  svg.setAttribute('aria-hidden', 'true');
  const fontSize = Math.max(facts.width, facts.height) / 22;
  for (const o of facts.objects) {
    const [x1, y1, x2, y2] = o.box;
    const g = document.createElementNS(SVG, 'g');
    g.setAttribute('class', 'box');
    const rect = document.createElementNS(SVG, 'rect');
    for (const [k, v] of Object.entries({ x: x1, y: y1, width: Math.max(1, x2 - x1), height: Math.max(1, y2 - y1) })) rect.setAttribute(k, String(v));
    const label = document.createElementNS(SVG, 'text');
    label.setAttribute('x', String(x1 + fontSize * 0.3));
    label.setAttribute('y', String(Math.max(fontSize, y1 + fontSize)));
    label.setAttribute('font-size', String(fontSize));
    label.textContent = o.colours?.[0] ? `${o.label} · ${o.colours[0].name}` : o.label;
    g.append(rect, label);
    svg.append(g);
  }
  card.querySelector('.thumb svg.boxes')?.remove();
  card.querySelector('.thumb').append(svg);
}

function renderResults(res, q) {
  $('empty').hidden = true;
  const grid = $('results');
  if (!res.understood) {
    notice(res.message ?? 'The query was not understood.', 'warn');
    grid.replaceChildren();
    $('summary').textContent = '';
    $('pager').hidden = true;
    return;
  }
  const notes = (res.signals ?? []).filter((s) => !s.understood && s.note).map((s) => `${s.name}: ${s.note}`);
  notice(notes.length ? `Note — ${notes.join('; ')}` : null);
  const tpl = $('card-template');
  const cards = res.results.map((r, i) => {
    const card = tpl.content.firstElementChild.cloneNode(true);
    const title = titleOf(r);
    if (i === 0 && q.offset === 0) card.classList.add('first');
    card.dataset.id = r.id;
    const link = card.querySelector('.thumb');
    link.href = `/api/items/${r.id}/original`;
    link.setAttribute('aria-label', `Open ${title}`);
    const img = card.querySelector('img');
    img.alt = title;
    setImage(img, thumbPath(r.id));
    card.querySelector('.title').textContent = title;
    card.querySelector('.title').title = r.path;
    card.querySelector('.rank').textContent = `#${r.rank}`;
    // Cosine similarity when one signal ranked; fused ranks have no absolute meaning, so no number.
    card.querySelector('.score').textContent = res.fusion === 'single' && typeof r.why?.visual === 'number' ? r.score.toFixed(3) : '';
    const why = card.querySelector('.why');
    for (const x of reasons(r.why)) why.append(el('li', { class: x.cls ?? '', text: x.text }));
    const more = card.querySelector('.more');
    const less = card.querySelector('.less');
    more.setAttribute('aria-label', `More like this: ${title}`);
    less.setAttribute('aria-label', `Less like this: ${title}`);
    more.addEventListener('click', () => feedback('like', r, title));
    less.addEventListener('click', () => feedback('unlike', r, title));
    why.after(el('button', { type: 'button', class: 'copies', text: 'Copies', 'aria-label': `Copies of ${title}`, onclick: () => showCopies(card, r.id) }));
    return card;
  });
  grid.replaceChildren(...cards);
  loadFacts(
    res.results.map((r) => r.id),
    state.seq,
  );
  const from = q.offset + 1;
  const how =
    res.fusion === 'single'
      ? ''
      : ` · ${res.signals
          .filter((s) => s.understood)
          .map((s) => s.name)
          .join(' + ')} fused (${res.fusion})`;
  $('summary').textContent = res.results.length ? `Results ${from}–${q.offset + res.results.length}${how}` : 'No results on this page.';
  $('pager').hidden = state.page === 0 && res.results.length < PAGE_SIZE;
  $('prev').disabled = state.page === 0;
  $('next').disabled = res.results.length < PAGE_SIZE;
  $('page-label').textContent = `Page ${state.page + 1}`;
}

/** An item's near-duplicates (edited copies of the same picture), under its card when asked: the check takes a moment. */
async function showCopies(card, id) {
  let box = card.querySelector('.copies-list');
  if (!box) {
    box = el('div', { class: 'copies-list' });
    card.append(box);
  }
  box.textContent = 'Looking for copies…';
  let res;
  try {
    res = await api(`/api/items/${id}/duplicates`);
  } catch (e) {
    box.textContent = `Copies could not be looked up: ${e.message}`;
    return;
  }
  if (!res.duplicates.length) {
    box.textContent = 'No copies found.';
    return;
  }
  box.replaceChildren(
    ...res.duplicates.map((d) => {
      const img = el('img', { alt: d.item.path, title: `${d.item.path} · ${d.item.width}×${d.item.height} · confidence ${d.confidence.toFixed(2)}` });
      setImage(img, thumbPath(d.item.id));
      return img;
    }),
  );
}

function renderChips() {
  const list = $('feedback-chips');
  const chip = (side, x) => {
    const img = el('img', { alt: '' });
    setImage(img, thumbPath(x.id));
    const remove = el('button', {
      type: 'button',
      'aria-label': `Remove “${side === 'like' ? 'more' : 'less'} like ${x.title}”`,
      text: '×',
      onclick: () => {
        state[side] = state[side].filter((y) => y.id !== x.id);
        state.page = 0;
        search();
        $('q').focus();
      },
    });
    return el('li', { class: `chip ${side}`, title: x.title }, [
      img,
      el('span', { class: 'sign', text: side === 'like' ? '+ more like' : '− less like' }),
      remove,
    ]);
  };
  list.replaceChildren(...state.like.map((x) => chip('like', x)), ...state.unlike.map((x) => chip('unlike', x)));
  $('feedback').hidden = state.like.length + state.unlike.length === 0;

  const images = $('query-images');
  images.replaceChildren(
    ...state.images.map((img, i) =>
      el('li', {}, [
        el('img', { src: img.url, alt: img.file.name || 'pasted image' }),
        el('button', {
          type: 'button',
          'aria-label': `Remove query image ${img.file.name || i + 1}`,
          text: '×',
          onclick: () => {
            URL.revokeObjectURL(img.url);
            state.images.splice(i, 1);
            state.page = 0;
            search();
            $('q').focus();
          },
        }),
      ]),
    ),
  );
  $('q').placeholder = state.images.length ? 'Add words to compose with the image…' : 'Search by words, or drop or paste an image…';
}

function feedback(side, r, title) {
  const other = side === 'like' ? 'unlike' : 'like';
  state[other] = state[other].filter((x) => x.id !== r.id);
  if (!state[side].some((x) => x.id === r.id)) state[side].push({ id: r.id, title });
  state.page = 0;
  search({ focusResults: true });
}

function addImages(files) {
  const images = [...files].filter((f) => f.type.startsWith('image/') || f.type === '');
  if (images.length === 0) {
    notice('That is not an image file.', 'error');
    return;
  }
  for (const file of images) {
    if (state.images.length >= MAX_QUERY_IMAGES) state.images.shift();
    state.images.push({ file, url: URL.createObjectURL(file) });
  }
  state.page = 0;
  search();
}

// ——— filters ———

const OPS = {
  string: [
    ['=', 'is'],
    ['!=', 'is not'],
    ['contains', 'contains'],
  ],
  number: [
    ['=', '='],
    ['!=', '≠'],
    ['<', '<'],
    ['<=', '≤'],
    ['>', '>'],
    ['>=', '≥'],
  ],
};

function renderFilters() {
  const rows = state.filters.map((f, i) => {
    const col = el(
      'select',
      {
        'aria-label': 'Field',
        onchange: (e) => {
          f.column = e.target.value;
          f.op = '=';
          renderFilters();
        },
      },
      Object.keys(state.columns).map((c) => el('option', { value: c, text: c })),
    );
    col.value = f.column;
    const type = state.columns[f.column] ?? 'string';
    const op = el(
      'select',
      { 'aria-label': 'Comparison', onchange: (e) => (f.op = e.target.value) },
      OPS[type].map(([v, t]) => el('option', { value: v, text: t })),
    );
    op.value = f.op;
    const value = el('input', {
      'aria-label': 'Value',
      type: type === 'number' ? 'number' : 'text',
      step: 'any',
      oninput: (e) => {
        f.value = e.target.value;
        renderFilterCount();
      },
      onkeydown: (e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          state.page = 0;
          search();
        }
      },
    });
    value.value = f.value;
    const remove = el('button', {
      type: 'button',
      class: 'link',
      'aria-label': `Remove filter on ${f.column}`,
      text: 'Remove',
      onclick: () => {
        state.filters.splice(i, 1);
        renderFilters();
        state.page = 0;
        search();
      },
    });
    return el('li', {}, [col, op, value, remove]);
  });
  $('filter-rows').replaceChildren(...rows);
  renderFilterCount();
}

function renderFilterCount() {
  const active = state.filters.filter((f) => f.value.trim() !== '').length;
  $('filter-count').textContent = active ? String(active) : '';
}

// ——— wiring ———

async function loadStatus() {
  try {
    const s = await api('/api/status');
    $('collection').textContent = `${s.items.toLocaleString()} images`;
    state.columns = s.metaColumns ?? {};
    const none = Object.keys(state.columns).length === 0;
    $('add-filter').hidden = none;
    $('no-columns').hidden = !none;
  } catch (e) {
    notice(`Cannot reach the index: ${e.message}`, 'error');
  }
}

function wire() {
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.page = 0;
    search();
  });
  $('pick').addEventListener('click', () => $('file').click());
  // The people view (people.js) says which persons results must show.
  document.addEventListener('visor-persons', (e) => {
    state.persons = e.detail;
    state.page = 0;
    search();
  });
  $('file').addEventListener('change', (e) => {
    addImages(e.target.files);
    e.target.value = '';
  });
  $('clear-feedback').addEventListener('click', () => {
    state.like = [];
    state.unlike = [];
    state.page = 0;
    search();
    $('q').focus();
  });
  $('add-filter').addEventListener('click', () => {
    const first = Object.keys(state.columns)[0];
    state.filters.push({ column: first, op: '=', value: '' });
    renderFilters();
    $('filter-rows').querySelector('li:last-child input')?.focus();
  });
  $('prev').addEventListener('click', () => {
    state.page = Math.max(0, state.page - 1);
    search({ focusResults: true });
  });
  $('next').addEventListener('click', () => {
    state.page++;
    search({ focusResults: true });
  });

  // Images come by drop (anywhere on the page), paste, or the picker button.
  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  let depth = 0;
  const setDragging = (on) => {
    document.body.classList.toggle('dragging', on);
    $('query-box').classList.toggle('dragging', on);
  };
  document.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    depth++;
    setDragging(true);
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) setDragging(false);
  });
  document.addEventListener('dragover', (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  document.addEventListener('drop', (e) => {
    depth = 0;
    setDragging(false);
    if (!e.dataTransfer?.files?.length) return;
    e.preventDefault();
    addImages(e.dataTransfer.files);
  });
  document.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files ?? [])].filter((f) => f.type.startsWith('image/'));
    if (files.length === 0) return;
    e.preventDefault();
    addImages(files);
  });
}

wire();
renderChips();
renderFilters();
showEmpty();
await loadStatus();
$('q').focus();
