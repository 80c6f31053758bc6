// Kafka's meta.properties: the small text file that says which cluster and node a data
// directory belongs to. Read at start to refuse a directory of another node or cluster,
// and written once, crash-safe, when the directory is new.

import * as path from 'node:path';
import { FileSystem, mkdirDurable, readWholeFile, writeFileDurable } from '../log/file-system';
import { META_PROPERTIES_FILE, TEMPORARY_SUFFIX } from '../log/on-disk-names';

/** The key=value lines of a properties text (comments and blank lines skipped). */
function parseProperties(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('=') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')).trim(), line.slice(line.indexOf('=') + 1).trim()]),
  );
}

function readText(fs: FileSystem, file: string): string {
  return readWholeFile(fs, file).toString('utf8');
}

/**
 * Writes the file so that a crash leaves either no file or the whole one: the data
 * directory is created durably (each new directory's parent fsynced), a temporary file is
 * written and fsynced, renamed over the name, and the directory is fsynced.
 */
function writeMetaProperties(fs: FileSystem, file: string, clusterId: string, nodeId: number): void {
  mkdirDurable(fs, path.dirname(file));
  const text = `#Brook data directory\nversion=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\n`;
  writeFileDurable(fs, file, Buffer.from(text), TEMPORARY_SUFFIX);
}

/**
 * Checks that the data directory belongs to this node and cluster (throws when it does
 * not), or claims it when it has no meta.properties yet.
 */
export function checkMetaProperties(fs: FileSystem, dataDir: string, nodeId: number, clusterId: string): void {
  const file = path.join(dataDir, META_PROPERTIES_FILE);
  if (!fs.exists(file)) {
    writeMetaProperties(fs, file, clusterId, nodeId);
    return;
  }
  const properties = parseProperties(readText(fs, file));
  const storedNode = Number(properties['node.id']);
  if (properties['node.id'] !== undefined && storedNode !== nodeId) {
    throw new Error(`${file} belongs to node ${storedNode}, not node ${nodeId}`);
  }
  if (properties['cluster.id'] !== undefined && properties['cluster.id'] !== clusterId) {
    throw new Error(
      `${file} belongs to cluster ${properties['cluster.id']}, not ${clusterId} (the voters or cluster.id changed?)`,
    );
  }
}
