// Rewrites test/fixtures/moo/protected-mode.MOO from protected-vectors.ts: `npx vite-node test/conformance/write-protected-vectors.ts`.
import { writeFileSync } from 'node:fs';
import { encodeMoo } from './moo-encoder';
import { PROTECTED_VECTORS, PROTECTED_VECTORS_PATH } from './protected-vectors';

writeFileSync(PROTECTED_VECTORS_PATH, encodeMoo(PROTECTED_VECTORS));
console.log(`wrote ${PROTECTED_VECTORS_PATH}`);
