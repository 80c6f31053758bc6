// The layer order, enforced: every relative import in src/ and protocol/ (static `from`,
// `import()`, `require()`, type-only imports included) must point to a lower layer, or
// sideways within one layer without making a folder cycle. Zero exceptions. A new folder
// fails here until it is given a place in LAYERS.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Lowest first. A unit is a folder of src/ (or protocol/ as a whole, or a single file at
 * the top of src/); units on one line are one layer and may import each other only
 * without a cycle.
 */
const LAYERS: string[][] = [
  ['protocol'], // bytes only: schemas, codecs, record batches, CRC, compression, topic names; no I/O
  ['src/logger.ts'], // structured logging
  ['src/config'], // configuration keys, defaults, limits
  ['src/security'], // principals, TLS material, SASL mechanisms, SCRAM credentials, JWT validation
  ['src/net'], // listeners, inbound connections, the outbound KafkaConnection
  ['src/pool', 'src/log', 'src/raft'], // worker threads; partition storage; consensus with its storage
  ['src/controller', 'src/group', 'src/replica'], // metadata state machine and controller port; groups; replication
  ['src/client'], // the bundled Kafka client
  ['src/broker'], // Kafka API handlers, metadata publishing
  ['src/http'], // console, REST, metrics
  ['src/server'], // composition root: builds a node from config
  ['src/cli'], // the `brook` command (its `server` subcommand starts the composition root)
  ['src/index.ts'], // the package's public entry point
];

interface Edge {
  file: string;
  target: string;
  from: string;
  to: string;
}

/** The unit a repository-relative path belongs to. */
export function unitOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'protocol') return 'protocol';
  if (parts[0] === 'src') return parts.length === 2 ? file : `src/${parts[1]}`;
  return file;
}

const IMPORT_PATTERNS = [
  /\bfrom\s*['"](\.{1,2}\/[^'"]*)['"]/g, // import ... from '...', export ... from '...'
  /\bimport\s*['"](\.{1,2}\/[^'"]*)['"]/g, // import '...' (side effects only)
  /\bimport\s*\(\s*['"](\.{1,2}\/[^'"]*)['"]\s*\)/g, // import('...')
  /\brequire\s*\(\s*['"](\.{1,2}\/[^'"]*)['"]\s*\)/g, // require('...')
];

/** Relative import specifiers of one source file (lines that are comments are skipped). */
export function importsOf(source: string): string[] {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('//'))
    .join('\n');
  const out: string[] = [];
  for (const pattern of IMPORT_PATTERNS) for (const match of code.matchAll(pattern)) out.push(match[1]);
  return out;
}

/**
 * Where an import lands, repository-relative: the `.ts` file or folder index among `files`
 * when there is one. A path that leaves the repository from the source file is a runtime
 * asset required relative to the compiled file under dist/ (the native CRC-32C addon), so
 * it is resolved from there.
 */
export function resolveImport(file: string, specifier: string, files: ReadonlyMap<string, string> = new Map()): string {
  let target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
  if (target.startsWith('../')) {
    const fromDist = path.posix.normalize(path.posix.join('dist', path.posix.dirname(file), specifier));
    target = fromDist.startsWith('dist/') ? fromDist.slice('dist/'.length) : fromDist;
  }
  if (files.has(`${target}.ts`)) return `${target}.ts`;
  if (files.has(`${target}/index.ts`)) return `${target}/index.ts`;
  return target;
}

/** Strongly connected components (Tarjan) of a graph given as adjacency sets. */
export function stronglyConnected(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components;
}

/** Every violation of `layers` by `files` (repository-relative path -> source), one line each. */
export function checkLayers(files: Map<string, string>, layers: string[][]): string[] {
  const layerOf = new Map<string, number>();
  layers.forEach((units, i) => units.forEach((unit) => layerOf.set(unit, i)));
  const problems: string[] = [];
  const edges: Edge[] = [];
  for (const [file, source] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const from = unitOf(file);
    if (!layerOf.has(from)) problems.push(`${file}: ${from} has no place in the layer table`);
    for (const specifier of importsOf(source)) {
      const target = resolveImport(file, specifier, files);
      const to = unitOf(target);
      if (to === from) continue;
      if (!layerOf.has(to)) {
        problems.push(`${file} imports '${specifier}': ${to} has no place in the layer table`);
        continue;
      }
      edges.push({ file, target: specifier, from, to });
    }
  }
  for (const edge of edges) {
    const [a, b] = [layerOf.get(edge.from), layerOf.get(edge.to)];
    if (a !== undefined && b !== undefined && b > a)
      problems.push(
        `${edge.file} imports '${edge.target}': ${edge.from} (layer ${a}) -> ${edge.to} (layer ${b}) runs upward`,
      );
  }
  const graph = new Map<string, Set<string>>();
  for (const edge of edges) {
    if (!graph.has(edge.from)) graph.set(edge.from, new Set());
    if (!graph.has(edge.to)) graph.set(edge.to, new Set());
    graph.get(edge.from)!.add(edge.to);
  }
  for (const component of stronglyConnected(graph)) {
    if (component.length < 2) continue;
    problems.push(`folder cycle: ${component.join(', ')}`);
    const members = new Set(component);
    for (const edge of edges) {
      if (members.has(edge.from) && members.has(edge.to))
        problems.push(`  in that cycle: ${edge.file} imports '${edge.target}' (${edge.from} -> ${edge.to})`);
    }
  }
  return problems;
}

