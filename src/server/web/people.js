// The people view: persons whose faces are in the photos, each with its clearest face. Naming
// and merging go to the API; "Photos" asks the search (app.js) for that person's photos through
// a 'visor-persons' event. Names are shown as text, never as HTML.

const KEY_STORAGE = 'visor-api-key';
const $ = (id) => document.getElementById(id);
const chosen = new Set();
const selected = new Set();

function headers(json) {
  const h = new Headers();
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) h.set('authorization', `Bearer ${key}`);
  if (json) h.set('content-type', 'application/json');
  return h;
}

async function call(path, init = {}) {
  const res = await fetch(path, { ...init, headers: headers(init.body !== undefined) });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(json?.error?.message ?? `${res.status} ${res.statusText}`);
  return json;
}

function notice(message) {
  const n = $('notice');
  n.hidden = !message;
  n.textContent = message ?? '';
  n.className = 'notice error';
}

function faceImage(face) {
  const img = document.createElement('img');
  img.alt = '';
  img.width = 64;
  img.height = 64;
  if (!face) return img;
  const path = `/api/faces/${face.id}/image`;
  if (!sessionStorage.getItem(KEY_STORAGE)) img.src = path;
  else
    fetch(path, { headers: headers(false) })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(r.statusText))))
      .then((b) => (img.src = URL.createObjectURL(b)))
      .catch(() => img.classList.add('broken'));
  return img;
}

function announce() {
  document.dispatchEvent(new CustomEvent('visor-persons', { detail: [...chosen] }));
  $('clear-persons').hidden = chosen.size === 0;
}

function tile(p) {
  const li = document.createElement('li');
  li.className = 'person';
  li.dataset.id = p.id;
  if (chosen.has(p.id)) li.classList.add('chosen');
  const pick = document.createElement('input');
  pick.type = 'checkbox';
  pick.className = 'pick';
  pick.setAttribute('aria-label', `select ${p.name ?? p.id} for merging`);
  pick.checked = selected.has(p.id);
  pick.addEventListener('change', () => {
    if (pick.checked) selected.add(p.id);
    else selected.delete(p.id);
    $('merge-people').disabled = selected.size < 2;
  });
  const name = document.createElement('input');
  name.type = 'text';
  name.className = 'name';
  name.value = p.name ?? '';
  name.placeholder = 'Name…';
  name.setAttribute('aria-label', `name of ${p.id}`);
  name.addEventListener('change', async () => {
    if (!name.value.trim()) return;
    try {
      await call(`/api/people/${encodeURIComponent(p.id)}/name`, { method: 'POST', body: JSON.stringify({ name: name.value.trim() }) });
      await load();
    } catch (e) {
      notice(e.message);
    }
  });
  const count = document.createElement('span');
  count.className = 'face-count';
  count.textContent = `${p.faces} face${p.faces === 1 ? '' : 's'}`;
  const show = document.createElement('button');
  show.type = 'button';
  show.className = 'secondary show';
  show.textContent = chosen.has(p.id) ? 'Photos ✓' : 'Photos';
  show.addEventListener('click', () => {
    if (chosen.has(p.id)) chosen.delete(p.id);
    else chosen.add(p.id);
    render(last);
    announce();
  });
  li.append(pick, faceImage(p.face), name, count, show);
  return li;
}

let last = [];
function render(people) {
  last = people;
  $('people').hidden = people.length === 0;
  $('people-count').textContent = people.length ? String(people.length) : '';
  $('people-list').replaceChildren(...people.map(tile));
  $('merge-people').disabled = selected.size < 2;
}

async function load() {
  try {
    render((await call('/api/people')).people);
  } catch {
    render([]); // a server without people, or a key still to be given: the view stays hidden
  }
}

$('merge-people').addEventListener('click', async () => {
  try {
    await call('/api/people/merge', { method: 'POST', body: JSON.stringify({ ids: [...selected] }) });
    selected.clear();
    await load();
  } catch (e) {
    notice(e.message);
  }
});
$('clear-persons').addEventListener('click', () => {
  chosen.clear();
  render(last);
  announce();
});

await load();
