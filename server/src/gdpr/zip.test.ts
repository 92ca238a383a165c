import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readZip } from './gdpr.test-support.js';
import { createZip } from './zip.js';

function hasUnzip(): boolean {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('subject-access archive', () => {
  it('when an archive holds several entries, UTF-8 names and an empty file, then each reads back byte for byte', () => {
    const entries = [
      { name: 'export/export.json', data: Buffer.from(JSON.stringify({ a: 'é'.repeat(5000) })) },
      { name: 'export/übersicht.txt', data: Buffer.from('hello\n') },
      { name: 'export/empty.txt', data: Buffer.alloc(0) },
    ];
    const archive = createZip(entries, new Date('2026-11-26T10:20:30Z'));
    expect(readZip(archive)).toEqual(Object.fromEntries(entries.map((e) => [e.name, e.data.toString('utf8')])));
    if (!hasUnzip()) return;
    const dir = mkdtempSync(join(tmpdir(), 'calbridge-zip-'));
    try {
      const path = join(dir, 'a.zip');
      writeFileSync(path, archive);
      // -t checks every CRC; a wrong one exits non-zero.
      expect(execFileSync('unzip', ['-t', path], { encoding: 'utf8' })).toMatch(/No errors detected/);
      expect(execFileSync('unzip', ['-p', path, 'export/übersicht.txt'], { encoding: 'utf8' })).toBe('hello\n');
      expect(execFileSync('zipinfo', ['-T', path], { encoding: 'utf8' })).toContain('20261126.102030');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
