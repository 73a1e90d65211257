import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed drill package (where drills/, vitest.drill.config.ts and node_modules live). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
