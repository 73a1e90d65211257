/**
 * PostgreSQL's data page checksum (pg_checksum_page, src/include/storage/checksum_impl.h), so an
 * injector can damage a page and leave a checksum PostgreSQL accepts: then only amcheck, not the
 * read path, notices the damage, which is what a corruption that happened before the page was
 * written (a bug, bad memory) looks like.
 *
 * The algorithm: the 8 KiB page is read as 64 rows of 32 native-endian uint32 words; each of 32
 * lanes runs an FNV-1a-like hash down its column (seeded with a fixed offset), then two rounds of
 * zeros; the lanes are XOR-folded, the block number is XORed in (so a page written to the wrong
 * place fails), and the result is reduced to 1..65535 (0 means "no checksum"). pd_checksum itself
 * counts as zero while computing. Pages are in the server's byte order: little-endian here, as on
 * every platform the harness runs PostgreSQL on (x86-64, arm64).
 */

export const PAGE_SIZE = 8192;
/** Byte offset of pd_checksum (uint16) in the page header, after pd_lsn (8 bytes). */
export const PD_CHECKSUM_OFFSET = 8;

const N_SUMS = 32;
const FNV_PRIME = 16777619;
const ROWS = PAGE_SIZE / (4 * N_SUMS);

/** Seeds of the 32 parallel hashes, from checksum_impl.h. */
const BASE_OFFSETS = [
  0x5b1f36e9, 0xb8525960, 0x02ab50aa, 0x1de66d2a, 0x79ff467a, 0x9bb9f8a3, 0x217e7cd2, 0x83e13d2c,
  0xf8d4474f, 0xe39eb970, 0x42c6ae16, 0x993216fa, 0x7b093b5d, 0x98daff3c, 0xf718902a, 0x0b1c9cdb,
  0xe58f764b, 0x187636bc, 0x5d7b3bb1, 0xe73de7de, 0x92bec979, 0xcca6c0b2, 0x304a0979, 0x85aa43d4,
  0x783125bb, 0x6ca8eaa2, 0xe407eac6, 0x4b5cfc3e, 0x9fbf8c76, 0x15ca20be, 0xf2ca9fd3, 0x959bd756,
];

/** One round: uint32 arithmetic, so the multiply wraps (Math.imul) and the shift is logical. */
function comp(sum: number, value: number): number {
  const tmp = (sum ^ value) >>> 0;
  return (Math.imul(tmp, FNV_PRIME) ^ (tmp >>> 17)) >>> 0;
}

function checkPage(page: Uint8Array): DataView {
  if (page.length !== PAGE_SIZE) throw new RangeError(`a PostgreSQL page is ${PAGE_SIZE} bytes, got ${page.length}`);
  return new DataView(page.buffer, page.byteOffset, page.byteLength);
}

/** The checksum PostgreSQL would store for `page` at block `blockNumber` of its relation (fork). */
export function pgChecksumPage(page: Uint8Array, blockNumber: number): number {
  const view = checkPage(page);
  const sums = [...BASE_OFFSETS];
  for (let row = 0; row < ROWS; row++) {
    for (let lane = 0; lane < N_SUMS; lane++) {
      const offset = (row * N_SUMS + lane) * 4;
      let word = view.getUint32(offset, true);
      // The word holding pd_checksum (bytes 8..11: pd_checksum, pd_flags) with pd_checksum as zero.
      if (offset === PD_CHECKSUM_OFFSET) word = (word & 0xffff0000) >>> 0;
      sums[lane] = comp(sums[lane]!, word);
    }
  }
  for (let round = 0; round < 2; round++) {
    for (let lane = 0; lane < N_SUMS; lane++) sums[lane] = comp(sums[lane]!, 0);
  }
  let result = 0;
  for (const sum of sums) result = (result ^ sum) >>> 0;
  result = (result ^ blockNumber) >>> 0;
  return (result % 65535) + 1;
}

/** pd_checksum as stored in the page. */
export function storedChecksum(page: Uint8Array): number {
  return checkPage(page).getUint16(PD_CHECKSUM_OFFSET, true);
}

/** Recomputes and stores pd_checksum, as PostgreSQL does when it writes the page out. */
export function setPageChecksum(page: Uint8Array, blockNumber: number): number {
  const checksum = pgChecksumPage(page, blockNumber);
  checkPage(page).setUint16(PD_CHECKSUM_OFFSET, checksum, true);
  return checksum;
}

/** A never-initialised page (all zeros up to pd_upper): PostgreSQL neither checksums nor verifies it. */
export function isNewPage(page: Uint8Array): boolean {
  return checkPage(page).getUint16(14, true) === 0;
}

/** Whether the stored checksum is the one PostgreSQL would compute (new pages always pass). */
export function checksumMatches(page: Uint8Array, blockNumber: number): boolean {
  return isNewPage(page) || storedChecksum(page) === pgChecksumPage(page, blockNumber);
}
