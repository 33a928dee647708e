/**
 * Every test file's temporary files under one folder of this run, removed at
 * the end: files that create temp folders and do not remove them (a failed
 * test, a killed CLI child) leave nothing in the system's temp directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(path.join(tmpdir(), 'dst-tests-'));
  // Forked test workers and the CLI processes they start inherit it; os.tmpdir() reads TMPDIR on every call.
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
