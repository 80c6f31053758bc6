// A table that builds only the rows in view, so a topic with thousands of partitions
// scrolls as quickly as one with ten: fixed-height rows in a scrolling box, a spacer for
// the full height, and the visible slice re-rendered on scroll.

const ROW_HEIGHT_PX = 30;
/** Rows built above and below the visible ones so a fast scroll does not show gaps. */
const OVERSCAN_ROWS = 10;

export function virtualTable(columns, rows, options = {}) {
  const template = columns.map((c) => c.width ?? '1fr').join(' ');
  const header = document.createElement('div');
  header.className = 'vrow vhead';
  header.style.gridTemplateColumns = template;
  for (const c of columns) {
    const cell = document.createElement('div');
    cell.textContent = c.title;
    header.append(cell);
  }
  const viewport = document.createElement('div');
  viewport.className = 'vviewport';
  const heightPx = Math.min(options.heightPx ?? 420, Math.max(1, rows.length) * ROW_HEIGHT_PX + 2);
  viewport.style.height = `${heightPx}px`;
  const spacer = document.createElement('div');
  spacer.className = 'vspacer';
  spacer.style.height = `${rows.length * ROW_HEIGHT_PX}px`;
  viewport.append(spacer);

  let shown = '';
  const paint = () => {
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT_PX) - OVERSCAN_ROWS);
    const last = Math.min(rows.length, Math.ceil((viewport.scrollTop + heightPx) / ROW_HEIGHT_PX) + OVERSCAN_ROWS);
    const key = `${first}:${last}`;
    if (key === shown) return;
    shown = key;
    const fragment = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      const row = document.createElement('div');
      row.className = 'vrow';
      row.style.gridTemplateColumns = template;
      row.style.transform = `translateY(${i * ROW_HEIGHT_PX}px)`;
      for (const c of columns) {
        const cell = document.createElement('div');
        const value = c.render(rows[i]);
        if (value instanceof Node) cell.append(value);
        else cell.textContent = String(value);
        row.append(cell);
      }
      fragment.append(row);
    }
    spacer.replaceChildren(fragment);
  };
  viewport.addEventListener('scroll', () => requestAnimationFrame(paint), { passive: true });
  paint();
  const wrapper = document.createElement('div');
  wrapper.className = 'vtable';
  if (rows.length === 0) {
    const empty = document.createElement('div');
    empty.className = 'empty';
    empty.textContent = options.empty ?? 'Nothing here.';
    wrapper.append(header, empty);
  } else {
    wrapper.append(header, viewport);
  }
  return wrapper;
}