const ROOT = path.join(__dirname, '..', '..', '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'build') out.push(...sourceFiles(relative));
    } else if (entry.name.endsWith('.ts')) {
      out.push(relative);
    }
  }
  return out;
}

test('the layer table has every unit once', () => {
  const units = LAYERS.flat();
  assert.equal(units.length, new Set(units).size);
});

test('every import in src/ and protocol/ points down the layer order, with no folder cycle', () => {
  const files = new Map<string, string>();
  for (const file of [...sourceFiles('src'), ...sourceFiles('protocol')])
    files.set(file, fs.readFileSync(path.join(ROOT, file), 'utf8'));
  // The scan must have seen the tree: every layer has files, and imports between units.
  assert.ok(files.size > 100, `only ${files.size} source files found under ${ROOT}`);
  for (const unit of LAYERS.flat())
    assert.ok(
      [...files.keys()].some((file) => unitOf(file) === unit),
      `no source file in ${unit}`,
    );
  const crossUnit = [...files].flatMap(([file, source]) =>
    importsOf(source).filter((s) => unitOf(resolveImport(file, s, files)) !== unitOf(file)),
  );
  assert.ok(crossUnit.length > 100, `only ${crossUnit.length} imports between units found`);
  const problems = checkLayers(files, LAYERS);
  assert.equal(problems, [], `layer violations:\n${problems.join('\n')}`);
});

test('the scanner catches a planted upward edge, a sideways cycle and an unknown folder', () => {
  const layers = [['protocol'], ['src/net'], ['src/log', 'src/raft'], ['src/broker']];
  const files = new Map<string, string>([
    ['protocol/frame.ts', "import { x } from './primitives';\n"],
    [
      'src/net/connection.ts',
      "import { frame } from '../../protocol/frame';\nimport type { Broker } from '../broker/broker';\n",
    ],
    ['src/log/segment.ts', "import { Entry } from '../raft/core';\n"],
    ['src/raft/core.ts', "const storage = require('../log/segment');\n"],
    [
      'src/broker/broker.ts',
      "import { Connection } from '../net/connection';\nconst lazy = () => import('../net/connection');\n// import { old } from '../mystery/old';\n",
    ],
    ['src/mystery/thing.ts', 'export const thing = 1;\n'],
  ]);
  const problems = checkLayers(files, layers);
  assert.ok(
    problems.some((p) =>
      p.startsWith(
        "src/net/connection.ts imports '../broker/broker': src/net (layer 1) -> src/broker (layer 3) runs upward",
      ),
    ),
    problems.join('\n'),
  );
  assert.ok(problems.includes('folder cycle: src/log, src/raft'), problems.join('\n'));
  assert.ok(
    problems.some((p) => p.includes("src/raft/core.ts imports '../log/segment' (src/raft -> src/log)")),
    problems.join('\n'),
  );
  assert.ok(
    problems.includes('src/mystery/thing.ts: src/mystery has no place in the layer table'),
    problems.join('\n'),
  );
  // The net <-> broker round trip is a cycle too; the commented-out import is not an edge.
  assert.ok(problems.includes('folder cycle: src/broker, src/net'), problems.join('\n'));
  assert.not.ok(
    problems.some((p) => p.includes('mystery/old')),
    problems.join('\n'),
  );
  assert.is(problems.length, 9, problems.join('\n'));
});

test('the scanner reads every import form and resolves assets from the compiled tree', () => {
  const source = [
    "import { a } from './a';",
    "import type { B } from '../b/b';",
    "export { c } from './c';",
    "export * from './d';",
    "import './side-effect';",
    "const e = await import('./e');",
    "const f = require('../f/f.node');",
    "import * as fs from 'node:fs';",
    "/* import { g } from './g'; */",
  ].join('\n');
  assert.equal(importsOf(source), ['./a', '../b/b', './c', './d', './side-effect', './e', '../f/f.node']);
  assert.is(
    resolveImport('protocol/crc32c.ts', '../../protocol/native/build/Release/brook_crc32c.node'),
    'protocol/native/build/Release/brook_crc32c.node',
  );
  assert.is(resolveImport('src/http/routes/topic-routes.ts', '../../../protocol/topic-names'), 'protocol/topic-names');
  assert.is(resolveImport('src/net/connection.ts', '../logger', new Map([['src/logger.ts', '']])), 'src/logger.ts');
  assert.is(resolveImport('src/index.ts', './config', new Map([['src/config/index.ts', '']])), 'src/config/index.ts');
  assert.is(unitOf('src/logger.ts'), 'src/logger.ts');
  assert.is(unitOf('src/broker/apis/00-produce.ts'), 'src/broker');
});

test.run();
