// Reads an uploaded file's rows for the produce page: CSV (RFC 4180: quoted fields with
// doubled quotes and line breaks inside, CRLF or LF; the first row names the columns) or
// JSON lines (one JSON object per non-blank line).

/** Rows read from one file at most; a larger file is refused with a readable error. */
export const FILE_ROWS_MAX = 100000;

export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (!(row.length === 1 && row[0] === '')) rows.push(row);
      row = [];
      if (rows.length > FILE_ROWS_MAX + 1)
        throw new Error(`The file has more than ${FILE_ROWS_MAX} rows; split it into smaller files.`);
    } else field += c;
  }
  if (quoted) throw new Error('The CSV file ends inside a quoted field.');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  if (rows.length === 0) throw new Error('The CSV file is empty.');
  const columns = rows[0].map((c, index) => c.trim() || `column${index + 1}`);
  const records = rows.slice(1).map((cells, line) => {
    if (cells.length !== columns.length)
      throw new Error(`Row ${line + 2} has ${cells.length} fields but the header names ${columns.length} columns.`);
    return Object.fromEntries(columns.map((c, index) => [c, cells[index]]));
  });
  return { columns, rows: records };
}

export function parseJsonLines(text) {
  const rows = [];
  const columns = new Set();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let value;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`Line ${i + 1} is not valid JSON.`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new Error(`Line ${i + 1} is not a JSON object.`);
    for (const key of Object.keys(value)) columns.add(key);
    rows.push(value);
    if (rows.length > FILE_ROWS_MAX)
      throw new Error(`The file has more than ${FILE_ROWS_MAX} rows; split it into smaller files.`);
  }
  if (rows.length === 0) throw new Error('The file has no JSON lines.');
  return { columns: [...columns], rows };
}
