// Small DOM helpers shared by the console's pages: element building (text always goes in
// as text, never as HTML), number and size formatting, and the confirmation dialog.

/** Builds an element: h('a', {href: '#', class: 'x', onclick: fn}, 'text', child). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else if (name === 'text') element.textContent = String(value);
    else if (name === 'value') element.value = value;
    else if (name === 'checked' || name === 'disabled' || name === 'selected') element[name] = Boolean(value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside an element. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A table from column titles and rows of cells (strings or nodes). */
export function table(titles, rows, options = {}) {
  return h(
    'table',
    { class: options.class ?? 'grid' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        titles.map((t) => h('th', {}, t)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.length === 0
        ? h('tr', {}, h('td', { colspan: titles.length, class: 'empty' }, options.empty ?? 'Nothing here yet.'))
        : rows.map((cells) =>
            h(
              'tr',
              {},
              cells.map((c) => h('td', {}, c)),
            ),
          ),
    ),
  );
}

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function formatNumber(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return numberFormat.format(value);
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined || bytes < 0) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatTime(ms) {
  if (ms === null || ms === undefined || ms < 0) return '–';
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

/** Asks the person to confirm a change; resolves true only on the confirm button. */
export function confirmAction(title, message, confirmLabel = 'Confirm') {
  const dialog = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-message').textContent = message;
  document.getElementById('confirm-accept').textContent = confirmLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
  });
}

/** Parses "key=value" lines (blank lines and # comments ignored) into an object. */
export function parsePairs(text) {
  const out = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`"${line}" is not in the form key=value.`);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

/** A status line for forms: shows progress, success or the error in words. */
export function statusLine() {
  const element = h('p', { class: 'status', role: 'status' });
  return {
    element,
    busy(text) {
      element.className = 'status busy';
      element.textContent = text;
    },
    ok(text) {
      element.className = 'status ok';
      element.textContent = text;
    },
    fail(error) {
      element.className = 'status fail';
      element.textContent = error instanceof Error ? error.message : String(error);
    },
    clear() {
      element.className = 'status';
      element.textContent = '';
    },
  };
}

/** Shows an error from the node across the top of the page, in words. */
export function showNotice(error) {
  const notice = document.getElementById('notice');
  notice.textContent = error instanceof Error ? error.message : String(error);
  notice.hidden = false;
}

export function hideNotice() {
  const notice = document.getElementById('notice');
  notice.hidden = true;
  notice.textContent = '';
}
