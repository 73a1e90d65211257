import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checksumMatches, isNewPage, PAGE_SIZE, pgChecksumPage, setPageChecksum, storedChecksum } from '../../src/targets/postgres/page-checksum.js';

/**
 * Real pages copied from a PostgreSQL 15 cluster initialised with --data-checksums (a heap table
 * and its primary key, after a checkpoint and a clean shutdown), so pd_checksum in each is what
 * PostgreSQL itself computed. The file name carries the block number the checksum was mixed with.
 */
const DIR = path.resolve(import.meta.dirname, '../fixtures/pages');
const pages = readdirSync(DIR)
  .filter((f) => f.endsWith('.page'))
  .map((file) => ({ file, block: Number(/block-(\d+)/.exec(file)![1]), page: new Uint8Array(readFileSync(path.join(DIR, file))) }));

describe('pg_checksum_page', () => {
  it('has real heap and btree pages to check against', () => {
    expect(pages.map((p) => p.file).sort()).toEqual(['btree-leaf-block-1.page', 'btree-meta-block-0.page', 'heap-block-0.page', 'heap-block-7.page']);
  });

  it.each(pages)('computes the checksum PostgreSQL stored in $file', ({ page, block }) => {
    expect(storedChecksum(page)).not.toBe(0);
    expect(pgChecksumPage(page, block)).toBe(storedChecksum(page));
    expect(checksumMatches(page, block)).toBe(true);
  });

  it('mixes in the block number: the same page at another block does not verify', () => {
    const { page, block } = pages.find((p) => p.file === 'heap-block-7.page')!;
    expect(pgChecksumPage(page, block + 1)).not.toBe(storedChecksum(page));
    expect(checksumMatches(page, 0)).toBe(false);
  });

  it('a changed byte anywhere fails verification, and setPageChecksum makes the page verify again', () => {
    const { page: original, block } = pages.find((p) => p.file === 'heap-block-0.page')!;
    for (const offset of [0, 24, 4000, PAGE_SIZE - 1]) {
      const page = Uint8Array.from(original);
      page[offset] = page[offset]! ^ 0x01;
      expect(checksumMatches(page, block), `byte ${offset}`).toBe(false);
      const fixed = setPageChecksum(page, block);
      expect(storedChecksum(page)).toBe(fixed);
      expect(checksumMatches(page, block)).toBe(true);
    }
  });

  it('ignores the stored checksum itself when computing (pd_checksum counts as zero)', () => {
    const { page: original, block } = pages[0]!;
    const page = Uint8Array.from(original);
    new DataView(page.buffer).setUint16(8, 0xbeef, true);
    expect(pgChecksumPage(page, block)).toBe(storedChecksum(original));
  });

  it('is always in 1..65535 and never checks a new (all-zero) page', () => {
    const zero = new Uint8Array(PAGE_SIZE);
    expect(isNewPage(zero)).toBe(true);
    expect(checksumMatches(zero, 3)).toBe(true);
    for (let block = 0; block < 50; block++) {
      const sum = pgChecksumPage(pages[0]!.page, block);
      expect(sum).toBeGreaterThanOrEqual(1);
      expect(sum).toBeLessThanOrEqual(65535);
    }
  });

  it('refuses a buffer that is not a page', () => {
    expect(() => pgChecksumPage(new Uint8Array(100), 0)).toThrow(/8192 bytes/);
  });
});
